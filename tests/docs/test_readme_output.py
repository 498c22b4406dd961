"""The README's "Real output" blocks of summarize, outliers and trace are what aiobs prints today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The README's blocks are printed 100 columns wide, colours off.
ENV = {"COLUMNS": "100", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}

runner = CliRunner()


def block_after(marker: str, fence: str = "```\n") -> list[str]:
    start = README.index(fence, README.index(marker)) + len(fence)
    return [line.rstrip() for line in README[start : README.index("\n```", start)].splitlines()]


def printed(*args: str) -> list[str]:
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return [line.rstrip() for line in result.output.strip("\n").splitlines()]


@pytest.fixture(autouse=True)
def _from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the README's commands name sample_logs/ relative to the clone


def test_summarize_by_model() -> None:
    block = block_after("Real output, `aiobs summarize sample_logs/ --by model`")
    elided = next(i for i, line in enumerate(block) if line.startswith("[… Quality flags"))
    head, tail = block[:elided], block[elided + 1 :]
    while tail and not tail[0]:
        tail = tail[1:]
    output = printed("summarize", "sample_logs/", "--by", "model")
    assert output[: len(head)] == head
    assert output[output.index(tail[0]) :] == tail


def test_the_quality_flags_section() -> None:
    block = block_after("From `aiobs summarize sample_logs/` (100 columns)")
    output = printed("summarize", "sample_logs/")
    start = output.index(block[0])
    assert output[start : start + len(block)] == block


def test_summarize_by_route_as_markdown() -> None:
    block = block_after("`aiobs summarize sample_logs/ --by route --format md`", fence="```markdown\n")
    output = printed("summarize", "sample_logs/", "--by", "route", "--format", "md")
    start = output.index(block[0])
    assert output[start : start + len(block)] == block


def test_outliers() -> None:
    assert printed("outliers", "sample_logs/", "--limit", "3") == block_after("`aiobs outliers sample_logs/ --limit 3`")


def test_trace_from_outliers() -> None:
    block = block_after("`aiobs trace sample_logs/ --from-outliers --limit 1`")
    assert re.match(r"Request [0-9a-f-]{36}$", block[0])
    output = printed("trace", "sample_logs/", "--from-outliers", "--limit", "1")
    assert output[: len(block)] == block  # the README leaves the texts that follow out
