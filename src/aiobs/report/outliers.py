"""Outliers and tail attribution for the report, until `aiobs.outliers` (issue 3) takes them over.

The names and keyword arguments follow the ones `aiobs.outliers` will offer, so swapping is an import.
Percentiles are linear interpolation, as everywhere in aiobs.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from aiobs.schema import CHILD_STAGES
from aiobs.summary import EventKeeper

#: Share of a request's time outside every child stage: the gateway's own work, queueing, overlap.
UNATTRIBUTED = "unattributed"


def _ranked(requests: pl.LazyFrame, metric: str, per: str | None) -> pl.LazyFrame:
    """Requests with a non-null metric, worst first (ties broken by correlation ID, so runs agree)."""
    ranked = requests.filter(pl.col(metric).is_not_null()).sort(
        [metric, "correlation_id"], descending=[True, False], nulls_last=True
    )
    if per is not None:
        ranked = ranked.with_columns(_rank=pl.int_range(pl.len()).over(per))
    return ranked


def threshold(requests: pl.LazyFrame, *, p: float, metric: str = "latency_ms", per: str | None = None) -> pl.LazyFrame:
    """The p-th percentile of `metric` (overall, or per group of `per`) as column `_threshold`."""
    q = pl.col(metric).quantile(p / 100.0, interpolation="linear").alias("_threshold")
    return requests.group_by(per).agg(q) if per is not None else requests.select(q)


def select_outliers(
    requests: pl.LazyFrame, *, p: float = 99.0, metric: str = "latency_ms", per: str | None = None, limit: int = 200
) -> tuple[pl.DataFrame, int, float | None]:
    """Requests strictly above the p-th percentile of `metric` (within each `per` group), worst first.

    Returns (at most `limit` of them, how many there are in all, the overall threshold or None with `per`).
    """
    cut = threshold(requests, p=p, metric=metric, per=per)
    if per is None:
        above = requests.join(cut, how="cross").filter(pl.col(metric) > pl.col("_threshold"))
    else:
        above = requests.join(cut, on=per, how="left", nulls_equal=True).filter(pl.col(metric) > pl.col("_threshold"))
    above = above.sort([metric, "correlation_id"], descending=[True, False])
    total = above.select(pl.len()).collect().item()
    picked = above.head(limit).collect()
    overall = cut.collect().item() if per is None else None
    return picked.drop("_threshold"), total, overall


def tail_attribution(requests: pl.LazyFrame, *, p: float = 99.0, metric: str = "latency_ms") -> pl.DataFrame:
    """Share of time in each stage for all requests and for those above the p-th percentile of `metric`.

    A share is the stage's summed time over the set's summed end-to-end latency. The rest of the time
    (gateway work, queueing; negative when stages overlap, then shown as 0) is `unattributed`.
    Columns: stage, share_all, share_tail, ms_all (mean per request), ms_tail, requests_all, requests_tail.
    """
    stages = [f"{s}_ms" for s in CHILD_STAGES]
    timed = requests.filter(pl.col("latency_ms").is_not_null())
    cut = threshold(timed, p=p, metric=metric)
    tail = pl.col(metric) > pl.col("_threshold")

    def sums(mask: pl.Expr, suffix: str) -> list[pl.Expr]:
        return [
            *(pl.col(c).filter(mask).fill_null(0.0).sum().alias(f"{c}{suffix}") for c in stages),
            pl.col("latency_ms").filter(mask).sum().alias(f"latency{suffix}"),
            pl.col("latency_ms").filter(mask).count().alias(f"n{suffix}"),
        ]

    row = timed.join(cut, how="cross").select(*sums(pl.lit(True), "_all"), *sums(tail, "_tail")).collect()
    values = row.row(0, named=True)
    out = []
    for part in ("_all", "_tail"):
        total = values[f"latency{part}"] or 0.0
        n = values[f"n{part}"] or 0
        shares = {s: (values[f"{s}_ms{part}"] / total if total else None) for s in CHILD_STAGES}
        known = sum(v for v in shares.values() if v is not None)
        shares[UNATTRIBUTED] = max(0.0, 1.0 - known) if total else None
        means = {s: (values[f"{s}_ms{part}"] / n if n else None) for s in CHILD_STAGES}
        means[UNATTRIBUTED] = (shares[UNATTRIBUTED] or 0.0) * total / n if n else None
        out.append((shares, means, n))
    (share_all, ms_all, n_all), (share_tail, ms_tail, n_tail) = out
    names = [*CHILD_STAGES, UNATTRIBUTED]
    return pl.DataFrame(
        {
            "stage": names,
            "share_all": [share_all[s] for s in names],
            "share_tail": [share_tail[s] for s in names],
            "ms_all": [ms_all[s] for s in names],
            "ms_tail": [ms_tail[s] for s in names],
            "requests_all": [n_all] * len(names),
            "requests_tail": [n_tail] * len(names),
        },
        schema={
            "stage": pl.String,
            "share_all": pl.Float64,
            "share_tail": pl.Float64,
            "ms_all": pl.Float64,
            "ms_tail": pl.Float64,
            "requests_all": pl.Int64,
            "requests_tail": pl.Int64,
        },
    )


def keep_slowest_events(
    limit: int,
    *,
    metric: str = "latency_ms",
    per: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventKeeper:
    """A `summarize(keep_events=...)` callback: the events of each bucket's `limit` worst requests.

    The overall worst `limit` requests (and, with `per`, each group's) are among the union of every
    bucket's worst `limit`, so their timelines can be drawn without reading the logs twice. The time
    window is applied here too, because `summarize` filters requests only after the buckets are rebuilt.
    """

    def keep(events: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
        lazy = requests.lazy()
        if since is not None:
            lazy = lazy.filter(pl.col("start") >= since)
        if until is not None:
            lazy = lazy.filter(pl.col("start") < until)
        ranked = _ranked(lazy, metric, per)
        ranked = ranked.filter(pl.col("_rank") < limit) if per is not None else ranked.head(limit)
        ids = ranked.select("correlation_id").collect().to_series()
        return events.filter(pl.col("correlation_id").is_in(ids.implode()))

    return keep
