"""The native JSONL format and the logger presets (docs/formats.md) -> the canonical event table.

Every mapped field is read as a *string* (Polars renders numbers and nested JSON as text), then cast
here with `strict=False`. That keeps one malformed value from failing the whole batch, and lets us tell
"missing" (raw is null) from "wrong type" (raw present, cast null): the latter is counted, never silently
turned into a null. A preset (aiobs.formats.loggers) only changes which paths are read and two
conventions: whether a line's timestamp is its event's start or end, and whether `event` is a message.
Which paths are read, and how, is aiobs.formats.native_paths; this module turns the text into values.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from aiobs.formats.conventions import (
    ERROR_STATUS_WORDS,
    duration_text_ms,
    error_rules,
    error_type_of,
    first_rule,
    stage_from_message,
    truthy,
    word,
)
from aiobs.formats.native_paths import Reading, assumed_units, field_present, path_hits, raw_field
from aiobs.formats.timestamps import fast_timestamp, finish_timestamps, formatted_timestamp, permissive_timestamp
from aiobs.schema import EVENT_SCHEMA, STAGES, Stage

__all__ = ["ERROR_STATUS_WORDS", "NUMERIC", "finish_timestamps", "permissive_timestamp", "to_events"]

EVENT_COLUMNS = tuple(EVENT_SCHEMA.names())

#: Canonical columns that hold numbers, and their type.
NUMERIC: dict[str, pl.DataType] = {
    "duration_ms": pl.Float64(),
    "ttft_ms": pl.Float64(),
    "attempt": pl.Int64(),
    "max_tokens": pl.Int64(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cached_tokens": pl.Int64(),
    "cache_write_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(),
    "logged_cost_usd": pl.Float64(),
}
_DURATIONS = ("duration_ms", "ttft_ms")

#: A single event longer than a day is a unit mistake or a broken clock, not a real duration.
MAX_DURATION_MS = 24 * 3600 * 1000.0

#: event names (lower-case) -> stage; anything else is `other` (or, for loggers, found by keyword).
STAGE_OF_EVENT: dict[str, str] = {
    **{s: s for s in STAGES},
    "request": "gateway",
    "root": "gateway",
    "http": "gateway",
    "embed": "embedding",
    "embeddings": "embedding",
    "retrieve": "retrieval",
    "vector_search": "retrieval",
    "search": "retrieval",
    "retriever": "retrieval",
    "reranker": "rerank",
    "rerank_docs": "rerank",
    "chat": "llm",
    "completion": "llm",
    "generation": "llm",
    "llm_call": "llm",
    "text_completion": "llm",
    "tool_call": "tool",
    "execute_tool": "tool",
    "function_call": "tool",
    "error": "other",
}

#: Text fields taken as logged.
TEXT_FIELDS = ("correlation_id", "event_id", "parent_id", "event", "model", "provider", "route", "user")
PASSTHROUGH_TEXT = ("finish_reason", "input_text", "output_text", "context_text")
#: Raw fields read only to decide the status, the root, the time.
_CONVENTION_FIELDS = ("status", "level", "http_status", "error", "error_type", "is_root", "start", "end")
POSITIVE_WORDS = ("up", "true", "yes", "positive", "good", "like", "accepted", "+1", "👍")
NEGATIVE_WORDS = ("down", "false", "no", "negative", "bad", "dislike", "rejected", "-1", "👎")
FALSE_WORDS = ("", "0", "false", "none", "null", "no")


def _number(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Int64():
        # "12.0" is a valid token count; "12.5" is not, and neither is text.
        as_float = raw.cast(pl.Float64, strict=False)
        return pl.when(as_float == as_float.round(0)).then(as_float.cast(pl.Int64, strict=False))
    return raw.cast(pl.Float64, strict=False)


def _flag_word(raw: pl.Expr) -> pl.Expr:
    return raw.str.to_lowercase().is_in(FALSE_WORDS).not_()


def _response_format(raw: pl.Expr) -> pl.Expr:
    """`"json_object"`, or an object such as `{"type": "json_schema", ...}` (read as its JSON text)."""
    text = raw.str.strip_chars()
    return pl.when(text.str.starts_with("{")).then(text.str.json_path_match("$.type")).otherwise(text)


def _feedback(raw: pl.Expr) -> pl.Expr:
    """A score in 0..1, or a thumbs word (up/down, true/false, ...) as 1 or 0; anything else is unusable."""
    word = raw.str.strip_chars().str.to_lowercase()
    number = raw.cast(pl.Float64, strict=False)
    return (
        pl.when(word.is_in(POSITIVE_WORDS))
        .then(pl.lit(1.0))
        .when(word.is_in(NEGATIVE_WORDS))
        .then(pl.lit(0.0))
        .when((number >= 0) & (number <= 1))
        .then(number)
    )


def _times(reading: Reading) -> dict[str, pl.Expr]:
    """`start` and `end` read the fast way (the user's --time-format first), with `_naive_*` where known."""
    columns: dict[str, pl.Expr] = {}
    for name in ("start", "end"):
        raw = pl.col(f"_raw_{name}")
        value = fast_timestamp(raw)
        if reading.time_format is not None:
            formatted, naive = formatted_timestamp(raw, reading.time_format)
            columns[f"_naive_{name}"] = (formatted.is_not_null() & pl.lit(naive)).fill_null(False)
            value = pl.coalesce(formatted, value)
        columns[name] = value
    return columns


def _stage_and_root(reading: Reading) -> tuple[pl.Expr, pl.Expr]:
    event_lower = pl.col("_event_word")
    named = event_lower.replace_strict(STAGE_OF_EVENT, default=None, return_dtype=pl.String)
    explicit_root = pl.col("_raw_is_root")
    if not reading.preset.message_events:
        stage = named.fill_null("other")
        root = stage == "gateway"
    else:
        # An access-log line ("request completed" with an HTTP status and a duration) spans the request.
        numeric_status = pl.col("_raw_status").cast(pl.Float64, strict=False).is_not_null()
        code = pl.col("_raw_http_status").is_not_null() | numeric_status
        access = code & pl.col("_raw_duration_ms").is_not_null()
        usage = pl.col("model").is_not_null() & (
            pl.col("_raw_input_tokens").is_not_null() | pl.col("_raw_output_tokens").is_not_null()
        )
        stage = pl.coalesce(
            named, pl.when(access).then(pl.lit("gateway")), stage_from_message(pl.col("event"), has_model_usage=usage)
        )
        root = (named == "gateway").fill_null(False) | access
    is_root = pl.when(explicit_root.is_not_null()).then(_flag_word(explicit_root)).otherwise(root).fill_null(False)
    return stage.cast(Stage), is_root


def to_events(raw: pl.LazyFrame, reading: Reading, schema: pl.Schema) -> pl.LazyFrame:
    """Raw string columns (plus `source`, `line`) -> canonical events plus `_bad_<field>` flag columns.

    A `_bad_*` column is true where the field was present but unusable; the value itself is null.
    `ingest` counts the flags and drops them, after `finish_timestamps` (it settles `_bad_start` and
    the start of events stamped at their end). Three steps (pick the source field, parse it, judge it),
    each a select over the previous one's columns, so no expression is evaluated twice.
    """
    picked = raw.select(
        "source",
        "line",
        *(raw_field(name, reading, schema).alias(name) for name in (*TEXT_FIELDS, *PASSTHROUGH_TEXT)),
        raw_field("response_format", reading, schema).alias("_raw_response_format"),
        raw_field("feedback_score", reading, schema).alias("_raw_feedback_score"),
        *(raw_field(name, reading, schema).alias(f"_raw_{name}") for name in _CONVENTION_FIELDS),
        *(raw_field(name, reading, schema, numeric=True).alias(f"_raw_{name}") for name in NUMERIC),
        detail_of=pl.lit(None, dtype=pl.String),  # native lines are events of their own
        phase=pl.lit(None, dtype=pl.String),
        **path_hits(reading, schema),
        **assumed_units(reading, schema),
    )
    # The words the rules and the stage compare, lower-cased once.
    worded = picked.with_columns(
        _status_word=word(pl.col("_raw_status")),
        _level_word=word(pl.col("_raw_level")),
        _event_word=word(pl.col("event")),
    )

    def given(name: str, column: str) -> pl.Expr | None:
        return pl.col(column) if field_present(name, reading, schema) else None

    rules = error_rules(
        given("status", "_status_word"),
        given("level", "_level_word"),
        given("http_status", "_raw_http_status"),
        [e for e in (given("error", "_raw_error"), given("error_type", "_raw_error_type")) if e is not None],
        given("event", "_event_word"),
        reading.http_error_from,
    )
    logged = pl.any_horizontal(pl.col(f"_raw_{f}").is_not_null() for f in ("status", "level", "http_status", "error"))
    values = {name: _number(pl.col(f"_raw_{name}"), dtype) for name, dtype in NUMERIC.items()}
    if reading.preset.message_events:  # loggers write durations as text too: "1.5s", "250ms"
        for name in _DURATIONS:
            values[name] = pl.coalesce(values[name], duration_text_ms(pl.col(f"_raw_{name}")))
    stage, is_root = _stage_and_root(reading)
    parsed = (
        worded.with_columns(
            stage=stage,
            is_root=is_root,
            error_rule=first_rule(rules),
            _stat_status=logged | pl.col("_raw_error_type").is_not_null(),
            **_shapeless(given),
            response_format=_response_format(pl.col("_raw_response_format")),
            _value_feedback_score=_feedback(pl.col("_raw_feedback_score")),
            **_times(reading),
            **{f"_value_{name}": value for name, value in values.items()},
        )
        # The error's type is read by `finish_errors`, on the failed rows only.
        .with_columns(
            pl.col("correlation_id").str.strip_chars(),
            is_error=pl.col("error_rule").is_not_null(),
            error_type=pl.lit(None, dtype=pl.String),
        )
    )
    return _judged(parsed)


SHAPELESS_FLAGS = ("_bad_status", "_bad_level", "_bad_http_status", "_bad_event")


def _shapeless(given: Callable[[str, str], pl.Expr | None]) -> dict[str, pl.Expr]:
    """`_bad_<field>`: a status, level, HTTP status or event logged as an object or array, which no rule can
    read (the event would count as ok without a word)."""
    flags = {}
    for name, column in (("status", "_raw_status"), ("level", "_raw_level"), ("http_status", "_raw_http_status"),
                         ("event", "event")):  # fmt: skip
        if (expr := given(name, column)) is not None:
            text = expr.str.strip_chars_start()
            flags[f"_bad_{name}"] = (text.str.starts_with("{") | text.str.starts_with("[")).fill_null(False)
    return flags


def _judged(parsed: pl.LazyFrame) -> pl.LazyFrame:
    """The canonical columns plus the flags: present-but-unusable values nulled and flagged."""
    columns: dict[str, pl.Expr] = {"feedback_score": pl.col("_value_feedback_score")}
    flags: dict[str, pl.Expr] = {
        "_bad_feedback_score": pl.col("_raw_feedback_score").is_not_null() & pl.col("_value_feedback_score").is_null(),
        "_no_time": pl.col("_raw_start").is_null() & pl.col("_raw_end").is_null(),
    }
    for name in ("start", "end"):
        flags[f"_bad_{name}"] = pl.col(f"_raw_{name}").is_not_null() & pl.col(name).is_null()
    for name, dtype in NUMERIC.items():
        value = pl.col(f"_value_{name}")
        bad = pl.col(f"_raw_{name}").is_not_null() & value.is_null()
        if name in _DURATIONS:
            absurd = ((value < 0) | (value > MAX_DURATION_MS) | value.is_nan()).fill_null(False)
            flags[f"_absurd_{name}"] = absurd
            value = pl.when(absurd.not_()).then(value)
        elif dtype == pl.Int64() or name == "logged_cost_usd":
            bad = bad | (value < 0).fill_null(False)
            value = pl.when(value >= 0).then(value)
        flags[f"_bad_{name}"] = bad
        columns[name] = value
    keep = [c for c in EVENT_COLUMNS if c not in columns]
    names = parsed.collect_schema().names()
    carried = [
        c
        for c in names
        if c in ("_naive_start", "_naive_end", "_raw_error", "_raw_error_type", *SHAPELESS_FLAGS)
        or c.startswith("_stat_")
    ]
    return parsed.select(*keep, "end", *carried, "_raw_start", "_raw_end", **columns, **flags)


def finish_errors(events: pl.DataFrame) -> pl.DataFrame:
    """The error type of the failed events (few), from their error type field or what they logged as the
    error; drops the raw columns `to_events` kept for this."""
    if "_raw_error" not in events.columns:
        return events
    failed = events.get_column("is_error")
    if failed.any():
        rows = failed.arg_true()
        raw_type = pl.col("_raw_error_type")
        kind = pl.coalesce(pl.when(truthy(raw_type)).then(raw_type), error_type_of(pl.col("_raw_error")))
        events = events.with_columns(
            events.get_column("error_type").scatter(rows, events[rows].select(kind).to_series())
        )
    return events.drop("_raw_error", "_raw_error_type")
