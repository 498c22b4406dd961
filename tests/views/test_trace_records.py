"""`aiobs trace` records (views/trace_records.py): the `aiobs.trace/1` TypedDicts name exactly the keys
`aiobs trace --format json` writes, at every level; and no string the logs wrote reaches it unredacted."""

from __future__ import annotations

from pathlib import Path

import orjson
from record_helpers import SAMPLE, cli_json, keys_of
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.quality.flags import FLAG_PREFIX, flag_column, flag_names
from aiobs.trace import DETAIL_COLUMNS
from aiobs.views.record_types import (
    TraceDetailRecord,
    TraceEventRecord,
    TraceRecord,
    TraceRequestRecord,
    TraceRowRecord,
)
from conftest import WriteJsonl

runner = CliRunner()


def test_every_level_of_the_document_has_the_keys_its_type_names() -> None:
    # The ten slowest requests, and the worst of every model (o3-mini's reasoning tokens among them).
    per_model = cli_json("outliers", SAMPLE, "--per", "model", "--limit", "1")["outliers"]
    ids = [arg for o in per_model for arg in ("--id", o["correlation_id"])]
    doc = cli_json("trace", SAMPLE, "--from-outliers", "--limit", "10", *ids)
    assert set(doc) == keys_of(TraceRecord)
    assert len(doc["requests"]) > 10
    flags = {flag_column(name) for name in flag_names()}  # one column per flag rated: not typed, checked here
    seen: set[str] = set()
    for traced in doc["requests"]:
        assert set(traced) == keys_of(TraceRequestRecord)
        request = set(traced["request"])
        assert {key for key in request if key.startswith(FLAG_PREFIX)} == flags
        assert request - flags == keys_of(TraceRowRecord)
        for event in traced["events"]:
            # what the event logged is there only when it has a value: nothing beyond the type, nothing required missing
            assert TraceEventRecord.__required_keys__ <= set(event) <= keys_of(TraceEventRecord), event
            seen |= set(event)
    assert seen == keys_of(TraceEventRecord)  # every optional key was met, so each was held to the type
    assert keys_of(TraceDetailRecord) == set(DETAIL_COLUMNS)


SECRET = "alice@example.com"
CARD = "4111 1111 1111 1111"


def test_no_string_from_the_events_reaches_the_document_unredacted(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    """Every string field of every event carries personal data: the trace shows none of it by default
    (`response_format` used to be written as logged), and all of it with --no-redact."""
    planted = f"{SECRET} {CARD}"
    base = {"ts": "2026-11-28T10:00:00.000Z", "request_id": "r1", "user_id": planted, "route": f"/r/{planted}"}
    log = write_jsonl(
        tmp_path / "app.jsonl",
        [
            {**base, "event_id": "g", "event": "gateway", "status": 200, "latency_ms": 1000.0},
            {**base, "event_id": "d", "parent_id": "g", "event": "retrieval", "latency_ms": 100.0,
             "documents": [f"doc {planted}"]},
            {**base, "event_id": "t", "parent_id": "g", "event": f"step {planted}", "latency_ms": 50.0},
            {**base, "ts": "2026-11-28T10:00:00.200Z", "event_id": "l", "parent_id": "g", "event": "llm",
             "model": f"m {planted}", "provider": planted, "finish_reason": planted, "error_type": planted,
             "status": "error", "response_format": planted, "input": f"in {planted}", "output": f"out {planted}",
             "input_tokens": 10, "output_tokens": 5, "latency_ms": 700.0},
        ],
    )  # fmt: skip
    shown = runner.invoke(app, ["trace", str(log), "--id", "r1", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert SECRET not in shown.stdout and CARD not in shown.stdout
    [traced] = orjson.loads(shown.stdout)["requests"]
    assert traced["request"]["response_format"] == "[email] [card]"
    raw = runner.invoke(app, ["trace", str(log), "--id", "r1", "--format", "json", "--no-redact"])
    assert raw.exit_code == 0, raw.output
    [traced] = orjson.loads(raw.stdout)["requests"]
    assert traced["request"]["response_format"] == planted
    events = {event["event"]: event for event in traced["events"]}  # so the events did carry it, as logged
    assert f"step {planted}" in events
    assert (events["llm"]["model"], events["llm"]["finish_reason"]) == (f"m {planted}", planted)
