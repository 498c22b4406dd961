"""AWS Bedrock model invocation logs -> canonical events (one invocation, one request, per line).

Bedrock writes gzip JSON Lines under `AWSLogs/{account}/BedrockModelInvocationLogs/{region}/YYYY/MM/DD/HH/`
(the reader decompresses them). Each line: `requestId`, `timestamp` (seconds), `operation` (`Converse`,
`ConverseStream`, `InvokeModel`, `InvokeModelWithResponseStream`), `modelId` (a model id, or the ARN of a
foundation model, inference profile or provisioned model), `identity.arn`, `input{inputBodyJson,
inputTokenCount, cacheReadInputTokenCount, cacheWriteInputTokenCount}`, `output{outputBodyJson,
outputTokenCount}`, and on failure `errorCode`.

Latency is only inside the output body: `metrics.latencyMs` (Converse, and the metadata event of
ConverseStream) or `amazon-bedrock-invocationMetrics.invocationLatency` (the last chunk of an
InvokeModel stream, whose `firstByteLatency` is the time to first token). Elsewhere it is null.
Bedrock counts cache reads and writes apart from `inputTokenCount`; aiobs's input tokens include cached
ones, so input = inputTokenCount + cacheRead + cacheWrite.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import NestedRecordAdapter, nonempty
from aiobs.formats.text import message_text

NAME = "bedrock"

_S = pl.String()
SCHEMA = pl.Schema(
    {
        **{k: _S for k in ("schemaType", "timestamp", "requestId", "operation", "modelId", "errorCode", "status")},
        "identity": pl.Struct({"arn": _S}),
        "input": pl.Struct(
            {
                "inputBodyJson": _S,
                "inputTokenCount": _S,
                "cacheReadInputTokenCount": _S,
                "cacheWriteInputTokenCount": _S,
            }
        ),
        "output": pl.Struct({"outputBodyJson": _S, "outputTokenCount": _S}),
    }
)
ERROR_STATUS = ("error", "failure", "failed", "fault")

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_LATENCY = rf'"latencyMs"\s*:\s*{_NUMBER}'
_INVOCATION_LATENCY = rf'"invocationLatency"\s*:\s*{_NUMBER}'
_FIRST_BYTE = rf'"firstByteLatency"\s*:\s*{_NUMBER}'
_STOP_REASON = r'"(?:stopReason|stop_reason|completionReason|finish_reason)"\s*:\s*"([^"\\]*)"'
#: Where the non-chat model families put their text (Titan, Llama, Mistral, Cohere, Claude v2).
_INPUT_FALLBACKS = ("$.prompt", "$.inputText", "$.texts[0]")
_OUTPUT_FALLBACKS = (
    "$.generation",
    "$.completion",
    "$.results[0].outputText",
    "$.outputs[0].text",
    "$.generations[0].text",
)


class BedrockAdapter(NestedRecordAdapter):
    name = NAME
    schema = SCHEMA

    def pick(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return _pick(frame)


def model_name(model_id: pl.Expr) -> pl.Expr:
    """`arn:aws:bedrock:…:inference-profile/us.anthropic.claude-…-v1:0` -> `us.anthropic.claude-…-v1:0`."""
    text = nonempty(model_id)
    return pl.when(text.str.starts_with("arn:")).then(text.str.split("/").list.last()).otherwise(text)


def _count(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars().cast(pl.Float64, strict=False)


def _pick(frame: pl.LazyFrame) -> pl.LazyFrame:
    inp, out = pl.col("input"), pl.col("output")
    body_in = inp.struct.field("inputBodyJson")
    body_out = out.struct.field("outputBodyJson")
    operation = nonempty(pl.col("operation"))
    streamed = operation.str.ends_with("Stream").fill_null(False)
    model = model_name(pl.col("modelId"))
    error_code = nonempty(pl.col("errorCode"))
    status = nonempty(pl.col("status")).str.to_lowercase()
    is_error = error_code.is_not_null() | status.is_in(ERROR_STATUS).fill_null(False)
    counted_in = nonempty(inp.struct.field("inputTokenCount"))
    cache_read = nonempty(inp.struct.field("cacheReadInputTokenCount"))
    cache_write = nonempty(inp.struct.field("cacheWriteInputTokenCount"))
    whole_input = _count(counted_in) + _count(cache_read).fill_null(0) + _count(cache_write).fill_null(0)
    system = body_in.str.json_path_match("$.system")
    # Each text is read on its own rows only (masked to null elsewhere), so neither runs on every row.
    stream_text = message_text(pl.when(streamed).then(body_out), separator="", text_types=("text", "text_delta"))
    whole_text = message_text(pl.when(streamed.not_()).then(body_out), fallback_paths=_OUTPUT_FALLBACKS)
    return frame.select(
        "source",
        "line",
        correlation_id=nonempty(pl.col("requestId")),
        event_id=nonempty(pl.col("requestId")),
        event=operation,
        stage=pl.when(model.str.contains("(?i)embed").fill_null(False))
        .then(pl.lit("embedding"))
        .otherwise(pl.lit("llm")),
        is_root=pl.lit(True),
        _raw_start=nonempty(pl.col("timestamp")),
        _raw_duration_ms=pl.coalesce(body_out.str.extract(_LATENCY, 1), body_out.str.extract(_INVOCATION_LATENCY, 1)),
        _raw_ttft_ms=pl.when(streamed).then(body_out.str.extract(_FIRST_BYTE, 1)),
        model=model,
        provider=pl.lit("aws"),
        user=nonempty(pl.col("identity").struct.field("arn")),
        is_error=is_error,
        error_type=pl.when(is_error).then(pl.coalesce(error_code, status)),
        # Text (not a number) where the count is unusable, so that `finish` flags it.
        _raw_input_tokens=pl.when(whole_input.is_not_null()).then(whole_input.cast(pl.String)).otherwise(counted_in),
        _raw_output_tokens=nonempty(out.struct.field("outputTokenCount")),
        _raw_cached_tokens=cache_read,
        finish_reason=body_out.str.extract(_STOP_REASON, 1),
        # Anthropic's `system` may be a plain string beside the messages (a list of parts is read with them).
        input_text=pl.concat_str(
            pl.when(system.str.starts_with("[").not_()).then(system),
            message_text(body_in, fallback_paths=_INPUT_FALLBACKS),
            separator="\n",
            ignore_nulls=True,
        ).replace("", None),
        output_text=pl.coalesce(stream_text, whole_text),
    )
