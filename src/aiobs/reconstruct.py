"""Events -> requests, by correlation ID. Pure functions on Polars frames.

Runs on one bucket of events at a time: a bucket holds every event of its
requests, so buckets never need each other (see ingest.BucketStore).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import CHILD_STAGES, REQUEST_SCHEMA

#: Children may start or end this much outside their root before we call it clock skew (rounding noise).
SKEW_TOLERANCE_MS = 1.0

_IDENTITY = [
    "correlation_id",
    "event_id",
    "parent_id",
    "event",
    "stage",
    "start",
    "duration_ms",
    "model",
    "is_error",
    "attempt",
    "input_tokens",
    "output_tokens",
]


@dataclass(frozen=True)
class Rebuilt:
    requests: pl.DataFrame
    issues: IssueLog


def _sum_or_null(expr: pl.Expr) -> pl.Expr:
    """A sum over no logged values is unknown, not zero."""
    return pl.when(expr.count() > 0).then(expr.sum())


def _ms(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds() / 1000.0


def mark_duplicates(events: pl.DataFrame) -> pl.Series:
    """True for every repeat of an event already seen (same ID, timing, model and tokens)."""
    present = [c for c in _IDENTITY if c in events.columns]
    return events.select(pl.struct(present).is_first_distinct().not_()).to_series()


def rebuild_requests(events: pl.DataFrame, *, keep_examples: int = 5) -> Rebuilt:
    """Group one bucket of canonical events (with a `cost_usd` column) into the request table."""
    issues = IssueLog(keep=keep_examples)
    duplicate = mark_duplicates(events)
    if duplicate.any():
        dups = events.filter(duplicate)
        issues.add(
            "duplicate-event",
            dups.height,
            [
                InputIssue("duplicate-event", s, ln, f"repeat of an event of request {cid!r}")
                for s, ln, cid in dups.head(keep_examples).select("source", "line", "correlation_id").iter_rows()
            ],
        )
        events = events.filter(duplicate.not_())
    if "cost_usd" not in events.columns:
        events = events.with_columns(cost_usd=pl.lit(None, dtype=pl.Float64))

    is_root = pl.col("is_root")
    end = pl.col("start") + pl.duration(microseconds=(pl.col("duration_ms").fill_null(0.0) * 1000).cast(pl.Int64))
    prepared = events.lazy().with_columns(_end=end)
    llm = pl.col("stage") == "llm"

    def in_time_order(column: str, where: pl.Expr) -> pl.Expr:
        """`column` of the events matching `where`, by start time; at equal starts the longer event first
        (the outer one), so the result never depends on line order."""
        mask = where & pl.col(column).is_not_null()
        keys = [pl.col("start").filter(mask), pl.col("duration_ms").filter(mask)]
        return pl.col(column).filter(mask).sort_by(keys, descending=[False, True], nulls_last=True)

    def latest(column: str, where: pl.Expr) -> pl.Expr:
        return in_time_order(column, where).last()

    def earliest(column: str, where: pl.Expr) -> pl.Expr:
        return in_time_order(column, where).first()

    # Compared with the root inside the group, so no window or join is needed.
    tolerance = pl.duration(microseconds=int(SKEW_TOLERANCE_MS * 1000))
    skewed = is_root.not_() & (
        (pl.col("start") < pl.col("start").filter(is_root).min() - tolerance)
        | (pl.col("_end") > pl.col("_end").filter(is_root).max() + tolerance)
    ).fill_null(False)
    # A failed attempt is recovered when a later attempt of the request exists.
    attempt = pl.col("attempt").fill_null(1)
    unrecovered = pl.col("is_error") & (attempt >= attempt.max())

    def stage_ms(stage: str) -> pl.Expr:
        return _sum_or_null(pl.col("duration_ms").filter(pl.col("stage") == stage)).alias(f"{stage}_ms")

    # With several root events (a proxy logged twice), the outermost one: earliest, then longest.
    root_duration = earliest("duration_ms", is_root)
    requests = (
        prepared.group_by("correlation_id")
        .agg(
            start=pl.col("start").min(),
            end=pl.col("_end").max(),
            _root_duration=root_duration,
            has_root=is_root.any(),
            **{f"{s}_ms": stage_ms(s) for s in CHILD_STAGES},
            ttft_ms=earliest("ttft_ms", pl.lit(True)),
            input_tokens=_sum_or_null(pl.col("input_tokens")),
            output_tokens=_sum_or_null(pl.col("output_tokens")),
            cached_tokens=_sum_or_null(pl.col("cached_tokens")),
            reasoning_tokens=_sum_or_null(pl.col("reasoning_tokens")),
            llm_output_ms=_sum_or_null(pl.col("duration_ms").filter(llm & pl.col("output_tokens").is_not_null())),
            cost_usd=_sum_or_null(pl.col("cost_usd")),
            logged_cost_usd=_sum_or_null(pl.col("logged_cost_usd")),
            _llm_model=latest("model", llm),
            _any_model=pl.col("model").drop_nulls().first(),
            models=pl.col("model").drop_nulls().unique().sort(),
            _llm_provider=latest("provider", llm),
            _any_provider=pl.col("provider").drop_nulls().first(),
            _root_route=earliest("route", is_root),
            _any_route=pl.col("route").drop_nulls().first(),
            user=pl.col("user").drop_nulls().first(),
            is_error=(pl.col("is_error") & is_root).any() | unrecovered.any(),
            retries=(pl.col("attempt") > 1).sum().cast(pl.Int64),
            n_events=pl.len().cast(pl.Int64),
            skewed_events=skewed.sum().cast(pl.Int64),
        )
        .with_columns(
            latency_ms=pl.coalesce(pl.col("_root_duration"), _ms(pl.col("end") - pl.col("start"))),
            model=pl.coalesce("_llm_model", "_any_model"),
            provider=pl.coalesce("_llm_provider", "_any_provider"),
            route=pl.coalesce("_root_route", "_any_route"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in REQUEST_SCHEMA.items())
        .collect()
    )
    _count_request_issues(requests, issues, keep_examples)
    return Rebuilt(requests, issues)


def _count_request_issues(requests: pl.DataFrame, issues: IssueLog, keep: int) -> None:
    requests = requests.sort("correlation_id")  # examples must not depend on thread scheduling
    no_root = requests.filter(pl.col("has_root").not_())
    issues.add(
        "missing-root",
        no_root.height,
        [
            InputIssue("missing-root", f"request {cid}", None, "no root event; latency is the span of its events")
            for cid in no_root["correlation_id"].head(keep)
        ],
    )
    skewed = requests.filter(pl.col("skewed_events") > 0)
    issues.add(
        "clock-skew",
        int(skewed["skewed_events"].sum()),
        [
            InputIssue("clock-skew", f"request {cid}", None, f"{n} child event(s) outside the root event's span")
            for cid, n in skewed.head(keep).select("correlation_id", "skewed_events").iter_rows()
        ],
    )
