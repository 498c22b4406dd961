"""Events -> requests, by correlation ID. Pure functions on Polars frames.

Runs on one bucket of events at a time: a bucket holds every event of its
requests, so buckets never need each other (see ingest.BucketStore).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import CHILD_STAGES, REQUEST_SCHEMA

#: Children may start or end this much outside their root before we call it clock skew (rounding noise):
#: a logger's millisecond timestamps, one on the line written as a request came in and one on the line
#: stamped at its end, can each be up to 1 ms off.
SKEW_TOLERANCE_MS = 2.0

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


#: Values taken from one event of the request: name -> (which events, column, last (else first) in time).
PICKS: dict[str, tuple[pl.Expr, str, bool]] = {
    "root_duration": (pl.col("is_root"), "duration_ms", False),
    "any_duration": (pl.lit(True), "duration_ms", False),
    "ttft_ms": (pl.lit(True), "ttft_ms", False),
    "llm_model": (pl.col("stage") == "llm", "model", True),
    "any_model": (pl.lit(True), "model", False),
    "llm_provider": (pl.col("stage") == "llm", "provider", True),
    "any_provider": (pl.lit(True), "provider", False),
    "root_route": (pl.col("is_root"), "route", False),
    "any_route": (pl.lit(True), "route", False),
    "user": (pl.lit(True), "user", False),
    "llm_input": (pl.col("stage") == "llm", "input_text", False),
    "any_input": (pl.lit(True), "input_text", False),
    "output_text": (pl.col("stage") == "llm", "output_text", True),
    "context_text": (pl.lit(True), "context_text", True),
    "finish_reason": (pl.col("stage") == "llm", "finish_reason", True),
    "response_format": (pl.col("stage") == "llm", "response_format", True),
    "max_tokens": (pl.col("stage") == "llm", "max_tokens", True),
    "error_rule": (pl.col("is_error"), "error_rule", False),
}


@dataclass(frozen=True)
class Rebuilt:
    requests: pl.DataFrame
    issues: IssueLog


def sum_or_null(expr: pl.Expr) -> pl.Expr:
    """A sum over no logged values is unknown, not zero."""
    return pl.when(expr.count() > 0).then(expr.sum())


def _ms(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds() / 1000.0


def mark_duplicates(events: pl.DataFrame) -> pl.Series:
    """True for every repeat of an event already seen (same ID, timing, model and tokens)."""
    present = [c for c in _IDENTITY if c in events.columns]
    # A repeat shares its start and duration with the original, so only rows whose (start, duration)
    # repeats are candidates (cheap to find); the full identity is compared among those alone, so a
    # hash collision can never merge two different events.
    candidates = events.select(pl.struct("start", "duration_ms").hash(seed=0).is_duplicated()).to_series()
    repeat = pl.repeat(False, events.height, dtype=pl.Boolean, eager=True)
    if candidates.any():
        idx = candidates.arg_true()
        exact = events[idx].select(pl.struct(present).is_first_distinct().not_()).to_series()
        repeat = repeat.scatter(idx, exact)
    return repeat


def _in_time_order(events: pl.DataFrame) -> bool:
    """Already in the order of the sort in `rebuild_requests` (a time-ordered log is): cheaper to check than to sort.

    Ties in start between different requests do not matter; within a request, the longer event must come first.
    """
    starts = events.get_column("start")
    if events.height < 2:
        return True
    if starts.null_count() or not starts.is_sorted():
        return False
    start = pl.col("start")
    tied = events.filter((start == start.shift(1)) | (start == start.shift(-1)))
    if tied.is_empty():
        return True
    longest_first = (pl.col("duration_ms").fill_null(-1.0).diff().drop_nulls() <= 0).all()
    return bool(tied.group_by("start", "correlation_id").agg(longest_first.alias("ok")).get_column("ok").all())


def rebuild_requests(events: pl.DataFrame, *, keep_examples: int = 5) -> Rebuilt:
    """Group one bucket of canonical events (with a `cost_usd` column) into the request table: the map step
    over all of a bucket's events (one partial row per request), then the finalize step."""
    mapped = request_partials(events, keep_examples=keep_examples)
    rebuilt = finalize_requests(mapped.partials, keep_examples=keep_examples)
    rebuilt.issues.merge(mapped.issues)
    return rebuilt


@dataclass(frozen=True)
class Mapped:
    """One partial row per request of some events (aiobs.partials says how partial rows merge)."""

    partials: pl.DataFrame
    issues: IssueLog


def request_partials(events: pl.DataFrame, *, keep_examples: int = 5, mergeable: bool = False) -> Mapped:
    """Map: the events of some requests (a bucket, or a chunk) -> one partial row per request.

    A partial row holds sums, counts, minimum and maximum times, in-partial skew counts and, for each value
    picked from the first or last event of a kind, that value and its event's place in time order
    (`_t_*` start, `_d_*` duration, `_i_*` input position), so partial rows of one request from different
    chunks merge exactly (aiobs.partials). Events may carry `_pos`, their position in the whole input;
    without it, their row order is their input order. With `mergeable`, each row also lists a hash of each
    of its events' identity (`_fingerprints`: a repeat in another chunk is found) and each timed child's
    start and end (`_child_starts`, `_child_ends`: clock skew is counted against the merged root's span).
    """
    issues = IssueLog(keep=keep_examples)
    if "_pos" not in events.columns:
        events = events.with_columns(_pos=pl.int_range(pl.len(), dtype=pl.Int64))
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

    # Sorted by time once (at equal starts the longer, outer event first), so that "first" and "last"
    # below mean earliest and latest, whatever the order of lines in the files.
    if not _in_time_order(events):
        events = events.sort(["start", "duration_ms"], descending=[False, True], nulls_last=True)
    ordered = events
    is_root = pl.col("is_root")
    llm = pl.col("stage") == "llm"
    end = pl.col("start") + pl.duration(microseconds=(pl.col("duration_ms").fill_null(0.0) * 1000).cast(pl.Int64))
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    # Feedback arrives minutes after the answer: it annotates the request, it is not part of its timeline.
    timed = pl.col("feedback_score").is_null() | pl.col("duration_ms").is_not_null()
    # Per-event helper columns, so the group-by below runs only plain aggregations (sum, min, max, any). A
    # value picked from the first or last event of some kind is found as the min or max *row* of that kind
    # and gathered afterwards: cheaper than aggregating strings.
    prepared = ordered.lazy().with_columns(
        _timed=timed,
        _start=pl.when(timed).then("start"),
        _end=pl.when(timed).then(end),
        _root_start=pl.when(is_root).then("start"),
        _root_end=pl.when(is_root).then(end),
        _child_start=pl.when(is_root.not_() & timed).then("start"),
        _child_end=pl.when(is_root.not_() & timed).then(end),
        _llm_output_ms=pl.when(llm & pl.col("output_tokens").is_not_null()).then("duration_ms"),
        _attempt=pl.col("attempt").fill_null(1),
        _retry=pl.col("attempt") > 1,
        _failed_attempt=pl.when(pl.col("is_error")).then(pl.col("attempt").fill_null(1)),
        _root_error=is_root & pl.col("is_error"),
        **{f"_{s}_ms": pl.when(pl.col("stage") == s).then("duration_ms") for s in CHILD_STAGES},
        **{
            f"_row_{name}": pl.when(when & pl.col(column).is_not_null()).then(row)
            for name, (when, column, _) in PICKS.items()
        },
    )
    tolerance = pl.duration(microseconds=int(SKEW_TOLERANCE_MS * 1000))

    grouped = (
        prepared.group_by("correlation_id")
        .agg(
            start=pl.col("_start").min(),
            _any_start=pl.col("start").min(),
            end=pl.col("_end").max(),
            _feedback_sum=pl.col("feedback_score").sum(),
            _feedback_n=pl.col("feedback_score").count().cast(pl.Int64),
            _any_root=is_root.any(),
            **{f"{s}_ms": sum_or_null(pl.col(f"_{s}_ms")) for s in CHILD_STAGES},
            input_tokens=sum_or_null(pl.col("input_tokens")),
            output_tokens=sum_or_null(pl.col("output_tokens")),
            cached_tokens=sum_or_null(pl.col("cached_tokens")),
            cache_write_tokens=sum_or_null(pl.col("cache_write_tokens")),
            reasoning_tokens=sum_or_null(pl.col("reasoning_tokens")),
            llm_output_ms=sum_or_null(pl.col("_llm_output_ms")),
            cost_usd=sum_or_null(pl.col("cost_usd")),
            logged_cost_usd=sum_or_null(pl.col("logged_cost_usd")),
            models=pl.col("model").drop_nulls().unique(),
            _root_error=pl.col("_root_error").any(),
            _last_attempt=pl.col("_attempt").max(),
            _last_failed_attempt=pl.col("_failed_attempt").max(),
            retries=pl.col("_retry").sum().cast(pl.Int64),
            n_events=pl.len().cast(pl.Int64),
            _has_duration=pl.col("duration_ms").is_not_null().any(),
            _longest=pl.col("duration_ms").max(),
            _root_start=pl.col("_root_start").min(),
            _root_end=pl.col("_root_end").max(),
            _child_start=pl.col("_child_start").min(),
            _child_end=pl.col("_child_end").max(),
            **{
                f"_row_{name}": pl.col(f"_row_{name}").max() if last else pl.col(f"_row_{name}").min()
                for name, (_, _, last) in PICKS.items()
            },
            **(_merge_lists(ordered.columns) if mergeable else {}),
        )
        # The bucket is in memory already; on a bucket (~160,000 events) the in-memory engine's group-by
        # measured 25 % faster than the streaming engine's.
        .collect(engine="in-memory")
    )
    picks = []
    for name, (_, column, _) in PICKS.items():
        rows = grouped.get_column(f"_row_{name}")
        # One query per pick for its value and its place in time order.
        picks += ordered.select(
            pl.col(column).gather(rows).alias(name),
            pl.col("start").gather(rows).alias(f"_t_{name}"),
            pl.col("duration_ms").gather(rows).alias(f"_d_{name}"),
            pl.col("_pos").gather(rows).alias(f"_i_{name}"),
        ).get_columns()
    partials = grouped.drop(f"_row_{name}" for name in PICKS).with_columns(picks)
    return Mapped(_count_skewed_events(partials, prepared, tolerance), issues)


def _merge_lists(columns: list[str]) -> dict[str, pl.Expr]:
    """Per request, a hash of each event's identity (what `mark_duplicates` compares) and the span of each
    timed child with a start (a child without one is never counted as skewed)."""
    present = [c for c in _IDENTITY if c in columns]
    return {
        "_fingerprints": pl.struct(present).hash(seed=0),
        "_child_starts": pl.col("_child_start").drop_nulls(),
        "_child_ends": pl.col("_child_end").drop_nulls(),
    }


def finalize_requests(partials: pl.DataFrame, *, keep_examples: int = 5) -> Rebuilt:
    """Finalize: partial rows (one per request, merged) -> the request table, and what the requests lack."""
    issues = IssueLog(keep=keep_examples)
    requests = (
        partials.with_columns(
            start=pl.coalesce("start", "_any_start"),  # a request seen only through its feedback
            feedback_score=pl.when(pl.col("_feedback_n") > 0).then(pl.col("_feedback_sum") / pl.col("_feedback_n")),
            input_text=pl.coalesce("llm_input", "any_input"),
            # A request that is one line is complete: that line is its root.
            has_root=pl.col("_any_root") | (pl.col("n_events") == 1),
            # A request that is one event lasts as long as that event, timestamp or not.
            root_duration=pl.coalesce("root_duration", pl.when(pl.col("n_events") == 1).then("any_duration")),
            _span=_ms(pl.col("end") - pl.col("start")),
        )
        .with_columns(
            latency_from=pl.when(pl.col("root_duration").is_not_null())
            .then(pl.lit("root"))
            .when(pl.col("_has_duration") & pl.col("_span").is_not_null())
            .then(pl.lit("events"))
            # Point events only (a "started" and a "finished" line): the span of their timestamps.
            .when(pl.col("_span") > 0)
            .then(pl.lit("lines"))
            # Durations but no timestamps to place them: the longest event covers the others.
            .when(pl.col("_has_duration") & pl.col("_span").is_null())
            .then(pl.lit("longest")),
        )
        .with_columns(
            # With no duration and a single timestamp (OpenAI Batch output, a raw response logged as-is) the
            # latency is unknown, not the zero-width envelope of the events' starts.
            latency_ms=pl.coalesce(
                pl.col("root_duration"),
                pl.when(pl.col("latency_from") == "longest").then("_longest"),
                pl.when(pl.col("latency_from").is_not_null()).then(pl.col("_span")),
            ),
            model=pl.coalesce("llm_model", "any_model"),
            provider=pl.coalesce("llm_provider", "any_provider"),
            route=pl.coalesce("root_route", "any_route"),
            models=pl.col("models").list.eval(pl.element().sort()),  # 10x faster than list.sort() in Polars 2.1
            # A failed attempt is recovered when a later attempt of the request exists.
            is_error=pl.col("_root_error")
            | (pl.col("_last_failed_attempt") >= pl.col("_last_attempt")).fill_null(False),
        )
        .with_columns(error_rule=pl.when(pl.col("is_error")).then("error_rule"))
    )
    _count_unknowns(requests, issues, keep_examples)
    requests = requests.select(pl.col(name).cast(dtype) for name, dtype in REQUEST_SCHEMA.items())
    # The same order on every run (a hash breaks ties in start: cheaper than comparing the IDs).
    requests = requests.sort(pl.col("start"), pl.col("correlation_id").hash(seed=0), nulls_last=True)
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
        .filter(pl.col("is_root").not_() & pl.col("_timed") & outside.fill_null(False))
        .group_by("correlation_id")
        .agg(skewed_events=pl.len().cast(pl.Int64))
    )
    return (
        requests.lazy()
        .join(counts, on="correlation_id", how="left", maintain_order="left")
        .with_columns(pl.col("skewed_events").fill_null(0))
        .collect()
    )


#: Children outside their root: clocks that disagree, or a root duration read in the wrong unit (seconds
#: mapped as milliseconds shrinks every root 1,000-fold and puts every child outside it).
CLOCK_SKEW_HINT = (
    "; if it is on most requests, check the unit of the root's duration (seconds: --map duration_ms=KEY:s)"
)


def _count_request_issues(requests: pl.DataFrame, issues: IssueLog, keep: int) -> None:
    # A request whose latency comes from its lines or its longest event has a note of its own for that.
    no_root = requests.filter(pl.col("has_root").not_() & pl.col("latency_from").is_in(["lines", "longest"]).not_())
    issues.add(
        "missing-root",
        no_root.height,
        [
            InputIssue(
                "missing-root",
                f"request {cid}",
                None,
                "no event spans the request; latency is from its first event's start to its last one's end "
                "(log one event for the whole request, with its duration, to measure it)",
            )
            for cid in no_root["correlation_id"].sort().head(keep)
        ],
    )
    skewed = requests.filter(pl.col("skewed_events") > 0)
    issues.add(
        "clock-skew",
        int(skewed["skewed_events"].sum()),
        [
            InputIssue(
                "clock-skew",
                f"request {cid}",
                None,
                f"{n} child event(s) outside the root event's span{CLOCK_SKEW_HINT}",
            )
            for cid, n in skewed.sort("correlation_id").head(keep).select("correlation_id", "skewed_events").iter_rows()
        ],
    )


def _count_unknowns(requests: pl.DataFrame, issues: IssueLog, keep: int) -> None:
    """What the logs do not say, per request: no latency, or a latency from log lines only."""
    unknown = [
        (
            "unknown-latency",
            pl.col("latency_ms").is_null(),
            "no duration logged and one timestamp: if the logs have one, map it (--map duration_ms=FIELD; aiobs "
            "inspect lists candidates)",
        ),
        (
            "envelope-latency",
            pl.col("latency_from") == "lines",
            "latency is first to last log line: log a duration (duration_ms) for a measured one",
        ),
        (
            "longest-latency",
            pl.col("latency_from") == "longest",
            "its lines have no timestamps: latency is its longest event's duration (log a timestamp to place them)",
        ),
    ]
    counts = requests.select(*(when.sum().alias(code) for code, when, _ in unknown)).row(0, named=True)
    for code, when, message in unknown:
        if counts[code]:
            # The smallest IDs, as IssueLog keeps them: the same examples however requests fall into buckets.
            ids = requests.filter(when).get_column("correlation_id").sort().head(keep)
            issues.add(code, counts[code], [InputIssue(code, f"request {cid}", None, message) for cid in ids])
