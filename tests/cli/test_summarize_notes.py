"""What the logs do not say is said, specifically: assumed units, lines without timestamps, time filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]

runner = CliRunner()


def write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def notes(path: Path, *args: str) -> tuple[dict[str, Any], dict[str, int]]:
    result = runner.invoke(app, ["summarize", str(path), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return doc, {k["code"]: k["count"] for k in doc["input_quality"]["by_kind"]}


def test_a_bare_duration_is_read_as_seconds_and_said_so(tmp_path: Path) -> None:
    rows = [{"request_id": "a", "ts": "2026-11-20T09:00:00Z", "duration": 28.5, "status": 200}]
    doc, kinds = notes(write(tmp_path, rows))
    assert doc["overall"]["latency_ms"]["max"] == 28_500.0
    assert kinds == {"assumed-unit": 1, "no-tokens": 1}
    message = doc["input_quality"]["by_kind"][0]["examples"][0]["message"]
    assert "--map duration_ms=duration:ms" in message
    fixed, kinds = notes(write(tmp_path, rows), "--map", "duration_ms=duration:ms")
    assert (fixed["overall"]["latency_ms"]["max"], kinds) == (28.5, {"no-tokens": 1})


def test_lines_without_timestamps_take_the_longest_event(tmp_path: Path) -> None:
    """python-json-logger's bare JsonFormatter(): a message and the app's fields, no time at all."""
    rows = [
        {"request_id": "a", "message": "request started", "status": 200},
        {"request_id": "a", "message": "request finished", "duration_ms": 12.5, "status": 200},
    ]
    doc, kinds = notes(write(tmp_path, rows))
    assert doc["overall"]["latency_ms"]["max"] == 12.5
    assert kinds == {"no-timestamp": 2, "longest-latency": 1, "no-tokens": 1}


def test_time_filters_on_logs_without_time_say_why(tmp_path: Path) -> None:
    rows = [{"request_id": "a", "message": "done", "duration_ms": 3, "status": 200}]
    path = write(tmp_path, rows)
    since = runner.invoke(app, ["summarize", str(path), "--since", "1h"])
    assert since.exit_code == 2
    assert since.stderr.startswith("aiobs: no request has a timestamp, so none starts at or after")
    every = runner.invoke(app, ["summarize", str(path), "--every", "1h"])
    assert every.exit_code == 2
    assert (
        every.stderr
        == "aiobs: --every 1h needs timestamps: no request in the input has one (map one with --map start=FIELD)\n"
    )


def test_clock_skew_is_a_note_not_a_failure(tmp_path: Path) -> None:
    """A line written 3 ms after its duration was measured is not broken input: --strict passes."""
    rows = [
        {"request_id": "a", "ts": "2026-11-20T09:00:00.000Z", "event": "gateway", "latency_ms": 10, "status": 200},
        {"request_id": "a", "ts": "2026-11-20T08:59:59.990Z", "event": "llm", "latency_ms": 5, "status": "ok"},
    ]
    path = write(tmp_path, rows)
    _, kinds = notes(path)
    assert kinds == {"clock-skew": 1, "no-tokens": 1}
    assert runner.invoke(app, ["summarize", str(path), "--strict"]).exit_code == 0


def test_inspect_lists_what_summarize_would_report(tmp_path: Path) -> None:
    rows = [{"request_id": "a", "ts": "2026-11-20T09:00:00Z", "latency_ms": 5, "status": 200}]
    path = write(tmp_path, rows)
    path.write_bytes(path.read_bytes() + b'{"request_id": "b", "ts": \n')
    result = runner.invoke(app, ["inspect", str(path)], env={"COLUMNS": "200"})
    assert "In the sample, aiobs summarize would also report" in result.stdout
    assert f"invalid-json (1): line is not valid JSON  e.g. {path}:2" in result.stdout
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert "The file is empty: nothing to inspect." in runner.invoke(app, ["inspect", str(empty)]).stdout


def test_logs_without_token_counts_say_so_and_how_to_map_them(tmp_path: Path) -> None:
    log = tmp_path / "http.jsonl"
    log.write_text('{"request_id": "a", "latency_ms": 120, "status": 200}\n{"request_id": "b", "latency_ms": 80}\n')
    result = CliRunner().invoke(app, ["summarize", str(log), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["overall"]["tokens"] == {"input": None, "output": None, "cached": None, "reasoning": None}
    (note,) = [k for k in doc["input_quality"]["by_kind"] if k["code"] == "no-tokens"]
    assert note["informational"] and note["examples"][0]["source"] == str(log)
    assert "--map input_tokens=FIELD" in note["examples"][0]["message"]
    with_tokens = CliRunner().invoke(app, ["summarize", str(ROOT / "sample_logs"), "--format", "json"])
    assert "no-tokens" not in {k["code"] for k in orjson.loads(with_tokens.stdout)["input_quality"]["by_kind"]}


def test_examples_that_say_the_same_print_the_sentence_once_then_where(tmp_path: Path) -> None:
    rows = [{"request_id": f"r{i}", "ts": f"2026-11-20T09:00:0{i}Z", "duration_ms": "slow"} for i in range(3)]
    result = runner.invoke(app, ["summarize", str(write(tmp_path, rows))], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.count("duration_ms is not a number") == 1
    assert all(f"    {tmp_path / 'x.jsonl'}:{n}\n" in text for n in (1, 2, 3))
