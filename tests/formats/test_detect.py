"""Format detection on every fixture, `--input-format` overriding it, and unknown names as usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from format_helpers import FIXTURES, read_events
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.errors import UsageError
from aiobs.formats import FORMAT_NAMES, check_input_format, frame_source
from aiobs.formats.detect import detect_format
from aiobs.formats.loggers import PRESETS
from aiobs.issues import IssueLog
from aiobs.sources.paths import expand_inputs
from aiobs.sources.read import iter_chunks
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
FORMAT_DIRS = (
    "otlp",
    "jaeger",
    "tempo",
    "openai-batch",
    "bedrock",
    "litellm",
    "langfuse",
    "provider-response",
    "langsmith",
    "langchain",
    *(p.name for p in PRESETS),
)
FIXTURE_FILES = [
    pytest.param(path, path.relative_to(FIXTURES).parts[0], id=str(path.relative_to(FIXTURES)))
    for name in FORMAT_DIRS
    for path in sorted((FIXTURES / name).rglob("*"))
    if path.is_file() and path.name != "README.md"
]
runner = CliRunner()


def detected(path: Path) -> str:
    source = expand_inputs([str(path)])[0]
    issues = IssueLog()
    name, _ = frame_source(iter_chunks(source, issues), issues, None)
    return name


def test_every_format_has_fixtures() -> None:
    assert {fmt for _, fmt in (p.values for p in FIXTURE_FILES)} == set(FORMAT_DIRS) == set(FORMAT_NAMES) - {"native"}


@pytest.mark.parametrize(("path", "fmt"), FIXTURE_FILES)
def test_each_fixture_is_detected_as_its_format(path: Path, fmt: str) -> None:
    assert detected(path) == fmt


@pytest.mark.parametrize(
    "path", sorted(p for p in (ROOT / "sample_logs").rglob("*") if p.suffix in (".jsonl", ".gz", ".zst"))
)
def test_native_sample_logs_are_native(path: Path) -> None:
    assert detected(path) == "native"


def test_a_broken_first_line_does_not_decide(tmp_path: Path) -> None:
    good = (FIXTURES / "otlp" / "formats_md_traces.jsonl").read_bytes()
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"resourceSpans": [{"scop\n' + good + good)
    assert detected(path) == "otlp"


def test_majority_of_the_first_lines_wins() -> None:
    batch = b'{"custom_id": "a", "response": null, "error": {"code": "x"}}\n'
    native = b'{"request_id": "r", "event": "llm", "ts": 1}\n'
    assert detect_format(native + batch * 3) == "openai-batch"
    assert detect_format(native * 3 + batch) == "native"
    assert detect_format(b"\xef\xbb\xbf" + batch) == "openai-batch"  # a byte-order mark is not part of the JSON


def test_input_format_overrides_detection(tmp_path: Path) -> None:
    # No call_type, so detection cannot tell it is LiteLLM: read as native, startTime/endTime give no duration.
    row = {
        "request_id": "c1",
        "model": "openai/gpt-4o",
        "startTime": 1732870800.0,
        "endTime": 1732870801.25,
        "prompt_tokens": 7,
    }
    path = tmp_path / "calls.jsonl"
    path.write_bytes(orjson.dumps(row) + b"\n")
    assert detected(path) == "native"
    as_native, _ = read_events(path)
    as_litellm, _ = read_events(path, input_format="litellm")
    assert as_native.row(0, named=True)["duration_ms"] is None
    litellm = as_litellm.row(0, named=True)
    assert (litellm["duration_ms"], litellm["provider"], litellm["input_tokens"]) == (1250.0, "openai", 7)


def test_input_format_on_the_command_line(tmp_path: Path) -> None:
    row = {"id": "c1", "model": "gpt-4o", "startTime": 1732870800.0, "endTime": 1732870801.25, "completion_tokens": 3}
    path = tmp_path / "calls.jsonl"
    path.write_bytes(orjson.dumps(row) + b"\n")
    result = runner.invoke(app, ["summarize", str(path), "--input-format", "litellm", "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)["overall"]
    assert (overall["requests"], overall["latency_ms"]["max"], overall["tokens"]["output"]) == (1, 1250.0, 3)
    auto = runner.invoke(app, ["summarize", str(path), "--input-format", "auto", "--format", "json"])
    assert auto.exit_code == 2  # as native there is no request ID: no usable events
    assert "no usable events" in auto.stderr


def test_unknown_input_format_is_a_usage_error(tmp_path: Path) -> None:
    path = FIXTURES / "openai-batch" / "formats_md_output_and_errors.jsonl"
    result = runner.invoke(app, ["summarize", str(path), "--input-format", "zipkin"])
    assert result.exit_code == 2
    names = ", ".join(
        [
            "auto",
            "native",
            "otlp",
            "jaeger",
            "tempo",
            "openai-batch",
            "bedrock",
            "litellm",
            "langfuse",
            "provider-response",
            "langsmith",
            "langchain",
            *(p.name for p in PRESETS),
        ]
    )
    assert result.stderr == f"aiobs: unknown input format 'zipkin': choose from {names}\n"
    with pytest.raises(UsageError, match="unknown input format 'zipkin'"):
        summarize(expand_inputs([str(path)]), input_format="zipkin")
    assert check_input_format(" OTLP ") == "otlp"
    assert check_input_format("auto") is None


def test_files_of_every_format_in_one_run(tmp_path: Path) -> None:
    """A folder of logs from several services in several formats: one run reads them all (before: exit 3,
    the formats' event tables had their columns in different orders)."""
    paths = [
        ROOT / "sample_logs" / "chatbot.jsonl",
        FIXTURES / "otlp" / "formats_md_traces.jsonl",
        FIXTURES / "openai-batch" / "formats_md_output_and_errors.jsonl",
        FIXTURES / "pino" / "scenario.jsonl",
        FIXTURES / "langchain" / "callbacks.jsonl",
        FIXTURES / "provider-response" / "openai_chat.jsonl",
    ]
    alone = [summarize(expand_inputs([str(p)]), flags=False).n_requests for p in paths]
    together = summarize(expand_inputs([str(p) for p in paths]), flags=False, n_buckets=3)
    assert together.n_requests == sum(alone)
