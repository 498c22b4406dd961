"""The native JSONL format (docs/schema.md, "The aiobs native log format") -> the canonical event table.

Every mapped field is read as a *string* (Polars renders numbers and nested
JSON as text), then cast here with `strict=False`. That keeps one malformed
value from failing the whole batch, and lets us tell "missing" (raw is null)
from "wrong type" (raw present, cast null): the latter is counted, never
silently turned into a null.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from aiobs.formats.mapping import FieldMapping, SourcePath
from aiobs.schema import EVENT_SCHEMA, STAGES, UTC_TIME, Stage

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
    "reasoning_tokens": pl.Int64(),
    "logged_cost_usd": pl.Float64(),
}

#: A single event longer than a day is a unit mistake or a broken clock, not a real duration.
MAX_DURATION_MS = 24 * 3600 * 1000.0

#: event names (lower-case) -> stage; anything else is `other`.
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
PASSTHROUGH_TEXT = ("finish_reason", "input_text", "output_text", "context_text")
POSITIVE_WORDS = ("up", "true", "yes", "positive", "good", "like", "accepted", "+1", "👍")
NEGATIVE_WORDS = ("down", "false", "no", "negative", "bad", "dislike", "rejected", "-1", "👎")

ERROR_STATUS_WORDS = ("error", "failed", "failure", "fail", "exception", "fatal", "critical", "timeout")
FALSE_WORDS = ("", "0", "false", "none", "null", "no")


def raw_schema(mapping: FieldMapping) -> pl.Schema:
    """The schema to read lines with: every mapped path as a String, nested paths as Structs."""
    tree: dict[str, Any] = {}
    for path in mapping.all_paths():
        node = tree
        *parents, leaf = path.parts
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                # The same name is both a leaf and a parent; reading it as a struct would fail on the leaf.
                break
            node = child
        else:
            node.setdefault(leaf, None)

    def to_dtype(node: dict[str, Any] | None) -> pl.DataType:
        if node is None:
            return pl.String()
        return pl.Struct({name: to_dtype(child) for name, child in node.items()})

    return pl.Schema({name: to_dtype(child) for name, child in tree.items()})


def flat_schema(schema: pl.Schema) -> pl.Schema:
    """The top-level string fields only: for lines whose nested fields do not have the expected shape."""
    return pl.Schema({name: dtype for name, dtype in schema.items() if dtype == pl.String()})


def _path_expr(path: SourcePath, schema: pl.Schema) -> pl.Expr | None:
    head, *rest = path.parts
    if head not in schema:
        return None
    dtype = schema[head]
    expr = pl.col(head)
    for part in rest:
        if not isinstance(dtype, pl.Struct) or part not in {f.name for f in dtype.fields}:
            return None
        dtype = next(f.dtype for f in dtype.fields if f.name == part)
        expr = expr.struct.field(part)
    return expr if dtype == pl.String() else None


def _raw(canonical: str, mapping: FieldMapping, schema: pl.Schema, *, numeric: bool = False) -> pl.Expr:
    """First present source field for `canonical`, as a string (numeric fields scaled to our unit)."""
    exprs: list[pl.Expr] = []
    for path in mapping.paths.get(canonical, ()):
        expr = _path_expr(path, schema)
        if expr is None:
            continue
        if numeric and path.scale != 1.0:
            # Scale here so that the coalesce below picks one unit; text that is not a number stays text.
            as_float = expr.cast(pl.Float64, strict=False)
            expr = pl.when(as_float.is_not_null()).then((as_float * path.scale).cast(pl.String)).otherwise(expr)
        exprs.append(expr)
    if not exprs:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]


def _number(raw: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Int64():
        # "12.0" is a valid token count; "12.5" is not, and neither is text.
        as_float = raw.cast(pl.Float64, strict=False)
        return pl.when(as_float == as_float.round(0)).then(as_float.cast(pl.Int64, strict=False))
    return raw.cast(pl.Float64, strict=False)


ZONED_ISO = "%Y-%m-%dT%H:%M:%S%.f%#z"


def _epoch(raw: pl.Expr, number: pl.Expr) -> pl.Expr:
    magnitude = number.abs()
    epoch_us = (
        pl.when(magnitude >= 1e17)
        .then(raw.cast(pl.Int64, strict=False) // 1000)  # ns: parse as an integer, a float loses precision
        .when(magnitude >= 1e14)
        .then(number)
        .when(magnitude >= 1e11)
        .then(number * 1e3)
        .otherwise(number * 1e6)
    )
    return epoch_us.cast(pl.Int64, strict=False).cast(UTC_TIME)


def _timestamp(raw: pl.Expr) -> pl.Expr:
    """The common forms, fast: epoch seconds / ms / us / ns by magnitude, or ISO-8601 with a zone.

    Parsing a date costs more than anything else per event, so only one ISO format is tried here;
    `finish_timestamps` gives the rows it could not read the permissive parse.
    """
    number = raw.cast(pl.Float64, strict=False)
    iso = raw.str.to_datetime(ZONED_ISO, strict=False, time_unit="us", time_zone="UTC")
    return pl.when(number.is_not_null()).then(_epoch(raw, number)).otherwise(iso)


def permissive_timestamp(raw: pl.Expr) -> pl.Expr:
    """ISO-8601 with or without a zone (naive means UTC), `T` or a space, surrounding blanks; or epoch."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    iso = pl.coalesce(
        text.str.to_datetime(ZONED_ISO, strict=False, time_unit="us", time_zone="UTC"),
        text.str.replace(" ", "T", literal=True)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
        .dt.replace_time_zone("UTC"),
    )
    return pl.when(number.is_not_null()).then(_epoch(text, number)).otherwise(iso)


def finish_timestamps(events: pl.DataFrame) -> pl.DataFrame:
    """Retry the timestamps `to_events` could not read with the permissive parse, on those rows only.

    Drops the `_raw_start` column that `to_events` keeps for this; `_bad_start` stays true only for
    timestamps no form could read.
    """
    if "_raw_start" not in events.columns:
        return events
    bad = events.get_column("_bad_start")
    if bad.any():
        rows = bad.arg_true()
        fixed = events[rows].select(permissive_timestamp(pl.col("_raw_start"))).to_series()
        events = events.with_columns(
            events.get_column("start").scatter(rows, fixed), bad.scatter(rows, fixed.is_null())
        )
    return events.drop("_raw_start")


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


def to_events(raw: pl.LazyFrame, mapping: FieldMapping, schema: pl.Schema) -> pl.LazyFrame:
    """Raw string columns (plus `source`, `line`) -> canonical events plus `_bad_<field>` flag columns.

    A `_bad_*` column is true where the field was present but unusable; the value itself is null.
    `ingest` counts the flags and drops them, after `finish_timestamps` (it settles `_bad_start`). Three
    steps (pick the source field, parse it, judge it), each a select over the previous one's columns, so
    no expression is evaluated twice.
    """
    text_fields = ("correlation_id", "event_id", "parent_id", "event", "model", "provider", "route", "user")
    picked = raw.select(
        "source",
        "line",
        *(_raw(name, mapping, schema).alias(name) for name in (*text_fields, *PASSTHROUGH_TEXT)),
        _raw("response_format", mapping, schema).alias("_raw_response_format"),
        _raw("feedback_score", mapping, schema).alias("_raw_feedback_score"),
        *(_raw(name, mapping, schema).alias(f"_raw_{name}") for name in ("status", "error_type", "is_root", "start")),
        *(_raw(name, mapping, schema, numeric=True).alias(f"_raw_{name}") for name in NUMERIC),
        detail_of=pl.lit(None, dtype=pl.String),  # native lines are events of their own
    )

    event_lower = pl.col("event").str.to_lowercase().str.strip_chars()
    status = pl.col("_raw_status").str.to_lowercase().str.strip_chars()
    error_type = pl.col("_raw_error_type")
    has_error_type = _flag_word(error_type).fill_null(False)
    explicit_root = pl.col("_raw_is_root")
    parsed = picked.with_columns(
        stage=event_lower.replace_strict(STAGE_OF_EVENT, default="other", return_dtype=pl.String).cast(Stage),
        is_error=(
            status.is_in(ERROR_STATUS_WORDS).fill_null(False)
            | (status.cast(pl.Int64, strict=False) >= 400).fill_null(False)
            | (event_lower == "error").fill_null(False)
            | has_error_type
        ),
        error_type=pl.when(has_error_type).then(error_type),
        start=_timestamp(pl.col("_raw_start")),
        response_format=_response_format(pl.col("_raw_response_format")),
        _value_feedback_score=_feedback(pl.col("_raw_feedback_score")),
        **{f"_value_{name}": _number(pl.col(f"_raw_{name}"), dtype) for name, dtype in NUMERIC.items()},
    ).with_columns(
        pl.col("correlation_id").str.strip_chars(),
        is_root=pl.when(explicit_root.is_not_null())
        .then(_flag_word(explicit_root))
        .otherwise(pl.col("stage") == "gateway")
        .fill_null(False),
    )

    columns: dict[str, pl.Expr] = {"feedback_score": pl.col("_value_feedback_score")}
    flags: dict[str, pl.Expr] = {
        "_bad_start": pl.col("_raw_start").is_not_null() & pl.col("start").is_null(),
        "_bad_feedback_score": pl.col("_raw_feedback_score").is_not_null() & pl.col("_value_feedback_score").is_null(),
    }
    for name, dtype in NUMERIC.items():
        value = pl.col(f"_value_{name}")
        bad = pl.col(f"_raw_{name}").is_not_null() & value.is_null()
        if name in ("duration_ms", "ttft_ms"):
            absurd = ((value < 0) | (value > MAX_DURATION_MS) | value.is_nan()).fill_null(False)
            flags[f"_absurd_{name}"] = absurd
            value = pl.when(absurd.not_()).then(value)
        elif dtype == pl.Int64() or name == "logged_cost_usd":
            bad = bad | (value < 0).fill_null(False)
            value = pl.when(value >= 0).then(value)
        flags[f"_bad_{name}"] = bad
        columns[name] = value
    keep = [c for c in EVENT_COLUMNS if c not in columns]
    return parsed.select(*keep, **columns, **flags, _raw_start=pl.col("_raw_start"))
