"""Hostile and broken input (issue 11): nothing lost silently, never an internal error.

Each case says what aiobs must do: read what can be read, count what cannot with file and line, exit with a
documented code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app

runner = CliRunner()
OK = {"latency_ms": 5, "status": 200}


def write(tmp_path: Path, rows: list[dict[str, Any]], prefix: bytes = b"") -> Path:
    path = tmp_path / "x.jsonl"
    path.write_bytes(prefix + b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def summary(path: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["summarize", str(path), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def kinds(doc: dict[str, Any]) -> dict[str, list[int | None]]:
    return {k["code"]: [e["line"] for e in k["examples"]] for k in doc["input_quality"]["by_kind"]}


def test_a_byte_order_mark_does_not_cost_line_1(tmp_path: Path) -> None:
    rows = [{"request_id": r, "ts": "2026-11-20T09:00:00Z", **OK} for r in ("a", "b")]
    doc = summary(write(tmp_path, rows, prefix=b"\xef\xbb\xbf"))
    assert (doc["overall"]["requests"], kinds(doc)) == (2, {"no-tokens": [None]})  # a log of no tokens says so


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", 0, "2100-01-01T00:00:00Z"])
def test_an_implausible_time_is_an_input_problem(tmp_path: Path, ts: object) -> None:
    """Go's zero time, a far-future placeholder, epoch 0: never a point on a chart or a day in the store."""
    rows = [{"request_id": "bad", "ts": ts, **OK}, {"request_id": "good", "ts": "2026-11-20T09:00:00Z", **OK}]
    path = write(tmp_path, rows)
    doc = summary(path)
    assert kinds(doc) == {"invalid-timestamp": [1], "no-tokens": [None]}
    assert (doc["overall"]["first_start"], doc["overall"]["last_start"]) == ("2026-11-20T09:00:00Z",) * 2
    for out in ("r.md", "r.html"):  # the report draws time axes: it must not trip on the request without one
        result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output


def test_an_implausible_time_from_an_adapter(tmp_path: Path) -> None:
    """OTLP gives nanoseconds itself: a zero-ish start is an input problem there too."""
    span = {
        "traceId": "t1",
        "spanId": "s1",
        "name": "chat",
        "startTimeUnixNano": "1000",
        "endTimeUnixNano": "2000000",
        "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}],
    }
    line = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    path = tmp_path / "otlp.jsonl"
    path.write_bytes(orjson.dumps(line) + b"\n")
    doc = summary(path)
    assert list(kinds(doc)) == ["invalid-timestamp", "no-tokens"]


@pytest.mark.parametrize(("field", "value"), [("status", {"code": 500}), ("status", []), ("event", {"x": 1})])
def test_a_status_or_event_that_is_an_object_is_said(tmp_path: Path, field: str, value: object) -> None:
    row = {"request_id": "a", "ts": "2026-11-20T09:00:00Z", "latency_ms": 5, "status": "ok", field: value}
    doc = summary(write(tmp_path, [row]))
    assert kinds(doc) == {"wrong-type": [1], "no-tokens": [None]}


INVISIBLE = ["\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\u2028"]


def test_invisible_characters_are_shown_not_obeyed(tmp_path: Path) -> None:
    """A route written backwards with a bidi override, a zero-width space in a model name: every output
    shows them as escapes (JSON keeps the same data, as `\\u202e` escapes), none passes them raw."""
    rows = [
        {
            "request_id": f"r{i}",
            "ts": "2026-11-28T10:00:00Z",
            "event": "llm",
            "route": f"/a{char}b",
            "model": f"gpt{char}4o",
            "user_id": f"u{char}1",
            "status": "error",
            "error_type": f"E{char}",
            "latency_ms": 5 + i,
        }
        for i, char in enumerate(INVISIBLE)
    ]
    path = write(tmp_path, rows)
    junit = tmp_path / "j.xml"
    runs = [
        ["summarize", str(path), "--by", "route"],
        ["summarize", str(path), "--by", "route", "-f", "json", "--no-redact"],
        ["outliers", str(path), "--p", "0", "-f", "json", "--no-redact"],
        ["trace", str(path), "--id", "r0", "-f", "json", "--no-redact"],
        ["check", str(path), "--slo", "error_rate < 1% by route", "--junit", str(junit), "--no-redact"],
    ]
    for args in runs:
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code in (0, 1), result.output
        assert not any(char in result.stdout for char in INVISIBLE), args
    assert not any(char in junit.read_text() for char in INVISIBLE)
    assert "\\u202e" in junit.read_text()
    doc = json.loads(runner.invoke(app, runs[1]).stdout)  # the same data, escaped in the raw text
    assert "/a\u202eb" in {g["key"]["route"] for g in doc["groups"]["route"]}
