"""Logs with one line per request: the report says what is known, and that the stage breakdown is not.

A log of one JSON line per request (correlation ID, model, latency, status) has no stage events, so every
request is 100 % "other": a tail sentence ("No stage grows in the p99 tail") or a stage chart built from
that would state an absence of evidence as a finding.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from aiobs.render.charts import render_charts, tail_attribution
from aiobs.render.html import render_html
from aiobs.report.model import ONE_EVENT_SENTENCE, Report, build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from conftest import _write_jsonl

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5")


def _one_line_per_request(n: int) -> list[dict[str, Any]]:
    return [
        {
            "ts": f"2026-11-28T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            "correlation_id": f"req-{i:05d}",
            "model": MODELS[i % 3],
            "route": ("/chat", "/rag/answer")[i % 2],
            "user_id": f"user-{i % 37}",
            "latency_ms": 200.0 + (i * 7919) % 9000,
            "status": "error" if i % 29 == 0 else "ok",
            "input_tokens": 100 + i % 900,
            "output_tokens": 10 + i % 300,
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def one_event(tmp_path_factory: pytest.TempPathFactory) -> Report:
    path = _write_jsonl(tmp_path_factory.mktemp("one-event") / "requests.jsonl", _one_line_per_request(400))
    return build_report(summarize(expand_inputs([str(path)]), keep_events=True), outlier_limit=10)


@pytest.fixture(scope="module")
def one_event_html(one_event: Report) -> str:
    return render_html(one_event)


def _section(html: str, name: str) -> str:
    return html.split(f'<section id="{name}"', 1)[1].split("</section>", 1)[0]


def test_the_model_knows_each_request_is_one_event(one_event: Report) -> None:
    assert one_event.overall["requests"] == 400 == one_event.events
    assert one_event.one_event_per_request
    assert one_event.tail_sentence == ONE_EVENT_SENTENCE
    assert "No stage grows" not in one_event.tail_sentence


def test_logs_with_stage_events_are_not_one_event(tmp_path: Path) -> None:
    rows = []
    for i, row in enumerate(_one_line_per_request(60)):
        rows.append({**row, "event": "gateway"})
        rows.append({**row, "event": "llm", "latency_ms": row["latency_ms"] * 0.8, "event_id": f"e{i}"})
    report = build_report(summarize(expand_inputs([str(_write_jsonl(tmp_path / "two.jsonl", rows))])), outlier_limit=0)
    assert not report.one_event_per_request
    assert report.tail_sentence != ONE_EVENT_SENTENCE
    assert tail_attribution(report) is not None


def test_the_headline_and_stages_say_what_is_known_and_how_to_learn_the_rest(one_event_html: str) -> None:
    headline = _section(one_event_html, "headline")
    assert re.search(r'<p class="lead" id="tail-sentence">Each request is a single event in these logs', headline)
    assert "No stage grows" not in one_event_html
    stages = _section(one_event_html, "stages")
    assert 'id="stages-unknown"' in stages and "each of the 400 requests is a single event" in stages
    assert "correlation ID" in stages and "--map correlation_id=FIELD" in stages
    # No chart or table of a breakdown the logs do not hold ("other 100 %").
    assert "<table" not in stages and "<figure" not in stages and "100.0%" not in stages


def test_no_stage_chart_and_no_slowest_stage_column(one_event: Report, one_event_html: str) -> None:
    assert tail_attribution(one_event) is None
    assert 'data-chart="tail-attribution"' not in one_event_html
    table = one_event_html.split('id="outlier-table"', 1)[1].split("</table>", 1)[0]
    assert "slowest stage" not in table
    rows = table.split("<tr data-error=")[1:]
    assert len(rows) == len(one_event.outliers) == 4 and all(row.count("<td") == 14 for row in rows)


def test_the_flag_heat_map_is_as_small_as_its_data(one_event: Report) -> None:
    """3 models and the one flag that flagged something: a few cells at their own size, not a page-wide map."""
    charts = render_charts(one_event, only=("flag-rates", "flags-by-model"))
    svg = charts["flags-by-model"]
    root = ET.fromstring(svg)
    assert float(root.get("width") or 0) < 500 and float(root.get("height") or 0) < 250
    assert (
        len(re.findall(r'aria-roledescription="rect mark" d="M[\d.]+,[\d.]+h62v24h-62Z"', svg)) == 3
    )  # a cell a model
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Failed requests" in texts and not [t for t in texts if "null" in t]


def test_the_markdown_report_says_the_same_and_draws_no_stage_table(one_event: Report) -> None:
    from aiobs.render.report_markdown import render_report_markdown

    md = render_report_markdown(one_event).text
    stages = md.split("## Stages and tail attribution", 1)[1].split("\n## ", 1)[0]
    assert ONE_EVENT_SENTENCE.replace("(", "\\(").replace(")", "\\)") in stages  # Markdown-escaped
    assert "| stage |" not in stages and "100.0%" not in stages
