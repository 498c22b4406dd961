"""`aiobs trace --format otlp`: rebuilt requests as OTLP/JSON traces, for Jaeger, Tempo or any collector.

One `ExportTraceServiceRequest` document (the OTLP/JSON encoding: IDs in hex, times in nanoseconds as
strings, 64-bit integers as strings), one trace per request, one span per event, with the OpenTelemetry
GenAI semantic-convention attributes (`gen_ai.operation.name`, `gen_ai.request.model`,
`gen_ai.usage.input_tokens`, ...). A collector's OTLP/HTTP receiver takes it as is
(`curl -H 'Content-Type: application/json' --data @trace.json http://collector:4318/v1/traces`), and
aiobs reads it back to the same request (latency, stages, tokens, model, failure).

IDs: a correlation ID that is already a 32-digit hex trace ID is kept; another is hashed into one (and
kept as `aiobs.correlation_id`). Span IDs likewise. A request without a root event gets a root span
over its events, named `request`, so the trace has one root whose duration is the request's latency.
Texts are left out: they stay in aiobs's own outputs, where they are redacted.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import orjson
import polars as pl

from aiobs import __version__
from aiobs.escape import json_text

_HEX = re.compile(r"^[0-9a-f]+$")
#: stage -> gen_ai.operation.name (a gateway or other span is a plain span: the request, a step).
OPERATIONS = {
    "llm": "chat",
    "embedding": "embeddings",
    "retrieval": "retrieval",
    "rerank": "rerank",
    "tool": "execute_tool",
}
#: event column -> (attribute, value kind).
ATTRIBUTES = (
    ("model", "gen_ai.request.model", "string"),
    ("model", "gen_ai.response.model", "string"),
    ("provider", "gen_ai.provider.name", "string"),
    ("input_tokens", "gen_ai.usage.input_tokens", "int"),
    ("output_tokens", "gen_ai.usage.output_tokens", "int"),
    ("cached_tokens", "gen_ai.usage.cache_read.input_tokens", "int"),
    ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens", "int"),
    ("error_type", "error.type", "string"),
    ("user", "user.id", "string"),
)


def otlp_trace_document(requests: list[tuple[dict[str, Any], pl.DataFrame]]) -> dict[str, Any]:
    """(request row, its events) per request -> the ExportTraceServiceRequest document."""
    spans = [span for request, events in requests for span in _spans(request, events)]
    scope = {"name": "aiobs", "version": __version__}
    resource = {"attributes": [_attribute("service.name", "aiobs", "string")]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": scope, "spans": spans}]}]}


def render_trace_otlp(requests: list[tuple[dict[str, Any], pl.DataFrame]]) -> str:
    document = otlp_trace_document(requests)
    return json_text(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()) + "\n"


def _hex_id(value: str | None, digits: int, *fallback: object) -> str:
    if value is not None and len(value) == digits and _HEX.match(value.lower()):
        return value.lower()
    return hashlib.sha256("\x1f".join(map(str, (value, *fallback))).encode()).hexdigest()[:digits]


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _spans(request: dict[str, Any], events: pl.DataFrame) -> list[dict[str, Any]]:
    cid = str(request["correlation_id"])
    trace_id = _hex_id(cid, 32)
    rows = events.sort("start", "line", nulls_last=True).to_dicts()
    ids = [_hex_id(row.get("event_id"), 16, cid, row["source"], row["line"]) for row in rows]
    by_event = {row["event_id"]: span_id for row, span_id in zip(rows, ids, strict=True) if row.get("event_id")}
    root = next((i for i, row in enumerate(rows) if row.get("is_root")), None)
    root_id = ids[root] if root is not None else _hex_id(None, 16, cid, "request")
    spans = [] if root is not None else [_request_span(request, trace_id, root_id, events)]
    for i, row in enumerate(rows):
        parent = None if i == root else by_event.get(row.get("parent_id"), root_id)
        spans.append(_span(row, request, trace_id, ids[i], parent))
    return spans


def _request_span(request: dict[str, Any], trace_id: str, span_id: str, events: pl.DataFrame) -> dict[str, Any]:
    start = events.get_column("start").min()
    start_ns = _nanos(start) if isinstance(start, datetime) else 0
    end_ns = start_ns + round((request.get("latency_ms") or 0.0) * 1_000_000)
    attributes = [_attribute("aiobs.correlation_id", str(request["correlation_id"]), "string")]
    if request.get("route"):
        attributes.append(_attribute("http.route", request["route"], "string"))
    span = {"traceId": trace_id, "spanId": span_id, "name": "request", "kind": 2}
    span |= {"startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns), "attributes": attributes}
    return span | {"status": {"code": 2} if request.get("is_error") else {}}


def _span(
    row: dict[str, Any], request: dict[str, Any], trace_id: str, span_id: str, parent: str | None
) -> dict[str, Any]:
    start = row.get("start") or request.get("start")
    start_ns = _nanos(start) if isinstance(start, datetime) else 0
    end_ns = start_ns + round((row.get("duration_ms") or 0.0) * 1_000_000)
    attributes = [_attribute("aiobs.correlation_id", str(request["correlation_id"]), "string")]
    if (operation := OPERATIONS.get(row.get("stage") or "")) is not None:
        attributes.append(_attribute("gen_ai.operation.name", operation, "string"))
    for column, key, kind in ATTRIBUTES:
        if row.get(column) is not None:
            attributes.append(_attribute(key, row[column], kind))
    if row.get("attempt") is not None:  # resends counted from 0 (HTTP semantic conventions)
        attributes.append(_attribute("http.request.resend_count", row["attempt"] - 1, "int"))
    if row.get("ttft_ms") is not None:
        attributes.append(_attribute("gen_ai.response.time_to_first_chunk", row["ttft_ms"] / 1000, "double"))
    if row.get("finish_reason"):
        attributes.append({"key": "gen_ai.response.finish_reasons", "value": _array([row["finish_reason"]])})
    if parent is None and row.get("route"):
        attributes.append(_attribute("http.route", row["route"], "string"))
    span: dict[str, Any] = {"traceId": trace_id, "spanId": span_id}
    if parent is not None:
        span["parentSpanId"] = parent
    span |= {"name": str(row.get("event") or row.get("stage") or "event"), "kind": 1 if parent else 2}
    span |= {"startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns), "attributes": attributes}
    return span | {"status": {"code": 2} if row.get("is_error") else {}}


def _attribute(key: str, value: object, kind: str) -> dict[str, Any]:
    if kind == "int":
        return {"key": key, "value": {"intValue": str(int(value))}}  # type: ignore[call-overload]
    if kind == "double":
        return {"key": key, "value": {"doubleValue": float(value)}}  # type: ignore[arg-type]
    return {"key": key, "value": {"stringValue": str(value)}}


def _array(values: list[str]) -> dict[str, Any]:
    return {"arrayValue": {"values": [{"stringValue": str(v)} for v in values]}}
