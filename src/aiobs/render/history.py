"""`aiobs history`: what a store holds, trends and anomalies, as rich tables or JSON. Log values escaped."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
import polars as pl
from rich.console import Console, RenderableType
from rich.text import Text

from aiobs.anomaly import size_label
from aiobs.escape import json_text, terminal_text
from aiobs.render import numbers as f
from aiobs.render.fit import Cell, Col, Layout, fit_table
from aiobs.views.history_view import HistoryView
from aiobs.views.trends import incident_rows, scoring_rows, scoring_text, some_groups


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _time(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _period(value: datetime | None, every: str) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d") if every.endswith(("d", "w")) else value.strftime("%Y-%m-%d %H:%M")


def _metric(metric: str, value: float | None) -> str:
    if metric.startswith("p") and "latency" in metric:
        return f"{f.ms(value)} ms"
    if metric == "cost_per_1k":
        return f.usd(value)
    return f.pct(value)


def render_history_terminal(view: HistoryView, console: Console) -> None:
    requests = int(view.days["requests"].sum()) if not view.days.is_empty() else 0
    buckets = int(view.days["buckets"].sum()) if not view.days.is_empty() else 0
    size = int(view.days["bytes"].sum()) if not view.days.is_empty() else 0
    console.print(
        Text.assemble(
            ("aiobs history", "bold"),
            f"  {terminal_text(view.store, 120)}  {view.days.height} day(s), {buckets} hour bucket(s), "
            f"{f.count(requests)} requests, {view.runs.height} run(s), {_size(size)}",
        )
    )
    if view.removed:
        console.print(f"Pruned {len(view.removed)} day(s): {', '.join(d.isoformat() for d in view.removed)}")
    if view.days.is_empty():
        console.print("The store is empty: record a run with `aiobs summarize LOGS --history DIR`.")
        return
    for table in (_days_table(view, console.width), _runs_table(view, console.width)):
        console.print()
        console.print(table)
    _trend_table(view, console)
    _incident_table(view, console)
    _anomaly_table(view, console)
    _scoring_table(view, console)


#: Where what a narrow terminal leaves out can be read.
ELSEWHERE = "use --format json"


def _days_table(view: HistoryView, width: int) -> RenderableType:
    columns = [Col("day"), *(Col(name, right=True) for name in ("hour buckets", "requests", "runs", "size"))]
    rows: list[list[Cell]] = [
        [row["day"].isoformat(), str(row["buckets"]), f.count(row["requests"]), str(row["runs"]), _size(row["bytes"])]
        for row in view.days.iter_rows(named=True)
    ]
    return fit_table("Days", [Layout(columns, rows)], width=width, elsewhere=ELSEWHERE)


#: Run columns a terminal too narrow for every layout drops first.
RUNS_DROPPABLE = ("recorded", "hours")


def _runs_table(view: HistoryView, width: int) -> RenderableType:
    """The span on one line or its two ends stacked; the inputs in a column, or in a table of their own."""
    runs = []
    for row in view.runs.iter_rows(named=True):
        inputs = row["inputs"] or []
        shown = ", ".join(inputs[:2]) + (f" (+{len(inputs) - 2})" if len(inputs) > 2 else "")
        cells = [row["run_id"], _time(row["recorded_at"]), f.count(row["requests"]), str(row["buckets"])]
        span = f"{_time(row['first_bucket'])} → {_time(row['last_bucket'])}"
        runs.append((cells, span, Text(terminal_text(shown, 200))))
    head = [Col("run"), Col("recorded"), Col("requests", right=True), Col("hours", right=True), Col("span")]
    inputs = Col("inputs", wrap=(20, 60), prose=True)
    one_line = Layout([*head, inputs], [[*c, span, shown] for c, span, shown in runs])
    stacked = Layout([*head, inputs], [[*c, span.replace(" → ", " →\n"), shown] for c, span, shown in runs])
    apart = Layout([Col("run"), Col("inputs", wrap=(20, 200), prose=True)], [[c[0], shown] for c, _, shown in runs])
    moved = [layout.without("inputs") for layout in (one_line, stacked)]
    for layout in moved:
        layout.after = [Text(""), fit_table("Inputs per run", [apart], width=width, elsewhere=ELSEWHERE)]
    layouts = [one_line, stacked, *moved]
    return fit_table("Runs", layouts, width=width, droppable=RUNS_DROPPABLE, elsewhere=ELSEWHERE)


#: Trend columns a narrow terminal drops first, rather than shortening their numbers to "13,5…".
TREND_DROPPABLE = ("p50 ms", "accepted", "p99 ms")


def _trend_table(view: HistoryView, console: Console) -> None:
    frame = view.trends
    keyed = "key" in frame.columns
    flags = [c for c in frame.columns if c.startswith("rate_")]
    accepted = frame["acceptance_rate"].is_not_null().any()
    numbers = ["req", "err", "p50 ms", "p95 ms", "p99 ms", "$/1k req", *(["accepted"] if accepted else [])]
    # A key folds (as short as 14 characters) before a column is dropped; a period never folds.
    columns = [Col("period"), *([Col("key", wrap=(14, 36))] if keyed else []), *(Col(n, right=True) for n in numbers)]
    rows: list[list[Cell]] = [
        [
            _period(row["period"], view.every),
            *([Text(terminal_text("—" if row["key"] is None else row["key"], 80))] if keyed else []),
            f.count(row["requests"]),
            f.pct(row["error_rate"]),
            f.ms(row["latency_p50"]),
            f.ms(row["latency_p95"]),
            f.ms(row["latency_p99"]),
            f.usd(row["cost_per_1k_requests"]),
            *([f.pct(row["acceptance_rate"])] if accepted else []),
        ]
        for row in frame.iter_rows(named=True)
    ]
    title = f"Trend per {view.every}, last {view.window_days} day(s) of data" + (f", by {view.by}" if keyed else "")
    layout = Layout(columns, rows)
    console.print()
    console.print(fit_table(title, [layout], width=console.width, droppable=TREND_DROPPABLE, elsewhere=ELSEWHERE))
    console.print(Text("Percentiles come from the stored sketches (within 1 %).", style="dim"))
    if flags and not keyed:
        _flag_trend_table(view, flags, console)


#: Flag-rate trends show at most this many periods (the latest), so the table fits a terminal.
FLAG_TREND_PERIODS = 7


def _flag_trend_table(view: HistoryView, flags: list[str], console: Console) -> None:
    """One row per flag, one column per period: a flag's rate reads left to right over time.

    A narrow terminal leaves the earliest periods out (and says so); a period of hours is shown
    with its time under its day."""
    frame = view.trends.tail(FLAG_TREND_PERIODS)
    periods = [_period(p, view.every) for p in frame["period"]]
    columns = [Col("flag", wrap=(12, 30)), *(Col(p, right=True, header=p.replace(" ", "\n")) for p in periods)]
    rows: list[list[Cell]] = []
    for column in flags:
        values = frame[column].to_list()
        if any(v is not None and v == v for v in values):  # skip flags never checked (NaN or null)
            rows.append([Text(terminal_text(column.removeprefix("rate_"), 40)), *(f.pct(v) for v in values)])
    title = f"Flag rates per {view.every}"
    layout = Layout(columns, rows)
    console.print()
    console.print(fit_table(title, [layout], width=console.width, droppable=periods[:-1], elsewhere=ELSEWHERE))


#: Anomaly columns a terminal too narrow for every layout drops first.
ANOMALY_DROPPABLE = ("reference", "baseline")


def _anomaly_layout(view: HistoryView, *, stacked: bool, merged: bool) -> Layout:
    """`stacked`: the hour under its day, the reference wrapped; `merged`: the metric under the group."""
    reference = Col("reference", wrap=(10, 24), prose=True) if stacked else Col("reference")
    if merged:
        labels = [Col("group / metric", wrap=(16, 60))]
    else:
        labels = [Col("group", wrap=(16, 60)), Col("metric", wrap=(15, 40))]
    numbers = [Col(name, right=True) for name in ("value", "baseline", "score")]
    rows: list[list[Cell]] = []
    for row in view.anomalies.iter_rows(named=True):
        group = "overall" if row["dimension"] == "overall" else f"{row['dimension']}={row['key'] or '—'}"
        group, metric = terminal_text(group, 80), terminal_text(row["metric"], 40)
        size = row.get("every") or "1h"
        when = _time(row["bucket"]) + ("" if size == "1h" else f" ({size_label(size)})")
        rows.append(
            [
                when.replace(" ", "\n", 1) if stacked else when,
                *([Text(f"{group}\n{metric}")] if merged else [Text(group), Text(metric)]),
                _metric(row["metric"], row["value"]),
                _metric(row["metric"], row["baseline"]),
                f"{row['score']:.1f}",
                row["reference"] or "",
            ]
        )
    return Layout([Col("hour"), *labels, *numbers, reference], rows)


def _anomaly_table(view: HistoryView, console: Console) -> None:
    console.print()
    if view.anomalies.is_empty():
        console.print(f"No anomalies in the last {view.window_days} day(s) ({view.scored:,} bucket values scored).")
        return
    title = "Anomalies per group and metric" if view.incidents is not None else "Anomalies"
    layouts = [_anomaly_layout(view, stacked=s, merged=m) for s, m in ((False, False), (True, False), (True, True))]
    table = fit_table(title, layouts, width=console.width, droppable=ANOMALY_DROPPABLE, elsewhere=ELSEWHERE)
    console.print(table)


def _incident_layout(incidents: pl.DataFrame, *, stacked: bool) -> Layout:
    """One line per metric that moved, the incident's time on its first; `stacked`: the time on two lines and
    the groups under the metric."""
    rows: list[list[Cell]] = []
    for incident in incident_rows(incidents):
        for i, move in enumerate(incident.moves):
            when = "" if i else (incident.when.replace(" → ", " →\n") if stacked else incident.when)
            metric, groups = terminal_text(move.metric, 40), terminal_text(some_groups(move.groups), 400)
            cells = [Text(f"{metric}\nin {groups}")] if stacked else [Text(metric), Text(groups)]
            value, baseline = _metric(move.metric, move.value), _metric(move.metric, move.baseline)
            rows.append([when, *cells, value, baseline, move.size, f"{move.score:.1f}"])
    if stacked:
        labels = [Col("metric / groups", wrap=(16, 60))]
    else:
        labels = [Col("metric", wrap=(15, 40)), Col("groups", wrap=(16, 60))]
    numbers = [Col(name, right=True) for name in ("value", "baseline", "on", "score")]
    return Layout([Col("when (UTC)"), *labels, *numbers], rows)


def _incident_table(view: HistoryView, console: Console) -> None:
    if view.incidents is None or view.incidents.is_empty():
        return
    console.print()
    n = view.incidents.height
    title = f"Incidents in the last {view.window_days} day(s): {n}"
    layouts = [_incident_layout(view.incidents, stacked=s) for s in (False, True)]
    console.print(fit_table(title, layouts, width=console.width, elsewhere=ELSEWHERE))
    said = (
        "An incident is the anomalies whose buckets overlap or touch, told once: one line per metric that moved "
        "(its strongest bucket, and the groups where it moved); `on` is the bucket size it was scored on."
    )
    console.print(Text(said, style="dim"))


def _scoring_table(view: HistoryView, console: Console) -> None:
    """Every group and metric not scored wholly on hours: on which buckets, or why not at all (the first
    groups of each line; all of them, and each flag's name, in --format json)."""
    if view.scoring is None or view.scoring.is_empty():
        return
    rows = scoring_rows(view.scoring)
    console.print()
    if not rows:
        console.print("Every metric of every group was scored on 1 h buckets.")
        return
    cells: list[list[Cell]] = [
        [Text(r.note), Text("\n".join(terminal_text(scoring_text(part, groups_shown=3), 400) for part in r.parts))]
        for r in rows
    ]
    columns = [Col("how", wrap=(20, 36), prose=True), Col("metrics: groups", wrap=(20, 80))]
    title = "Scoring: metrics on coarser buckets, or not (wholly) scored"
    console.print(fit_table(title, [Layout(columns, cells)], width=console.width, elsewhere=ELSEWHERE))
    console.print(Text("Every group and flag of each line: --format json (`scoring`).", style="dim"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def render_history_json(view: HistoryView) -> str:
    def records(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
        rows = frame.iter_rows(named=True) if frame is not None else []
        return [{k: _jsonable(v) for k, v in row.items()} for row in rows]

    document = {
        "schema": "aiobs.history-view/1",
        "store": view.store,
        "pruned": [d.isoformat() for d in view.removed],
        "days": records(view.days),
        "runs": records(view.runs),
        "trends": {"every": view.every, "by": view.by, "days": view.window_days, "rows": records(view.trends)},
        "anomalies": records(view.anomalies),
        "incidents": records(view.incidents),
        "scoring": records(view.scoring),
    }
    return json_text(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()) + "\n"
