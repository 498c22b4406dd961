"""Which format a file is in, from its first lines.

Up to `SAMPLE_LINES` non-blank lines of the file's first chunk are parsed with orjson; each line that is a
JSON object votes for the format whose marks it carries (below), or for `native` (aiobs's own format,
read through the field mapping) when it carries none. The format with most votes wins; a tie goes to
the format listed first, `native` last. A broken first line therefore does not decide on its own.

| format | a line is of this format when it has |
|---|---|
| otlp | `resourceSpans`, `resourceLogs` or `resourceMetrics` |
| openai-batch | `custom_id` and `response` or `error` |
| bedrock | `schemaType: "ModelInvocationLog"`, or `modelId` and `requestId` with `input` or `output` |
| litellm | `call_type` with `startTime`, `response_cost`, `spend` or `litellm_call_id` |
| langfuse | a trace id (`trace_id`, `traceId`), a start time and an observation `type` (`GENERATION`, `SPAN`, ...) |
| provider-response | `object` `chat.completion`/`response`; Anthropic `type` `message`/`error`; Gemini `candidates` |

Then the logger presets (aiobs.formats.loggers), each with its own marks (docs/formats.md): loguru, ecs,
bunyan, pino, python-json-logger, zap, slog, zerolog, winston, structlog.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson

from aiobs.formats.loggers import PRESETS
from aiobs.issues import InputIssue

SAMPLE_LINES = 20
#: Lines longer than this are not parsed for detection (one OTLP line can be many MB); their first bytes
#: are searched for the format's top-level key instead.
SAMPLE_LINE_BYTES = 8 << 20

LANGFUSE_TYPES = frozenset(
    {"SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL"}
)
OTLP_KEYS = ("resourceSpans", "resourceLogs", "resourceMetrics")


def _is_otlp(row: dict[str, Any]) -> bool:
    return any(key in row for key in OTLP_KEYS)


def _is_jaeger(row: dict[str, Any]) -> bool:
    """A Jaeger query response (`data`: traces) or one trace: `traceID` and a list of `spans`."""
    traces = row["data"] if isinstance(row.get("data"), list) else [row]
    return bool(traces) and all(
        isinstance(t, dict) and "traceID" in t and isinstance(t.get("spans"), list) for t in traces
    )


def _is_tempo(row: dict[str, Any]) -> bool:
    """A Tempo trace-by-ID response: OTLP under `batches` (API v1) or `trace.resourceSpans` (v2)."""
    trace = row.get("trace")
    return isinstance(row.get("batches"), list) or (isinstance(trace, dict) and "resourceSpans" in trace)


def _is_openai_batch(row: dict[str, Any]) -> bool:
    return "custom_id" in row and ("response" in row or "error" in row)


def _is_bedrock(row: dict[str, Any]) -> bool:
    if row.get("schemaType") == "ModelInvocationLog":
        return True
    return "modelId" in row and "requestId" in row and ("input" in row or "output" in row)


def _is_litellm(row: dict[str, Any]) -> bool:
    return "call_type" in row and any(k in row for k in ("startTime", "response_cost", "spend", "litellm_call_id"))


def _is_langfuse(row: dict[str, Any]) -> bool:
    has_trace = "trace_id" in row or "traceId" in row
    has_start = "start_time" in row or "startTime" in row
    return has_trace and has_start and str(row.get("type", "")).upper() in LANGFUSE_TYPES


def _is_provider_response(row: dict[str, Any]) -> bool:
    if row.get("object") in ("chat.completion", "response") and "model" in row:
        return True
    if row.get("type") == "message" and row.get("role") == "assistant" and "usage" in row:
        return True
    if row.get("type") == "error" and isinstance(row.get("error"), dict):
        return set(row) <= {"type", "error", "request_id"}  # a logger line may have type "error" and an error
    has_output = any(k in row for k in ("candidates", "usageMetadata", "usage_metadata"))
    return has_output and ("modelVersion" in row or "model_version" in row)


#: In the order ties are broken.
def _is_langsmith_run(row: dict[str, Any]) -> bool:
    return "run_type" in row and "id" in row and ("trace_id" in row or "start_time" in row or "parent_run_id" in row)


def _is_langchain_callback(row: dict[str, Any]) -> bool:
    event = row.get("event")
    return isinstance(event, str) and event.startswith("on_") and "run_id" in row


DETECTORS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "otlp": _is_otlp,
    "jaeger": _is_jaeger,
    "tempo": _is_tempo,
    "openai-batch": _is_openai_batch,
    "bedrock": _is_bedrock,
    "litellm": _is_litellm,
    "langfuse": _is_langfuse,
    "provider-response": _is_provider_response,
    "langsmith": _is_langsmith_run,
    "langchain": _is_langchain_callback,
    **{preset.name: preset.detect for preset in PRESETS},
}
DEFAULT_FORMAT = "native"
#: Lines tried for a sample at most: a file of garbage must not cost a loop over all of its first chunk.
MAX_TRIED = 10_000
_NOT_SPACE = re.compile(rb"\S")


def _sample_rows(data: bytes) -> list[dict[str, Any]]:
    """Up to SAMPLE_LINES objects from the first MAX_TRIED non-blank lines (blank runs skipped at once)."""
    rows: list[dict[str, Any]] = []
    start, tried = 0, 0
    while len(rows) < SAMPLE_LINES and tried < MAX_TRIED:
        found = _NOT_SPACE.search(data, start)
        if found is None:
            break
        start, tried = found.start(), tried + 1
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end].strip()
        start = end + 1
        if not line:
            continue
        if len(line) > SAMPLE_LINE_BYTES:
            head = line[:4096]
            if any(f'"{key}"'.encode() in head for key in OTLP_KEYS):
                rows.append(dict.fromkeys(OTLP_KEYS[:1]))
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            rows.append(value)
    return rows


def format_of_row(row: dict[str, Any]) -> str:
    """The format one JSON object looks like (`native` when nothing else fits)."""
    return next((name for name, matches in DETECTORS.items() if matches(row)), DEFAULT_FORMAT)


def detect_votes(data: bytes) -> Counter[str]:
    """How many of the first sampled lines look like each format (the evidence `aiobs inspect` shows)."""
    return Counter(format_of_row(row) for row in _sample_rows(data.removeprefix(b"\xef\xbb\xbf")))


def detect_format(data: bytes) -> str:
    """The format of a file whose first chunk of whole lines is `data` (`native` when nothing else fits)."""
    votes = detect_votes(data)
    if not votes:
        return DEFAULT_FORMAT
    best = max(votes.values())
    return next(name for name in (*DETECTORS, DEFAULT_FORMAT) if votes[name] == best)


#: Lines of each file checked for a repeated key (JSON allows one; parsers disagree on which value wins).
REPEAT_CHECK_LINES = 50


class _RepeatedKey(Exception):
    pass


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _RepeatedKey(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


_SPACED_COLON = re.compile(rb'"\s+:')


def _key_count(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_key_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(_key_count(v) for v in value)
    return 0


def _may_repeat(text: bytes) -> bool:
    """False when the line cannot repeat a key: it has no more `":` than orjson found keys. Every key
    written without a space before its colon is one `":`, so a repeat makes one more than the keys kept;
    a `":` inside a string only adds to the count. orjson makes this cheaper than the check itself."""
    try:
        keys = _key_count(orjson.loads(text))
    except (orjson.JSONDecodeError, RecursionError):
        return True
    return text.count(b'":') > keys or _SPACED_COLON.search(text) is not None


def repeated_keys(data: bytes, source: str, first_line: int) -> list[InputIssue]:
    """Lines among the first REPEAT_CHECK_LINES of a file that repeat a key, at any depth.

    Polars' reader keeps a repeated key's *first* value (Python's json and JavaScript keep the last), so a
    logger that writes `"status"` twice makes aiobs read something its author may not expect. Checking a
    sample is enough to name the logger's habit; every line is not checked (a second parse of each).
    """
    found: list[InputIssue] = []
    lines = data.split(b"\n", REPEAT_CHECK_LINES)[:REPEAT_CHECK_LINES]
    for index, text in enumerate(lines):
        if text.count(b'"') < 4 or not text.lstrip().startswith(b"{") or not _may_repeat(text):
            continue
        try:
            json.loads(text, object_pairs_hook=_refuse_repeats)
        except _RepeatedKey as repeated:
            message = f'the key "{repeated.args[0]}" appears twice on the line: aiobs reads its first value'
            found.append(InputIssue("repeated-key", source, first_line + index, message))
        except (ValueError, RecursionError):
            continue  # not JSON, or nested past Python's stack: the reader records or reads it
    return found
