"""`aiobs inspect`: the format and its evidence, which path fills which field, and the fix for each gap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: A log in nobody's format: every field needs a --map, and inspect must say which.
MYSTERY = [
    {"when": "2026-11-20 09:00:00", "ctx": {"rid": "a1"}, "took_s": 1.25, "result": "ok", "llm": {"name": "gpt-4o"}},
    {"when": "2026-11-20 09:00:01", "ctx": {"rid": "a2"}, "took_s": 0.5, "result": "error", "llm": {"name": "gpt-4o"}},
]


def inspect_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["inspect", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["schema"] == "aiobs.inspect/1"
    return doc


@pytest.fixture
def mystery(tmp_path: Path) -> Path:
    path = tmp_path / "mystery.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in MYSTERY))
    return path


def test_a_log_aiobs_cannot_read_gets_the_exact_fixes(mystery: Path) -> None:
    (doc,) = inspect_json(str(mystery))["files"]
    assert (doc["format"], doc["events"], doc["whole_file"]) == ("native", 0, True)
    gaps = {g["what"]: g["options"] for g in doc["gaps"]}
    assert gaps == {
        "correlation ID": ["--map correlation_id=ctx.rid"],
        "time": ["--map start=when"],
        "latency": ["--map duration_ms=took_s:s"],  # the unit read off the name
        "errors": ["--map status=result"],
        "model": ["--map model=llm.name"],
        "tokens and cost": [],
    }
    config = {g["what"]: g["config"] for g in doc["gaps"]}
    assert config["latency"] == ["[mapping]", 'duration_ms = "took_s:s"']
    assert [k["path"] for k in doc["unmapped"]] == ["ctx.rid", "llm.name", "result", "took_s", "when"]


def test_following_the_advice_reads_the_log(mystery: Path) -> None:
    fixes = ["correlation_id=ctx.rid", "start=when", "duration_ms=took_s:s", "status=result", "model=llm.name"]
    args = [a for fix in fixes for a in ("--map", fix)]
    (doc,) = inspect_json(str(mystery), *args)["files"]
    assert {g["what"] for g in doc["gaps"]} == {"tokens and cost"}
    fields = {f["name"]: f for f in doc["fields"]}
    assert fields["duration_ms"]["share"] == 1.0
    assert fields["duration_ms"]["paths"] == [{"path": "took_s:s", "share": 1.0}]
    summary = runner.invoke(app, ["summarize", str(mystery), *args, "--format", "json"])
    overall = json.loads(summary.stdout)["overall"]
    assert (overall["requests"], overall["errors"], overall["latency_ms"]["max"]) == (2, 1, 1250.0)


def test_the_advice_reads_a_unit_off_the_values_and_names_keys_as_teams_write_them(tmp_path: Path) -> None:
    """`latency` 0.4-16 is seconds (a --map without `:s` would read 1,000x too short); `tokens_in` is a
    token count; loguru's `record.elapsed` (time since start) and `record.process.id` are never candidates."""
    rows = [
        {
            "ts": f"2026-11-20T09:00:0{i}Z",
            "request_id": f"r{i}",
            "latency": [0.4, 1.9, 16.2][i],
            "tokens_in": 100 + i,
            "tokens_out": 20,
            "model": "gpt-4o",
            "record": {"elapsed": {"seconds": 12.5 + i}, "process": {"id": 4242}},
        }
        for i in range(3)
    ]
    path = tmp_path / "app.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    gaps = {g["what"]: g["options"] for g in inspect_json(str(path))["files"][0]["gaps"]}
    assert gaps["tokens and cost"] == ["--map input_tokens=tokens_in", "--map output_tokens=tokens_out"]
    assert "--map duration_ms=latency:s" in gaps["latency"]
    assert not any("record." in option for options in gaps.values() for option in options)
    fixed = ["--map", "duration_ms=latency:s", "--map", "input_tokens=tokens_in", "--map", "output_tokens=tokens_out"]
    summary = runner.invoke(app, ["summarize", str(path), *fixed, "--format", "json"])
    overall = json.loads(summary.stdout)["overall"]
    assert (overall["latency_ms"]["max"], overall["tokens"]["input"]) == (16_200.0, 303)


def test_a_camel_case_unit_is_read_and_no_logged_value_is_written(tmp_path: Path) -> None:
    rows = [
        {"ts": f"2026-11-20T09:00:0{i}Z", "request_id": f"r{i}", "latencyMs": 12 + i, "card": 4111111111111111}
        for i in range(3)
    ]
    path = tmp_path / "app.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (path.parent / "notes.txt").write_text("not a log\n")
    result = runner.invoke(app, ["inspect", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["files"]  # notes.txt is not read, so not inspected
    gaps = {g["what"]: g["options"] for g in doc["gaps"]}
    assert gaps["latency"] == ["--map duration_ms=latencyMs"]  # milliseconds, by its name, though 12-14 is small
    assert "4111111111111111" not in result.stdout and "median" not in result.stdout


def test_a_logger_file_names_its_format_and_paths() -> None:
    (doc,) = inspect_json(str(FIXTURES / "pino" / "scenario.jsonl"))["files"]
    assert doc["format"] == "pino"
    assert doc["evidence"] == "17 of the first 17 lines look like pino"
    fields = {f["name"]: f for f in doc["fields"]}
    assert fields["correlation_id"]["paths"] == [{"path": "reqId", "share": 1.0}]
    assert fields["route"]["paths"][0]["path"] == "req.url"
    status = {s["name"]: [p["path"] for p in s["paths"]] for s in doc["status"]}
    assert status == {"status": [], "level": ["level"], "http_status": ["res.statusCode"], "error": ["err"]}
    assert doc["gaps"] == []


def test_an_adapter_format_says_there_is_nothing_to_map() -> None:
    path = FIXTURES / "openai-batch" / "formats_md_output_and_errors.jsonl"
    (doc,) = inspect_json(str(path))["files"]
    assert (doc["format"], doc["mappable"]) == ("openai-batch", False)
    assert [g["what"] for g in doc["gaps"]] == ["latency"]
    text = runner.invoke(app, ["inspect", str(path)], env={"COLUMNS": "200"}).stdout
    assert "openai-batch records do not carry it: nothing to map" in text


def test_only_a_sample_is_read_and_it_says_so(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    rows = [
        {"ts": f"2026-11-20T09:00:{i % 60:02d}Z", "request_id": f"r{i}", "latency_ms": 5, "status": 200}
        for i in range(500)
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (doc,) = inspect_json(str(path), "--lines", "100")["files"]
    assert (doc["sampled_lines"], doc["whole_file"], doc["events"]) == (100, False, 100)
    text = runner.invoke(app, ["inspect", str(path), "-n", "100"], env={"COLUMNS": "200"}).stdout
    assert "Read the first 100 lines" in text


def test_bad_arguments_are_one_sentence(mystery: Path) -> None:
    for args in (["--map", "nope=x"], ["--time-is", "middle"], ["--input-format", "zipkin"]):
        result = runner.invoke(app, ["inspect", str(mystery), *args])
        assert result.exit_code == 2, args
        assert result.stderr.startswith("aiobs: ") and result.stderr.count("\n") == 1, result.stderr
    missing = runner.invoke(app, ["inspect", str(mystery.parent / "nothing.jsonl")])
    assert missing.exit_code == 2


@pytest.mark.parametrize("fmt", ["terminal", "json"])
def test_the_lines_a_problem_quotes_are_redacted_unless_asked(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "leaky.jsonl"
    path.write_text(
        '{"request_id":"a","ts":"2026-11-28T10:00:00Z"}\n'
        '{"e":"bob@example.org","k":"AKIAIOSFODNN7EXAMPLE"\n"+1 415-555-0132"\n'
    )
    default = CliRunner().invoke(app, ["inspect", str(path), "-f", fmt], env={"COLUMNS": "200"})
    raw = CliRunner().invoke(app, ["inspect", str(path), "-f", fmt, "--no-redact"], env={"COLUMNS": "200"})
    assert default.exit_code == raw.exit_code == 0, default.output
    for secret in ("bob@example.org", "AKIAIOSFODNN7EXAMPLE", "415-555-0132"):
        assert secret not in default.output
        if fmt == "json":  # the terminal cuts long examples: the JSON has them whole
            assert secret in raw.output
    assert "[email]" in default.output


def test_a_log_store_response_is_named_and_read_whole(tmp_path: Path) -> None:
    """A pretty-printed CloudWatch response longer than the sample: its first lines are not a readable
    part of it, so it is read whole, and the evidence names the wrapper and the format of what it holds."""
    lines = (ROOT / "tests" / "fixtures" / "structlog" / "scenario.jsonl").read_text().splitlines()
    events = [{"timestamp": 1763629200000 + i, "message": line, "eventId": str(i)} for i, line in enumerate(lines)]
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"events": events * 20, "searchedLogStreams": []}, indent=4))
    assert len(path.read_text().splitlines()) > 20  # more lines than the sample below
    (found,) = inspect_json(str(path), "--lines", "20")["files"]
    assert found["format"] == "structlog"
    assert found["evidence"].startswith("CloudWatch filter-log-events / get-log-events output, read as the lines")
    assert found["whole_file"] and found["events"] == 20 * len(lines)


def test_a_file_that_mixes_two_loggers_says_so(tmp_path: Path) -> None:
    structlog = (FIXTURES / "structlog" / "scenario.jsonl").read_bytes()
    loguru = (FIXTURES / "loguru" / "scenario.jsonl").read_bytes()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(structlog + loguru)
    (doc,) = inspect_json(str(mixed))["files"]
    n, total = loguru.count(b"\n"), loguru.count(b"\n") + structlog.count(b"\n")
    assert doc["format"] == "structlog"
    assert doc["evidence"].endswith(
        f"; but {n} of {total} lines across the sample look like loguru: "
        "this file mixes two formats, and aiobs reads a file as one; split it and read each part"
    )
    (alone,) = inspect_json(str(FIXTURES / "structlog" / "scenario.jsonl"))["files"]
    assert "mixes" not in alone["evidence"]
