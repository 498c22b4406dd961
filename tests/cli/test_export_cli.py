"""`summarize --export FILE`: the request table as Parquet or CSV, the same requests the summary counts."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.rebuild import FREE_TEXT_COLUMNS
from aiobs.schema import REQUEST_SCHEMA
from conftest import WriteJsonl

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
runner = CliRunner()


def test_parquet_holds_every_request_the_summary_counts(tmp_path: Path) -> None:
    target = tmp_path / "requests.parquet"
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--format", "json", "--export", str(target)])
    assert result.exit_code == 0, result.output
    overall = orjson.loads(result.stdout)["overall"]
    table = pl.read_parquet(target)
    assert table.height == overall["requests"] == table["correlation_id"].n_unique()
    assert int(table["is_error"].sum()) == overall["errors"]
    assert table["cost_usd"].sum() == pytest.approx(overall["cost_usd"], rel=1e-12)
    assert int(table["output_tokens"].sum()) == overall["tokens"]["output"]
    expected = [c for c in REQUEST_SCHEMA if c not in FREE_TEXT_COLUMNS]
    assert table.columns[: len(expected)] == expected
    # Then what the quality flags add: a column per flag, and the share of the context the answer used.
    added = {f"flag_{f}" for f in overall["flags"]} | {"context_utilisation"}
    assert set(table.columns[len(expected) :]) == added
    assert not list(tmp_path.glob(".*part"))  # written beside, then renamed


def test_csv_cells_are_inert(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            {"request_id": "r1", "route": '=HYPERLINK("http://evil.example")', "user": "a\x1b[31mb", "duration_ms": 5},
            {"request_id": "r1", "event": "llm", "model": "@SUM(A1)", "duration_ms": 2},
        ],
    )
    target = tmp_path / "requests.csv"
    result = runner.invoke(app, ["summarize", str(log), "--export", str(target), "-f", "json"])
    assert result.exit_code == 0, result.output
    row = pl.read_csv(target).row(0, named=True)
    assert row["route"] == '\'=HYPERLINK("http://evil.example")'
    assert "\x1b" not in target.read_text() and "\\x1b" in row["user"]
    assert row["models"] == "'@SUM(A1)"  # the list of models, joined, is made inert too


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("requests.txt", "aiobs: --export writes a .parquet or .csv file, not 'requests.txt'\n"),
        (
            "missing/requests.csv",
            "aiobs: cannot write {tmp}/missing/requests.csv: {tmp}/missing does not exist\n",
        ),
    ],
)
def test_a_wrong_export_target_is_one_sentence_before_reading(tmp_path: Path, target: str, message: str) -> None:
    result = runner.invoke(app, ["summarize", str(tmp_path / "no-such-logs"), "--export", str(tmp_path / target)])
    assert (result.exit_code, result.stderr) == (2, message.format(tmp=tmp_path))
