"""aiobs from Python: `aiobs.summarize`, `aiobs.read_logs`, `aiobs.summary_json`, the calls behind the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

import aiobs
from aiobs.cli import app
from aiobs.errors import InputError, UsageError
from aiobs.schema import REQUEST_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
STRUCTLOG = ROOT / "tests" / "fixtures" / "structlog" / "scenario.jsonl"


def cli_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["summarize", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = orjson.loads(result.stdout)
    return document


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "generated_at"}


def test_summarize_gives_the_document_the_command_writes() -> None:
    summary = aiobs.summarize(
        SAMPLES, by=["model", "route"], since="2026-11-28T06:00:00Z", where="latency_ms>1000", top=3
    )
    expected = cli_json(
        str(SAMPLES), "--by", "model", "--by", "route", "--since", "2026-11-28T06:00:00Z",
        "--where", "latency_ms>1000", "--top", "3",
    )  # fmt: skip
    assert without_time(aiobs.summary_json(summary)) == without_time(expected)
    assert summary.groups["model"].height == 4  # three and `other`


def test_a_mapping_given_as_a_dict_is_the_command_lines_map(tmp_path: Path) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text('{"rid": "a", "model": "gpt-4o", "latency_ms": 120}\n{"rid": "b", "model": "gpt-4o"}\n')
    from_python = aiobs.summary_json(aiobs.summarize(log, mapping={"correlation_id": "rid"}))
    assert without_time(from_python) == without_time(cli_json(str(log), "--map", "correlation_id=rid"))
    assert from_python["overall"]["requests"] == 2


def test_read_logs_is_the_request_table_and_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    requests = aiobs.read_logs([SAMPLES / "chatbot.jsonl", SAMPLES / "rag"], n_buckets=4)
    assert isinstance(requests, pl.DataFrame)
    assert set(REQUEST_SCHEMA) <= set(requests.columns)
    summary = aiobs.summarize([SAMPLES / "chatbot.jsonl", SAMPLES / "rag"])
    assert requests.height == summary.n_requests
    assert list(tmp_path.glob("aiobs-*")) == []  # the spilled buckets were removed


def test_a_datetime_without_a_zone_is_utc() -> None:
    naive = aiobs.summarize(SAMPLES, since=datetime(2026, 11, 29))
    aware = aiobs.summarize(SAMPLES, since=datetime(2026, 11, 29, tzinfo=UTC))
    assert (
        naive.n_requests == aware.n_requests == cli_json(str(SAMPLES), "--since", "2026-11-29")["overall"]["requests"]
    )


def test_the_config_file_is_read_as_the_command_reads_it_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text('{"rid": "a", "latency_ms": 120}\n{"rid": "b", "latency_ms": 80}\n')
    (tmp_path / "aiobs.toml").write_text('[mapping]\ncorrelation_id = "rid"\n')
    monkeypatch.chdir(tmp_path)
    assert aiobs.summarize(log).n_requests == 2
    with pytest.raises(InputError, match="no usable events"):
        aiobs.summarize(log, config=False)  # no correlation ID without the file's mapping


def test_mistakes_raise_the_sentences_the_command_prints() -> None:
    with pytest.raises(UsageError, match="did you mean model"):
        aiobs.summarize(SAMPLES, by="modle")
    with pytest.raises(UsageError, match="--since must be before --until"):
        aiobs.summarize(SAMPLES, since="2026-11-29", until="2026-11-28")


def test_import_aiobs_stays_light() -> None:
    code = "import sys, aiobs; print(sorted(m for m in ('polars', 'typer', 'rich', 'aiobs.api') if m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        aiobs.nothing  # noqa: B018


def test_a_date_is_its_midnight_and_a_wrong_type_is_one_sentence() -> None:
    from datetime import date

    assert (
        aiobs.summarize(SAMPLES, since=date(2026, 11, 29)).n_requests
        == aiobs.summarize(SAMPLES, since="2026-11-29").n_requests
    )
    with pytest.raises(UsageError, match="since and until take a datetime, a date or a string"):
        aiobs.summarize(SAMPLES, since=20261129)  # type: ignore[arg-type]
    assert {"summarize", "read_logs", "summary_json"} <= set(dir(aiobs))
