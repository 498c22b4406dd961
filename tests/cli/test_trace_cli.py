"""`aiobs trace` through the real app: output formats chosen from --output's suffix."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.cli.common import ExitCode

ROOT = Path(__file__).resolve().parents[2]
CHATBOT = ROOT / "sample_logs" / "chatbot.jsonl"

runner = CliRunner()


def test_a_markdown_or_csv_output_is_refused_before_reading(tmp_path: Path) -> None:
    for name, kind in (("t.md", "Markdown"), ("t.csv", "CSV")):
        result = runner.invoke(app, ["trace", str(CHATBOT), "--from-outliers", "-o", str(tmp_path / name)])
        assert result.exit_code == ExitCode.USAGE
        assert result.output.startswith(f"aiobs: trace does not write {kind}: it writes terminal text or json")
        assert not (tmp_path / name).exists()
    result = runner.invoke(app, ["trace", str(CHATBOT), "--from-outliers", "-n", "1", "-o", str(tmp_path / "t.json")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.json").read_text(encoding="utf-8").startswith('{\n  "schema": "aiobs.trace/1"')


def test_the_waterfall_fits_an_80_column_terminal() -> None:
    import orjson

    worst = runner.invoke(app, ["outliers", str(ROOT / "sample_logs"), "--format", "json"])
    slowest = orjson.loads(worst.stdout)["outliers"][0]["correlation_id"]
    result = runner.invoke(app, ["trace", str(ROOT / "sample_logs"), "--id", slowest], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.stdout[result.stdout.index("Events (") :].split("\n\n", 1)[0].splitlines()[1:]
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert all(line.rstrip()[-1] in "+|" for line in table), table  # whole: its right border is there


def test_an_id_given_in_part_names_the_ids_it_starts(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trace", str(ROOT / "sample_logs"), "--id", "4caf4b72"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        "aiobs: no request with ID '4caf4b72' in the input; IDs that start with it: "
        "4caf4b72-2645-43e8-99d6-1f0f7af309a1\n"
    )


def test_a_long_text_is_cut_in_the_terminal_and_says_how_much_is_left(tmp_path: Path) -> None:
    import orjson

    prompt = "word " * 10_000  # 50,000 characters
    row = {"request_id": "r1", "ts": "2026-11-28T10:00:00Z", "event": "llm", "latency_ms": 900, "input": prompt}
    log = tmp_path / "big.jsonl"
    log.write_bytes(orjson.dumps(row) + b"\n")
    result = runner.invoke(app, ["trace", str(log), "--id", "r1"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "… and 30,000 more characters (--format json has the whole text)" in result.stdout
    whole = runner.invoke(app, ["trace", str(log), "--id", "r1", "--format", "json"])
    assert orjson.loads(whole.stdout)["requests"][0]["request"]["input_text"] == prompt
