"""The worst requests, and where their time went. Pure functions on the request table.

`select_outliers` keeps the requests strictly above a percentile of a metric (linear interpolation,
as everywhere in aiobs), overall or within each group, worst first. It works in two passes so that
memory stays bounded on large inputs: the IDs are chosen from numeric columns only, then the full
rows (texts included) are read for those IDs alone.

`tail_attribution` compares, stage by stage, the share of time spent in all requests with the share
spent in the requests above the percentile: "retrieval is 12 % of time overall but 61 % in the tail".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import polars as pl

from aiobs.compact import owned_strings
from aiobs.errors import UsageError
from aiobs.schema import CHILD_STAGES

#: metric name -> how it is computed from a request row, and its unit.
METRICS: dict[str, tuple[pl.Expr, str]] = {
    "latency": (pl.col("latency_ms"), "ms"),
    "ttft": (pl.col("ttft_ms"), "ms"),
    "cost": (pl.col("cost_usd"), "USD"),
    "tokens": (
        pl.when(pl.col("input_tokens").is_not_null() | pl.col("output_tokens").is_not_null()).then(
            pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0)
        ),
        "tokens",
    ),
}
PER_KEYS = ("model", "route", "provider", "user")
#: More outliers than this is not a list a person reads: use summarize --format csv for every request.
MAX_LIMIT = 1_000_000
#: The part of a request's time outside every child stage: the gateway's own work, queueing.
UNATTRIBUTED = "unattributed"
STAGE_COLUMNS = tuple(f"{s}_ms" for s in CHILD_STAGES)


@dataclass(frozen=True)
class OutlierQuery:
    p: float = 99.0
    metric: str = "latency"
    per: str | None = None
    flag: str | None = None
    limit: int | None = 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.p < 100.0:
            msg = f"--p must be at least 0 and below 100, got {self.p:g}"
            raise UsageError(msg)
        if self.metric not in METRICS:
            msg = f"cannot rank by '{self.metric}': choose from {', '.join(METRICS)}"
            raise UsageError(msg)
        if self.per is not None and self.per not in PER_KEYS:
            msg = f"cannot take outliers per '{self.per}': choose from {', '.join(PER_KEYS)}"
            raise UsageError(msg)
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            msg = f"--limit must be from 1 to {MAX_LIMIT:,}, got {self.limit:,}"
            raise UsageError(msg)


def _population(requests: pl.LazyFrame, query: OutlierQuery) -> pl.LazyFrame:
    value, _ = METRICS[query.metric]
    frame = requests.with_columns(_value=value).filter(pl.col("_value").is_not_null())
    if query.flag is not None:
        column = f"flag_{query.flag}"
        names = requests.collect_schema().names()
        if column not in names:
            known = sorted(c.removeprefix("flag_") for c in names if c.startswith("flag_"))
            if not known:
                msg = f"unknown flag '{query.flag}': no quality flags were computed"
                raise UsageError(msg)
            close = difflib.get_close_matches(query.flag, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            msg = f"unknown flag '{query.flag}': {hint}the flags are {', '.join(known)}"
            raise UsageError(msg)
        frame = frame.filter(pl.col(column).fill_null(False))
    return frame


def _threshold(query: OutlierQuery) -> pl.Expr:
    threshold = pl.col("_value").quantile(query.p / 100.0, interpolation="linear")
    return threshold.over(query.per) if query.per is not None else threshold


def slowest_stage() -> pl.Expr:
    """Name of the stage with the most time in the request (null when no stage was timed)."""
    times = pl.concat_list([pl.col(c).fill_null(-1.0) for c in STAGE_COLUMNS])
    stage = pl.lit(list(CHILD_STAGES)).list.get(times.list.arg_max())
    return pl.when(pl.max_horizontal(STAGE_COLUMNS).is_not_null()).then(stage)


def raised_flags(flags: list[str]) -> pl.Expr:
    """The names of the flags a request raised, as a list."""
    if not flags:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(
        [pl.when(pl.col(f"flag_{n}").fill_null(False)).then(pl.lit(n)) for n in flags]
    ).list.drop_nulls()


def select_outliers(requests: pl.LazyFrame, query: OutlierQuery, *, flags: list[str] | None = None) -> pl.DataFrame:
    """Requests above the percentile (within each `per` group), worst first, at most `limit` (per group).

    Columns: the request's own, plus `value` (the metric), `threshold`, `rank`, `slowest_stage` and
    `flags` (names raised). `flags` are the flag names to report (those with a column in the table).
    """
    names = requests.collect_schema().names()
    flags = [f for f in (flags or []) if f"flag_{f}" in names]
    keys = ["correlation_id", "_value", *([query.per] if query.per else [])]
    chosen = (
        _population(requests, query)
        .select(*keys)
        .with_columns(_threshold=_threshold(query))
        .filter(pl.col("_value") > pl.col("_threshold"))
        .sort(["_value", "correlation_id"], descending=[True, False])
    )
    rank = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    chosen = chosen.with_columns(rank=rank.over(query.per) if query.per else rank)
    if query.limit is not None:
        chosen = chosen.filter(pl.col("rank") <= query.limit)
    picked = chosen.collect()
    full = (
        requests.filter(pl.col("correlation_id").is_in(picked["correlation_id"].implode()))
        .with_columns(owned_strings(requests.collect_schema()))
        .with_columns(slowest_stage=slowest_stage(), flags=raised_flags(flags))
        .collect()
    )
    ordered = picked.select(
        "correlation_id", value=pl.col("_value").cast(pl.Float64), threshold=pl.col("_threshold"), rank="rank"
    ).join(full, on="correlation_id", how="left", maintain_order="left")
    return ordered.sort([query.per, "rank"], nulls_last=True, maintain_order=True) if query.per else ordered


def tail_attribution(requests: pl.LazyFrame, query: OutlierQuery) -> pl.DataFrame:
    """Per stage: its share of the requests' end-to-end time, over all requests and over those above the percentile.

    A share is the stage's summed time over the set's summed latency; the rest (the gateway's own work,
    queueing; 0 when stages overlap) is `unattributed`. Columns: stage, share_all, share_tail, ms_all and
    ms_tail (mean per request), requests_all, requests_tail.
    """
    frame = _population(requests, query).filter(pl.col("latency_ms").is_not_null())
    frame = frame.select("_value", "latency_ms", *STAGE_COLUMNS, *([query.per] if query.per else []))
    tail = pl.col("_value") > _threshold(query)

    def sums(mask: pl.Expr, part: str) -> list[pl.Expr]:
        return [
            *(pl.col(c).filter(mask).fill_null(0.0).sum().alias(f"{c}|{part}") for c in STAGE_COLUMNS),
            pl.col("latency_ms").filter(mask).sum().alias(f"latency|{part}"),
            pl.col("latency_ms").filter(mask).count().cast(pl.Int64).alias(f"n|{part}"),
        ]

    row = frame.select(*sums(pl.lit(True), "all"), *sums(tail, "tail")).collect().row(0, named=True)
    columns: dict[str, list[object]] = {"stage": [*CHILD_STAGES, UNATTRIBUTED]}
    for part in ("all", "tail"):
        total, n = row[f"latency|{part}"] or 0.0, row[f"n|{part}"] or 0
        times = [row[f"{c}|{part}"] or 0.0 for c in STAGE_COLUMNS]
        outside = max(0.0, total - sum(times))
        columns[f"share_{part}"] = [t / total if total else None for t in [*times, outside]]
        columns[f"ms_{part}"] = [t / n if n else None for t in [*times, outside]]
        columns[f"requests_{part}"] = [n] * (len(times) + 1)
    order = ["stage", "share_all", "share_tail", "ms_all", "ms_tail", "requests_all", "requests_tail"]
    schema = {c: pl.String if c == "stage" else pl.Int64 if c.startswith("requests") else pl.Float64 for c in order}
    return pl.DataFrame({c: columns[c] for c in order}, schema=schema)


def tail_sentence(tail: pl.DataFrame, p: float) -> str:
    """The stage whose share grows most in the tail, as one sentence ("retrieval is 12% ... but 61% ...")."""
    growth = tail.filter(pl.col("share_tail").is_not_null() & pl.col("share_all").is_not_null()).with_columns(
        grow=pl.col("share_tail") - pl.col("share_all")
    )
    if growth.is_empty():
        return ""
    top = growth.sort("grow", "stage", descending=[True, False]).row(0, named=True)
    if top["grow"] <= 0.005:
        return f"No stage grows in the p{p:g} tail: the slowest requests are slow all over."
    name = "Time outside the stages" if top["stage"] == UNATTRIBUTED else f"The {top['stage']} stage"
    return (
        f"{name} takes {top['share_all']:.0%} of the time over all requests, "
        f"but {top['share_tail']:.0%} in the requests above p{p:g}."
    )
