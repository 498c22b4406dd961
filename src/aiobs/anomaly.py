"""Anomalies in hourly series: a robust, seasonal baseline (median and MAD of the same hour on earlier days).

For each group (overall, one model, route or stage) and metric (p95 latency, error rate, cost per
1,000 requests, each flag rate, acceptance rate), an hour bucket is compared with the same hour of
day over the previous `reference_days` days. Until there are `min_reference` such hours, the
previous 24 hours serve instead (at least `min_trailing` of them); before that, no verdict.

    score = (x − median) / scale         x = ln(value) for latency and cost, the value for rates
    scale = max(1.4826 · MAD, the bucket's own sampling error, floor)

1.4826 · MAD estimates a standard deviation robustly (a spike in the references does not widen it).
The sampling error keeps thin hours from looking like jumps: for p95 the order-statistic band of
the hour's own sketch, for cost the standard error of its mean, for a rate the binomial
√(p(1 − p)/n) at the reference median. A bucket is an **anomaly** when it is worse by at least
`threshold` (3.5, Iglewicz and Hoaglin's cut for robust z-scores), by at least `min_relative_jump`
(latency, cost) or `min_rate_jump` (rates), and it has at least `min_requests` requests.
Only the worse direction is marked (slower, more errors, dearer, more flags, less acceptance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from aiobs import sketch
from aiobs.metrics import STAGE_KEY
from aiobs.profiles import BUCKET

GROUP = ["dimension", "key", "metric"]
LATENCY_METRIC = "p95(latency_ms)"
#: 1.4826 · MAD is the standard deviation of a normal distribution with that MAD.
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class AnomalyRules:
    threshold: float = 3.5
    min_requests: int = 20
    reference_days: int = 14
    min_reference: int = 3
    min_trailing: int = 12
    min_relative_jump: float = 0.20
    min_rate_jump: float = 0.01
    #: Smallest scale on the log scale (5 %): hour-to-hour wobble below this is never a jump.
    log_floor: float = 0.05


SERIES_SCHEMA = {
    BUCKET: pl.Datetime("us", "UTC"),
    "dimension": pl.String(),
    "key": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
    "n": pl.Int64(),
    "se": pl.Float64(),
    "log_scale": pl.Boolean(),
    "higher_is_worse": pl.Boolean(),
}


def _shape(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in SERIES_SCHEMA.items())


def hourly_series(profiles: pl.DataFrame) -> pl.DataFrame:
    """History rows (one per hour bucket and group) as a long table: one row per metric."""
    keys = [BUCKET, "dimension", "key"]
    rows = profiles.lazy()
    latency = sketch.quantile_band(rows, keys, 0.95, z=1.0, column="latency_sketch").with_columns(
        metric=pl.lit(LATENCY_METRIC),
        se=pl.when(pl.col("low") > 0).then((pl.col("high").log() - pl.col("low").log()) / 2),
        log_scale=pl.lit(True),
        higher_is_worse=pl.lit(True),
    )
    requests = rows.filter(pl.col("dimension") != STAGE_KEY)
    errors = requests.select(
        *keys,
        metric=pl.lit("error_rate"),
        value=pl.col("errors") / pl.col("requests"),
        n=pl.col("requests"),
        se=pl.lit(None, pl.Float64),
        log_scale=pl.lit(False),
        higher_is_worse=pl.lit(True),
    )
    mean = pl.col("cost_usd") / pl.col("requests")
    variance = (pl.col("cost_sq") - pl.col("requests") * mean * mean) / (pl.col("requests") - 1)
    cost = requests.filter((pl.col("priced") > 0) & (pl.col("requests") > 1) & (pl.col("cost_usd") > 0)).select(
        *keys,
        metric=pl.lit("cost_per_1k"),
        value=mean * 1000,
        n=pl.col("priced"),
        se=(variance.clip(lower_bound=0) / pl.col("requests")).sqrt() / mean,
        log_scale=pl.lit(True),
        higher_is_worse=pl.lit(True),
    )
    flags = (
        requests.select(*keys, "flags")
        .explode("flags")
        .unnest("flags")
        .filter(pl.col("n") > 0)
        .select(
            *keys,
            metric=pl.format("rate({})", "name"),
            value=pl.col("hits") / pl.col("n"),
            n=pl.col("n"),
            se=pl.lit(None, pl.Float64),
            log_scale=pl.lit(False),
            higher_is_worse=pl.lit(True),
        )
    )
    feedback = requests.filter(pl.col("feedback_n") > 0).select(
        *keys,
        metric=pl.lit("acceptance_rate"),
        value=pl.col("feedback_accepted") / pl.col("feedback_n"),
        n=pl.col("feedback_n"),
        se=pl.lit(None, pl.Float64),
        log_scale=pl.lit(False),
        higher_is_worse=pl.lit(False),
    )
    parts = [_shape(part) for part in (latency, errors, cost, flags, feedback)]
    return pl.concat(parts).sort([*GROUP, BUCKET], nulls_last=False).collect()


def _reference(frame: pl.LazyFrame, *, period: str, by: list[str], prefix: str) -> pl.LazyFrame:
    x = pl.col("x")
    return frame.rolling(index_column=BUCKET, period=period, closed="left", group_by=by).agg(
        x.median().alias(f"{prefix}_median"),
        (x - x.median()).abs().median().alias(f"{prefix}_mad"),
        x.count().alias(f"{prefix}_n"),
    )


def score_series(series: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """Score every eligible bucket of a long series (hourly_series); `anomaly` marks the jumps."""
    log_scale = pl.col("log_scale")
    eligible = (
        series.lazy()
        .filter((pl.col("n") >= rules.min_requests) & pl.col("value").is_not_null())
        .filter(~log_scale | (pl.col("value") > 0))
        .with_columns(x=pl.when(log_scale).then(pl.col("value").log()).otherwise(pl.col("value")))
        .with_columns(hour=pl.col(BUCKET).dt.hour())
    )
    seasonal = _reference(
        eligible.sort([*GROUP, "hour", BUCKET], nulls_last=False),
        period=f"{rules.reference_days}d",
        by=[*GROUP, "hour"],
        prefix="same_hour",
    ).drop("hour")
    trailing = _reference(eligible.sort([*GROUP, BUCKET], nulls_last=False), period="24h", by=GROUP, prefix="trailing")
    joined = eligible.join(seasonal, on=[*GROUP, BUCKET], how="left", nulls_equal=True).join(
        trailing, on=[*GROUP, BUCKET], how="left", nulls_equal=True
    )
    use_seasonal = pl.col("same_hour_n") >= rules.min_reference
    use_trailing = ~use_seasonal & (pl.col("trailing_n") >= rules.min_trailing)
    median = pl.when(use_seasonal).then(pl.col("same_hour_median")).when(use_trailing).then(pl.col("trailing_median"))
    mad = pl.when(use_seasonal).then(pl.col("same_hour_mad")).when(use_trailing).then(pl.col("trailing_mad"))
    p0 = pl.max_horizontal(pl.col("median"), 1.0 / pl.col("n")).clip(upper_bound=1.0)
    own_error = pl.when(log_scale).then(pl.col("se")).otherwise((p0 * (1 - p0) / pl.col("n")).sqrt())
    floor = pl.when(log_scale).then(pl.lit(rules.log_floor)).otherwise(pl.lit(0.0))
    sign = pl.when(pl.col("higher_is_worse")).then(1.0).otherwise(-1.0)
    worse_by = sign * (pl.col("x") - pl.col("median"))
    min_jump = pl.when(log_scale).then(math.log1p(rules.min_relative_jump)).otherwise(rules.min_rate_jump)
    scored = (
        joined.with_columns(
            median=median,
            mad=mad,
            reference=pl.when(use_seasonal)
            .then(pl.format("same hour, {} day(s)", pl.col("same_hour_n")))
            .when(use_trailing)
            .then(pl.format("last 24 h, {} hour(s)", pl.col("trailing_n"))),
        )
        .with_columns(scale=pl.max_horizontal(MAD_TO_SD * pl.col("mad"), own_error.fill_null(0.0), floor))
        .with_columns(score=pl.when(pl.col("scale") > 0).then(worse_by / pl.col("scale")))
        .with_columns(
            baseline=pl.when(log_scale).then(pl.col("median").exp()).otherwise(pl.col("median")),
            anomaly=(pl.col("score") >= rules.threshold) & (worse_by >= min_jump),
        )
        .with_columns(pl.col("anomaly").fill_null(False))
    )
    return (
        scored.select(BUCKET, "dimension", "key", "metric", "value", "baseline", "score", "reference", "n", "anomaly")
        .sort([BUCKET, *GROUP], nulls_last=False)
        .collect()
    )
