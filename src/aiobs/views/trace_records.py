"""`aiobs trace` as records: each request's row and its events as a tree, the `aiobs.trace/1` document.

`trace_view` applies privacy to the request row once (texts, route, user, and the other strings the
logs wrote into it); the events come from `Summary.events_of`, whose labels (event names, models,
finish reasons, error types) are private already, and only those labels and numbers of theirs are
shown. The terminal and the JSON are written from `trace_document`; OTLP from the views themselves.
Typed in record_types.py (`TraceRecord`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from aiobs.outliers import raised_flags
from aiobs.redact import Privacy, private_requests
from aiobs.trace import TraceLine, trace_lines
from aiobs.views.record_types import (
    TraceDetailRecord,
    TraceEventRecord,
    TraceRecord,
    TraceRequestRecord,
    TraceRowRecord,
)
from aiobs.views.records import iso_time

SCHEMA = "aiobs.trace/1"


@dataclass
class TraceView:
    """One request: its row of the request table (privacy applied) and its events."""

    request: dict[str, Any]
    events: pl.DataFrame
    flags: list[str]


def trace_view(request: pl.DataFrame, events: pl.DataFrame, *, flags: list[str], privacy: Privacy) -> TraceView:
    """Privacy applied to the request row (`redact.REQUEST_TEXTS`, and the user) before anything is shown."""
    row = request.with_columns(flags=raised_flags(flags))
    row = private_requests(row, privacy)
    return TraceView(row.row(0, named=True), events, flags)


def trace_document(views: list[TraceView]) -> TraceRecord:
    """The `aiobs.trace/1` document: one record per request, in the order asked."""
    return {"schema": SCHEMA, "requests": [trace_record(v) for v in views]}


def trace_record(view: TraceView) -> TraceRequestRecord:
    row = {**view.request, "start": iso_time(view.request["start"]), "end": iso_time(view.request["end"])}
    # The row has every column of the request table, `flag_<name>` ones included: typed as far as they are fixed.
    return {"request": cast(TraceRowRecord, row), "events": [event_record(t) for t in trace_lines(view.events)]}


def event_record(t: TraceLine) -> TraceEventRecord:
    """One line of the tree; what the event logged (`detail`) sits between its place and its source."""
    detail = cast(TraceDetailRecord, t.detail)
    return {
        "depth": t.depth,
        "event": t.event,
        "stage": t.stage,
        "start_offset_ms": t.start_ms,
        "duration_ms": t.duration_ms,
        "model": t.model,
        "is_error": t.is_error,
        **detail,
        "source": t.source,
        "line": t.line,
        "annotation": t.annotation,
    }
