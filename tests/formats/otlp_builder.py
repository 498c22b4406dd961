"""Build OTLP/JSON the way the OpenTelemetry Collector's file exporter writes it (for tests and benchmarks).

Values follow the OTLP/JSON encoding: int64 as decimal strings (`intValue`, `*TimeUnixNano`), doubles as
numbers, ids as lower-case hex, enums as integers, and default values left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP AnyValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": attributes(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    msg = f"no AnyValue for {value!r}"
    raise TypeError(msg)


def attributes(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in values.items()]


def span(
    trace_id: str,
    span_id: str,
    *,
    parent: str | None = None,
    name: str = "span",
    start_ns: int,
    end_ns: int,
    attrs: Mapping[str, Any] | None = None,
    error: str | None = None,
    kind: int | None = None,
    events: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": trace_id, "spanId": span_id}
    if parent:
        out["parentSpanId"] = parent
    out["name"] = name
    if kind is not None:
        out["kind"] = kind
    out["startTimeUnixNano"] = str(start_ns)
    out["endTimeUnixNano"] = str(end_ns)
    out["attributes"] = attributes(attrs or {})
    if events:
        out["events"] = list(events)
    out["status"] = {} if error is None else {"code": 2, "message": error}
    return out


def span_event(name: str, time_ns: int, attrs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"timeUnixNano": str(time_ns), "name": name, "attributes": attributes(attrs or {})}


def traces_data(
    spans: Iterable[dict[str, Any]], *, service: str = "support-bot", scope: str = "test"
) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes({"service.name": service})},
                "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}],
            }
        ]
    }


def log_record(
    trace_id: str,
    span_id: str,
    *,
    event_name: str,
    time_ns: int,
    body: Any = None,
    attrs: Mapping[str, Any] | None = None,
    name_as_attribute: bool = False,
) -> dict[str, Any]:
    """A log record; `name_as_attribute` puts the event name in an `event.name` attribute (older SDKs)."""
    out: dict[str, Any] = {"timeUnixNano": str(time_ns), "observedTimeUnixNano": str(time_ns + 100)}
    all_attrs = dict(attrs or {})
    if name_as_attribute:
        all_attrs["event.name"] = event_name
    else:
        out["eventName"] = event_name
    out["traceId"] = trace_id
    out["spanId"] = span_id
    out["attributes"] = attributes(all_attrs)
    if body is not None:
        out["body"] = any_value(body)
    return out


def logs_data(records: Iterable[dict[str, Any]], *, service: str = "support-bot") -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": attributes({"service.name": service})},
                "scopeLogs": [{"scope": {"name": "test"}, "logRecords": list(records)}],
            }
        ]
    }


def jsonl(objects: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objects)
