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
    identity = pl.struct(present)
    # Hash first (cheap); compare the full identity only among rows whose hash repeats, so a hash
    # collision can never merge two different events.
    candidates = events.select(identity.hash(seed=0).is_duplicated()).to_series()
    repeat = pl.repeat(False, events.height, dtype=pl.Boolean, eager=True)
    if candidates.any():
        idx = candidates.arg_true()
        exact = events[idx].select(identity.is_first_distinct().not_()).to_series()
        repeat = repeat.scatter(idx, exact)
    return repeat


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

    # Sorted by time once (at equal starts the longer, outer event first), so that inside the group-by
    # "first" and "last" mean earliest and latest, whatever the order of lines in the files.
    ordered = events.sort(["start", "duration_ms"], descending=[False, True], nulls_last=True)
    is_root = pl.col("is_root")
    llm = pl.col("stage") == "llm"
    end = pl.col("start") + pl.duration(microseconds=(pl.col("duration_ms").fill_null(0.0) * 1000).cast(pl.Int64))
    # Per-event helper columns, so the group-by below runs only plain aggregations (no filters inside).
    prepared = ordered.lazy().with_columns(
        _end=end,
        _root_start=pl.when(is_root).then("start"),
        _root_end=pl.when(is_root).then(end),
        _root_duration=pl.when(is_root).then("duration_ms"),
        _child_start=pl.when(is_root.not_()).then("start"),
        _child_end=pl.when(is_root.not_()).then(end),
        _root_route=pl.when(is_root).then("route"),
        _llm_model=pl.when(llm).then("model"),
        _llm_provider=pl.when(llm).then("provider"),
        _llm_output_ms=pl.when(llm & pl.col("output_tokens").is_not_null()).then("duration_ms"),
        _attempt=pl.col("attempt").fill_null(1),
        **{f"_{s}_ms": pl.when(pl.col("stage") == s).then("duration_ms") for s in CHILD_STAGES},
    )
    tolerance = pl.duration(microseconds=int(SKEW_TOLERANCE_MS * 1000))
    # A failed attempt is recovered when a later attempt of the request exists.
    unrecovered = pl.col("is_error") & (pl.col("_attempt") >= pl.col("_attempt").max())

    requests = (
        prepared.group_by("correlation_id")
        .agg(
            start=pl.col("start").min(),
            end=pl.col("_end").max(),
            _root_duration=pl.col("_root_duration").first(ignore_nulls=True),
            has_root=is_root.any(),
            **{f"{s}_ms": _sum_or_null(pl.col(f"_{s}_ms")) for s in CHILD_STAGES},
            ttft_ms=pl.col("ttft_ms").first(ignore_nulls=True),
            input_tokens=_sum_or_null(pl.col("input_tokens")),
            output_tokens=_sum_or_null(pl.col("output_tokens")),
            cached_tokens=_sum_or_null(pl.col("cached_tokens")),
            reasoning_tokens=_sum_or_null(pl.col("reasoning_tokens")),
            llm_output_ms=_sum_or_null(pl.col("_llm_output_ms")),
            cost_usd=_sum_or_null(pl.col("cost_usd")),
            logged_cost_usd=_sum_or_null(pl.col("logged_cost_usd")),
            _llm_model=pl.col("_llm_model").last(ignore_nulls=True),
            _any_model=pl.col("model").first(ignore_nulls=True),
            models=pl.col("model").drop_nulls().unique(maintain_order=True),
            _llm_provider=pl.col("_llm_provider").last(ignore_nulls=True),
            _any_provider=pl.col("provider").first(ignore_nulls=True),
            _root_route=pl.col("_root_route").first(ignore_nulls=True),
            _any_route=pl.col("route").first(ignore_nulls=True),
            user=pl.col("user").first(ignore_nulls=True),
            is_error=(pl.col("is_error") & is_root).any() | unrecovered.any(),
            retries=(pl.col("attempt") > 1).sum().cast(pl.Int64),
            n_events=pl.len().cast(pl.Int64),
            _root_start=pl.col("_root_start").min(),
            _root_end=pl.col("_root_end").max(),
            _child_start=pl.col("_child_start").min(),
            _child_end=pl.col("_child_end").max(),
        )
        .with_columns(
            latency_ms=pl.coalesce(pl.col("_root_duration"), _ms(pl.col("end") - pl.col("start"))),
            model=pl.coalesce("_llm_model", "_any_model"),
            provider=pl.coalesce("_llm_provider", "_any_provider"),
            route=pl.coalesce("_root_route", "_any_route"),
            models=pl.col("models").list.sort(),
        )
        .collect()
    )
    requests = _count_skewed_events(requests, prepared, tolerance).select(
        pl.col(name).cast(dtype) for name, dtype in REQUEST_SCHEMA.items()
    )
    requests = requests.sort("start", "correlation_id", nulls_last=True)  # the same order on every run
    _count_request_issues(requests, issues, keep_examples)
    return Rebuilt(requests, issues)


def _count_skewed_events(requests: pl.DataFrame, events: pl.LazyFrame, tolerance: pl.Expr) -> pl.DataFrame:
    """`skewed_events`: children outside their root's span. Counted exactly, but only for the few requests
    whose children's envelope already sticks out, so the common case costs two min/max per request."""
    suspect = (
        (pl.col("_child_start") < pl.col("_root_start") - tolerance)
        | (pl.col("_child_end") > pl.col("_root_end") + tolerance)
    ).fill_null(False)
    bounds = requests.lazy().filter(suspect).select("correlation_id", "_root_start", "_root_end")
    outside = (pl.col("start") < pl.col("_root_start_r") - tolerance) | (
        pl.col("_end") > pl.col("_root_end_r") + tolerance
    )
    counts = (
        events.join(bounds, on="correlation_id", suffix="_r")
        .filter(pl.col("is_root").not_() & outside.fill_null(False))
        .group_by("correlation_id")
        .agg(skewed_events=pl.len().cast(pl.Int64))
    )
    return (
        requests.lazy()
        .join(counts, on="correlation_id", how="left", maintain_order="left")
        .with_columns(pl.col("skewed_events").fill_null(0))
        .collect()
    )


def _count_request_issues(requests: pl.DataFrame, issues: IssueLog, keep: int) -> None:
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
