"""Evaluate SLOs on a request table: one Polars query per SLO, all collected together.

`stage=...` (filter or `by stage`) reads the stage rows of aiobs.metrics.stage_rows: one row per
request that ran the stage, `latency_ms` being the stage's own time. Other filters keep the requests
whose column equals the value. A metric with nothing to compute from is "no data", with the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import polars as pl

from aiobs.errors import UsageError
from aiobs.gates.catalogue import METRICS, Unit
from aiobs.gates.expressions import MetricRef, Slo
from aiobs.gates.results import SloResult, Status
from aiobs.metrics import STAGE_KEY, cost_per_1k, cost_sum, error_rate, is_thin, stage_rows
from aiobs.profiles import ACCEPTED_SCORE, FEEDBACK, FLAG_PREFIX
from aiobs.quality import BUILTIN_FLAGS
from aiobs.schema import STAGES

#: A rate over fewer requests than this is marked rough (1 error in 12 requests is 8 %).
ROUGH_RATE_BELOW = 30
#: Metrics over every request of which only the priced ones carry a cost.
COST_METRICS = ("cost", "cost_per_1k")


class NoData(Exception):
    """The request table cannot answer this metric (a column it needs is missing)."""


def metric_exprs(metric: MetricRef, schema: pl.Schema) -> tuple[pl.Expr, pl.Expr]:
    """(value, n): the metric and how many values it is computed from. Raises NoData."""
    name, arg = metric.name, metric.argument
    if metric.is_percentile or name in ("mean", "max"):
        assert arg is not None
        values = pl.col(arg)
        if metric.quantile is not None:
            value = values.quantile(metric.quantile, interpolation="linear")
        else:
            value = values.mean() if name == "mean" else values.max()
        return value.cast(pl.Float64), values.count()
    if name == "rate":
        column = FLAG_PREFIX + (arg or "")
        if column not in schema:
            known = sorted(c.removeprefix(FLAG_PREFIX) for c in schema if c.startswith(FLAG_PREFIX))
            # Not a built-in flag and not among the computed ones (custom rules included): a typo, which
            # must not pass a CI gate as "no data".
            if known and arg not in BUILTIN_FLAGS:
                close = difflib.get_close_matches(arg or "", known, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                msg = f"unknown quality flag '{arg}' in rate({arg}): {hint}the flags are {', '.join(known)}"
                raise UsageError(msg)
            msg = f"the logs carry no '{arg}' flag (no {column} column)"
            raise NoData(msg)
        return pl.col(column).cast(pl.Float64).mean(), pl.col(column).count()
    if name == "acceptance_rate":
        if FEEDBACK not in schema:
            msg = f"the logs carry no user feedback (no {FEEDBACK} column)"
            raise NoData(msg)
        score = pl.col(FEEDBACK)
        return (score >= ACCEPTED_SCORE).cast(pl.Float64).mean(), score.count()
    cost = pl.col("cost_usd")
    requests = pl.len()
    exprs: dict[str, tuple[pl.Expr, pl.Expr]] = {
        "requests": (requests.cast(pl.Float64), requests),
        "errors": (pl.col("is_error").sum().cast(pl.Float64), requests),
        "error_rate": (error_rate(pl.col("is_error").sum(), requests), requests),
        "retry_rate": ((pl.col("retries") > 0).cast(pl.Float64).mean(), requests),
        # Both are over every request (an unpriced one adds $0); `_result` notes how many were unpriced.
        "cost": (cost_sum(cost), requests),
        "cost_per_1k": (cost_per_1k(cost_sum(cost), cost.count(), requests), requests),
        "tokens_per_s": (
            pl.col("output_tokens").filter(pl.col("llm_output_ms").is_not_null()).sum()
            / (pl.col("llm_output_ms").sum() / 1000.0),
            pl.col("llm_output_ms").count(),
        ),
    }
    assert name in METRICS
    return exprs[name]


def _no_values_reason(slo: Slo, hints: dict[str, str] | None = None) -> str:
    metric = slo.metric
    where = f" with {', '.join(f'{k}={v}' for k, v in metric.filters)}" if metric.filters else ""
    if hints:
        where += " (" + "; ".join(f"did you mean {k}={v}?" for k, v in hints.items()) + ")"
    if metric.name in ("cost", "cost_per_1k"):
        return f"no priced requests{where}" + (" (cost is not split by stage)" if _uses_stage(slo) else "")
    if metric.name == "rate":
        return f"no request{where} has a value for the '{metric.argument}' flag"
    if metric.name == "acceptance_rate":
        return f"no request{where} has feedback"
    if metric.argument:
        return f"no {metric.argument} values{where}"
    return f"no requests{where}"


def _uses_stage(slo: Slo) -> bool:
    return STAGE_KEY in slo.by or any(k == STAGE_KEY for k, _ in slo.metric.filters)


def _query(requests: pl.LazyFrame, slo: Slo, schema: pl.Schema) -> pl.LazyFrame:
    frame = stage_rows(requests) if _uses_stage(slo) else requests
    frame_schema = frame.collect_schema() if _uses_stage(slo) else schema
    value, n = metric_exprs(slo.metric, frame_schema)
    for key, wanted in slo.metric.filters:
        frame = frame.filter(pl.col(key).cast(pl.String) == wanted)
    aggregates = [value.alias("value"), n.cast(pl.Int64).alias("n")]
    if slo.metric.name in COST_METRICS:
        aggregates.append(pl.col("cost_usd").count().cast(pl.Int64).alias("priced"))
    if not slo.by:
        return frame.select(aggregates)
    by = [pl.col(k).cast(pl.String) for k in slo.by]
    return frame.group_by(by).agg(aggregates).sort(list(slo.by), nulls_last=True)


def _filter_hints(requests: pl.LazyFrame, slo: Slo) -> dict[str, str]:
    """For filters that matched nothing, the closest value the logs do have (a typo in a model name)."""
    hints: dict[str, str] = {}
    for key, wanted in slo.metric.filters:
        if key == STAGE_KEY:
            continue
        values = requests.select(pl.col(key).cast(pl.String).drop_nulls().unique()).collect().to_series().to_list()
        if wanted not in values:
            close = difflib.get_close_matches(wanted, values, n=1)
            if close:
                hints[key] = close[0]
    return hints


def _unmatched_filters(requests: pl.LazyFrame, slo: Slo) -> list[tuple[str, str]]:
    """The filters whose value no request (no stage) has at all."""
    missing = []
    for key, wanted in slo.metric.filters:
        if key == STAGE_KEY:
            known = set(STAGES)
        else:
            known = set(requests.select(pl.col(key).cast(pl.String).drop_nulls().unique()).collect().to_series())
        if wanted not in known:
            missing.append((key, wanted))
    return missing


def _result(
    slo: Slo,
    group: tuple[tuple[str, str | None], ...],
    value: float | None,
    n: int,
    requests: pl.LazyFrame,
    *,
    priced: int | None = None,
    allow_unmatched: bool = False,
) -> SloResult:
    if value is None or value != value or n == 0:  # NaN: a mean over no values
        reason = _no_values_reason(slo, _filter_hints(requests, slo) if slo.metric.filters else None)
        unmatched = _unmatched_filters(requests, slo)
        if unmatched and not allow_unmatched:
            named = ", ".join(f"{k}={v}" for k, v in unmatched)
            reason = f"{named} matches no request ({reason}); pass --allow-unmatched if that is expected"
            return SloResult(slo, group, None, n, Status.UNMATCHED, reason)
        return SloResult(slo, group, None, n, Status.NO_DATA, reason)
    note = ""
    q = slo.metric.quantile
    if priced is not None and priced < n:
        # Their cost is unknown, never $0: the figure is what the priced requests cost, a lower bound.
        note = f"{n - priced:,} unpriced: a lower bound"
    elif q is not None and is_thin(n, q):
        note = f"{slo.metric.name} from {n:,} values: rough (fewer than 10 above it)"
    elif slo.metric.unit is Unit.FRACTION and n < ROUGH_RATE_BELOW:
        note = f"a rate of {n:,} request(s): rough"
    return SloResult(slo, group, value, n, Status.OK if slo.holds(value) else Status.BREACHED, note)


def evaluate_slos(requests: pl.LazyFrame, slos: Sequence[Slo], *, allow_unmatched: bool = False) -> list[SloResult]:
    """One result per SLO, or per group of an SLO with `by`, in the order given.

    An SLO whose filter value no request has (`model=gpt-5`) fails as `unmatched` unless `allow_unmatched`:
    a misspelt model or route would otherwise pass CI forever as "no data".
    """
    schema = requests.collect_schema()
    planned: list[tuple[Slo, pl.LazyFrame | str]] = []
    for slo in slos:
        try:
            planned.append((slo, _query(requests, slo, schema)))
        except NoData as exc:
            planned.append((slo, str(exc)))
    frames = iter(pl.collect_all([q for _, q in planned if isinstance(q, pl.LazyFrame)]))
    results: list[SloResult] = []
    for slo, query in planned:
        if isinstance(query, str):
            results.append(SloResult(slo, (), None, 0, Status.NO_DATA, query))
            continue
        frame = next(frames)
        if slo.by and frame.is_empty():
            results.append(SloResult(slo, (), None, 0, Status.NO_DATA, _no_values_reason(slo)))
        for row in frame.iter_rows(named=True):
            group = tuple((k, row[k]) for k in slo.by)
            results.append(
                _result(
                    slo,
                    group,
                    row["value"],
                    row["n"],
                    requests,
                    priced=row.get("priced"),
                    allow_unmatched=allow_unmatched,
                )
            )
    return results
