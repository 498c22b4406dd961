"""One request rebuilt from its events: the tree of events by parent, each with its offset and duration.

Pure functions: events in, a list of `TraceLine`s out. Renderers draw the waterfall from them. A
request has a handful of events, so building its tree in Python is cheap and clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl


@dataclass(frozen=True)
class TraceLine:
    depth: int
    event: str
    stage: str
    start_ms: float | None  # offset from the request's first event
    duration_ms: float | None
    model: str | None
    is_error: bool
    detail: dict[str, Any]  # tokens, cost, ttft, attempt, finish reason, error type (what was logged)
    source: str
    line: int
    #: Feedback logged after the answer: it annotates the request and is not part of its timeline.
    annotation: bool = False


#: The event columns a line's `detail` holds (those the event has a value for).
DETAIL_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost_usd",
    "ttft_ms",
    "attempt",
    "finish_reason",
    "error_type",
    "feedback_score",
)


def trace_lines(events: pl.DataFrame) -> list[TraceLine]:
    """The events of one request as an indented tree: roots first, children under their parent, by start.

    An event whose parent is not among the events (or whose parents form a cycle) is shown at the top
    level, so nothing is hidden.
    """
    ordered = events.sort(["start", "duration_ms"], descending=[False, True], nulls_last=True)
    rows = ordered.to_dicts()
    timed = [r["start"] for r in rows if r["start"] is not None and not is_annotation(r)]
    starts = timed or [r["start"] for r in rows if r["start"] is not None]
    origin: datetime | None = min(starts) if starts else None
    ids = {r["event_id"] for r in rows if r.get("event_id")}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for r in rows:
        parent = r.get("parent_id")
        key = parent if parent in ids and parent != r.get("event_id") else None
        children.setdefault(key, []).append(r)

    lines: list[TraceLine] = []
    seen: set[int] = set()

    def visit(row: dict[str, Any], depth: int) -> None:
        if id(row) in seen:  # a cycle in parent IDs: show each event once
            return
        seen.add(id(row))
        offset = (row["start"] - origin).total_seconds() * 1000.0 if row["start"] and origin else None
        detail = {k: row[k] for k in DETAIL_COLUMNS if row.get(k) is not None}
        lines.append(
            TraceLine(
                depth,
                row.get("event") or str(row["stage"]),
                str(row["stage"]),
                offset,
                row.get("duration_ms"),
                row.get("model"),
                bool(row.get("is_error")),
                detail,
                row["source"],
                row["line"],
                is_annotation(row),
            )
        )
        for child in children.get(row.get("event_id"), []) if row.get("event_id") else []:
            visit(child, depth + 1)

    for top in children.get(None, []):
        visit(top, 0)
    for row in rows:  # events caught in a parent cycle are reachable from no root: show them at the top
        if id(row) not in seen:
            visit(row, 0)
    return lines


def is_annotation(event: dict[str, Any]) -> bool:
    """A feedback event without a duration, as `reconstruct` leaves it out of the request's time envelope."""
    return event.get("feedback_score") is not None and event.get("duration_ms") is None


def trace_span_ms(lines: list[TraceLine]) -> float:
    """From the first start to the last end among the timed lines (the waterfall's full width).

    Annotations (feedback, often minutes later) are left out, so they do not squash the bars.
    """
    return span_ms((t.start_ms, t.duration_ms) for t in lines if not t.annotation)


def span_ms(timed: Iterable[tuple[float | None, float | None]]) -> float:
    """The last end among (offset from the first start, duration) pairs; those without an offset are skipped."""
    ends = [start + (duration or 0.0) for start, duration in timed if start is not None]
    return max(ends, default=0.0)
