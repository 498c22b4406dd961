"""`aiobs check` results as rich tables and as GitHub-flavoured Markdown. Values from the logs are escaped."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiobs.gates.catalogue import Unit
from aiobs.gates.expressions import Gate
from aiobs.gates.results import CheckReport, Comparison, SloResult, Status, group_label
from aiobs.render import formats as f
from aiobs.render.escape import markdown_cell, terminal_text

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


def _table(title: str, *columns: str, numeric: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    # Small floors: a label column folds narrow rather than push the note off an 80-column terminal.
    widths = {"SLO": (8, 60), "metric": (10, 30), "group": (6, 40), "note": (6, 60)}
    for column in columns:
        if column in numeric:
            table.add_column(column, justify="right", no_wrap=True)
        elif column == "interval":
            table.add_column(column, justify="right", min_width=9)
        elif column == "result":
            table.add_column(column, no_wrap=True)
        else:
            low, high = widths.get(column, (8, 40))
            table.add_column(column, overflow="fold", min_width=low, max_width=high)
    return table


def _status(status: Status) -> Text:
    return Text(status.value.upper() if status.fails else status.value, style=_STYLE[status])


def render_check_terminal(report: CheckReport, console: Console, *, show_all: bool = False) -> None:
    head = Text.assemble(
        ("aiobs check", "bold"),
        f"  {f.count(report.requests)} requests from {len(report.inputs)} input(s)  ",
        (headline(report), "bold red" if report.failed else "bold green"),
    )
    console.print(head)
    if report.slos:
        table = _table("SLOs", "result", "SLO", "group", "value", "limit", "n", "note", numeric=("value", "limit", "n"))
        previous = None
        for r in report.slos:
            # An SLO with `by` gives one row per group: name it on the first only.
            same = previous is not None and previous.slo is r.slo
            previous = r
            table.add_row(
                _status(r.status),
                Text("" if same else terminal_text(_slo_text(r), 120)),
                Text(terminal_text(group_label(r.group), 80)),
                metric_value(r.value, r.slo.metric.unit),
                slo_limit(r),
                f.count(r.n),
                Text(terminal_text(r.note, 200)),
            )
        console.print()
        console.print(table)
    if report.comparisons:
        rows = shown_comparisons(report, show_all=show_all)
        for gate in dict.fromkeys(c.gate for c in report.comparisons):
            gate_rows = [c for c in rows if c.gate is gate]
            if not gate_rows:
                continue
            title = f"{gate.text}: {gate.metric.label} may worsen by at most {allowed(gate).lstrip('+−')}"
            # rate(*) compares several flags under one gate: only then does each row need its metric.
            several = len({c.metric for c in gate_rows}) > 1
            columns = ["result", *(["metric"] if several else []), "group", "baseline", "current", "change"]
            table = _table(title, *columns, "interval", "note", numeric=("baseline", "current", "change"))
            for c in gate_rows:
                table.add_row(
                    _status(c.status),
                    *([c.metric] if several else []),
                    Text(terminal_text(c.group, 80)),
                    metric_value(c.baseline, c.unit),
                    metric_value(c.current, c.unit),
                    change(c),
                    interval(c),
                    Text(terminal_text(c.note, 200)),
                )
            console.print()
            console.print(table)
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
