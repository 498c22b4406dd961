"""OTLP/JSON lines as frames: read with a schema, then flattened (nested lists exploded, AnyValues as
text, attributes as a long table pivoted on the keys aiobs reads).

Speed: span lines are read by pyarrow's JSON reader with a typed schema (about 8x faster than Polars on
these deeply nested lists of attributes). Input it rejects (an `intValue` written as a number, a
status code as a string, a malformed line) is read again by Polars with nested values as JSON text,
which accepts every shape the OTLP/JSON encoding allows; logs always take that path. Attributes are
exploded into one long (span, key, value) table and pivoted on the keys aiobs reads: no Python per span.
"""

from __future__ import annotations

import io

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

_PA_SCALAR = [("stringValue", pa.string()), ("intValue", pa.string()), ("doubleValue", pa.float64())]
_PA_SCALAR += [("boolValue", pa.bool_())]
_PA_VALUE = pa.struct([*_PA_SCALAR, ("arrayValue", pa.struct([("values", pa.list_(pa.struct(_PA_SCALAR)))]))])
_PA_ATTRIBUTES = pa.list_(pa.struct([("key", pa.string()), ("value", _PA_VALUE)]))
_PA_SPAN = pa.struct(
    [
        *((name, pa.string()) for name in ("traceId", "spanId", "parentSpanId", "name")),
        ("startTimeUnixNano", pa.string()),
        ("endTimeUnixNano", pa.string()),
        ("attributes", _PA_ATTRIBUTES),
        ("events", pa.list_(pa.struct([("name", pa.string()), ("attributes", _PA_ATTRIBUTES)]))),
        ("status", pa.struct([("code", pa.int64()), ("message", pa.string())])),
    ]
)
_PA_MARKER = pa.list_(pa.struct([("schemaUrl", pa.string())]))
TYPED_SCHEMA = pa.schema(
    [
        ("resourceSpans", pa.list_(pa.struct([("scopeSpans", pa.list_(pa.struct([("spans", pa.list_(_PA_SPAN))])))]))),
        ("resourceLogs", _PA_MARKER),
        ("resourceMetrics", _PA_MARKER),
    ]
)

_S = pl.String()
_SCALARS = {"stringValue": _S, "intValue": _S, "doubleValue": _S, "boolValue": _S, "bytesValue": _S}
#: An AnyValue with String leaves, so that strings are decoded exactly (Polars renders a nested object
#: read as text without escaping backslashes). Deeper trees (structured messages) are read as text.
_VALUE = pl.Struct(
    {
        **_SCALARS,
        "arrayValue": pl.Struct({"values": pl.List(pl.Struct({**_SCALARS, "kvlistValue": _S}))}),
        "kvlistValue": _S,
    }
)
_ATTRIBUTES = pl.List(pl.Struct({"key": _S, "value": _VALUE}))
_SPAN = pl.Struct(
    {
        **{name: _S for name in ("traceId", "spanId", "parentSpanId", "name", "startTimeUnixNano", "endTimeUnixNano")},
        "attributes": _ATTRIBUTES,
        "events": pl.List(pl.Struct({"name": _S, "attributes": _ATTRIBUTES})),
        "status": pl.Struct({"code": _S, "message": _S}),
    }
)
#: A log body two key/value levels deep: `{"content": …}` and `{"message": {"content": …}}` (gen_ai.choice).
_INNER_PAIRS = pl.List(pl.Struct({"key": _S, "value": pl.Struct({**_SCALARS, "arrayValue": _S, "kvlistValue": _S})}))
_BODY_PAIRS = pl.List(
    pl.Struct(
        {
            "key": _S,
            "value": pl.Struct({**_SCALARS, "arrayValue": _S, "kvlistValue": pl.Struct({"values": _INNER_PAIRS})}),
        }
    )
)
_BODY = pl.Struct({**_SCALARS, "arrayValue": _S, "kvlistValue": pl.Struct({"values": _BODY_PAIRS})})
_LOG_FIELDS = ("timeUnixNano", "observedTimeUnixNano", "traceId", "spanId", "eventName")
_LOG = pl.Struct({**{name: _S for name in _LOG_FIELDS}, "body": _BODY, "attributes": _ATTRIBUTES})
LENIENT_SCHEMA = pl.Schema(
    {
        "resourceSpans": pl.List(pl.Struct({"scopeSpans": pl.List(pl.Struct({"spans": pl.List(_SPAN)}))})),
        "resourceLogs": pl.List(pl.Struct({"scopeLogs": pl.List(pl.Struct({"logRecords": pl.List(_LOG)}))})),
        "resourceMetrics": pl.List(pl.Struct({"schemaUrl": _S})),
    }
)
#: pyarrow cuts its input into blocks; a line longer than a block fails, so such input is read in one block.
_BLOCK_BYTES = 4 << 20


def read_typed(data: bytes) -> pl.DataFrame:
    """Lines read by pyarrow with `TYPED_SCHEMA` (spans only; logs and metrics just marked present)."""
    parse = pa_json.ParseOptions(explicit_schema=TYPED_SCHEMA, unexpected_field_behavior="ignore")
    try:
        table = pa_json.read_json(
            io.BytesIO(data), read_options=pa_json.ReadOptions(block_size=_BLOCK_BYTES), parse_options=parse
        )
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
        options = pa_json.ReadOptions(block_size=len(data) + 1)
        table = pa_json.read_json(io.BytesIO(data), read_options=options, parse_options=parse)
    return pl.from_arrow(table)  # type: ignore[return-value]


def explode_path(lines: pl.LazyFrame, *path: str) -> pl.LazyFrame:
    """One row per innermost element of nested lists (`resourceSpans[].scopeSpans[].spans[]`), unnested."""
    head, *rest = path
    frame = lines.select("source", "line", pl.col(head).alias("_item")).explode("_item")
    for name in rest:
        frame = frame.select("source", "line", pl.col("_item").struct.field(name).alias("_item")).explode("_item")
    return frame.filter(pl.col("_item").is_not_null()).unnest("_item")


def scalar_text(value: pl.Expr) -> pl.Expr:
    """An AnyValue struct (either reader) -> its scalar as text; an array gives its first element."""
    scalars = [value.struct.field(f).cast(pl.String) for f in ("stringValue", "intValue", "doubleValue", "boolValue")]
    first_item = value.struct.field("arrayValue").struct.field("values").list.first()
    return pl.coalesce(*scalars, first_item.struct.field("stringValue"), first_item.struct.field("intValue"))


def long_attributes(frame: pl.LazyFrame, key_prefix: pl.Expr | None) -> pl.LazyFrame:
    """(`_row`, key, value) for every attribute of `frame` (which has `_row` and `attributes`)."""
    attrs = (
        frame.select("_row", *(["_prefix"] if key_prefix is not None else []), "attributes")
        .explode("attributes")
        .filter(pl.col("attributes").is_not_null())
        .unnest("attributes")
    )
    key = pl.col("key") if key_prefix is None else pl.col("_prefix") + "/" + pl.col("key")
    return attrs.select("_row", key.alias("key"), scalar_text(pl.col("value")).alias("value"))


def pivot(attrs: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """One row per `_row` and one String column per key (null where the key is absent).

    Eager: on chunk-sized frames the eager pivot is several times cheaper than the lazy one.
    """
    present = attrs.filter(pl.col("key").is_in(keys))
    wide = present.pivot(on="key", index="_row", values="value", aggregate_function="first")
    if present.is_empty():
        wide = pl.DataFrame(schema={"_row": attrs.schema["_row"]})
    missing = [k for k in keys if k not in wide.columns]
    return wide.with_columns(pl.lit(None, dtype=pl.String).alias(k) for k in missing)
