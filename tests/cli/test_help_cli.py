"""Every command's --help names each option's value the way the README does (FILE, DIR, N), not by Python type."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

COMMANDS = ("inspect", "summarize", "outliers", "trace", "check", "history", "report", "sample", "docs")
#: typer's labels for a value without a metavar: `<str>`, `<int range>`, `<list[str]>`, `<path>`...
TYPE_LABEL = re.compile(r"<(?:str|int|float|path|list\[\w+\])(?: range)?>")

runner = CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_options_show_a_metavar_not_a_python_type(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    usage, options = result.output.split("\nOptions:\n")
    assert TYPE_LABEL.findall(options) == []
    # Arguments too: `PATHS...` in the usage line, as the README writes it (an optional one in brackets,
    # `[PAGE]`), and no type in their help.
    assert TYPE_LABEL.findall(usage) == []
    first = usage.splitlines()[0]
    assert re.fullmatch(rf"Usage: aiobs {command} \[OPTIONS\]( [A-Z]+(\.\.\.)?| \[[A-Z]+(\.\.\.)?\])+", first), first
    assert "Examples:\n" in result.output  # on a line of its own: each example below it, one a line
