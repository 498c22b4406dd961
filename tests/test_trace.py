"""A request's events as a tree, and its waterfall (fixed width, colors off, compared exactly)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl
from rich.console import Console

from aiobs.redact import Privacy
from aiobs.render.trace import render_trace_json, render_trace_terminal
from aiobs.schema import REQUEST_SCHEMA, conform_events
from aiobs.trace import trace_lines, trace_span_ms
from aiobs.views.trace_records import trace_document, trace_view

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def events(*rows: dict[str, Any]) -> pl.DataFrame:
    full = []
    for i, r in enumerate(rows):
        row = {"source": "t.jsonl", "line": i + 1, "correlation_id": "r1", "is_error": False, **r}
        row["start"] = T0 + timedelta(milliseconds=row.pop("at"))
        row.setdefault("stage", row.get("event", "other"))
        row.setdefault("is_root", row["stage"] == "gateway")
        full.append(row)
    return conform_events(pl.DataFrame(full, infer_schema_length=None)).collect()


RAG = events(
    {"event": "gateway", "event_id": "g", "at": 0, "duration_ms": 1000.0, "route": "/rag"},
    {"event": "llm", "event_id": "l", "parent_id": "g", "at": 300, "duration_ms": 650.0, "model": "gpt-4o",
     "input_tokens": 900, "output_tokens": 120, "finish_reason": "stop"},
    {"event": "retrieval", "event_id": "r", "parent_id": "g", "at": 50, "duration_ms": 200.0},
    {"event": "tool", "event_id": "t", "parent_id": "l", "at": 400, "duration_ms": 100.0},
    {"event": "rerank", "event_id": "x", "parent_id": "missing", "at": 260, "duration_ms": 30.0},
)  # fmt: skip


def test_tree_by_parent_then_start() -> None:
    lines = trace_lines(RAG)
    assert [(t.depth, t.event) for t in lines] == [
        (0, "gateway"),
        (1, "retrieval"),
        (1, "llm"),
        (2, "tool"),
        (0, "rerank"),  # its parent is not in the log: shown at the top level, not dropped
    ]
    assert [t.start_ms for t in lines] == [0.0, 50.0, 300.0, 400.0, 260.0]
    assert trace_span_ms(lines) == 1000.0
    assert lines[2].detail == {"input_tokens": 900, "output_tokens": 120, "finish_reason": "stop"}


def test_cycles_and_self_parents_do_not_loop() -> None:
    looped = events(
        {"event": "llm", "event_id": "a", "parent_id": "b", "at": 0, "duration_ms": 1.0},
        {"event": "tool", "event_id": "b", "parent_id": "a", "at": 1, "duration_ms": 1.0},
        {"event": "tool", "event_id": "c", "parent_id": "c", "at": 2, "duration_ms": 1.0},
    )
    lines = trace_lines(looped)
    assert [(t.depth, t.event, t.line) for t in lines] == [(0, "tool", 3), (0, "llm", 1), (1, "tool", 2)]


def request_row(**extra: Any) -> pl.DataFrame:
    row = {
        "correlation_id": "r1", "start": T0, "end": T0 + timedelta(seconds=1), "latency_ms": 1000.0,
        "has_root": True, "retrieval_ms": 200.0, "llm_ms": 650.0, "tool_ms": 100.0, "rerank_ms": 30.0,
        "input_tokens": 900, "output_tokens": 120, "cost_usd": 0.0123, "models": ["gpt-4o"], "model": "gpt-4o",
        "route": "/rag", "user": "jo@example.com", "is_error": False, "retries": 0, "n_events": 5,
        "skewed_events": 0, "input_text": "Refund for card 4111 1111 1111 1111?", "output_text": "Done.\nBye.",
        **extra,
    }  # fmt: skip
    return pl.DataFrame([row]).select(
        (pl.col(c) if c in row else pl.lit(None)).cast(t).alias(c) for c, t in REQUEST_SCHEMA.items()
    )


def rendered(privacy: Privacy) -> str:
    view = trace_view(request_row(), RAG, flags=[], privacy=privacy)
    out = io.StringIO()
    render_trace_terminal(
        trace_document([view]), Console(file=out, width=120, color_system=None), redacted=privacy.redact
    )
    return out.getvalue()


WATERFALL = """\
Events (5), 1,000 ms
┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ event          ┃ start ms ┃    ms ┃ 0 → 1,000 ms                             ┃ detail            ┃
┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ gateway        │      0.0 │ 1,000 │ ████████████████████████████████████████ │                   │
│   retrieval    │     50.0 │   200 │   ████████                               │                   │
│   llm (gpt-4o) │      300 │   650 │             ██████████████████████████   │ 900→120 tok, stop │
│     tool       │      400 │   100 │                 ████                     │                   │
│ rerank         │      260 │  30.0 │           █                              │                   │
└────────────────┴──────────┴───────┴──────────────────────────────────────────┴───────────────────┘
"""


def test_waterfall_rendering_is_exact() -> None:
    text = "".join(line.rstrip() + "\n" for line in rendered(Privacy()).splitlines())
    assert WATERFALL in text


def test_texts_are_redacted_unless_asked_and_keep_their_lines() -> None:
    redacted = rendered(Privacy())
    assert "Input (redacted)" in redacted
    assert "Refund for card [card]?" in redacted
    assert "[email]" in redacted
    assert "Done.\nBye." in redacted
    raw = rendered(Privacy(redact=False))
    assert "4111 1111 1111 1111" in raw
    assert "jo@example.com" in raw
    hashed = rendered(Privacy(hash_users=True))
    assert "jo@example.com" not in hashed
    assert "user-" in hashed


WITH_FEEDBACK = pl.concat(
    [RAG, events({"event": "feedback", "stage": "other", "event_id": "f", "at": 180_000, "feedback_score": 1.0})],
    how="vertical",
)


def test_feedback_is_an_annotation_outside_the_span() -> None:
    lines = trace_lines(WITH_FEEDBACK)
    [feedback] = [t for t in lines if t.annotation]
    assert (feedback.event, feedback.start_ms) == ("feedback", 180_000.0)
    assert not any(t.annotation for t in lines if t.event != "feedback")
    assert trace_span_ms(lines) == 1000.0  # the request's own time, not stretched to the feedback 3 minutes later


def test_a_feedback_event_with_a_duration_stays_on_the_timeline() -> None:
    timed = events(
        {"event": "gateway", "at": 0, "duration_ms": 100.0}, {"at": 50, "duration_ms": 200.0, "feedback_score": 0.0}
    )
    lines = trace_lines(timed)
    assert not any(t.annotation for t in lines)
    assert trace_span_ms(lines) == 250.0


def test_waterfall_keeps_its_scale_and_lists_feedback_with_its_offset() -> None:
    view = trace_view(request_row(feedback_score=1.0), WITH_FEEDBACK, flags=[], privacy=Privacy())
    out = io.StringIO()
    render_trace_terminal(trace_document([view]), Console(file=out, width=120, color_system=None), redacted=True)
    text = "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())
    assert WATERFALL in text  # the same bars as without the feedback
    assert "Annotations (feedback: not in the span above)\n  feedback  +180,000 ms  feedback 1\n" in text


def test_json_marks_the_annotations() -> None:
    view = trace_view(request_row(feedback_score=1.0), WITH_FEEDBACK, flags=[], privacy=Privacy())
    [request] = orjson.loads(render_trace_json(trace_document([view])))["requests"]
    marked = {e["event"]: e["annotation"] for e in request["events"]}
    assert marked == {
        "gateway": False,
        "retrieval": False,
        "llm": False,
        "tool": False,
        "rerank": False,
        "feedback": True,
    }
