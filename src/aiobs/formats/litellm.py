"""LiteLLM logs -> canonical events: the StandardLoggingPayload (callbacks, S3/GCS loggers) and SpendLogs rows.

One record per LLM call. `trace_id` groups the retries and fallbacks of one request (SpendLogs rows are
one call each, keyed by `request_id`); without it a record is a request of its own, and its root.
Times are float epoch seconds in real payloads and `YYYY-MM-DD HH:MM:SS.ffffff` strings in SpendLogs and
test fixtures (read as UTC). `completionStartTime` equals `endTime` for calls that were not streamed, so
time to first token is only taken from streamed calls, or when it is before the end.

Fields that are objects in the payload are JSON-encoded strings in SpendLogs (`metadata`, `messages`,
`response`, `request_tags`); every field is read as text, so both spellings parse the same way. Failures
report zero tokens: on a failed call a 0 is unknown, not zero. `response_cost` (or `spend`) is kept
as `logged_cost_usd`, shown next to the cost aiobs prices itself. `cache_hit` may be the string "None".
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import finish, first_present, json_field, ms_between, nonempty, timestamp
from aiobs.formats.providers import normalize_provider
from aiobs.formats.text import message_text

NAME = "litellm"

FIELDS = (
    "id",
    "trace_id",
    "litellm_call_id",
    "call_id",
    "request_id",
    "call_type",
    "stream",
    "status",
    "custom_llm_provider",
    "model",
    "startTime",
    "endTime",
    "completionStartTime",
    "response_time",
    "request_duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "response_cost",
    "spend",
    "metadata",
    "end_user",
    "user",
    "messages",
    "response",
    "model_parameters",
    "proxy_server_request",
    "error_str",
    "error_information",
)
#: Every field as text: objects and JSON-encoded strings read the same way.
SCHEMA = pl.Schema(dict.fromkeys(FIELDS, pl.String()))
FAILURE_STATUS = ("failure", "failed", "error")
_FINISH_REASON = r'"finish_reason"\s*:\s*"([^"\\]*)"'


class LiteLLMAdapter:
    name = NAME

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        return finish(_pick(raw.lazy().with_columns(source=pl.lit(source))))


def _stage(call_type: pl.Expr) -> pl.Expr:
    kind = call_type.str.to_lowercase()
    return (
        pl.when(kind.str.contains("embedding"))
        .then(pl.lit("embedding"))
        .when(kind.str.contains("rerank"))
        .then(pl.lit("rerank"))
        .when(kind.str.contains("image|transcription|speech|moderation|file|batch"))
        .then(pl.lit("other"))
        .otherwise(pl.lit("llm"))
    )


def _pick(frame: pl.LazyFrame) -> pl.LazyFrame:
    metadata, response = pl.col("metadata"), pl.col("response")
    start, end = timestamp(pl.col("startTime")), timestamp(pl.col("endTime"))
    first_token = timestamp(pl.col("completionStartTime"))
    stream = nonempty(pl.col("stream")).str.to_lowercase()
    streamed = (stream == "true") | (stream.is_null() & (first_token < end))
    status = nonempty(pl.col("status")).str.to_lowercase()
    error_information = pl.col("error_information")
    is_error = status.is_in(FAILURE_STATUS).fill_null(False) | nonempty(pl.col("error_str")).is_not_null()
    trace = nonempty(pl.col("trace_id"))
    model = nonempty(pl.col("model"))

    def tokens(raw: pl.Expr) -> pl.Expr:
        value = nonempty(raw)
        return pl.when(is_error & (value.cast(pl.Float64, strict=False) == 0)).then(None).otherwise(value)

    def usage(path: str) -> pl.Expr:
        return first_present(json_field(response, f"$.usage.{path}"), json_field(metadata, f"$.usage_object.{path}"))

    parameters = pl.coalesce(pl.col("model_parameters"), pl.col("proxy_server_request"))
    response_format = first_present(
        json_field(parameters, "$.response_format.type"), json_field(parameters, "$.response_format")
    )
    return frame.select(
        "source",
        "line",
        correlation_id=pl.coalesce(
            trace, first_present(pl.col("request_id"), pl.col("litellm_call_id"), pl.col("call_id"), pl.col("id"))
        ),
        event_id=first_present(pl.col("litellm_call_id"), pl.col("call_id"), pl.col("id"), pl.col("request_id")),
        event=nonempty(pl.col("call_type")),
        stage=_stage(nonempty(pl.col("call_type"))).fill_null("llm"),
        is_root=trace.is_null(),
        _raw_start=nonempty(pl.col("startTime")),
        duration_ms=pl.coalesce(
            ms_between(start, end),
            nonempty(pl.col("request_duration_ms")).cast(pl.Float64, strict=False),
            nonempty(pl.col("response_time")).cast(pl.Float64, strict=False) * 1000.0,
        ),
        ttft_ms=pl.when(streamed).then(ms_between(start, first_token)),
        model=model,
        provider=pl.coalesce(
            normalize_provider(pl.col("custom_llm_provider")),
            normalize_provider(pl.when(model.str.contains("/")).then(model.str.split("/").list.first())),
        ),
        route=first_present(json_field(metadata, "$.user_api_key_request_route")),
        user=first_present(
            pl.col("end_user"),
            pl.col("user"),
            json_field(metadata, "$.user_api_key_end_user_id"),
            json_field(metadata, "$.user_api_key_user_id"),
        ),
        is_error=is_error,
        error_type=pl.when(is_error).then(
            first_present(
                json_field(error_information, "$.error_class"),
                json_field(error_information, "$.error_code"),
                pl.col("error_str").str.slice(0, 200),
                status,
            )
        ),
        _raw_input_tokens=tokens(pl.col("prompt_tokens")),
        _raw_output_tokens=tokens(pl.col("completion_tokens")),
        _raw_cached_tokens=usage("prompt_tokens_details.cached_tokens"),
        _raw_reasoning_tokens=usage("completion_tokens_details.reasoning_tokens"),
        _raw_logged_cost_usd=first_present(pl.col("response_cost"), pl.col("spend")),
        finish_reason=response.str.extract(_FINISH_REASON, 1),
        input_text=message_text(pl.col("messages")),
        output_text=message_text(response),
        response_format=pl.when(response_format.str.starts_with("{"))
        .then(json_field(response_format, "$.type"))
        .otherwise(response_format),
    )
