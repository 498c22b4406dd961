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
    table = terminal[terminal.index("Overall") : terminal.index("└")]
    rows = [line.split("│")[1:3] for line in table.splitlines() if line.startswith("│")]
    assert len(rows) == 15  # requests priced, cost logged and on how many: the sample logs have all three
    md_rows = [[cell.strip() for cell in line.split("|")[1:3]] for line in markdown.splitlines()]
    for metric, value in rows:
        assert [metric.strip(), value.strip()] in md_rows
