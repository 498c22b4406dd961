"""OTLP/JSON (the OpenTelemetry Collector `file` exporter) -> canonical events.

Each line is a TracesData (`{"resourceSpans": [...]}`) or LogsData (`{"resourceLogs": [...]}`) object
holding many spans or log records, often of many traces; a trace is split across lines and files, in
no order. Every span becomes one event: correlation by `traceId`, `event_id` = `spanId`, `parent_id`
= `parentSpanId`, a span without a parent is the request's root (its duration is the end-to-end
latency). GenAI semantic-convention attributes, current and deprecated names mixed, OpenInference
attributes (`openinference.span.kind`, `llm.token_count.*`, `llm.input_messages.N.message.content`)
and the Traceloop/OpenLLMetry dialect all map onto the same canonical fields (tables in docs/formats.md).

GenAI log records (`gen_ai.user.message`, `gen_ai.choice`, `gen_ai.client.inference.operation.details`)
carry the messages of a span in another line or file. They become *detail* rows (`detail_of` = the
span's id) that `aiobs.formats.details.merge_details` folds into their span once every bucket holds
all events of its traces. Other log records and metrics are counted as `skipped-record`.

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

from aiobs.formats.adapter_exprs import ENGINE, exact_ms, finish, first_present, from_epoch_nanos, nanos, nonempty
from aiobs.formats.providers import normalize_provider
from aiobs.formats.text import message_text, rendered_anyvalue_text

NAME = "otlp"

#: Canonical field -> attribute keys, first present wins. Current GenAI names first, then deprecated
#: ones, then OpenInference, then Traceloop/OpenLLMetry. `event/key` is an attribute of a span event.
KEYS: dict[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name",),
    "openinference_kind": ("openinference.span.kind",),
    "traceloop_type": ("llm.request.type",),
    "model": (
        "gen_ai.response.model",
        "gen_ai.request.model",
        "llm.response.model_name",
        "llm.model_name",
        "llm.request.model_name",
        "embedding.model_name",
    ),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "input_tokens": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
        "llm.usage.prompt_tokens",
    ),
    "output_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
        "llm.usage.completion_tokens",
    ),
    "cached_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
    "ttft_s": ("gen_ai.response.time_to_first_chunk",),
    "logged_cost_usd": ("llm.cost.total", "gen_ai.usage.cost"),
    "finish_reason": ("gen_ai.response.finish_reasons", "llm.finish_reason"),
    "error_type": ("error.type", "exception.type", "exception/exception.type"),
    "route": ("http.route",),
    "resend_count": ("http.request.resend_count",),
    "root_route": ("url.path",),
    "user": ("user.id", "enduser.id"),
    "input_messages": (
        "gen_ai.input.messages",
        "gen_ai.prompt",
        "gen_ai.content.prompt/gen_ai.prompt",
    ),
    "output_messages": (
        "gen_ai.output.messages",
        "gen_ai.completion",
        "gen_ai.content.completion/gen_ai.completion",
    ),
    "input_value": ("input.value", "gen_ai.tool.call.arguments"),
    "output_value": ("output.value", "gen_ai.tool.call.result"),
    "documents": ("gen_ai.retrieval.documents",),
    "response_format": (
        "gen_ai.output.type",
        "gen_ai.openai.request.response_format",
        "openai.request.response_format",
    ),
    "invocation_parameters": ("llm.invocation_parameters",),
}
ATTRIBUTE_KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for keys in KEYS.values() for k in keys))

#: Flattened lists (OpenInference, Traceloop): (key prefix, regex with the index groups, text kind).
INDEXED: tuple[tuple[str, str, str], ...] = (
    ("llm.input_messages.", r"^llm\.input_messages\.(\d+)\.message\.content$", "input"),
    ("llm.input_messages.", r"^llm\.input_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.text$", "input"),
    ("llm.output_messages.", r"^llm\.output_messages\.(\d+)\.message\.content$", "output"),
    (
        "llm.output_messages.",
        r"^llm\.output_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.text$",
        "output",
    ),
    ("gen_ai.prompt.", r"^gen_ai\.prompt\.(\d+)\.content$", "input"),
    ("gen_ai.completion.", r"^gen_ai\.completion\.(\d+)\.content$", "output"),
    ("retrieval.documents.", r"^retrieval\.documents\.(\d+)\.document\.content$", "context"),
    ("reranker.output_documents.", r"^reranker\.output_documents\.(\d+)\.document\.content$", "context"),
)
INDEXED_KINDS = ("input", "output", "context")

#: gen_ai.operation.name -> stage. Agents and workflows are `other`.
OPERATION_STAGES: dict[str, str] = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "embeddings": "embedding",
    "embedding": "embedding",
    "retrieval": "retrieval",
    "rerank": "rerank",
    "execute_tool": "tool",
    "invoke_agent": "other",
    "create_agent": "other",
    "invoke_workflow": "other",
}
#: openinference.span.kind -> stage.
OPENINFERENCE_STAGES: dict[str, str] = {
    "LLM": "llm",
    "EMBEDDING": "embedding",
    "RETRIEVER": "retrieval",
    "RERANKER": "rerank",
    "TOOL": "tool",
    "AGENT": "other",
    "CHAIN": "other",
    "GUARDRAIL": "other",
    "EVALUATOR": "other",
    "PROMPT": "other",
}
#: Traceloop's llm.request.type -> stage.
TRACELOOP_STAGES: dict[str, str] = {"chat": "llm", "completion": "llm", "embedding": "embedding", "rerank": "rerank"}
#: A root span of these kinds only wraps the request (like an HTTP server span): its stage is `gateway`.
WRAPPER_OPERATIONS = ("invoke_workflow",)
WRAPPER_KINDS = ("CHAIN",)

#: Log record event names whose body is an input message, and the one whose body is an output choice.
INPUT_MESSAGE_EVENTS = (
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
)
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
MESSAGE_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")
LOG_KEYS = ("event.name", *MESSAGE_KEYS, "gen_ai.response.finish_reasons")
#: Keys of a log body whose string is message text.
TEXT_KEYS = ("content", "text")

_FINISH_REASON = r'"finish_reason"\s*:\s*"([^"\\]*)"'

# -- readers ---------------------------------------------------------------------------------------------

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


def _read_typed(data: bytes) -> pl.DataFrame:
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


class OtlpAdapter:
    name = NAME

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        if not lenient and b'"resourceLogs"' not in data:
            return _read_typed(data)
        return pl.scan_ndjson(data, schema=LENIENT_SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        typed = raw.schema["resourceLogs"] == _marker_dtype()  # pyarrow read only the traces
        lines = raw.lazy().with_columns(source=pl.lit(source))
        parts = [_line_issues(lines), _span_events(lines)]
        if not typed:
            parts.append(_log_details(lines))
        return pl.concat(parts, how="diagonal_relaxed")


def _marker_dtype() -> pl.DataType:
    return pl.List(pl.Struct({"schemaUrl": pl.String()}))


def _line_issues(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Rows for lines that hold no traces or logs: metrics are skipped, anything else is not OTLP."""
    spans, logs, metrics = (pl.col(c).is_not_null() for c in ("resourceSpans", "resourceLogs", "resourceMetrics"))
    flagged = lines.filter(spans.not_() & logs.not_()).select(
        "source",
        "line",
        _drop=pl.when(metrics).then(pl.lit("skipped-record")).otherwise(pl.lit("unknown-record")),
        _drop_message=pl.when(metrics)
        .then(pl.lit("OTLP metrics are not read (aiobs reads traces and logs)"))
        .otherwise(pl.lit("not an OTLP TracesData or LogsData object (no resourceSpans or resourceLogs)")),
    )
    return flagged


def _explode_path(lines: pl.LazyFrame, *path: str) -> pl.LazyFrame:
    """One row per innermost element of nested lists (`resourceSpans[].scopeSpans[].spans[]`), unnested."""
    head, *rest = path
    frame = lines.select("source", "line", pl.col(head).alias("_item")).explode("_item")
    for name in rest:
        frame = frame.select("source", "line", pl.col("_item").struct.field(name).alias("_item")).explode("_item")
    return frame.filter(pl.col("_item").is_not_null()).unnest("_item")


def _scalar(value: pl.Expr) -> pl.Expr:
    """An AnyValue struct (either reader) -> its scalar as text; an array gives its first element."""
    scalars = [value.struct.field(f).cast(pl.String) for f in ("stringValue", "intValue", "doubleValue", "boolValue")]
    first_item = value.struct.field("arrayValue").struct.field("values").list.first()
    return pl.coalesce(*scalars, first_item.struct.field("stringValue"), first_item.struct.field("intValue"))


def _long_attributes(frame: pl.LazyFrame, key_prefix: pl.Expr | None) -> pl.LazyFrame:
    """(`_row`, key, value) for every attribute of `frame` (which has `_row` and `attributes`)."""
    attrs = (
        frame.select("_row", *(["_prefix"] if key_prefix is not None else []), "attributes")
        .explode("attributes")
        .filter(pl.col("attributes").is_not_null())
        .unnest("attributes")
    )
    key = pl.col("key") if key_prefix is None else pl.col("_prefix") + "/" + pl.col("key")
    return attrs.select("_row", key.alias("key"), _scalar(pl.col("value")).alias("value"))


def _pivot(attrs: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """One row per `_row` and one String column per key (null where the key is absent).

    Eager: on chunk-sized frames the eager pivot is several times cheaper than the lazy one.
    """
    present = attrs.filter(pl.col("key").is_in(keys))
    wide = present.pivot(on="key", index="_row", values="value", aggregate_function="first")
    if present.is_empty():
        wide = pl.DataFrame(schema={"_row": attrs.schema["_row"]})
    missing = [k for k in keys if k not in wide.columns]
    return wide.with_columns(pl.lit(None, dtype=pl.String).alias(k) for k in missing)


def _indexed_text(attrs: pl.LazyFrame) -> pl.DataFrame:
    """Flattened message and document lists (`llm.input_messages.0.message.content`, ...) joined per kind."""
    key = pl.col("key")
    prefixes = tuple(dict.fromkeys(prefix for prefix, _, _ in INDEXED))
    kind = pl.lit(None, dtype=pl.String)
    first = pl.lit(None, dtype=pl.Int64)
    second = pl.lit(None, dtype=pl.Int64)
    for _, pattern, name in reversed(INDEXED):
        hit = key.str.contains(pattern)
        kind = pl.when(hit).then(pl.lit(name)).otherwise(kind)
        first = pl.when(hit).then(key.str.extract(pattern, 1).cast(pl.Int64)).otherwise(first)
        if pattern.count("(") > 1:
            second = pl.when(hit).then(key.str.extract(pattern, 2).cast(pl.Int64)).otherwise(second)
    found = (
        attrs.filter(pl.any_horizontal(key.str.starts_with(p) for p in prefixes))
        .with_columns(_kind=kind, _i=first, _j=second.fill_null(0))
        .filter(pl.col("_kind").is_not_null() & (pl.col("value") != ""))
        .sort("_row", "_kind", "_i", "_j")
        .group_by("_row", "_kind", maintain_order=True)
        .agg(pl.col("value").str.join("\n"))
    )
    wide = _pivot(found.collect().rename({"_kind": "key"}), INDEXED_KINDS)
    return wide.rename({k: f"_indexed_{k}" for k in INDEXED_KINDS})


def _attr(canonical: str) -> pl.Expr:
    return first_present(*(pl.col(k) for k in KEYS[canonical]))


def _span_events(lines: pl.LazyFrame) -> pl.LazyFrame:
    spans = _explode_path(lines, "resourceSpans", "scopeSpans", "spans").with_row_index("_row").collect(engine=ENGINE)
    span_attrs = _long_attributes(spans.lazy(), None)
    events = (
        spans.lazy()
        .select("_row", pl.col("events"))
        .explode("events")
        .filter(pl.col("events").is_not_null())
        .select(
            "_row", pl.col("events").struct.field("name").alias("_prefix"), pl.col("events").struct.field("attributes")
        )
    )
    all_attrs = pl.concat([span_attrs, _long_attributes(events, pl.col("_prefix"))]).collect(engine=ENGINE)
    joined = (
        spans.drop("attributes", "events")
        .join(_pivot(all_attrs, ATTRIBUTE_KEYS), on="_row", how="left", maintain_order="left")
        .join(_indexed_text(all_attrs.lazy()), on="_row", how="left", maintain_order="left")
    )
    return finish(_pick_span_fields(joined.lazy()))


def _stage(is_root: pl.Expr) -> pl.Expr:
    operation = _attr("operation").str.to_lowercase()
    kind = _attr("openinference_kind").str.to_uppercase()
    traceloop = _attr("traceloop_type").str.to_lowercase()
    known = pl.coalesce(
        operation.replace_strict(OPERATION_STAGES, default=None, return_dtype=pl.String),
        kind.replace_strict(OPENINFERENCE_STAGES, default=None, return_dtype=pl.String),
        traceloop.replace_strict(TRACELOOP_STAGES, default=None, return_dtype=pl.String),
    )
    wrapper = (
        operation.is_in(WRAPPER_OPERATIONS).fill_null(False)
        | (operation.is_null() & kind.is_in(WRAPPER_KINDS).fill_null(False))
        | known.is_null()
    )
    return pl.when(is_root & wrapper).then(pl.lit("gateway")).otherwise(known.fill_null("other"))


def _response_format() -> pl.Expr:
    declared = _attr("response_format")
    from_parameters = pl.coalesce(
        pl.col("llm.invocation_parameters").str.json_path_match("$.response_format.type"),
        pl.col("llm.invocation_parameters").str.json_path_match("$.response_format"),
    )
    value = pl.coalesce(declared, nonempty(from_parameters))
    value = pl.when(value.str.starts_with("{")).then(value.str.json_path_match("$.type")).otherwise(value)
    return value.replace({"json": "json_object"})


def _pick_span_fields(spans: pl.LazyFrame) -> pl.LazyFrame:
    """Spans with their pivoted attributes -> canonical columns (numbers still as `_raw_*` text)."""
    parent = nonempty(pl.col("parentSpanId")).str.to_lowercase()
    is_root = parent.is_null()
    start_raw = nonempty(pl.col("startTimeUnixNano"))
    start_ns, end_ns = nanos(start_raw), nanos(pl.col("endTimeUnixNano"))
    status = pl.col("status")
    status_code = status.struct.field("code").cast(pl.String).str.to_uppercase()
    error_type = _attr("error_type")
    is_error = status_code.is_in(("2", "STATUS_CODE_ERROR")).fill_null(False) | error_type.is_not_null()
    ttft_s = _attr("ttft_s").cast(pl.Float64, strict=False)
    finish_reason = pl.coalesce(
        _attr("finish_reason"),
        pl.col("gen_ai.output.messages").str.extract(_FINISH_REASON, 1),
    )
    stage = _stage(is_root)
    input_text = pl.coalesce(
        message_text(_attr("input_messages")),
        pl.col("_indexed_input"),
        message_text(_attr("input_value")),
    )
    output_text = pl.coalesce(
        message_text(_attr("output_messages")),
        pl.col("_indexed_output"),
        message_text(_attr("output_value")),
    )
    return spans.select(
        "source",
        "line",
        correlation_id=nonempty(pl.col("traceId")).str.to_lowercase(),
        event_id=nonempty(pl.col("spanId")).str.to_lowercase(),
        parent_id=parent,
        event=pl.coalesce(nonempty(pl.col("name")), _attr("operation")),
        stage=stage,
        is_root=is_root,
        start=from_epoch_nanos(start_ns),
        _bad_start=start_raw.is_not_null() & start_ns.is_null(),
        duration_ms=pl.when((start_ns > 0) & (end_ns > 0)).then(exact_ms(end_ns - start_ns, 1_000_000)),
        _raw_ttft_ms=pl.when(ttft_s.is_not_null()).then((ttft_s * 1000).cast(pl.String)).otherwise(_attr("ttft_s")),
        model=_attr("model"),
        provider=normalize_provider(_attr("provider")),
        route=pl.coalesce(_attr("route"), pl.when(is_root).then(_attr("root_route"))),
        user=_attr("user"),
        is_error=is_error,
        error_type=pl.when(is_error).then(pl.coalesce(error_type, nonempty(status.struct.field("message")))),
        **{f"_raw_{name}": _attr(name) for name in ("input_tokens", "output_tokens", "cached_tokens")},
        _raw_reasoning_tokens=_attr("reasoning_tokens"),
        # HTTP's semantic conventions count resends from 0; aiobs counts attempts from 1.
        _raw_attempt=(_attr("resend_count").cast(pl.Int64, strict=False) + 1).cast(pl.String),
        _raw_logged_cost_usd=_attr("logged_cost_usd"),
        finish_reason=finish_reason,
        input_text=input_text,
        output_text=output_text,
        response_format=_response_format(),
        _documents=pl.coalesce(pl.col("_indexed_context"), message_text(_attr("documents"))),
    ).with_columns(
        # A second step, so that output_text and stage are computed once (Polars does not share them here).
        context_text=pl.coalesce(
            "_documents", pl.when(pl.col("stage").is_in(("retrieval", "rerank"))).then(pl.col("output_text"))
        ),
    )


def _body_text(records: pl.DataFrame) -> pl.DataFrame:
    """Per record (`_row`): the `content`/`text` strings of its body, one and two key/value levels deep,
    joined in order, and the body's `finish_reason`."""
    pairs = (
        records.select("_row", pl.col("body").struct.field("kvlistValue").struct.field("values").alias("_pair"))
        .explode("_pair")
        .filter(pl.col("_pair").is_not_null())
        .with_row_index("_order")
        .unnest("_pair")
    )
    value = pl.col("value")
    top = pairs.select(
        "_order", "_row", "key", pl.lit(0).alias("_depth"), value.struct.field("stringValue").alias("text")
    )
    inner = (
        pairs.select("_order", "_row", value.struct.field("kvlistValue").struct.field("values").alias("_pair"))
        .explode("_pair")
        .filter(pl.col("_pair").is_not_null())
        .unnest("_pair")
        .select("_order", "_row", "key", pl.lit(1).alias("_depth"), value.struct.field("stringValue").alias("text"))
    )
    found = pl.concat([top, inner]).sort("_order", "_depth", maintain_order=True)
    is_text = pl.col("key").is_in(TEXT_KEYS)
    return found.group_by("_row", maintain_order=True).agg(
        _body_text=pl.col("text").filter(is_text & pl.col("text").is_not_null()).str.join("\n"),
        _body_finish_reason=pl.col("text").filter((pl.col("key") == "finish_reason") & (pl.col("_depth") == 0)).first(),
    )


def _messages_text(value: pl.Expr) -> pl.Expr:
    """A message attribute of a log record: a JSON string (the usual case) or a structured AnyValue tree."""
    items = value.struct.field("arrayValue").struct.field("values")
    structured = items.list.eval(rendered_anyvalue_text(pl.element().struct.field("kvlistValue"))).list.drop_nulls()
    joined = structured.list.join("\n")
    return pl.coalesce(
        message_text(value.struct.field("stringValue")),
        pl.when(joined != "").then(joined),
        rendered_anyvalue_text(value.struct.field("kvlistValue")),
    )


def _log_details(lines: pl.LazyFrame) -> pl.LazyFrame:
    """GenAI log records -> detail rows of their span; other records are counted as skipped."""
    logs = _explode_path(lines, "resourceLogs", "scopeLogs", "logRecords").with_row_index("_row")
    records = logs.collect(engine=ENGINE)
    attrs = (
        records.select("_row", "attributes")
        .explode("attributes")
        .filter(pl.col("attributes").is_not_null())
        .unnest("attributes")
        .filter(pl.col("key").is_in(LOG_KEYS))
    )
    value = pl.col("value")
    attrs = attrs.select(
        "_row",
        "key",
        value=pl.when(pl.col("key").is_in(MESSAGE_KEYS)).then(_messages_text(value)).otherwise(_scalar(value)),
    )
    joined = (
        records.drop("attributes")
        .join(_pivot(attrs, LOG_KEYS), on="_row", how="left", maintain_order="left")
        .join(_body_text(records), on="_row", how="left", maintain_order="left")
        .lazy()
    )

    name = pl.coalesce(nonempty(pl.col("eventName")), nonempty(pl.col("event.name")))
    trace = nonempty(pl.col("traceId")).str.to_lowercase()
    span = nonempty(pl.col("spanId")).str.to_lowercase()
    body_text = pl.coalesce(
        pl.when(pl.col("_body_text") != "").then(pl.col("_body_text")),
        message_text(pl.col("body").struct.field("stringValue")),
    )
    is_input = name.is_in(INPUT_MESSAGE_EVENTS)
    is_choice = name == CHOICE_EVENT
    is_details = name == DETAILS_EVENT
    genai = (is_input | is_choice | is_details).fill_null(False)
    unattached = trace.is_not_null() & span.is_null()
    time_raw = pl.coalesce(nonempty(pl.col("timeUnixNano")), nonempty(pl.col("observedTimeUnixNano")))
    return joined.select(
        "source",
        "line",
        correlation_id=trace,
        detail_of=span,
        event=name,
        stage=pl.lit("other"),
        is_root=pl.lit(False),
        is_error=pl.lit(False),
        start=from_epoch_nanos(nanos(time_raw)),
        input_text=pl.when(is_input).then(body_text).when(is_details).then(pl.col("gen_ai.input.messages")),
        output_text=pl.when(is_choice).then(body_text).when(is_details).then(pl.col("gen_ai.output.messages")),
        finish_reason=pl.when(is_choice)
        .then(pl.col("_body_finish_reason"))
        .when(is_details)
        .then(pl.col("gen_ai.response.finish_reasons")),
        _drop=pl.when(genai.not_() | unattached).then(pl.lit("skipped-record")),
        _drop_message=pl.when(genai.not_())
        .then(pl.lit("OTLP log record is not a GenAI event: ") + name.fill_null("(no event name)"))
        .when(unattached)
        .then(pl.lit("GenAI log record has no spanId, so it cannot be tied to its span")),
    ).pipe(finish)
