"""Metrics over a set of requests. Pure functions: request frames in, small frames out.

Percentiles use linear interpolation between closest ranks (numpy's default,
`method="linear"`), not Polars' default "nearest". Latencies are milliseconds,
costs US dollars.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import polars as pl

from aiobs.errors import UsageError
from aiobs.exact import COST_SCALE, LATENCY_SCALE, SCORE_SCALE, exact_mean, exact_sum, exact_sum_or_null
from aiobs.schema import CHILD_STAGES

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.9", 0.999),
)
TTFT_PERCENTILES: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))

#: A percentile q from n values is marked "thin" when fewer than this many values lie above it.
MIN_TAIL_VALUES = 10

TOKEN_KINDS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")
TEXT_COLUMNS = ("input_text", "output_text", "context_text", "finish_reason", "response_format")
#: Group keys that are not request columns but are derived here.
STAGE_KEY = "stage"
TIME_KEY = "time"
#: Most time buckets a table may hold from its first to its last bucket, empty ones included.
MAX_TIME_BUCKETS = 10_000


# -- The definitions every figure that carries these names is computed from: summaries (below), SLOs and
# regression gates (aiobs.gates), the history store's trends and anomalies (aiobs.history, aiobs.anomaly).


def error_rate(errors: pl.Expr, requests: pl.Expr) -> pl.Expr:
    """`error_rate`: failed requests over all requests."""
    return errors / requests


def cost_per_1k(cost_usd: pl.Expr, priced: pl.Expr, requests: pl.Expr) -> pl.Expr:
    """`cost_per_1k`: US dollars per 1,000 requests, an unpriced request counting as $0; null (not $0) when
    no request was priced, since then the cost is not known."""
    return pl.when(priced > 0).then(cost_usd / requests * 1000.0)


def cost_sum(cost_usd: pl.Expr) -> pl.Expr:
    """The cost of a set of requests: an exact decimal sum (aiobs.exact), null when none is priced."""
    return exact_sum_or_null(cost_usd, COST_SCALE)


def is_thin(n: int, q: float) -> bool:
    """Too few values above the percentile for it to mean much (e.g. p99 from 40 requests)."""
    return n * (1.0 - q) < MIN_TAIL_VALUES


def thin_percentiles(n: int) -> list[str]:
    return [name for name, q in PERCENTILES if is_thin(n, q)]


def _sum_or_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.count() > 0).then(expr.sum())


def latency_percentiles(column: str = "latency_ms", prefix: str = "latency") -> list[pl.Expr]:
    values = pl.col(column)
    return [
        *(values.quantile(q, interpolation="linear").alias(f"{prefix}_{name}") for name, q in PERCENTILES),
        values.max().alias(f"{prefix}_max"),
        exact_mean(values, LATENCY_SCALE).alias(f"{prefix}_mean"),
        values.count().alias(f"{prefix}_n"),
    ]


#: Feedback at or above this score counts as accepted (thumbs up is 1, thumbs down 0).
ACCEPTED_SCORE = 0.5


def flag_aggregates(flags: list[str]) -> list[pl.Expr]:
    """Per flag: requests it applies to (non-null), requests flagged, and the cost of the flagged ones."""
    exprs: list[pl.Expr] = []
    for name in flags:
        flag = pl.col(f"flag_{name}")
        exprs += [
            flag.count().alias(f"flag_{name}_applicable"),
            flag.sum().cast(pl.Int64).alias(f"flag_{name}_flagged"),
            exact_sum(pl.col("cost_usd").filter(flag), COST_SCALE).alias(f"flag_{name}_cost_usd"),
        ]
    return exprs


def feedback_aggregates() -> list[pl.Expr]:
    score = pl.col("feedback_score")
    return [
        score.count().alias("feedback_n"),
        (score >= ACCEPTED_SCORE).sum().cast(pl.Int64).alias("feedback_accepted"),
        exact_mean(score, SCORE_SCALE).alias("feedback_mean"),
    ]


def request_aggregates(flags: list[str] | None = None) -> list[pl.Expr]:
    """Everything a summary row shows, for any grouping of the request table (plus the given flags)."""
    ttft = pl.col("ttft_ms")
    timed_output = pl.col("output_tokens").filter(pl.col("llm_output_ms").is_not_null())
    output_seconds = exact_sum(pl.col("llm_output_ms"), LATENCY_SCALE) / 1000.0
    return [
        pl.len().alias("requests"),
        pl.col("is_error").sum().cast(pl.Int64).alias("errors"),
        error_rate(pl.col("is_error").sum(), pl.len()).alias("error_rate"),
        pl.col("retries").sum().alias("retries"),
        *latency_percentiles(),
        *(ttft.quantile(q, interpolation="linear").alias(f"ttft_{name}") for name, q in TTFT_PERCENTILES),
        ttft.count().alias("ttft_n"),
        (timed_output.sum() / output_seconds).alias("output_tokens_per_s"),
        *(_sum_or_null(pl.col(kind)).alias(kind) for kind in TOKEN_KINDS),
        cost_sum(pl.col("cost_usd")).alias("cost_usd"),
        pl.col("cost_usd").count().alias("priced_requests"),
        exact_sum_or_null(pl.col("logged_cost_usd"), COST_SCALE).alias("logged_cost_usd"),
        pl.col("logged_cost_usd").count().alias("logged_cost_requests"),
        pl.col("start").min().alias("first_start"),
        pl.col("start").max().alias("last_start"),
        *feedback_aggregates(),
        *flag_aggregates(flags or []),
    ]


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        cost_per_1k_requests=cost_per_1k(pl.col("cost_usd"), pl.col("priced_requests"), pl.col("requests")),
        output_tokens_per_s=pl.col("output_tokens_per_s").fill_nan(None),
    )


def stage_rows(requests: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (request, stage it ran), with the stage's time as `latency_ms`.

    Tokens and cost belong to the request, not to a stage, so they are null here rather than repeated
    (and so is the decoding speed, which would otherwise read as 0 tokens/s).
    """
    stage_columns = [f"{s}_ms" for s in CHILD_STAGES]
    request_only = {
        *stage_columns,
        "latency_ms",
        "llm_output_ms",
        "feedback_score",
        "context_utilisation",
        *TEXT_COLUMNS,
    }
    names = requests.collect_schema().names()
    # Texts, flags and feedback describe the request, not a stage; copying them per stage would be costly too.
    per_request = [c for c in names if c not in request_only and not c.startswith("flag_")]
    return (
        requests.select(*per_request, *stage_columns)
        .unpivot(on=stage_columns, index=per_request, variable_name=STAGE_KEY, value_name="latency_ms")
        .drop_nulls("latency_ms")
        .with_columns(
            pl.col(STAGE_KEY).str.strip_suffix("_ms"),
            *(pl.lit(None, dtype=pl.Int64).alias(k) for k in TOKEN_KINDS),
            cost_usd=pl.lit(None, dtype=pl.Float64),
            logged_cost_usd=pl.lit(None, dtype=pl.Float64),
            ttft_ms=pl.lit(None, dtype=pl.Float64),
            llm_output_ms=pl.lit(None, dtype=pl.Float64),
            feedback_score=pl.lit(None, dtype=pl.Float64),
        )
    )


def summarize_requests(
    requests: pl.LazyFrame,
    by: list[str] | None = None,
    *,
    every: str | None = None,
    flags: list[str] | None = None,
    empty_buckets: bool = False,
) -> pl.DataFrame:
    """Metrics overall (`by` empty) or per group; `stage` and `time` (with `every`) are allowed keys.

    `flags` are the names of the request table's `flag_<name>` columns to rate (missing ones are skipped).
    `empty_buckets` (when `time` is the only key) adds a row of 0 requests for each bucket between the
    first and the last one that no request starts in, so gaps show; more than MAX_TIME_BUCKETS
    buckets in all is a UsageError.
    """
    keys = list(by or [])
    frame = stage_rows(requests) if STAGE_KEY in keys else requests
    present = set(frame.collect_schema().names())
    flags = [f for f in (flags or []) if f"flag_{f}" in present]
    if every is not None:
        frame = frame.with_columns(pl.col("start").dt.truncate(every).alias(TIME_KEY))
        if TIME_KEY not in keys:
            keys.append(TIME_KEY)
    if not keys:
        return _finish(frame.select(request_aggregates(flags)).collect())
    # maintain_order keeps each group's rows in input order, so float sums are the same on every run.
    result = frame.group_by(keys, maintain_order=True).agg(request_aggregates(flags)).collect()
    if empty_buckets and every is not None and keys == [TIME_KEY] and result.height > 1:
        # An empty bucket's row is what the aggregates give over no requests (0 requests, null percentiles).
        nothing = frame.head(0).select(request_aggregates(flags)).collect()
        # TIME_KEY holds truncated datetimes and has rows: its min and max are datetimes, not None.
        first, last = cast(datetime, result[TIME_KEY].min()), cast(datetime, result[TIME_KEY].max())
        missing = bucket_times(first, last, every).filter(~pl.col(TIME_KEY).is_in(result[TIME_KEY].implode()))
        result = pl.concat([result, missing.join(nothing, how="cross").select(result.columns)])
    sort_keys = [TIME_KEY] if TIME_KEY in keys else []
    # Busiest first; groups with as many requests by their keys, so ties come out in one order every run.
    ties = [k for k in keys if k != TIME_KEY]
    order = [*sort_keys, "requests", *ties]
    descending = [False] * len(sort_keys) + [True] + [False] * len(ties)
    return _finish(result.sort(order, descending=descending, nulls_last=True))


def bucket_times(first: datetime, last: datetime, every: str) -> pl.DataFrame:
    """Every `every` bucket start from `first` to `last` (both bucket starts); UsageError past MAX_TIME_BUCKETS."""
    step = pl.select(pl.lit(first).dt.offset_by(every)).item() - first
    # Calendar steps (1mo) vary in length: estimate from the first one, then count exactly.
    estimate = int((last - first) / step) + 1
    times = (
        pl.datetime_range(first, last, every, eager=True, time_unit="us", time_zone="UTC").alias(TIME_KEY)
        if estimate <= 2 * MAX_TIME_BUCKETS
        else None
    )
    if times is None or times.len() > MAX_TIME_BUCKETS:
        count = f"{times.len():,}" if times is not None else f"more than {2 * MAX_TIME_BUCKETS:,}"
        msg = (
            f"--every {every} makes {count} time buckets from the first request to the last (at most "
            f"{MAX_TIME_BUCKETS:,}): use a longer --every or a narrower --since/--until"
        )
        raise UsageError(msg)
    return times.to_frame()


def cost_comparison(requests: pl.LazyFrame) -> pl.DataFrame:
    """Where the application logged its own cost: logged vs priced, over requests that have both."""
    both = pl.col("cost_usd").is_not_null() & pl.col("logged_cost_usd").is_not_null()
    return (
        requests.filter(both)
        .group_by("model", maintain_order=True)
        .agg(
            requests=pl.len(),
            logged_cost_usd=exact_sum(pl.col("logged_cost_usd"), COST_SCALE),
            priced_cost_usd=exact_sum(pl.col("cost_usd"), COST_SCALE),
        )
        .with_columns(difference_usd=pl.col("logged_cost_usd") - pl.col("priced_cost_usd"))
        .sort("requests", "model", descending=[True, False], nulls_last=True)  # ties in one order every run
        .collect()
    )


#: Token columns of a call, summed per model in the per-call spend table.
CALL_TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens")


def spend_partial(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Per (model, stage): calls, tokens and priced cost of the priced events of one bucket (partial).

    Every call counts, embeddings and rerankers included, on the model that made it: the per-call view of
    spend by model, which `--by model` (one answering model per request) is not.
    """
    has_tokens = pl.any_horizontal(pl.col(c).is_not_null() for c in CALL_TOKENS)
    return (
        events.lazy()
        .filter(pl.col("model").is_not_null())
        .group_by("model", pl.col("stage").cast(pl.String))
        .agg(
            calls=pl.len().cast(pl.Int64),
            **{c: _sum_or_null(pl.col(c)) for c in CALL_TOKENS},
            cost_usd=exact_sum_or_null(pl.col("cost_usd"), COST_SCALE),
            unpriced_calls=(has_tokens & pl.col("cost_usd").is_null()).sum().cast(pl.Int64),
        )
    )


def spend_by_model(partials: list[pl.DataFrame]) -> pl.DataFrame:
    """Merge the per-bucket partials exactly (sums), then one row per model, most costly first."""
    empty = pl.DataFrame(
        schema={
            "model": pl.String,
            "stages": pl.List(pl.String),
            "calls": pl.Int64,
            **dict.fromkeys(CALL_TOKENS, pl.Int64),
            "cost_usd": pl.Float64,
            "unpriced_calls": pl.Int64,
        }
    )
    frames = [p for p in partials if not p.is_empty()]
    if not frames:
        return empty
    merged = (
        pl.concat(frames)
        .group_by("model")
        .agg(
            stages=pl.col("stage").unique().sort(),
            calls=pl.col("calls").sum(),
            **{c: _sum_or_null(pl.col(c)) for c in CALL_TOKENS},
            cost_usd=exact_sum_or_null(pl.col("cost_usd"), COST_SCALE),
            unpriced_calls=pl.col("unpriced_calls").sum(),
        )
    )
    return merged.sort(pl.col("cost_usd").fill_null(-1.0), "calls", "model", descending=[True, True, False]).select(
        empty.columns
    )


def errors_by_rule(requests: pl.LazyFrame) -> pl.DataFrame:
    """How many failed requests each convention marked (docs/formats.md, "Errors by convention")."""
    return (
        requests.filter(pl.col("is_error"))
        .group_by(pl.col("error_rule").fill_null("unknown"))
        .agg(requests=pl.len().cast(pl.Int64))
        .sort("requests", "error_rule", descending=[True, False])
        .collect()
    )


#: The label of the groups `top_groups` folds together.
OTHER_GROUP = "other"


def top_groups(requests: pl.LazyFrame, keys: list[str], top: int) -> tuple[pl.LazyFrame, int]:
    """The requests with every group of `keys` outside the `top` busiest relabelled `other` (all its text
    keys), so a per-group table has at most top + 1 rows whose metrics are computed over their own
    requests (an `other` percentile is exact, not an average); and how many groups were folded.

    Only text keys fold (`time` and `stage` rows are few and ordered); a request without a key's value is
    a group of its own, as in every per-group table."""
    text_keys = [k for k in keys if k not in (STAGE_KEY, TIME_KEY)]
    if not text_keys:
        return requests, 0
    counts = requests.group_by(text_keys).agg(pl.len().alias("_n")).collect()
    if counts.height <= top:
        return requests, 0
    ranked = counts.sort(["_n", *text_keys], descending=[True] + [False] * len(text_keys), nulls_last=True)
    kept = ranked.head(top).select(text_keys)
    is_kept = pl.struct(text_keys).is_in(kept.to_struct().implode())
    folded = requests.with_columns(
        pl.when(is_kept).then(pl.col(k)).otherwise(pl.lit(OTHER_GROUP)).alias(k) for k in text_keys
    )
    return folded, counts.height - top


def other_last(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """A per-group table with the `other` rows `top_groups` made moved after the groups they are not
    (within each time bucket, when time is a key), the rest in the order they had."""
    text_keys = [k for k in keys if k not in (STAGE_KEY, TIME_KEY) and k in table.columns]
    if not text_keys:
        return table
    is_other = pl.all_horizontal(pl.col(k) == OTHER_GROUP for k in text_keys).fill_null(False)
    order = [TIME_KEY] if TIME_KEY in table.columns else []
    return table.with_row_index("_at").sort([*order, is_other, "_at"], nulls_last=True).drop("_at")
