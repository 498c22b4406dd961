"""`aiobs check` output: JUnit XML against its schema, Markdown and terminal tables, with hostile names."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import xmlschema
from rich.console import Console

from aiobs.gates.baseline import compare, default_gates
from aiobs.gates.expressions import parse_gate, parse_slo
from aiobs.gates.results import CheckReport, Status
from aiobs.gates.slo import evaluate_slos
from aiobs.profiles import profile_requests
from aiobs.render.check import render_check_markdown, render_check_terminal
from aiobs.render.junit import render_junit
from synthetic import make_requests

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "fixtures" / "junit" / "junit.xsd")
HOSTILE = ("a|b<script>alert(1)</script>", "\x1b[31mred\x07", "]]><x/>&amp;", "[bold]x[/]\x00\x0b")
SLOS = [
    "p95(latency_ms) < 100000",
    "error_rate < 0.5%",
    "rate(refusal) < 2%",
    "rate(pii_in_output) < 1%",
    "error_rate < 50% by model",
]


def report(frame: pl.DataFrame, base: pl.DataFrame | None = None) -> CheckReport:
    out = CheckReport(inputs=["x.jsonl"], requests=frame.height)
    out.slos = evaluate_slos(frame.lazy(), [parse_slo(t, name="latency" if i == 0 else "") for i, t in enumerate(SLOS)])
    if base is not None:
        gates = [*default_gates(), parse_gate("p95=10% by model")]
        out.comparisons, out.tested, out.interval_level = compare(
            profile_requests(frame.lazy()), profile_requests(base.lazy()), gates
        )
        out.baseline, out.baseline_requests = "base.json", base.height
    return out


CURRENT = make_requests(3000, seed=1, models=HOSTILE, flags={"refusal": 0.01}, error_rates={HOSTILE[0]: 0.2})
BASELINE = make_requests(3000, seed=2, models=HOSTILE, flags={"refusal": 0.01})
REPORT = report(CURRENT, BASELINE)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_junit_is_valid_against_the_schema_and_counts_add_up() -> None:
    xml = render_junit(REPORT, now=NOW)
    SCHEMA.validate(xml)
    root = ET.fromstring(xml)
    cases = root.findall("./testsuite/testcase")
    assert int(root.get("tests", "")) == len(cases) == len(REPORT.slos) + len(REPORT.comparisons)
    failures = root.findall("./testsuite/testcase/failure")
    skipped = root.findall("./testsuite/testcase/skipped")
    assert (
        int(root.get("failures", ""))
        == len(failures)
        == sum(r.status.fails for r in [*REPORT.slos, *REPORT.comparisons])
    )
    assert int(root.get("skipped", "")) == len(skipped) == REPORT.no_data
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests", "")) == len(suite.findall("testcase"))
        assert suite.get("timestamp") == "2026-12-01T12:00:00"
    assert [s.get("name") for s in root.findall("testsuite")] == ["aiobs.slo", "aiobs.baseline"]


def test_junit_names_say_what_failed() -> None:
    root = ET.fromstring(render_junit(REPORT, now=NOW))
    by_name = {case.get("name"): case for case in root.iter("testcase")}
    breached = by_name["error_rate < 0.5%"].find("failure")
    assert breached is not None and breached.get("type") == "breached"
    assert "required < 0.50%" in (breached.get("message") or "")
    assert by_name["latency: p95(latency_ms) < 100000"].find("system-out") is not None
    assert "no data" in (by_name["rate(pii_in_output) < 1%"].find("skipped").get("message") or "")  # type: ignore[union-attr]
    regressed = [
        c for c in root.iter("testcase") if (f := c.find("failure")) is not None and f.get("type") == "regressed"
    ]
    assert any("error_rate model=a|b<script>" in (c.get("name") or "") for c in regressed)


def test_hostile_names_are_inert_in_xml() -> None:
    xml = render_junit(REPORT, now=NOW)
    assert "\x1b" not in xml and "\x00" not in xml and "\x0b" not in xml
    assert "<script>" not in xml and "]]><x/>" not in xml
    names = [c.get("name") or "" for c in ET.fromstring(xml).iter("testcase")]
    assert any("a|b<script>alert(1)</script>" in n for n in names)  # escaped in the file, intact when read


def test_markdown_escapes_log_values() -> None:
    md = render_check_markdown(REPORT)
    assert "<script>" not in md and "\x1b" not in md
    assert "a\\|b&lt;script&gt;" in md
    assert md.startswith("## aiobs check: FAILED")
    assert "<details><summary>All comparisons</summary>" in md
    for line in md.splitlines():
        if line.startswith("| ") and "a\\|b" in line:
            assert line.count(" | ") == line.replace("\\|", "").count(" | ")  # no extra columns from data


def test_terminal_shows_no_escape_sequences_or_markup() -> None:
    buffer = io.StringIO()
    render_check_terminal(REPORT, Console(file=buffer, width=160, color_system=None))
    out = buffer.getvalue()
    assert "\x1b" not in out
    assert "\\x1b[31mred" in out
    assert "[bold]x[/]" in out  # shown as text, not applied as markup
    assert "FAILED" in out and "BREACHED" in out and "REGRESSED" in out


def test_headline_counts() -> None:
    counts = REPORT.counts()
    assert counts[Status.BREACHED] >= 1 and counts[Status.REGRESSED] >= 1
    assert REPORT.failed
    passing = report(BASELINE)
    passing.slos = [r for r in passing.slos if r.status is not Status.BREACHED]
    assert not passing.failed


@pytest.mark.parametrize("broken", ["<testsuites/>", '<testsuites name="x" tests="-1"/>'])
def test_the_schema_rejects_broken_documents(broken: str) -> None:
    assert not SCHEMA.is_valid(broken)
