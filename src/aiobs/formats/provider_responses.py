"""LLM provider response objects logged as-is -> canonical events (one response, one request, per line).

Each line is the object a provider's API returned (or its SDK's `model_dump_json()`), told apart per line:

| shape | marks | correlation ID | start |
|---|---|---|---|
| OpenAI Chat Completions | `object: "chat.completion"` (or legacy `"text_completion"`) | `id` | `created` (s) |
| OpenAI Responses | `object: "response"` | `id` | `created_at` (s) |
| Anthropic Messages | `type: "message"` with a `model` | `id` | none |
| Anthropic error | `type: "error"`, `error{type, message}` | `request_id` | none |
| Gemini GenerateContentResponse | `candidates`, `usageMetadata` or `modelVersion` (*) | `responseId` | `createTime` |

(*) REST camelCase, or the snake_case names of the Python SDK's `model_dump_json()`; `createTime` is
Vertex AI's. Any other object with an `error` member (an OpenAI or Gemini HTTP error body) is a failed
request with no ID: counted as `missing-correlation-id`. Streamed pieces (`chat.completion.chunk`,
Anthropic stream events, Responses stream events) are `skipped-record`; other objects `unknown-record`.

Token counts follow aiobs's convention (input includes cached tokens, output includes reasoning):
Anthropic's `input_tokens` excludes cache reads and writes, so input = input + cache_read + cache_creation
(cache_write_tokens = cache_creation_input_tokens, priced at the cache-write rate); Gemini's
`candidatesTokenCount` excludes thoughts, so output = candidates + thoughts, and input = prompt +
toolUsePrompt (both billed as input; `promptTokenCount` already includes `cachedContentTokenCount`).

A response object carries no latency: `duration_ms` is null (the request's latency is unknown), never 0.
Output text: the first choice's message (Chat), every `output_text` part of the `message` items (Responses,
as the SDK's `output_text`), the `text` blocks (Anthropic), the first candidate's non-thought parts (Gemini).
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import NestedRecordAdapter, first_present, nonempty

NAME = "provider-response"

_S = pl.String()
#: Union of the error objects: Responses `{code, message}`, Anthropic `{type, message}`, OpenAI HTTP
#: `{message, type, param, code}`, Gemini (google.rpc.Status) `{code, message, status}`.
_ERROR = pl.Struct({"type": _S, "code": _S, "message": _S, "status": _S})
_PART = pl.Struct({"type": _S, "text": _S})
_GEMINI_PARTS = pl.Struct({"parts": pl.List(pl.Struct({"text": _S, "thought": _S}))})
_USAGE = pl.Struct(
    {
        # Chat Completions
        "prompt_tokens": _S,
        "completion_tokens": _S,
        "prompt_tokens_details": pl.Struct({"cached_tokens": _S, "cache_write_tokens": _S}),
        "completion_tokens_details": pl.Struct({"reasoning_tokens": _S}),
        # Responses and Anthropic Messages (same names, different meanings: see _pick)
        "input_tokens": _S,
        "output_tokens": _S,
        "input_tokens_details": pl.Struct({"cached_tokens": _S, "cache_write_tokens": _S}),
        "output_tokens_details": pl.Struct({"reasoning_tokens": _S, "thinking_tokens": _S}),
        "cache_creation_input_tokens": _S,
        "cache_read_input_tokens": _S,
    }
)
_GEMINI_COUNTS = ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount")
_GEMINI_USAGE = pl.Struct({k: _S for k in (*_GEMINI_COUNTS, "toolUsePromptTokenCount")})
_GEMINI_USAGE_SNAKE = pl.Struct(
    {
        k: _S
        for k in (
            "prompt_token_count",
            "candidates_token_count",
            "cached_content_token_count",
            "thoughts_token_count",
            "tool_use_prompt_token_count",
        )
    }
)
SCHEMA = pl.Schema(
    {
        **{k: _S for k in ("id", "object", "created", "created_at", "model", "status", "type", "role")},
        **{k: _S for k in ("stop_reason", "max_output_tokens", "user", "safety_identifier", "request_id")},
        "error": _ERROR,
        "usage": _USAGE,
        # OpenAI Chat Completions (`text`: the legacy Completions choice)
        "choices": pl.List(
            pl.Struct(
                {"finish_reason": _S, "text": _S, "message": pl.Struct({"content": _S, "refusal": _S})},
            )
        ),
        # OpenAI Responses
        "output": pl.List(pl.Struct({"type": _S, "content": pl.List(_PART)})),
        "incomplete_details": pl.Struct({"reason": _S}),
        "text": pl.Struct({"format": pl.Struct({"type": _S})}),
        # Anthropic Messages
        "content": pl.List(_PART),
        # Gemini, REST (camelCase) and the Python SDK's model_dump_json (snake_case)
        "candidates": pl.List(pl.Struct({"content": _GEMINI_PARTS, "finishReason": _S, "finish_reason": _S})),
        **{k: _S for k in ("modelVersion", "model_version", "responseId", "response_id", "createTime", "create_time")},
        "usageMetadata": _GEMINI_USAGE,
        "usage_metadata": _GEMINI_USAGE_SNAKE,
        "promptFeedback": pl.Struct({"blockReason": _S}),
        "prompt_feedback": pl.Struct({"block_reason": _S}),
    }
)
#: The lenient read takes objects as JSON text (restored member by member) but keeps the arrays typed:
#: an array of another shape makes its line a `wrong-type` issue, recorded with its line number.
LENIENT_SCHEMA = pl.Schema({k: _S if isinstance(t, pl.Struct) else t for k, t in SCHEMA.items()})

#: Stream events of the Anthropic Messages API (one line per event, not a whole response).
ANTHROPIC_STREAM_EVENTS = (
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "ping",
)
READS = "a Chat Completions or Responses object, an Anthropic message or error, or a Gemini GenerateContentResponse"


class ProviderResponseAdapter(NestedRecordAdapter):
    name = NAME
    schema = SCHEMA

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=LENIENT_SCHEMA if lenient else SCHEMA).collect()

    def pick(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return _pick(frame)


def _count(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().cast(pl.Float64, strict=False)


def _total(*parts: pl.Expr, base_required: bool = True) -> pl.Expr:
    """A token count logged in parts, as text for `finish`: the sum, null when the first part (or, with
    `base_required=False`, every part) is missing, or the first unusable part's own text so that the
    total is flagged rather than silently short."""
    texts = [nonempty(p) for p in parts]
    counts = [_count(t) for t in texts]
    unusable = pl.coalesce(
        [pl.when(t.is_not_null() & (c.is_null() | (c < 0))).then(t) for t, c in zip(texts, counts, strict=True)]
    )
    known = texts[0].is_not_null() if base_required else pl.any_horizontal(t.is_not_null() for t in texts)
    total = pl.sum_horizontal(c.fill_null(0) for c in counts)
    return pl.when(unusable.is_not_null()).then(unusable).when(known).then(total.cast(pl.String))


def _joined_text(parts: pl.Expr, keep: pl.Expr) -> pl.Expr:
    """The `text` of the parts (a list of structs) for which `keep` (on `pl.element()`) holds, joined."""
    element = pl.element()
    texts = parts.list.eval(pl.when(keep).then(element.struct.field("text")))
    return texts.list.drop_nulls().list.join("").replace("", None)


def _pick(frame: pl.LazyFrame) -> pl.LazyFrame:
    obj = nonempty(pl.col("object"))
    kind = nonempty(pl.col("type"))
    error = pl.col("error")
    usage = pl.col("usage")
    camel, snake = pl.col("usageMetadata"), pl.col("usage_metadata")

    def used(group: str, name: str) -> pl.Expr:
        return usage.struct.field(group).struct.field(name)

    def gemini_count(name: str, snake_name: str) -> pl.Expr:
        return first_present(camel.struct.field(name), snake.struct.field(snake_name))

    is_chat = obj.is_in(("chat.completion", "text_completion")).fill_null(False)
    is_response = (obj == "response").fill_null(False)
    is_message = ((kind == "message") & nonempty(pl.col("model")).is_not_null()).fill_null(False)
    is_anthropic_error = (kind == "error").fill_null(False) & error.is_not_null()
    gemini_version = first_present(pl.col("modelVersion"), pl.col("model_version"))
    is_gemini = (
        obj.is_null()
        & kind.is_null()
        & (
            pl.col("candidates").is_not_null()
            | camel.is_not_null()
            | snake.is_not_null()
            | gemini_version.is_not_null()
        )
    )
    is_http_error = obj.is_null() & kind.is_null() & is_gemini.not_() & error.is_not_null()
    is_openai = is_chat | is_response
    is_anthropic = is_message | is_anthropic_error
    streamed = (
        (obj == "chat.completion.chunk").fill_null(False)
        | kind.is_in(ANTHROPIC_STREAM_EVENTS).fill_null(False)
        | kind.str.starts_with("response.").fill_null(False)
    )
    is_read = is_openai | is_anthropic | is_gemini | is_http_error

    # -- errors
    error_code = first_present(error.struct.field("code"), error.struct.field("type"))
    failed_response = is_response & (
        (nonempty(pl.col("status")) == "failed").fill_null(False) | error_code.is_not_null()
    )
    is_error = failed_response | is_anthropic_error | is_http_error
    error_type = (
        pl.when(failed_response)
        .then(pl.coalesce(error_code, pl.lit("failed")))
        .when(is_anthropic_error)
        .then(nonempty(error.struct.field("type")))
        .when(is_http_error)
        .then(first_present(error.struct.field("status"), error.struct.field("code"), error.struct.field("type")))
    )

    # -- tokens
    choice = pl.col("choices").list.first()
    candidate = pl.col("candidates").list.first()
    gemini_input = _total(
        gemini_count("promptTokenCount", "prompt_token_count"),
        gemini_count("toolUsePromptTokenCount", "tool_use_prompt_token_count"),
    )
    thoughts = gemini_count("thoughtsTokenCount", "thoughts_token_count")
    gemini_output = _total(
        gemini_count("candidatesTokenCount", "candidates_token_count"), thoughts, base_required=False
    )
    anthropic_input = _total(
        usage.struct.field("input_tokens"),
        usage.struct.field("cache_read_input_tokens"),
        usage.struct.field("cache_creation_input_tokens"),
    )

    # -- output text and finish reason
    element = pl.element()
    message = choice.struct.field("message")
    chat_text = first_present(
        message.struct.field("content"), message.struct.field("refusal"), choice.struct.field("text")
    )
    # Every output_text part of every message item (reasoning and tool-call items are not the answer).
    response_text = (
        pl.col("output")
        .list.eval(
            pl.when(element.struct.field("type") == "message").then(
                element.struct.field("content")
                .list.eval(pl.when(element.struct.field("type") == "output_text").then(element.struct.field("text")))
                .list.drop_nulls()
                .list.join("")
            )
        )
        .list.drop_nulls()
        .list.join("")
        .replace("", None)
    )
    anthropic_text = _joined_text(pl.col("content"), element.struct.field("type") == "text")
    thought = element.struct.field("thought").str.to_lowercase() == "true"
    gemini_text = _joined_text(candidate.struct.field("content").struct.field("parts"), thought.fill_null(False).not_())
    status = nonempty(pl.col("status"))
    response_finish = pl.coalesce(
        nonempty(pl.col("incomplete_details").struct.field("reason")),
        pl.when(status == "completed").then(pl.lit("stop")),
    )
    gemini_finish = first_present(
        candidate.struct.field("finishReason"),
        candidate.struct.field("finish_reason"),
        pl.col("promptFeedback").struct.field("blockReason"),
        pl.col("prompt_feedback").struct.field("block_reason"),
    )

    def by_shape(chat: pl.Expr, response: pl.Expr, anthropic: pl.Expr | None, gemini: pl.Expr | None) -> pl.Expr:
        """One value per shape (null for a shape given None, and for error bodies)."""
        expr = pl.when(is_chat).then(chat).when(is_response).then(response)
        if anthropic is not None:
            expr = expr.when(is_message).then(anthropic)
        if gemini is not None:
            expr = expr.when(is_gemini).then(gemini)
        return expr

    response_id = pl.when(is_openai | is_message).then(nonempty(pl.col("id")))
    identifier = pl.coalesce(
        response_id,
        pl.when(is_anthropic_error).then(nonempty(pl.col("request_id"))),
        pl.when(is_gemini).then(first_present(pl.col("responseId"), pl.col("response_id"))),
    )
    null = pl.lit(None, dtype=pl.String)
    return frame.select(
        "source",
        "line",
        correlation_id=identifier,
        event_id=identifier,
        event=pl.when(is_openai)
        .then(obj)
        .when(is_anthropic)
        .then(kind)
        .when(is_gemini)
        .then(pl.lit("generate_content"))
        .when(is_http_error)
        .then(pl.lit("error")),
        stage=pl.lit("llm"),
        is_root=pl.lit(True),
        _raw_start=by_shape(
            nonempty(pl.col("created")),
            nonempty(pl.col("created_at")),
            None,
            first_present(pl.col("createTime"), pl.col("create_time")),
        ),
        model=pl.coalesce(
            pl.when(is_openai | is_anthropic).then(nonempty(pl.col("model"))), pl.when(is_gemini).then(gemini_version)
        ),
        provider=pl.when(is_openai)
        .then(pl.lit("openai"))
        .when(is_anthropic)
        .then(pl.lit("anthropic"))
        .when(is_gemini)
        .then(pl.lit("google"))
        .when(is_http_error & nonempty(error.struct.field("status")).is_not_null())
        .then(pl.lit("google"))
        .when(is_http_error & nonempty(error.struct.field("type")).is_not_null())
        .then(pl.lit("openai")),
        user=pl.when(is_response).then(first_present(pl.col("user"), pl.col("safety_identifier"))),
        is_error=is_error,
        error_type=error_type,
        _raw_input_tokens=by_shape(
            usage.struct.field("prompt_tokens"), usage.struct.field("input_tokens"), anthropic_input, gemini_input
        ),
        _raw_output_tokens=by_shape(
            usage.struct.field("completion_tokens"),
            usage.struct.field("output_tokens"),
            usage.struct.field("output_tokens"),
            gemini_output,
        ),
        _raw_cached_tokens=by_shape(
            used("prompt_tokens_details", "cached_tokens"),
            used("input_tokens_details", "cached_tokens"),
            usage.struct.field("cache_read_input_tokens"),
            gemini_count("cachedContentTokenCount", "cached_content_token_count"),
        ),
        _raw_cache_write_tokens=by_shape(
            used("prompt_tokens_details", "cache_write_tokens"),
            used("input_tokens_details", "cache_write_tokens"),
            usage.struct.field("cache_creation_input_tokens"),
            None,
        ),
        _raw_reasoning_tokens=by_shape(
            used("completion_tokens_details", "reasoning_tokens"),
            used("output_tokens_details", "reasoning_tokens"),
            used("output_tokens_details", "thinking_tokens"),
            thoughts,
        ),
        finish_reason=by_shape(
            nonempty(choice.struct.field("finish_reason")),
            response_finish,
            nonempty(pl.col("stop_reason")),
            gemini_finish,
        ),
        output_text=by_shape(chat_text, response_text, anthropic_text, gemini_text),
        response_format=pl.when(is_response).then(nonempty(pl.col("text").struct.field("format").struct.field("type"))),
        _raw_max_tokens=pl.when(is_response).then(nonempty(pl.col("max_output_tokens"))),
        _drop=pl.when(streamed)
        .then(pl.lit("skipped-record"))
        .when(is_read.not_())
        .then(pl.lit("unknown-record"))
        .otherwise(null),
        _drop_message=pl.when(streamed)
        .then(pl.lit("a streamed piece of a response, not a whole one: log the final response object"))
        .when(is_read.not_())
        .then(pl.lit(f"not {READS}")),
    )
