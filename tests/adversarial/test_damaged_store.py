"""A damaged history store through the CLI: every command that reads or records it goes on, names each
damaged file once on stderr, and keeps its exit code (check: 0 or 1, never 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs")
ENV = {"COLUMNS": "160", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "GITHUB_STEP_SUMMARY": None}
#: A day the sample logs do not cover: no run rewrites it, so every reader meets it damaged.
OTHER_DAY = "2026-11-20.parquet"

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env=ENV)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("history") / "store"
    recorded = invoke("summarize", SAMPLE, "--history", str(store))
    assert recorded.exit_code == 0, recorded.output
    return store


@pytest.fixture
def damaged(whole: Path, tmp_path: Path) -> Path:
    """The sample store with a truncated day it covers, a corrupt day it does not, no run list, a broken manifest."""
    store = tmp_path / "store"
    shutil.copytree(whole, store)
    sample_day = store / "days" / "2026-11-28.parquet"
    data = sample_day.read_bytes()
    (store / "days" / OTHER_DAY).write_bytes(data[:4] + bytes(len(data) - 12) + data[-8:])
    sample_day.write_bytes(data[: len(data) // 3])
    (store / "runs.parquet").write_bytes(b"")
    (store / "aiobs-history.json").write_text('{"format": "aiobs.hist')
    return store


def warnings_of(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("aiobs: warning: ")]


def test_history_lists_what_is_whole_and_names_each_damaged_file_once(damaged: Path) -> None:
    shown = invoke("history", str(damaged))
    assert shown.exit_code == 0, shown.output
    said = warnings_of(shown)
    assert len(said) == len(set(said)) == 4  # read by days, runs, trends and anomalies: named once
    days = damaged / "days"
    assert f"aiobs: warning: skipped {days / '2026-11-28.parquet'}: not a whole Parquet file (truncated?); " in (
        "\n".join(said)
    )
    assert any(f"skipped {days / OTHER_DAY}: corrupt Parquet data (" in line for line in said)
    assert f"aiobs: warning: skipped {damaged / 'runs.parquet'}: empty (0 bytes); move it away or delete it" in said
    assert any(f"{damaged / 'aiobs-history.json'}: not valid JSON (truncated?); read the store" in x for x in said)
    assert "2026-11-29" in shown.stdout and "2026-11-28" not in shown.stdout

    as_json = invoke("history", str(damaged), "--format", "json")
    assert as_json.exit_code == 0
    document = orjson.loads(as_json.stdout)  # the warnings stay on stderr
    assert [d["day"] for d in document["days"]] == ["2026-11-29"]


def test_history_keep_days_prunes_a_damaged_store(damaged: Path) -> None:
    pruned = invoke("history", str(damaged), "--keep-days", "1")
    assert pruned.exit_code == 0, pruned.output
    assert not list((damaged / "days").glob("*.parquet"))
    assert (damaged / "runs.parquet").read_bytes() == b""  # a damaged run list is left for a recorded run to set aside


def test_summarize_records_into_a_damaged_store_and_heals_it(damaged: Path) -> None:
    recorded = invoke("summarize", SAMPLE, "--history", str(damaged), "--format", "json")
    assert recorded.exit_code == 0, recorded.output
    orjson.loads(recorded.stdout)
    said = "\n".join(warnings_of(recorded))
    for name in ("2026-11-28.parquet", "runs.parquet", "aiobs-history.json"):
        (aside,) = damaged.rglob(f"{name}.damaged-*")
        assert f"kept it as {aside.name}" in said
    assert "aiobs: recorded run" in recorded.stderr
    (damaged / "days" / OTHER_DAY).unlink()  # the one the run did not cover
    again = invoke("history", str(damaged))
    assert again.exit_code == 0 and warnings_of(again) == []
    assert "2026-11-28" in again.stdout and "2026-11-29" in again.stdout


def test_report_with_a_damaged_store_writes_its_trends(damaged: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    made = invoke("report", SAMPLE, "-o", str(out), "--history", str(damaged))
    assert made.exit_code == 0, made.output
    said = warnings_of(made)
    assert len(said) == len(set(said))
    assert any(f"skipped {damaged / 'days' / OTHER_DAY}: corrupt Parquet data (" in line for line in said)
    assert any("kept it as 2026-11-28.parquet.damaged-" in line for line in said)
    assert "history store" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("slo", "code"), [("requests > 0", 0), ("requests < 10", 1)])
def test_check_keeps_its_exit_code_with_a_damaged_store(damaged: Path, slo: str, code: int) -> None:
    checked = invoke("check", SAMPLE, "--slo", slo, "--history", str(damaged))
    assert checked.exit_code == code, checked.output
    assert "internal error" not in checked.stderr
    assert any("kept it as 2026-11-28.parquet.damaged-" in line for line in warnings_of(checked))
    assert "aiobs: recorded run" in checked.stderr
