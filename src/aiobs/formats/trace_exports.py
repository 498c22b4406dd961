"""Traces exported by Jaeger and Grafana Tempo, read as the OTLP spans they are.

- **Jaeger**: the query API's `/api/traces/{id}` response and the UI's "Download JSON"
  (`{"data": [trace, ...]}`, or one trace object): spans with `traceID`, `spanID`, `references`
  (`CHILD_OF`), `startTime` and `duration` in microseconds, `tags` (`{key, type, value}`), and a
  `processID` naming the process (service) in `processes` (jaeger's model/json/model.go).
- **Tempo**: the trace-by-ID response, OTLP/JSON under `batches` (API v1; older versions name the
  scope level `instrumentationLibrarySpans`) or under `trace.resourceSpans` (API v2).

Each document (one per line, or pretty-printed: see documents.py) is rewritten as one OTLP/JSON line
and read by the OTLP adapter, so the GenAI and OpenInference attributes, stages, roots and errors are
read exactly as for OTLP files, and every span keeps its document's line number. The rewrite is plain
Python per document: trace exports are documents of a few traces, not gigabytes of logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import polars as pl

from aiobs.formats.otlp import OtlpAdapter

Document = dict[str, Any]


class _ConvertedToOtlp:
    """An adapter that rewrites each document as an OTLP/JSON line, then reads it as OTLP."""

    name = ""
    convert: Callable[[Document], Document]

    def __init__(self) -> None:
        self._otlp = OtlpAdapter()

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return self._otlp.read(_rewritten(data, type(self).convert), lenient=lenient)

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        return self._otlp.to_events(raw, source)


def _rewritten(data: bytes, convert: Callable[[Document], Document]) -> bytes:
    """Line for line: a document that converts is replaced by its OTLP line; anything else stays as it is."""
    out = []
    for line in data.split(b"\n"):
        try:
            value = orjson.loads(line) if line.strip() else None
        except orjson.JSONDecodeError:
            value = None
        out.append(orjson.dumps(convert(value)) if isinstance(value, dict) else line)
    return b"\n".join(out)


def _value(tag: dict[str, Any]) -> dict[str, Any]:
    kind, value = str(tag.get("type", "string")).lower(), tag.get("value")
    if kind == "bool":
        return {"boolValue": bool(value)}
    if kind == "int64":
        return {"intValue": str(value)}
    if kind == "float64":
        return {"doubleValue": value}
    return {"stringValue": "" if value is None else str(value)}


def _attributes(tags: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"key": str(t.get("key")), "value": _value(t)} for t in tags or [] if isinstance(t, dict)]


def _is_failure(tag: dict[str, Any]) -> bool:
    """Jaeger's `error: true` tag, or OpenTelemetry's status written as a tag by the Jaeger exporter."""
    key, value = tag.get("key"), tag.get("value")
    return (key == "error" and value in (True, "true")) or (key == "otel.status_code" and value == "ERROR")


def _jaeger_span(span: Document) -> Document:
    references = [r for r in span.get("references") or [] if isinstance(r, dict)]
    parent = next((r.get("spanID") for r in references if r.get("refType") == "CHILD_OF"), None)
    parent = parent or span.get("parentSpanID") or next((r.get("spanID") for r in references), None)
    start_us, duration_us = int(span.get("startTime") or 0), int(span.get("duration") or 0)
    tags = span.get("tags") or []
    failed = any(_is_failure(t) for t in tags if isinstance(t, dict))
    converted: Document = {
        "traceId": str(span.get("traceID", "")).rjust(32, "0"),  # 64-bit trace IDs are 16 hex digits
        "spanId": span.get("spanID"),
        "name": span.get("operationName"),
        "startTimeUnixNano": str(start_us * 1000),
        "endTimeUnixNano": str((start_us + duration_us) * 1000),
        "attributes": _attributes(tags),
        "status": {"code": 2} if failed else {},
    }
    if parent:
        converted["parentSpanId"] = parent
    return converted


def jaeger_to_otlp(document: Document) -> Document:
    """A Jaeger response or trace -> OTLP/JSON: one resource per process, its spans under it."""
    traces: list[Document] = document["data"] if isinstance(document.get("data"), list) else [document]
    resources: list[Document] = []
    for trace in traces:
        processes = trace.get("processes") or {}
        by_process: dict[str, list[Document]] = {}
        for span in trace.get("spans") or []:
            by_process.setdefault(str(span.get("processID")), []).append(_jaeger_span(span))
        for process_id, spans in by_process.items():
            process = processes.get(process_id) or {}
            attributes = [{"key": "service.name", "value": {"stringValue": str(process.get("serviceName", ""))}}]
            resource = {"attributes": attributes + _attributes(process.get("tags"))}
            resources.append({"resource": resource, "scopeSpans": [{"spans": spans}]})
    return {"resourceSpans": resources}


def tempo_to_otlp(document: Document) -> Document:
    """A Tempo trace-by-ID response -> OTLP/JSON (`batches` or `trace.resourceSpans`)."""
    trace = document.get("trace")
    batches = trace.get("resourceSpans") if isinstance(trace, dict) else document.get("batches")
    resources = []
    for batch in batches or []:
        scopes = batch.get("scopeSpans") or batch.get("instrumentationLibrarySpans") or []
        resources.append({"resource": batch.get("resource") or {}, "scopeSpans": scopes})
    return {"resourceSpans": resources}


class JaegerAdapter(_ConvertedToOtlp):
    name = "jaeger"
    convert = staticmethod(jaeger_to_otlp)


class TempoAdapter(_ConvertedToOtlp):
    name = "tempo"
    convert = staticmethod(tempo_to_otlp)
