"""`aiobs check` results as JUnit XML: one testcase per SLO result and per baseline comparison.

The layout CI systems read (Jenkins, GitLab, GitHub test reporters, Azure DevOps): a `testsuites`
root holding two `testsuite`s, `aiobs.slo` and `aiobs.baseline`. A breached SLO or a regression is a
`failure`; "no data" is `skipped`. Text from the logs (model and route names) is stripped of the
characters XML 1.0 cannot carry and escaped by ElementTree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from aiobs.escape import visible
from aiobs.gates.results import CheckReport, Comparison, SloResult, Status, group_label
from aiobs.render.check import allowed, change, interval, metric_value, slo_limit

# Characters XML 1.0 forbids outright (C0 controls but tab, newline, carriage return; U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Characters XML cannot hold, and invisible ones (bidi overrides, zero-width), as visible escapes."""
    return visible(_NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def _slo_case(result: SloResult) -> tuple[str, str, Status, str]:
    slo = result.slo
    name = slo.text + (f" [{group_label(result.group)}]" if result.group else "")
    if slo.name and slo.name != slo.text:
        name = f"{slo.name}: {name}"
    detail = f"{slo.metric.label} = {metric_value(result.value, slo.metric.unit)}, required {slo_limit(result)}"
    if result.status in (Status.NO_DATA, Status.UNMATCHED):
        detail = f"{result.status.value}: {result.note}"
    elif result.note:
        detail += f" ({result.note})"
    return "aiobs.slo", name, result.status, detail


def _comparison_case(c: Comparison) -> tuple[str, str, Status, str]:
    name = f"{c.metric} {c.group} ({c.gate.text})"
    if c.status is Status.NO_DATA:
        return f"aiobs.baseline.{c.dimension}", name, c.status, f"no data: {c.note}"
    detail = (
        f"{c.metric} {metric_value(c.baseline, c.unit)} -> {metric_value(c.current, c.unit)}, "
        f"change {change(c)} (interval {interval(c)}), allowed {allowed(c.gate)}: {c.status.value}"
    )
    return f"aiobs.baseline.{c.dimension}", name, c.status, detail


def _suite(root: ET.Element, name: str, cases: list[tuple[str, str, Status, str]], timestamp: str) -> None:
    failures = sum(status.fails for _, _, status, _ in cases)
    skipped = sum(status is Status.NO_DATA for _, _, status, _ in cases)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time="0",
        timestamp=timestamp,
    )
    for classname, case_name, status, detail in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=_clean(case_name), time="0")
        if status.fails:
            failure = ET.SubElement(case, "failure", message=_clean(detail), type=status.value)
            failure.text = _clean(detail)
        elif status is Status.NO_DATA:
            ET.SubElement(case, "skipped", message=_clean(detail))
        else:
            ET.SubElement(case, "system-out").text = _clean(detail)


def render_junit(report: CheckReport, *, now: datetime | None = None) -> str:
    timestamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    slo_cases = [_slo_case(r) for r in report.slos]
    comparison_cases = [_comparison_case(c) for c in report.comparisons]
    everything = slo_cases + comparison_cases
    root = ET.Element(
        "testsuites",
        name="aiobs check",
        tests=str(len(everything)),
        failures=str(sum(s.fails for _, _, s, _ in everything)),
        errors="0",
        skipped=str(sum(s is Status.NO_DATA for _, _, s, _ in everything)),
        time="0",
    )
    if slo_cases:
        _suite(root, "aiobs.slo", slo_cases, timestamp)
    if comparison_cases:
        _suite(root, "aiobs.baseline", comparison_cases, timestamp)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
