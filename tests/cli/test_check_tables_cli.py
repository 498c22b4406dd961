"""`aiobs check` at 80, 100 and 120 columns and through a pipe: every table fits, and every value the
JUnit file reports is in it, in the footnotes under it, or in a column named in a "left out" note."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from text_tables import PrintedTable, assert_complete, assert_fits, printed_tables, table_titled

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs"
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "GITHUB_STEP_SUMMARY": None}
SLOS = [
    "p95(latency_ms) < 3s",
    "error_rate < 2% by route",
    "cost_per_1k < $8",
    "p95(latency_ms, model=gpt-4o-mini) < 2s by route",
    "rate(refusal) < 1% by model",
    "p95(latency_ms, model=gpt-4oo) < 2s",
]
SLO_DETAIL = re.compile(
    r"(?:(?:no data|unmatched): (?P<why>.*)|.+? = (?P<value>.+?), required (?P<limit>.+?)(?: \((?P<note>.*)\))?)$"
)
COMPARED = re.compile(
    r"\S+ (?P<baseline>.+?) -> (?P<current>.+?), change (?P<change>\S+(?: pp)?) \(interval (?P<interval>.+)\),"
)

runner = CliRunner()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    saved = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json", "--output", str(path)], env=ENV)
    assert saved.exit_code == 0, saved.output
    return path


def detail(case: ET.Element) -> str:
    for tag in ("failure", "skipped"):
        if (element := case.find(tag)) is not None:
            return element.get("message") or ""
    return case.findtext("system-out") or ""


def check_slos(table: PrintedTable, cases: list[ET.Element]) -> None:
    values: dict[str, list[str]] = {"group": [], "value": [], "limit": [], "note": []}
    for case in cases:
        group = re.search(r" \[(.*)\]$", case.get("name") or "")
        values["group"] += [group.group(1)] if group else []
        found = SLO_DETAIL.match(detail(case))
        assert found, detail(case)
        for name in ("value", "limit", "note"):
            values[name] += [found.group(name)] if found.group(name) else []
        values["note"] += [found.group("why")] if found.group("why") else []
    assert_complete(table, values)


def check_comparisons(table: PrintedTable, cases: list[ET.Element], several: bool) -> None:
    values: dict[str, list[str]] = {"metric": [], "group": [], "baseline": [], "current": [], "change": []}
    values |= {"interval": [], "note": []}
    for case in cases:
        metric, group = (case.get("name") or "").rsplit(" (", 1)[0].split(" ", 1)
        values["metric"] += [metric] if several else []
        values["group"].append(group)
        if (found := COMPARED.match(detail(case))) is not None:
            for name in ("baseline", "current", "change", "interval"):
                values[name].append(found.group(name))
        else:
            values["note"].append(detail(case).removeprefix("no data: "))
    assert_complete(table, values)


@pytest.mark.parametrize("width", [80, 100, 120, None])
def test_every_check_table_fits_and_keeps_every_value(tmp_path: Path, baseline: Path, width: int | None) -> None:
    junit = tmp_path / "junit.xml"
    args = [a for slo in SLOS for a in ("--slo", slo)]
    env = {**ENV, "COLUMNS": str(width) if width else None}
    result = runner.invoke(
        app, ["check", str(SAMPLE), *args, "--baseline", str(baseline), "--all", "--junit", str(junit)], env=env
    )
    assert result.exit_code == 1, result.output
    assert_fits(result.output, width or 120)  # in a pipe, without COLUMNS, as wide as a CI log
    suites = {s.get("name"): s.findall("testcase") for s in ET.parse(junit).getroot()}
    slos = table_titled(result.output, "SLOs")
    check_slos(slos, suites["aiobs.slo"])
    assert slos.widths[1] >= 24 and slos.headers[1] == "SLO / group"  # an SLO is not cut into 8-character pieces
    gates = {(c.get("name") or "").rsplit(" (", 1)[1].removesuffix(")") for c in suites["aiobs.baseline"]}
    assert len(printed_tables(result.output)) == 1 + len(gates)
    for gate in gates:
        cases = [c for c in suites["aiobs.baseline"] if (c.get("name") or "").endswith(f"({gate})")]
        check_comparisons(table_titled(result.output, f"{gate}:"), cases, several=gate == "rate(*)=1pp")
