"""The Markdown report: a golden file on the bundled sample logs, and hostile logs that must stay inert."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aiobs.render.charts import render_charts
from aiobs.render.report_markdown import IMAGE_CHARTS, mermaid_label, render_report_markdown
from aiobs.report.model import build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "report-sample_logs.md"
#: Set to rewrite the golden file; then review its diff like code before committing it.
UPDATE = os.environ.get("AIOBS_UPDATE_GOLDEN") == "1"


def _pinned_report(paths: list[str], **options: object) -> object:
    summary = summarize(expand_inputs(paths), keep_events=True)
    summary.generated_at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    summary.version = "0.0.0-golden"
    summary.price_data = "genai-prices (pinned for the golden file)"
    return build_report(summary, outlier_limit=50, command_line="aiobs report sample_logs/ -o report.md", **options)


def test_markdown_report_on_the_sample_logs_matches_the_golden_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = _pinned_report(["sample_logs/"])
    md = render_report_markdown(report, charts={name: "<svg/>" for name in IMAGE_CHARTS}, image_dir="report-charts")
    if UPDATE:
        GOLDEN.write_text(md.text, encoding="utf-8")
    assert md.text == GOLDEN.read_text(encoding="utf-8")
    assert set(md.images) == {f"{name}.svg" for name in IMAGE_CHARTS}  # flags too: the sample logs have them


def test_images_are_linked_only_when_written() -> None:
    report = _pinned_report([str(ROOT / "sample_logs" / "chatbot.jsonl")])
    md = render_report_markdown(report, charts=render_charts(report, only=IMAGE_CHARTS), image_dir=None)
    assert md.images == {}
    assert "![" not in md.text
    assert "```mermaid" in md.text  # charts still drawn where GitHub draws them


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_hostile_logs_stay_inert_in_markdown(hostile_logs: Path) -> None:
    summary = summarize(expand_inputs([str(hostile_logs)]), keep_events=True)
    md = render_report_markdown(build_report(summary, p=90), charts={}, image_dir=None).text
    for raw in ("<script", "<img", "<svg", "<iframe", "</td>", "](javascript", "![x]", "**bold**", "alice@example.com"):
        assert raw not in md, raw
    # no cell breaks out of its table: every row of a table has as many column separators as its header
    blocks = re.split(r"\n\s*\n", md)
    for block in blocks:
        rows = _table_rows(block)
        if rows:
            assert len({_unescaped_pipes(r) for r in rows}) == 1, rows
    # inside mermaid blocks only the characters mermaid_label lets through, plus our own syntax
    for block in re.findall(r"```mermaid\n(.*?)```", md, flags=re.DOTALL):
        for line in block.splitlines():
            assert re.fullmatch(r'[A-Za-z0-9 ._/@+\-"\[\],:%>]*', line), line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a"b', "a_b"),
        ("x:y;z#1", "x_y_z_1"),
        ("</script>", "_/script_"),
        ("%%{init}%%", "___init___"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("", "_"),
    ],
)
def test_mermaid_labels_are_inert(text: str, expected: str) -> None:
    assert mermaid_label(text) == expected
