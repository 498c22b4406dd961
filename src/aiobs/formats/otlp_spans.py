"""OTLP spans -> canonical events, and which attributes mean what.

Every span becomes one event: correlation by `traceId`, `event_id` = `spanId`, `parent_id` =
`parentSpanId`, a span without a parent is the request's root. The tables below map GenAI
semantic-convention attributes (current and deprecated names), OpenInference and Traceloop/OpenLLMetry
attributes onto the same canonical fields (docs/formats.md lists them).
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import ENGINE, exact_ms, finish, first_present, from_epoch_nanos, nanos, nonempty
from aiobs.formats.otlp_frames import explode_path, long_attributes, pivot
from aiobs.formats.providers import normalize_provider
from aiobs.formats.text import message_text

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

_FINISH_REASON = r'"finish_reason"\s*:\s*"([^"\\]*)"'


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
    wide = pivot(found.collect().rename({"_kind": "key"}), INDEXED_KINDS)
    return wide.rename({k: f"_indexed_{k}" for k in INDEXED_KINDS})


def _attr(canonical: str) -> pl.Expr:
    return first_present(*(pl.col(k) for k in KEYS[canonical]))


def span_events(lines: pl.LazyFrame) -> pl.LazyFrame:
    spans = explode_path(lines, "resourceSpans", "scopeSpans", "spans").with_row_index("_row").collect(engine=ENGINE)
    span_attrs = long_attributes(spans.lazy(), None)
    events = (
        spans.lazy()
        .select("_row", pl.col("events"))
        .explode("events")
        .filter(pl.col("events").is_not_null())
        .select(
            "_row", pl.col("events").struct.field("name").alias("_prefix"), pl.col("events").struct.field("attributes")
        )
    )
    all_attrs = pl.concat([span_attrs, long_attributes(events, pl.col("_prefix"))]).collect(engine=ENGINE)
    joined = (
        spans.drop("attributes", "events")
        .join(pivot(all_attrs, ATTRIBUTE_KEYS), on="_row", how="left", maintain_order="left")
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
