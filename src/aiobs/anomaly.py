"""Anomalies in bucketed series: a robust, seasonal baseline (median and MAD of the same time of day on earlier days).

For each group (overall, one model, route or stage) and metric (p95 latency, error rate, cost per
1,000 requests, each flag rate, acceptance rate), a bucket is compared with the median of the same
time of day over the previous `reference_days` days; the spread is the MAD of all earlier buckets'
residuals from their own same-time medians over that window (pooled, so it rests on many values,
not on the few days one time of day has). Until there are `min_reference` such days and enough
residuals (`min_residuals` hourly ones, a day's worth; at least `min_pooled` at coarser sizes), the
previous 24 hours serve instead (at least `min_trailing` buckets, median and MAD of those: so only
hourly buckets have this fallback); before that, no verdict.

    score = (x − median) / scale
    scale = max(1.4826 · MAD, the bucket's own sampling error, floor) · √(1 + π / 2k)

x is ln(value) for latency and cost, and Anscombe's arcsine transform asin √((k + 3/8)/(n + 3/4))
for a rate of k in n: on that scale a rate's sampling spread is 1/(2√n) whatever the rate, so an
hour with 5 errors in 90 requests, where 1 is usual, is not mistaken for an outage (a plain
z-score on the rate would be, because small counts have heavy tails).
1.4826 · MAD estimates a standard deviation robustly (a spike in the references does not widen it);
√(1 + π/2k) adds the uncertainty of a median of k references (π/2k is its variance relative to one
value's), so a baseline of three days is trusted less than one of fourteen.
The sampling error keeps thin buckets from looking like jumps: for p95 the order-statistic band of
the bucket's own sketch, for cost the standard error of its mean, for a rate 1/(2√n). p95 is only
judged in buckets with at least 10 requests above it (200 requests), like every percentile aiobs
shows; the other metrics in buckets of at least `min_requests`. A bucket is an **anomaly** when it
is worse by at least `threshold` (3.5, Iglewicz and Hoaglin's cut for robust z-scores) and by at
least `min_relative_jump` (latency, cost) or `min_rate_jump` (rates).
Only the worse direction is marked (slower, more errors, dearer, more flags, less acceptance).

**Bucket size.** The store keeps hours. Where an hour has too few requests for a metric (80 requests
an hour never make the 200 a p95 needs), it is judged in the finest coarser bucket of `sizes`
(3 h, 6 h, 1 d, aligned to UTC midnight) that has enough: every hour with data is judged on the finest
bucket that can judge it, so nothing an hourly verdict could say is lost, and a coarser bucket is only
reported where some hour in it had no finer verdict. Coarser buckets are the hours merged exactly:
counts added, latency sketches merged (aiobs.sketch), and each size has its own seasonal baseline.
Only hourly buckets can have `min_trailing` references in the last 24 hours: coarser ones wait for
the seasonal baseline. Which hours were judged, on which sizes, and why the others were not, is
aiobs.incidents' part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from aiobs import sketch
from aiobs.metrics import MIN_TAIL_VALUES, STAGE_KEY, cost_per_1k, error_rate
from aiobs.profiles import BUCKET

GROUP = ["dimension", "key", "metric"]
LATENCY_METRIC = "p95(latency_ms)"
#: 1.4826 · MAD is the standard deviation of a normal distribution with that MAD.
MAD_TO_SD = 1.4826
#: Requests a bucket needs before its p95 is judged: 10 above it, as for every percentile aiobs shows.
P95_NEEDS = round(MIN_TAIL_VALUES / (1 - 0.95))
#: The `error` quality flag is the request's error status (aiobs.quality.flags): its rate is `error_rate`,
#: one signal, scored once.
SAME_AS_ERROR_RATE = "error"
#: Bucket sizes a metric may be scored on, finest first: each a whole number of hours that divides a day.
SIZES = ("1h", "3h", "6h", "1d")


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
    #: Bucket sizes tried, finest first (SIZES); ("1h",) scores hours only.
    sizes: tuple[str, ...] = SIZES
    #: Pooled residuals needed at coarser sizes, where `min_residuals` (a day of hours) would take weeks.
    min_pooled: int = 8

    def __post_init__(self) -> None:
        hours = [size_hours(every) for every in self.sizes]
        if not hours or hours != sorted(set(hours)):
            msg = f"bucket sizes {self.sizes!r}: give one or more, finest first, each once"
            raise ValueError(msg)


def size_hours(every: str) -> int:
    """Hours in a bucket size of SIZES' form (`3h`, `1d`); a ValueError for anything else."""
    unit = {"h": 1, "d": 24}.get(every[-1:], 0)
    hours = int(every[:-1]) * unit if every[:-1].isdigit() else 0
    # Whole divisors of a day keep every bucket at the same times each day, as the seasonal baseline needs.
    if hours not in (1, 2, 3, 4, 6, 8, 12, 24):
        msg = f"bucket size {every!r}: use hours that divide a day (1h, 2h, 3h, 4h, 6h, 8h, 12h) or 1d"
        raise ValueError(msg)
    return hours


def size_label(every: str) -> str:
    """`3h` as people write it: `3 h`, `1 d`."""
    return f"{every[:-1]} {every[-1]}"


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
    #: Requests a bucket needs for this metric besides `min_requests` (P95_NEEDS for p95, else 0).
    "needs": pl.Int64(),
}


def _shape(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in SERIES_SCHEMA.items())


def hourly_series(profiles: pl.DataFrame) -> pl.DataFrame:
    """History rows (one per bucket and group: hours, or coarser after `coarsen`) as a long table: one row
    per metric. Thin buckets are kept (their `n` says so): `score_series` leaves them out, `coverage` counts them."""
    keys = [BUCKET, "dimension", "key"]
    rows = profiles.lazy()
    latency = sketch.quantile_band(rows, keys, 0.95, z=1.0, column="latency_sketch")
    latency = latency.with_columns(
        metric=pl.lit(LATENCY_METRIC),
        se=pl.when(pl.col("low") > 0).then((pl.col("high").log() - pl.col("low").log()) / 2),
        log_scale=pl.lit(True),
        higher_is_worse=pl.lit(True),
        needs=pl.lit(P95_NEEDS),
    )
    requests = rows.filter(pl.col("dimension") != STAGE_KEY)
    errors = requests.select(
        *keys,
        metric=pl.lit("error_rate"),
        value=error_rate(pl.col("errors"), pl.col("requests")),
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
        value=cost_per_1k(pl.col("cost_usd"), pl.col("priced"), pl.col("requests")),
        n=pl.col("priced"),
        se=(variance.clip(lower_bound=0) / pl.col("requests")).sqrt() / mean,
        log_scale=pl.lit(True),
        higher_is_worse=pl.lit(True),
    )
    flags = (
        requests.select(*keys, "flags")
        .explode("flags")
        .unnest("flags")
        .filter((pl.col("n") > 0) & (pl.col("name") != SAME_AS_ERROR_RATE))
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
    parts = [part.with_columns(needs=pl.lit(0)) for part in (errors, cost, flags, feedback)]
    return pl.concat([_shape(part) for part in (latency, *parts)]).sort([*GROUP, BUCKET], nulls_last=False).collect()


def coarsen(profiles: pl.DataFrame, every: str) -> pl.DataFrame:
    """Hourly history rows merged into `every` buckets (UTC-aligned): counts and sums added, sketches merged.

    Only the columns `hourly_series` reads are kept."""
    if size_hours(every) == 1:
        return profiles
    keys = [BUCKET, "dimension", "key"]
    rows = profiles.lazy().with_columns(pl.col(BUCKET).dt.truncate(every))
    summed = ["requests", "errors", "priced", "feedback_n", "feedback_accepted", "cost_usd", "cost_sq"]
    sums = rows.group_by(keys).agg(pl.col(summed).sum())
    latency = sketch.merge(rows, keys, "latency_sketch")
    flags = (
        rows.select(*keys, "flags")
        .explode("flags")
        .unnest("flags")
        .drop_nulls("name")
        .group_by([*keys, "name"])
        .agg(pl.col("hits", "n").sum())
        .sort("name")
        .group_by(keys)
        .agg(flags=pl.struct("name", "hits", "n"))
    )
    merged = sums.join(latency, on=keys, how="left", nulls_equal=True).join(
        flags, on=keys, how="left", nulls_equal=True
    )
    return merged.with_columns(pl.col("flags").fill_null([])).collect()


def _enough(rules: AnomalyRules) -> pl.Expr:
    return pl.col("n") >= pl.max_horizontal(pl.col("needs"), pl.lit(rules.min_requests))


def _hours_of(buckets: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Each bucket (with its `every`) as the hours it spans: one row per hour, the bucket's `columns` kept."""
    last = pl.col(BUCKET).dt.offset_by(pl.col("every")) - timedelta(hours=1)
    return buckets.select(*columns, pl.datetime_ranges(BUCKET, last, "1h").alias(BUCKET)).explode(BUCKET)


def _not_covered(found: pl.DataFrame, hours: pl.DataFrame, covered: pl.DataFrame, every: str) -> pl.DataFrame:
    """The buckets of `found` holding an hour with data (`hours`) that no finer eligible bucket covered."""
    if size_hours(every) == 1:
        return found
    keys = [*GROUP, BUCKET]

    def per_bucket(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by(*GROUP, pl.col(BUCKET).dt.truncate(every)).agg(pl.len().alias(name))

    # Only covered hours that hold data count: a finer bucket also spans hours without any.
    covered = covered.join(hours, on=keys, how="semi", nulls_equal=True)
    counts = per_bucket(hours, "with_data").join(per_bucket(covered, "covered"), on=keys, how="left", nulls_equal=True)
    wanted = counts.filter(pl.col("covered").fill_null(0) < pl.col("with_data")).select(keys)
    return found.join(wanted, on=keys, how="semi", nulls_equal=True)


def score_profiles(
    profiles: pl.DataFrame, rules: AnomalyRules, *, since: datetime | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every hour with data judged on the finest bucket that has enough requests (of `rules.sizes`).

    Returns the scored buckets ending after `since` (`score_series`' columns; a coarser bucket only where
    some hour in it is not in an eligible finer one), and the hourly series (every hour with data, thin
    ones too), from which aiobs.incidents says which hours were judged.
    """
    hourly = hourly_series(profiles)
    hours = hourly.filter(pl.col("n") > 0).select(*GROUP, BUCKET)
    covered, scored = hours.head(0), []
    rows, rows_every = profiles, "1h"
    for every in rules.sizes:
        series = hourly
        if size_hours(every) > 1:
            # Only the groups and metrics with an hour no finer bucket judged need this size.
            needing = hours.join(covered, on=[*GROUP, BUCKET], how="anti").select(GROUP).unique()
            if needing.is_empty():
                break
            # Each size is merged from the previous one when that divides it (3 h into 6 h): fewer sketches.
            if size_hours(every) % size_hours(rows_every):
                rows, rows_every = profiles, "1h"
            groups = needing.select("dimension", "key").unique()
            rows = rows.join(groups, on=["dimension", "key"], how="semi", nulls_equal=True)
            rows, rows_every = coarsen(rows, every), every
            series = hourly_series(rows).join(needing, on=GROUP, how="semi", nulls_equal=True)
        found = _not_covered(score_series(series, rules, every=every), hours, covered, every)
        eligible = series.filter(_enough(rules)).with_columns(every=pl.lit(every))
        covered = pl.concat([covered, _hours_of(eligible, GROUP)]).unique()
        if since is not None:
            found = found.filter(pl.col(BUCKET) > since - timedelta(hours=size_hours(every)))
        scored.append(found)
    return pl.concat(scored).sort([BUCKET, *GROUP], nulls_last=False), hourly


def judged_hours(scored: pl.DataFrame) -> pl.DataFrame:
    """Per group, metric and hour inside a scored bucket: whether one of those buckets was judged (`judged`)."""
    spans = _hours_of(scored.with_columns(judged=pl.col("score").is_not_null()), [*GROUP, "judged"])
    return spans.group_by(*GROUP, BUCKET).agg(pl.col("judged").any())


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


def residuals_needed(rules: AnomalyRules, every: str) -> int:
    """Pooled residuals before the seasonal baseline is trusted: a day's worth, but never fewer than
    `min_pooled` (a day of 6 h buckets is 4, too few for a MAD) nor more than `min_residuals`."""
    return max(min(rules.min_pooled, rules.min_residuals), math.ceil(rules.min_residuals / size_hours(every)))


def _seasonal_label(every: str) -> str:
    hours = size_hours(every)
    if hours == 1:
        return "same hour, {} day(s)"
    if hours == 24:
        return "previous {} day(s) (1 d buckets)"
    return f"same {size_label(every)} of day, {{}} day(s)"


def score_series(series: pl.DataFrame, rules: AnomalyRules, *, every: str = "1h") -> pl.DataFrame:
    """Score every eligible bucket of a long series (hourly_series, of `every` buckets); `anomaly` marks the jumps."""
    log_scale = pl.col("log_scale")
    eligible = (
        series.lazy()
        .filter(_enough(rules) & pl.col("value").is_not_null())
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
    # The spread of the same-hour baseline: the MAD of every earlier bucket's residual from its own
    # same-hour median, over the reference window. Pooled over all times of the day, it rests on
    # many values rather than on the few days one time of day has.
    residuals = joined.with_columns(
        resid=pl.when(pl.col("same_hour_n") >= rules.min_reference).then(pl.col("x") - pl.col("same_hour_median"))
    )
    spread = (
        residuals.sort([*GROUP, BUCKET], nulls_last=False)
        .rolling(index_column=BUCKET, period=f"{rules.reference_days}d", closed="left", group_by=GROUP)
        .agg(pl.col("resid").abs().median().alias("resid_mad"), pl.col("resid").count().alias("resid_n"))
    )
    joined = residuals.join(spread, on=[*GROUP, BUCKET], how="left", nulls_equal=True)
    use_seasonal = (pl.col("same_hour_n") >= rules.min_reference) & (
        pl.col("resid_n") >= residuals_needed(rules, every)
    )
    references = pl.when(use_seasonal).then(pl.col("same_hour_n")).otherwise(pl.col("trailing_n")).cast(pl.Float64)
    # Only hourly buckets can have `min_trailing` of them in 24 hours: coarser ones wait for the seasonal baseline.
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
    trailing_unit = "hour(s)" if size_hours(every) == 1 else "bucket(s)"
    scored = (
        joined.with_columns(
            median=median,
            mad=mad,
            reference=pl.when(use_seasonal)
            .then(pl.format(_seasonal_label(every), pl.col("same_hour_n")))
            .when(use_trailing)
            .then(pl.format(f"last 24 h, {{}} {trailing_unit}", pl.col("trailing_n"))),
        )
        .with_columns(
            scale=pl.max_horizontal(MAD_TO_SD * pl.col("mad"), own_error.fill_null(0.0), floor)
            * (1 + math.pi / (2 * references)).sqrt()
        )
        .with_columns(score=pl.when(pl.col("scale") > 0).then(worse_by / pl.col("scale")))
        .with_columns(baseline=pl.when(log_scale).then(pl.col("median").exp()).otherwise(_rate_of(pl.col("median"))))
        .with_columns(anomaly=(pl.col("score") >= rules.threshold) & (jump >= min_jump), every=pl.lit(every))
        .with_columns(pl.col("anomaly").fill_null(False))
    )
    columns = [BUCKET, "every", "dimension", "key", "metric", "value", "baseline", "score", "reference", "n", "anomaly"]
    return scored.select(columns).sort([BUCKET, *GROUP], nulls_last=False).collect()
