"""Expression helpers the adapters share: text cleaning, numbers, times, and the last step to canonical events.

Adapters pick their fields in a first select: text columns under their canonical names, numbers as
strings under `_raw_<name>` (so a value that is present but unusable can be told from one that is
missing), the start time as a string `_raw_start` or already as `start`. `finish` parses the numbers,
flags what it could not use and selects the canonical columns in order.
"""

from __future__ import annotations

from typing import Final

import polars as pl
from polars.datatypes import DataTypeClass

from aiobs.formats.native import MAX_DURATION_MS, NUMERIC, _number, permissive_timestamp
from aiobs.formats.timestamps import plausible
from aiobs.schema import EVENT_SCHEMA, UTC_TIME

#: Adapters work on one chunk at a time; on frames that size the in-memory engine is 2-10x cheaper than
#: the streaming one (measured on joins and selects of 30,000 spans).
ENGINE: Final = "in-memory"
_DURATIONS = ("duration_ms", "ttft_ms")


def nonempty(expr: pl.Expr) -> pl.Expr:
    """Stripped text, or null when it is empty (many formats write "" for "not set")."""
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def first_present(*exprs: pl.Expr) -> pl.Expr:
    """The first non-empty text among `exprs`."""
    cleaned = [nonempty(e) for e in exprs]
    return pl.coalesce(cleaned) if len(cleaned) > 1 else cleaned[0]


def timestamp(raw: pl.Expr) -> pl.Expr:
    """ISO-8601 (naive means UTC; a space instead of `T` is fine, with or without a zone) or epoch
    s / ms / us / ns by magnitude."""
    return permissive_timestamp(raw)


def from_epoch_nanos(nanos: pl.Expr) -> pl.Expr:
    """Int64 nanoseconds since the epoch -> UTC time (microseconds). Zero means "not set" in OTLP."""
    return pl.when(nanos > 0).then((nanos // 1000).cast(UTC_TIME))


def nanos(raw: pl.Expr) -> pl.Expr:
    """A decimal string (or JSON number) of nanoseconds as Int64, exactly: never through a float."""
    return raw.cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False)


def exact_ms(count: pl.Expr, per_ms: int) -> pl.Expr:
    """An integer count of `per_ms`-ths of a millisecond (ns: 1,000,000; us: 1,000) as float milliseconds,
    correctly rounded.

    Polars divides a column by a scalar as a multiplication by its reciprocal, which is one unit in the
    last place off for many values (12,838,600,000 ns gives 12838.599999999998 ms, not 12838.6); the
    decimal text parsed as a float is the nearest double, as the native reader's "12838.6" is.
    """
    digits = len(str(per_ms)) - 1
    size = count.abs()
    text = pl.concat_str(
        pl.when(count < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (size // per_ms).cast(pl.String),
        pl.lit("."),
        (size % per_ms).cast(pl.String).str.zfill(digits),
    )
    return text.cast(pl.Float64)


def ms_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Milliseconds from `start` to `end` (datetimes), correctly rounded."""
    return exact_ms((end - start).dt.total_microseconds(), 1000)


def json_field(text: pl.Expr, path: str) -> pl.Expr:
    """`$.a.b` of a JSON text (an object logged as a string, or a nested value read as text); null if absent."""
    return text.str.json_path_match(path)


def finish(picked: pl.LazyFrame) -> pl.LazyFrame:
    """Canonical columns (in order, canonical types) plus `_bad_*` / `_absurd_*` flags and `_drop` columns.

    For each numeric field, `_raw_<name>` (text) is parsed and flagged when present but unusable or
    negative; a typed `<name>` column is range-checked. Durations outside 0..1 day are flagged as absurd.
    """
    names = set(picked.collect_schema().names())
    values: dict[str, pl.Expr] = {}
    flags: dict[str, pl.Expr] = {}
    if "_raw_start" in names:
        values["start"] = plausible(timestamp(pl.col("_raw_start")))
        flags["_bad_start"] = pl.col("_raw_start").is_not_null() & values["start"].is_null()
    elif "start" in names:  # read by the adapter itself (OTLP nanoseconds): still only plausible times
        values["start"] = plausible(pl.col("start"))
        flags["_bad_start"] = pl.col("start").is_not_null() & values["start"].is_null()
    for name, dtype in NUMERIC.items():
        if f"_raw_{name}" in names:
            raw = pl.col(f"_raw_{name}")
            parsed = _number(raw, dtype)
            bad = raw.is_not_null() & parsed.is_null()
        elif name in names:
            parsed = pl.col(name).cast(dtype)
            bad = pl.lit(False)
        else:
            continue
        if name in _DURATIONS:
            absurd = ((parsed < 0) | (parsed > MAX_DURATION_MS) | parsed.is_nan()).fill_null(False)
            flags[f"_absurd_{name}"] = absurd
            parsed = pl.when(absurd.not_()).then(parsed)
        else:
            bad = bad | (parsed < 0).fill_null(False)
            parsed = pl.when(parsed >= 0).then(parsed)
        if f"_raw_{name}" in names:
            flags[f"_bad_{name}"] = bad
        values[name] = parsed
    if "error_rule" not in names:  # the format's own status field decided
        values["error_rule"] = pl.when(pl.col("is_error")).then(pl.lit("format"))
    typed = picked.with_columns(**values, **flags)
    given = [c for c in names if c.startswith(("_bad_", "_absurd_")) and c not in flags]
    extra = [*given, *(c for c in ("_drop", "_drop_message") if c in names)]
    return typed.select(
        *((pl.col(n) if n in names or n in values else pl.lit(None)).cast(t).alias(n) for n, t in EVENT_SCHEMA.items()),
        *flags,
        *extra,
    )


def json_struct(text: pl.Expr, dtype: pl.DataType | DataTypeClass, path: str = "$") -> pl.Expr:
    """A JSON text rebuilt into the struct `dtype` (String leaves), member by member, never failing.

    The lenient read of an adapter takes nested fields as JSON text when their shape is not the
    documented one; this gives the fast path's struct back, with null where a member is absent.
    """
    if not isinstance(dtype, pl.Struct):
        return text.str.json_path_match(path)
    return pl.struct([json_struct(text, f.dtype, f"{path}.{f.name}").alias(f.name) for f in dtype.fields])


def restore_structs(frame: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """Columns read as JSON text where `schema` has a struct, turned back into that struct."""
    have = frame.collect_schema()
    return frame.with_columns(
        json_struct(pl.col(name), dtype).alias(name)
        for name, dtype in schema.items()
        if isinstance(dtype, pl.Struct) and have.get(name) == pl.String()
    )


def lenient_schema(schema: pl.Schema) -> pl.Schema:
    """`schema` with every nested field read as JSON text (Polars renders objects and arrays as text)."""
    return pl.Schema({name: pl.String() for name in schema})


class NestedRecordAdapter:
    """An adapter for records of one nested `schema`: read strictly, or with nested fields as JSON text
    when a chunk's shapes vary (`lenient`), then turned into events by `pick`."""

    name: str
    schema: pl.Schema

    def pick(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        raise NotImplementedError

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=lenient_schema(self.schema) if lenient else self.schema).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        frame = restore_structs(raw.lazy().with_columns(source=pl.lit(source)), self.schema)
        return finish(self.pick(frame))
