"""The Overall table reads the same in the terminal and in Markdown: one list of rows, every figure in both."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_markdown_shows_every_overall_figure_the_terminal_shows() -> None:
    runner = CliRunner()
    terminal = runner.invoke(app, ["summarize", str(ROOT / "sample_logs")], env={"COLUMNS": "120"}).stdout
    markdown = runner.invoke(app, ["summarize", str(ROOT / "sample_logs"), "-f", "md"]).stdout
    lines = terminal[terminal.index("Overall") :].splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("|-"))  # under the header
    bottom = next(i for i, line in enumerate(lines) if i > rule and line.startswith("+-"))
    rows = [line.split("|")[1:3] for line in lines[rule + 1 : bottom]]
    assert len(rows) == 15  # requests priced, cost logged and on how many: the sample logs have all three
    md_rows = [[cell.strip() for cell in line.split("|")[1:3]] for line in markdown.splitlines()]
    for metric, value in rows:
        assert [metric.strip(), value.strip()] in md_rows
