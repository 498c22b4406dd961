"""The Markdown report: a golden file on the bundled sample logs, and hostile logs that must stay inert."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aiobs.render.charts import render_charts
from aiobs.render.markdown_blocks import mermaid_label
from aiobs.render.report_markdown import IMAGE_CHARTS, render_report_markdown
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


def _assert_inert(md: str) -> None:
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


def test_hostile_logs_stay_inert_in_markdown(hostile_logs: Path) -> None:
    summary = summarize(expand_inputs([str(hostile_logs)]), keep_events=True)
    md = render_report_markdown(build_report(summary, p=90), charts={}, image_dir=None).text
    _assert_inert(md)


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


# -- the Trends and Anomalies sections (aiobs report --history DIR) -------------------------------------------


def _history(frame: object, store: Path, days: int = 7) -> object:
    from aiobs import history
    from aiobs.profiles import profile_requests
    from aiobs.report.trends import read_history

    history.append(store, profile_requests(frame.lazy(), every="1h"), run_id="r", inputs=["r"])
    return read_history(store, days=days)


def _section(md: str, heading: str) -> str:
    return md.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_without_history_there_are_no_history_sections() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    assert "## Trends" not in text and "## Anomalies" not in text


def test_trends_and_the_planted_anomaly_in_markdown(tmp_path: Path) -> None:
    from synthetic import SPIKE, two_days_with_a_spike

    report = _pinned_report(
        [str(ROOT / "sample_logs" / "chatbot.jsonl")], history=_history(two_days_with_a_spike(), tmp_path / "s")
    )
    md = render_report_markdown(report, charts={}, image_dir=None).text
    assert md.index("## Over time") < md.index("## Trends") < md.index("## Anomalies") < md.index("## Stages")
    trends = _section(md, "## Trends")
    assert "xychart-beta" in trends and 'x-axis ["11-01", "11-02"]' in trends
    day_rows = [r for r in _table_rows(trends) if r.startswith("| 2026-11-0")]
    assert len(day_rows) == 2 and day_rows[1].endswith("| **3** |") and day_rows[0].endswith("| 0 |")
    header = _table_rows(trends)[0]
    assert header.startswith("| day | requests | error rate |") and "truncated | refusal | pii\\_in\\_input" in header
    assert "p95 latency per model" in trends
    anomalies = _section(md, "## Anomalies")
    rows = [r for r in _table_rows(anomalies) if r.startswith(f"| {SPIKE:%Y-%m-%d %H:%M} |")]
    assert len(rows) == 3 and all("p95\\(latency\\_ms\\)" in r for r in rows)
    assert any(r.startswith(f"| {SPIKE:%Y-%m-%d %H:%M} | overall |") for r in rows)
    assert anomalies.startswith("\n3 anomalies in the last 7 day(s)")
    _assert_inert(md)


def test_hostile_group_names_stay_inert_in_the_history_sections(tmp_path: Path, hostile_logs: Path) -> None:
    from conftest import PAYLOADS
    from synthetic import two_days_with_a_spike

    frame = two_days_with_a_spike(models=(PAYLOADS["model"], "alice@example.com"), routes=(PAYLOADS["route"],))
    summary = summarize(expand_inputs([str(hostile_logs)]), keep_events=True)
    md = render_report_markdown(
        build_report(summary, p=90, history=_history(frame, tmp_path / "s")), charts={}, image_dir=None
    ).text
    _assert_inert(md)
    assert "route=&lt;img src=x onerror=\"window.\\_\\_pwned='route'\"&gt;" in _section(md, "## Anomalies")
    assert "| \\[email\\] |" in _section(md, "## Trends")  # redacted, then escaped


def test_one_day_of_history_says_trends_need_more_days(tmp_path: Path) -> None:
    from synthetic import make_requests

    report = _pinned_report(
        [str(ROOT / "sample_logs" / "chatbot.jsonl")],
        history=_history(make_requests(400, seed=3, span=timedelta(hours=20)), tmp_path / "s"),
    )
    md = render_report_markdown(report, charts={}, image_dir=None).text
    trends = _section(md, "## Trends")
    assert "**Trends need more days**: the store holds only this run, with 1 day of data." in trends
    assert "```mermaid" not in trends
    assert "## Anomalies" in md
