"""OpenAI Batch API output and error files -> canonical events (one event, one request, per line).

`{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {"code", "message"} | null}`.
`custom_id` is the correlation ID (lines are matched by it, not by position). The body is a Chat
Completions, Completions, Embeddings or Responses API object; usage comes in the Chat shape
(`prompt_tokens`, `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`) or
the Responses shape (`input_tokens`, `input_tokens_details`, `output_tokens_details`). Errors come in two
shapes: an HTTP error (`status_code` >= 400 and `body.error`), or a line-level `error` with `response: null`.

A batch line has no latency: `duration_ms` is null, never 0. Its start is `body.created` (whole seconds),
unknown on error lines.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import NestedRecordAdapter, first_present, nonempty
from aiobs.formats.text import message_text

NAME = "openai-batch"

_S = pl.String()
_DETAILS = pl.Struct({"cached_tokens": _S, "reasoning_tokens": _S})
_USAGE = pl.Struct(
    {
        **{k: _S for k in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")},
        **{k: _DETAILS for k in ("prompt_tokens_details", "completion_tokens_details")},
        **{k: _DETAILS for k in ("input_tokens_details", "output_tokens_details")},
    }
)
_ERROR = pl.Struct({"code": _S, "type": _S, "message": _S})
_BODY = pl.Struct(
    {
        "id": _S,
        "object": _S,
        "created": _S,
        "created_at": _S,
        "model": _S,
        "status": _S,
        "user": _S,
        "choices": _S,  # JSON text: message content and finish reasons are read from it
        "output": _S,  # Responses API output items, JSON text
        "incomplete_details": pl.Struct({"reason": _S}),
        "text": pl.Struct({"format": pl.Struct({"type": _S})}),
        "usage": _USAGE,
        "error": _ERROR,
    }
)
SCHEMA = pl.Schema(
    {
        "id": _S,
        "custom_id": _S,
        "response": pl.Struct({"status_code": _S, "request_id": _S, "body": _BODY}),
        "error": _ERROR,
    }
)

_FINISH_REASON = r'"finish_reason"\s*:\s*"([^"\\]*)"'


class OpenAIBatchAdapter(NestedRecordAdapter):
    name = NAME
    schema = SCHEMA

    def pick(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return _pick(frame)


def _pick(frame: pl.LazyFrame) -> pl.LazyFrame:
    response = pl.col("response")
    body = response.struct.field("body")
    usage = body.struct.field("usage")

    def detail(group: str, name: str) -> pl.Expr:
        return usage.struct.field(group).struct.field(name)

    status = response.struct.field("status_code").cast(pl.Int64, strict=False)
    line_error = pl.col("error")
    body_error = body.struct.field("error")
    error_code = first_present(
        line_error.struct.field("code"),
        body_error.struct.field("code"),
        body_error.struct.field("type"),
        line_error.struct.field("message"),
    )
    http_error = (status >= 400).fill_null(False)
    is_error = error_code.is_not_null() | http_error
    obj = nonempty(body.struct.field("object")).str.to_lowercase()
    is_embedding = (obj == "list").fill_null(False) | obj.str.contains("embedding").fill_null(False)
    choices = body.struct.field("choices")
    output = body.struct.field("output")
    return frame.select(
        "source",
        "line",
        correlation_id=nonempty(pl.col("custom_id")),
        event_id=first_present(pl.col("id"), response.struct.field("request_id")),
        event=pl.coalesce(obj, pl.lit("batch_request")),
        stage=pl.when(is_embedding).then(pl.lit("embedding")).otherwise(pl.lit("llm")),
        is_root=pl.lit(True),
        _raw_start=first_present(body.struct.field("created"), body.struct.field("created_at")),
        model=nonempty(body.struct.field("model")),
        provider=pl.lit("openai"),
        user=nonempty(body.struct.field("user")),
        is_error=is_error,
        error_type=pl.when(is_error).then(pl.coalesce(error_code, status.cast(pl.String))),
        _raw_input_tokens=first_present(usage.struct.field("prompt_tokens"), usage.struct.field("input_tokens")),
        _raw_output_tokens=first_present(usage.struct.field("completion_tokens"), usage.struct.field("output_tokens")),
        _raw_cached_tokens=first_present(
            detail("prompt_tokens_details", "cached_tokens"), detail("input_tokens_details", "cached_tokens")
        ),
        _raw_reasoning_tokens=first_present(
            detail("completion_tokens_details", "reasoning_tokens"), detail("output_tokens_details", "reasoning_tokens")
        ),
        finish_reason=pl.coalesce(
            choices.str.extract(_FINISH_REASON, 1),
            nonempty(body.struct.field("incomplete_details").struct.field("reason")),
        ),
        output_text=pl.coalesce(
            message_text(choices, fallback_paths=("$[0].text",)),
            message_text(output),
        ),
        response_format=nonempty(body.struct.field("text").struct.field("format").struct.field("type")),
    )
