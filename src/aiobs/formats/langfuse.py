"""Langfuse observation exports (blob-storage `observations`/`observations_v2`, JSONL or a JSON array) -> events.

Each observation (`SPAN`, `GENERATION`, `EVENT`, and the newer `AGENT`, `TOOL`, `RETRIEVER`, ...) is an
event of the trace `trace_id`; `parent_observation_id` ("" or null for a top-level observation) links the
tree. Times are `YYYY-MM-DD HH:MM:SS.ffffff` in UTC. The API's camelCase spellings (`traceId`,
`startTime`, `usageDetails`, ...) are read too.

Latency: the duration is `end_time - start_time`. Only where the end is missing is the exported `latency`
used, and `time_to_first_token` where `completion_start_time` is missing. Those two are in seconds for
integrations created on or after 2026-04-01 and in milliseconds before, and nothing in a row says which.
The unit is decided per chunk of the file: where rows have both a start/end and a `latency`, the median
ratio `latency / (end - start in seconds)` is about 1 for seconds and about 1000 for milliseconds; with
no such row, a median `latency` above 100 is read as milliseconds (a median call of 100 s is implausible).

Usage: Langfuse stores details next to, not inside, the totals (`input` excludes `input_cached_tokens`,
`output` excludes `output_reasoning_tokens`, and `total` is the sum of all). aiobs's input includes
cached tokens, so they are added back, unless `total` shows the details were already included.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import finish, first_present, json_field, ms_between, timestamp
from aiobs.formats.text import message_text

NAME = "langfuse"

#: canonical name -> (snake_case export field, camelCase API field, older spellings...).
FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "trace": ("trace_id", "traceId"),
    "parent": ("parent_observation_id", "parentObservationId"),
    "type": ("type",),
    "name": ("name",),
    "start": ("start_time", "startTime"),
    "end": ("end_time", "endTime"),
    "first_token": ("completion_start_time", "completionStartTime"),
    "level": ("level",),
    "status_message": ("status_message", "statusMessage"),
    "input": ("input",),
    "output": ("output",),
    "model": ("provided_model_name", "providedModelName", "model"),
    "model_parameters": ("model_parameters", "modelParameters"),
    "usage": ("usage_details", "usageDetails", "usage"),
    "cost": ("total_cost", "totalCost", "calculatedTotalCost"),
    "cost_details": ("cost_details", "costDetails"),
    "latency": ("latency",),
    "ttft": ("time_to_first_token", "timeToFirstToken"),
    "user": ("user_id", "userId"),
    "route": ("trace_name", "traceName"),
}
SCHEMA = pl.Schema(dict.fromkeys((f for names in FIELDS.values() for f in names), pl.String()))

#: Observation type -> stage; a top-level SPAN or CHAIN only wraps the request (stage `gateway`).
TYPE_STAGES: dict[str, str] = {
    "GENERATION": "llm",
    "EMBEDDING": "embedding",
    "RETRIEVER": "retrieval",
    "TOOL": "tool",
}
WRAPPER_TYPES = ("SPAN", "CHAIN")
#: A median latency above this is in milliseconds when no row can tell the unit by its start and end.
MS_IF_MEDIAN_ABOVE = 100.0
#: Ratios latency / elapsed seconds above this (the geometric middle of 1 and 1000) mean milliseconds.
MS_RATIO = 31.6

_USAGE_KEYS: dict[str, tuple[str, ...]] = {
    "input": ("input", "promptTokens", "prompt_tokens", "input_tokens"),
    "output": ("output", "completionTokens", "completion_tokens", "output_tokens"),
    "total": ("total", "totalTokens", "total_tokens"),
    "cached": ("input_cached_tokens", "cache_read_input_tokens", "input_cache_read", "cached_tokens"),
    "cache_write": ("input_cache_creation", "cache_creation_input_tokens", "input_cache_write"),
    "reasoning": ("output_reasoning_tokens", "output_reasoning", "reasoning_tokens"),
}


class LangfuseAdapter:
    name = NAME

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        picked = raw.lazy().select(
            "line", source=pl.lit(source), **{name: first_present(*map(pl.col, cols)) for name, cols in FIELDS.items()}
        )
        return finish(_pick(picked))


def latency_scale(latency_s_or_ms: pl.Expr, elapsed_ms: pl.Expr) -> pl.Expr:
    """Milliseconds per unit of Langfuse's `latency` in this frame: 1 (ms) or 1000 (s), one value for all rows."""
    elapsed_s = elapsed_ms / 1000.0
    comparable = (elapsed_s > 0.001) & (latency_s_or_ms > 0)
    ratio = (latency_s_or_ms / elapsed_s).filter(comparable).median()
    by_ratio = pl.when(ratio > MS_RATIO).then(pl.lit(1.0)).when(ratio.is_not_null()).then(pl.lit(1000.0))
    by_size = pl.when(latency_s_or_ms.median() > MS_IF_MEDIAN_ABOVE).then(pl.lit(1.0)).otherwise(pl.lit(1000.0))
    return pl.coalesce(by_ratio, by_size)


def _usage(kind: str) -> pl.Expr:
    return pl.coalesce(*(json_field(pl.col("usage"), f"$.{k}") for k in _USAGE_KEYS[kind]))


def _pick(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Two steps: read every nested value once (Polars does not share subexpressions here), then combine."""
    parsed = frame.with_columns(
        *(timestamp(pl.col(c)).alias(f"_{c}_time") for c in ("start", "end", "first_token")),
        *(_usage(kind).alias(f"_usage_{kind}") for kind in _USAGE_KEYS),
        pl.col("latency").cast(pl.Float64, strict=False).alias("_latency"),
        pl.col("ttft").cast(pl.Float64, strict=False).alias("_ttft"),
        pl.col("type").str.to_uppercase().alias("_type"),
        first_present(
            json_field(pl.col("model_parameters"), "$.response_format.type"),
            json_field(pl.col("model_parameters"), "$.response_format"),
        ).alias("_response_format"),
        message_text(pl.col("input")).alias("input_text"),
        message_text(pl.col("output")).alias("output_text"),
    ).with_columns(_elapsed_ms=ms_between(pl.col("_start_time"), pl.col("_end_time")))
    kind = pl.col("_type")
    is_root = pl.col("parent").is_null()
    latency = pl.col("_latency")
    scale = latency_scale(latency, pl.col("_elapsed_ms"))
    stage = (
        pl.when(is_root & kind.is_in(WRAPPER_TYPES).fill_null(False))
        .then(pl.lit("gateway"))
        .otherwise(kind.replace_strict(TYPE_STAGES, default="other", return_dtype=pl.String))
    )
    given_input, given_output, total, cached, cache_write, reasoning = (
        pl.col(f"_usage_{k}").cast(pl.Float64, strict=False)
        for k in ("input", "output", "total", "cached", "cache_write", "reasoning")
    )
    details = cached.fill_null(0) + cache_write.fill_null(0) + reasoning.fill_null(0)
    included = (total == given_input.fill_null(0) + given_output.fill_null(0)) & (details > 0)
    input_tokens = given_input + pl.when(included).then(0).otherwise(cached.fill_null(0) + cache_write.fill_null(0))
    output_tokens = given_output + pl.when(included).then(0).otherwise(reasoning.fill_null(0))
    is_error = (pl.col("level").str.to_uppercase() == "ERROR").fill_null(False)
    response_format = pl.col("_response_format")

    def as_text(value: pl.Expr, raw: pl.Expr) -> pl.Expr:
        """The number as text, or the logged text when it is not a number (so that `finish` flags it)."""
        return pl.when(value.is_not_null()).then(value.cast(pl.String)).otherwise(raw)

    return parsed.select(
        "source",
        "line",
        correlation_id="trace",
        event_id="id",
        parent_id="parent",
        event=pl.coalesce("name", "type"),
        stage=stage,
        is_root=is_root,
        _raw_start="start",
        duration_ms=pl.coalesce("_elapsed_ms", latency * scale),
        ttft_ms=pl.coalesce(ms_between(pl.col("_start_time"), pl.col("_first_token_time")), pl.col("_ttft") * scale),
        model="model",
        route="route",
        user="user",
        is_error=is_error,
        error_type=pl.when(is_error).then(pl.col("status_message").str.slice(0, 200)),
        _raw_input_tokens=as_text(input_tokens, pl.col("_usage_input")),
        _raw_output_tokens=as_text(output_tokens, pl.col("_usage_output")),
        _raw_cached_tokens="_usage_cached",
        _raw_reasoning_tokens="_usage_reasoning",
        _raw_logged_cost_usd=pl.coalesce("cost", json_field(pl.col("cost_details"), "$.total")),
        input_text="input_text",
        output_text="output_text",
        response_format=pl.when(response_format.str.starts_with("{"))
        .then(json_field(response_format, "$.type"))
        .otherwise(response_format),
    ).with_columns(context_text=pl.when(pl.col("stage") == "retrieval").then(pl.col("output_text")))
