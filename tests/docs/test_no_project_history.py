"""User-facing text never mentions the project's own history ("issue 3"): users do not know our issue numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
HISTORY = re.compile(r"\b(issue|milestone|ticket)s? ?#?\d+\b", re.IGNORECASE)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = [[], *([c.name] for c in app.registered_commands if not c.hidden)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_do_not_cite_issue_numbers(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert not HISTORY.findall(text), [m.group() for m in HISTORY.finditer(text)]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "aiobs")
def test_help_does_not_cite_issue_numbers(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert not HISTORY.search(result.output), result.output
