"""`aiobs check` tables in a terminal of 80, 100 or 120 columns, or a pipe: nothing cropped, nothing lost.

Every line fits; every column and every value is in the table (a label folded, an interval stacked,
the metric above its group), in the footnotes under it, or named in a "left out" note.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from aiobs.escape import terminal_text
from aiobs.gates.baseline import compare, default_gates
from aiobs.gates.expressions import parse_gate, parse_slo
from aiobs.gates.results import CheckReport, Comparison, SloResult, group_label
from aiobs.gates.slo import evaluate_slos
from aiobs.profiles import profile_requests
from aiobs.render import numbers as f
from aiobs.render.check import change, interval, metric_value, render_check_terminal, shown_comparisons, slo_limit
from synthetic import make_requests
from text_tables import assert_complete, assert_fits, printed_tables, table_titled

MODELS = ("gpt-4o-mini-2024-07-18-eu-west-deployment", "claude-3-5-haiku-latest", "o3")
ROUTES = ("/v1/chat/completions/stream-with-tools", "/rag/answer")
SLOS = [
    "p95(latency_ms) < 100000",
    "error_rate < 0.5%",
    "rate(refusal) < 2%",
    "rate(pii_in_output) < 1%",  # no request has the flag: no data, with a note
    "error_rate < 50% by model",
    "p95(latency_ms, route=/v1/chat/completions/stream-with-tools) < 2s by model",
    "p95(latency_ms, model=gpt-4oo) < 2s",  # matches nothing: unmatched, with a long note
]
WIDTHS = [80, 100, 120]


def make_report() -> CheckReport:
    # o3 is rare: too few of its requests for a p95, so its comparisons are "no data", with a note.
    weights = (0.6, 0.39, 0.01)
    current = make_requests(
        3000, seed=1, models=MODELS, model_weights=weights, routes=ROUTES, flags={"refusal": 0.01, "truncated": 0.02}
    )
    base = make_requests(
        800, seed=2, models=MODELS, model_weights=weights, routes=ROUTES, flags={"refusal": 0.01, "truncated": 0.01}
    )
    report = CheckReport(inputs=["x.jsonl"], requests=current.height)
    named = [parse_slo(text, name="latency" if i == 0 else "") for i, text in enumerate(SLOS)]
    report.slos = evaluate_slos(current.lazy(), named)
    gates = [*default_gates(), parse_gate("p95=10% by model")]
    report.comparisons, report.tested, report.interval_level = compare(
        profile_requests(current.lazy()), profile_requests(base.lazy()), gates
    )
    report.baseline, report.baseline_requests = "base.json", base.height
    return report


REPORT = make_report()


def render(width: int | None, *, show_all: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None)
    render_check_terminal(REPORT, console, show_all=show_all)
    return buffer.getvalue()


def slo_values(results: list[SloResult]) -> dict[str, list[str]]:
    text = [
        r.slo.text if not r.slo.name or r.slo.name == r.slo.text else f"{r.slo.name}: {r.slo.text}" for r in results
    ]
    return {
        "result": [r.status.value.upper() if r.status.fails else r.status.value for r in results],
        "SLO": [terminal_text(t, 120) for t in text],
        "group": [terminal_text(group_label(r.group), 80) for r in results],
        "value": [metric_value(r.value, r.slo.metric.unit) for r in results],
        "limit": [slo_limit(r) for r in results],
        "n": [f.count(r.n) for r in results],
        "note": [terminal_text(r.note, 200) for r in results],
    }


def comparison_values(rows: list[Comparison]) -> dict[str, list[str]]:
    return {
        "result": [c.status.value.upper() if c.status.fails else c.status.value for c in rows],
        "metric": [c.metric for c in rows] if len({c.metric for c in rows}) > 1 else [],
        "group": [terminal_text(c.group, 80) for c in rows],
        "baseline": [metric_value(c.baseline, c.unit) for c in rows],
        "current": [metric_value(c.current, c.unit) for c in rows],
        "change": [change(c) for c in rows],
        "interval": [interval(c) for c in rows],
        "note": [terminal_text(c.note, 200) for c in rows],
    }


def test_the_report_has_what_makes_tables_wide() -> None:
    assert any(r.note for r in REPORT.slos) and any(r.group for r in REPORT.slos)
    assert len({c.metric for c in REPORT.comparisons if c.gate.text == "rate(*)=1pp"}) > 1
    assert any(c.note for c in REPORT.comparisons)


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_table_fits_and_keeps_every_value(width: int, show_all: bool) -> None:
    output = render(width, show_all=show_all)
    assert_fits(output, width)
    assert_complete(table_titled(output, "SLOs"), slo_values(REPORT.slos))
    shown = shown_comparisons(REPORT, show_all=show_all)
    gates = list(dict.fromkeys(c.gate for c in shown))
    assert len(printed_tables(output)) == 1 + len(gates)
    for gate in gates:
        assert_complete(table_titled(output, f"{gate.text}:"), comparison_values([c for c in shown if c.gate is gate]))


def test_through_a_pipe_the_width_is_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert Console(file=io.StringIO()).width == 80
    output = render(None, show_all=True)
    assert_fits(output, 80)
    assert_complete(table_titled(output, "SLOs"), slo_values(REPORT.slos))


def test_at_80_columns_notes_become_footnotes_and_the_slo_text_stays_whole() -> None:
    slos = table_titled(render(80, show_all=False), "SLOs")
    assert "note" not in slos.headers and "[1]" in slos.columns[0]
    assert "matches no request" in slos.notes
    # The SLO's text is never cut into 8-character pieces: it wraps, if at all, between its words.
    assert slos.widths[slos.headers.index("SLO / group")] >= 24
    assert any("| latency: p95(latency_ms)" in line for line in slos.lines)
    assert any("| error_rate < 50% by model " in line for line in slos.lines)


def test_wide_enough_the_notes_stay_in_their_column() -> None:
    output = render(200, show_all=False)
    slos = table_titled(output, "SLOs")
    assert "note" in slos.headers and not slos.notes


def test_narrower_still_a_column_is_left_out_and_named() -> None:
    output = render(60, show_all=True)
    assert_fits(output, 60)
    slos = table_titled(output, "SLOs")
    assert "left out at 60 columns; widen the terminal or see every value with --junit FILE" in slos.notes
    assert_complete(slos, slo_values(REPORT.slos))
