"""`aiobs check` results as rich tables and as GitHub-flavoured Markdown. Values from the logs are escaped."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.text import Text

from aiobs.escape import markdown_cell, terminal_text
from aiobs.gates.catalogue import Unit
from aiobs.gates.expressions import Gate
from aiobs.gates.results import CheckReport, Comparison, SloResult, Status, group_label
from aiobs.render import numbers as f
from aiobs.render.fit import Cell, Col, Layout, fit_table, footnotes

_STYLE = {
    Status.OK: "green",
    Status.IMPROVED: "green",
    Status.BREACHED: "bold red",
    Status.REGRESSED: "bold red",
    Status.NO_DATA: "yellow",
    Status.UNMATCHED: "bold red",
}
_MARK = {
    Status.OK: "✅",
    Status.IMPROVED: "✅",
    Status.BREACHED: "❌",
    Status.REGRESSED: "❌",
    Status.NO_DATA: "⚠️",
    Status.UNMATCHED: "❌",
}


# -- numbers ---------------------------------------------------------------------------------------------


def metric_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return "—"
    if unit is Unit.MS:
        return f"{f.ms(value)} ms"
    if unit is Unit.FRACTION:
        return f.pct(value)
    if unit is Unit.USD:
        return f.usd(value)
    if unit is Unit.PER_SECOND:
        return f"{value:,.1f}/s"
    return f"{value:,.0f}"


def slo_limit(result: SloResult) -> str:
    return f"{result.slo.op} {metric_value(result.slo.limit, result.slo.metric.unit)}"


def _points(value: float) -> str:
    return f"{value * 100:+.2f} pp"


def _relative(value: float) -> str:
    return f"{value * 100:+.1f}%"


def change(comparison: Comparison) -> str:
    if comparison.change is None:
        return "—"
    return _relative(comparison.change) if comparison.gate.relative else _points(comparison.change)


def interval(comparison: Comparison) -> str:
    if comparison.low is None or comparison.high is None:
        return "—"
    if comparison.gate.relative:
        return f"{comparison.low * 100:+.1f} … {comparison.high * 100:+.1f}%"
    return f"{comparison.low * 100:+.2f} … {comparison.high * 100:+.2f} pp"


def allowed(gate: Gate) -> str:
    sign = "+" if gate.metric.higher_is_worse else "−"
    return f"{sign}{gate.limit * 100:g}%" if gate.relative else f"{sign}{gate.limit * 100:g} pp"


def headline(report: CheckReport) -> str:
    counts = report.counts()
    parts = []
    if report.slos:
        parts.append(f"{counts[Status.BREACHED]} of {len(report.slos)} SLO result(s) breached")
    if report.comparisons:
        parts.append(f"{counts[Status.REGRESSED]} regression(s) in {report.tested} comparison(s)")
    if counts[Status.UNMATCHED]:
        parts.append(f"{counts[Status.UNMATCHED]} filter(s) matching no request")
    if counts[Status.NO_DATA]:
        parts.append(f"{counts[Status.NO_DATA]} without data")
    verdict = "FAILED" if report.failed else "passed"
    return f"{verdict}: " + "; ".join(parts)


def baseline_line(report: CheckReport) -> str:
    return (
        f"Baseline: {report.baseline}, {f.count(report.baseline_requests)} requests. "
        f"Intervals are {report.interval_level * 100:.2f}%: {report.confidence * 100:g}% over the "
        f"{report.tested} comparison(s) tested (Bonferroni). Regressed = the whole interval is worse "
        "and the change exceeds the gate."
    )


def shown_comparisons(report: CheckReport, *, show_all: bool) -> list[Comparison]:
    """Everything with --all; else the overall rows and every group row that is not ok or without data."""
    if show_all:
        return list(report.comparisons)
    return [c for c in report.comparisons if c.dimension == "overall" or c.status not in (Status.OK, Status.NO_DATA)]


def hidden_line(report: CheckReport, shown: list[Comparison]) -> str:
    hidden = [c for c in report.comparisons if c not in shown]
    if not hidden:
        return ""
    ok = sum(c.status is Status.OK for c in hidden)
    return (
        f"Not listed: {ok} ok and {len(hidden) - ok} without data (too few requests, or only on one side) "
        "per model, route and stage; --all lists them."
    )


def _slo_text(result: SloResult) -> str:
    slo = result.slo
    return f"{slo.name}: {slo.text}" if slo.name and slo.name != slo.text else slo.text


# -- terminal --------------------------------------------------------------------------------------------

#: Where a value the terminal has no room for can be read.
ELSEWHERE = "see every value with --junit FILE"
NOTE = Col("note", wrap=(24, 60), prose=True)
#: Columns a terminal too narrow for every layout drops first (the limit is also in the SLO's text).
SLO_DROPPABLE = ("limit", "n")
COMPARISON_DROPPABLE = ("baseline", "current")


def _status(status: Status, marker: str = "") -> Text:
    text = Text(status.value.upper() if status.fails else status.value, style=_STYLE[status])
    return text.append(f" {marker}") if marker else text


def _notes(notes: list[str], below: bool) -> tuple[list[str], list[RenderableType], bool]:
    """Footnote markers and lines when the notes go below the table; whether the table has a note column."""
    if below:
        markers, after = footnotes(notes)
        return markers, after, False
    return [""] * len(notes), [], any(notes)


def _slo_layout(results: list[SloResult], *, notes_below: bool) -> Layout:
    """Each SLO on a row of its own; with `by`, its groups indented under it, one row each."""
    markers, after, with_notes = _notes([terminal_text(r.note, 200) for r in results], notes_below)
    numbers = [Col("value", right=True), Col("limit", right=True), Col("n", right=True)]
    rows: list[list[Cell]] = []
    for i, (r, marker) in enumerate(zip(results, markers, strict=True)):
        first = i == 0 or results[i - 1].slo is not r.slo
        slo = Text(terminal_text(_slo_text(r), 120))
        cells: list[Cell] = [metric_value(r.value, r.slo.metric.unit), slo_limit(r), f.count(r.n)]
        cells += [Text(terminal_text(r.note, 200))] if with_notes else []
        if not r.group:
            rows.append([_status(r.status, marker), slo, *cells])
            continue
        if first:
            rows.append(["", slo, *([""] * len(cells))])
        group = Text("  ").append(terminal_text(group_label(r.group), 80))
        rows.append([_status(r.status, marker), group, *cells])
    columns = [Col("result"), Col("SLO / group", wrap=(24, 60)), *numbers, *([NOTE] if with_notes else [])]
    return Layout(columns, rows, after)


def _comparison_layout(rows: list[Comparison], *, notes_below: bool, stacked: bool, merged: bool) -> Layout:
    """`stacked`: an interval's bounds on two lines; `merged`: each row's metric above its group."""
    markers, after, with_notes = _notes([terminal_text(c.note, 200) for c in rows], notes_below)
    # rate(*) compares several flags under one gate: only then does each row need its metric.
    several = len({c.metric for c in rows}) > 1
    if several and merged:
        labels = [Col("metric / group", wrap=(16, 40))]
    else:
        labels = [*([Col("metric", wrap=(20, 30))] if several else []), Col("group", wrap=(16, 40))]
    numbers = [Col(name, right=True) for name in ("baseline", "current", "change", "interval")]
    table_rows: list[list[Cell]] = []
    for c, marker in zip(rows, markers, strict=True):
        metric, group = terminal_text(c.metric, 40), terminal_text(c.group, 80)
        if several and merged:
            label = [Text(f"{metric}\n{group}")]
        else:
            label = [*([Text(metric)] if several else []), Text(group)]
        span = interval(c).replace(" … ", " …\n") if stacked else interval(c)
        values = [metric_value(c.baseline, c.unit), metric_value(c.current, c.unit), change(c), span]
        note = [Text(terminal_text(c.note, 200))] if with_notes else []
        table_rows.append([_status(c.status, marker), *label, *values, *note])
    return Layout([Col("result"), *labels, *numbers, *([NOTE] if with_notes else [])], table_rows, after)


def _slo_table(report: CheckReport, width: int) -> RenderableType:
    layouts = [_slo_layout(report.slos, notes_below=below) for below in (False, True)]
    return fit_table("SLOs", layouts, width=width, droppable=SLO_DROPPABLE, elsewhere=ELSEWHERE)


def _comparison_table(gate: Gate, rows: list[Comparison], width: int) -> RenderableType:
    title = f"{gate.text}: {gate.metric.label} may worsen by at most {allowed(gate).lstrip('+−')}"
    # Notes go below the table first, then the interval's bounds stack, then the metric goes above its group.
    ladder = ((False, False, False), (True, False, False), (True, True, False), (True, True, True))
    layouts = [_comparison_layout(rows, notes_below=b, stacked=s, merged=m) for b, s, m in ladder]
    return fit_table(title, layouts, width=width, droppable=COMPARISON_DROPPABLE, elsewhere=ELSEWHERE)


def render_check_terminal(report: CheckReport, console: Console, *, show_all: bool = False) -> None:
    head = Text.assemble(
        ("aiobs check", "bold"),
        f"  {f.count(report.requests)} requests from {len(report.inputs)} input(s)  ",
        (headline(report), "bold red" if report.failed else "bold green"),
    )
    console.print(head)
    if report.slos:
        console.print()
        console.print(_slo_table(report, console.width))
    if report.comparisons:
        rows = shown_comparisons(report, show_all=show_all)
        for gate in dict.fromkeys(c.gate for c in report.comparisons):
            gate_rows = [c for c in rows if c.gate is gate]
            if gate_rows:
                console.print()
                console.print(_comparison_table(gate, gate_rows, console.width))
        console.print(Text(baseline_line(report), style="dim"))
        if line := hidden_line(report, rows):
            console.print(Text(line, style="dim"))


# -- Markdown --------------------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]], numeric: set[str]) -> list[str]:
    align = ["--:" if h in numeric else ":--" for h in header]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _md_comparisons(comparisons: list[Comparison]) -> list[str]:
    header = ["result", "metric", "group", "baseline", "current", "change", "interval", "allowed", "note"]
    rows = [
        [
            f"{_MARK[c.status]} {c.status.value}",
            markdown_cell(c.metric),
            markdown_cell(c.group),
            markdown_cell(metric_value(c.baseline, c.unit)),
            markdown_cell(metric_value(c.current, c.unit)),
            change(c),
            markdown_cell(interval(c)),
            allowed(c.gate),
            markdown_cell(c.note, 200),
        ]
        for c in comparisons
    ]
    return _md_table(header, rows, {"baseline", "current", "change", "interval", "allowed"})


def render_check_markdown(report: CheckReport) -> str:
    """A step summary: the verdict, the SLO table, and the comparisons (all of them folded)."""
    out = [
        f"## aiobs check: {markdown_cell(headline(report), 300)}",
        "",
        f"{f.count(report.requests)} requests from {len(report.inputs)} input(s).",
        "",
    ]
    if report.slos:
        header = ["result", "SLO", "group", "value", "limit", "n", "note"]
        rows = [
            [
                f"{_MARK[r.status]} {r.status.value}",
                markdown_cell(_slo_text(r), 120),
                markdown_cell(group_label(r.group)),
                markdown_cell(metric_value(r.value, r.slo.metric.unit)),
                markdown_cell(slo_limit(r)),
                f.count(r.n),
                markdown_cell(r.note, 200),
            ]
            for r in report.slos
        ]
        out += ["### SLOs", "", *_md_table(header, rows, {"value", "limit", "n"}), ""]
    if report.comparisons:
        shown = shown_comparisons(report, show_all=False)
        out += ["### Against the baseline", "", markdown_cell(baseline_line(report), 600), ""]
        out += [*_md_comparisons(shown), ""]
        if line := hidden_line(report, shown):
            out += [markdown_cell(line, 300), ""]
        if len(shown) < len(report.comparisons):
            out += [
                "<details><summary>All comparisons</summary>",
                "",
                *_md_comparisons(report.comparisons),
                "",
                "</details>",
                "",
            ]
    return "\n".join(out) + "\n"
