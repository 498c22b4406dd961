"""Anomalies in hourly series: a robust, seasonal baseline (median and MAD of the same hour on earlier days).

For each group (overall, one model, route or stage) and metric (p95 latency, error rate, cost per
1,000 requests, each flag rate, acceptance rate), an hour bucket is compared with the median of the
same hour of day over the previous `reference_days` days; the spread is the MAD of all earlier
hours' residuals from their own same-hour medians over that window (pooled, so it rests on hundreds
of values, not on the few days one hour has). Until there are `min_reference` such days and
`min_residuals` residuals, the previous 24 hours serve instead (at least `min_trailing` of them,
median and MAD of those); before that, no verdict.

    score = (x − median) / scale
    scale = max(1.4826 · MAD, the bucket's own sampling error, floor) · √(1 + π / 2k)

x is ln(value) for latency and cost, and Anscombe's arcsine transform asin √((k + 3/8)/(n + 3/4))
for a rate of k in n: on that scale a rate's sampling spread is 1/(2√n) whatever the rate, so an
hour with 5 errors in 90 requests, where 1 is usual, is not mistaken for an outage (a plain
z-score on the rate would be, because small counts have heavy tails).
1.4826 · MAD estimates a standard deviation robustly (a spike in the references does not widen it);
√(1 + π/2k) adds the uncertainty of a median of k references (π/2k is its variance relative to one
value's), so a baseline of three days is trusted less than one of fourteen.
The sampling error keeps thin hours from looking like jumps: for p95 the order-statistic band of
the hour's own sketch, for cost the standard error of its mean, for a rate 1/(2√n). p95 is only
judged in hours with at least 10 requests above it (200 requests), like every percentile aiobs
shows. A bucket is an **anomaly** when it is worse by at least `threshold` (3.5, Iglewicz and
Hoaglin's cut for robust z-scores), by at least `min_relative_jump` (latency, cost) or
`min_rate_jump` (rates), and it has at least `min_requests` requests.
Only the worse direction is marked (slower, more errors, dearer, more flags, less acceptance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from aiobs import sketch
from aiobs.metrics import MIN_TAIL_VALUES, STAGE_KEY
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
    #: Earlier residuals (from their same-hour medians) needed before the seasonal baseline is used.
    min_residuals: int = 24
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
    latency = sketch.quantile_band(rows, keys, 0.95, z=1.0, column="latency_sketch").filter(
        pl.col("n") * (1 - 0.95) >= MIN_TAIL_VALUES
    )
    latency = latency.with_columns(
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


def _arcsine(rate: pl.Expr, n: pl.Expr) -> pl.Expr:
    """Anscombe's variance-stabilising transform of k = rate · n successes in n."""
    return (((rate * n) + 3 / 8) / (n + 3 / 4)).sqrt().arcsin()


def _rate_of(x: pl.Expr) -> pl.Expr:
    """Back from the arcsine scale to a rate (ignoring the small 3/8 offset)."""
    return x.sin().pow(2)


def score_series(series: pl.DataFrame, rules: AnomalyRules) -> pl.DataFrame:
    """Score every eligible bucket of a long series (hourly_series); `anomaly` marks the jumps."""
    log_scale = pl.col("log_scale")
    eligible = (
        series.lazy()
        .filter((pl.col("n") >= rules.min_requests) & pl.col("value").is_not_null())
        .filter(~log_scale | (pl.col("value") > 0))
        .with_columns(
            x=pl.when(log_scale).then(pl.col("value").log()).otherwise(_arcsine(pl.col("value"), pl.col("n")))
        )
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
    # The spread of the same-hour baseline: the MAD of every earlier hour's residual from its own
    # same-hour median, over the reference window. Pooled over all hours of the day, it rests on
    # hundreds of values rather than on the few days one hour has.
    residuals = joined.with_columns(
        resid=pl.when(pl.col("same_hour_n") >= rules.min_reference).then(pl.col("x") - pl.col("same_hour_median"))
    )
    spread = (
        residuals.sort([*GROUP, BUCKET], nulls_last=False)
        .rolling(index_column=BUCKET, period=f"{rules.reference_days}d", closed="left", group_by=GROUP)
        .agg(pl.col("resid").abs().median().alias("resid_mad"), pl.col("resid").count().alias("resid_n"))
    )
    joined = residuals.join(spread, on=[*GROUP, BUCKET], how="left", nulls_equal=True)
    use_seasonal = (pl.col("same_hour_n") >= rules.min_reference) & (pl.col("resid_n") >= rules.min_residuals)
    references = pl.when(use_seasonal).then(pl.col("same_hour_n")).otherwise(pl.col("trailing_n")).cast(pl.Float64)
    use_trailing = ~use_seasonal & (pl.col("trailing_n") >= rules.min_trailing)
    median = pl.when(use_seasonal).then(pl.col("same_hour_median")).when(use_trailing).then(pl.col("trailing_median"))
    mad = pl.when(use_seasonal).then(pl.col("resid_mad")).when(use_trailing).then(pl.col("trailing_mad"))
    own_error = pl.when(log_scale).then(pl.col("se")).otherwise(0.5 / (pl.col("n") + 0.5).sqrt())
    floor = pl.when(log_scale).then(pl.lit(rules.log_floor)).otherwise(pl.lit(0.0))
    sign = pl.when(pl.col("higher_is_worse")).then(1.0).otherwise(-1.0)
    worse_by = sign * (pl.col("x") - pl.col("median"))
    # The jump is judged on the value's own scale: +20 % for latency and cost, +1 point for a rate.
    jump = pl.when(log_scale).then(worse_by).otherwise(sign * (pl.col("value") - pl.col("baseline")))
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
        .with_columns(
            scale=pl.max_horizontal(MAD_TO_SD * pl.col("mad"), own_error.fill_null(0.0), floor)
            * (1 + math.pi / (2 * references)).sqrt()
        )
        .with_columns(score=pl.when(pl.col("scale") > 0).then(worse_by / pl.col("scale")))
        .with_columns(baseline=pl.when(log_scale).then(pl.col("median").exp()).otherwise(_rate_of(pl.col("median"))))
        .with_columns(anomaly=(pl.col("score") >= rules.threshold) & (jump >= min_jump))
        .with_columns(pl.col("anomaly").fill_null(False))
    )
    return (
        scored.select(BUCKET, "dimension", "key", "metric", "value", "baseline", "score", "reference", "n", "anomaly")
        .sort([BUCKET, *GROUP], nulls_last=False)
        .collect()
    )
