"""`aiobs history`: what a store holds, trends and anomalies, as rich tables or JSON. Log values escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aiobs.render import formats as f
from aiobs.render.escape import json_text, terminal_text
from aiobs.render.fit import fit_columns


@dataclass
class HistoryView:
    store: str
    days: pl.DataFrame
    runs: pl.DataFrame
    trends: pl.DataFrame
    anomalies: pl.DataFrame
    scored: int
    window_days: int
    by: str
    every: str
    removed: list[date]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _time(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _table(title: str, *columns: str, left: int = 1, fixed: tuple[str, ...] = ()) -> Table:
    """The first `left` columns are labels (folded when long, except those in `fixed`); the rest numbers."""
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    for i, column in enumerate(columns):
        if column in fixed:
            table.add_column(column, no_wrap=True)
        elif i < left:
            table.add_column(column, overflow="fold", min_width=14, max_width=36)
        else:
            table.add_column(column, justify="right", no_wrap=True)
    return table


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
    days = _table("Days", "day", "hour buckets", "requests", "runs", "size")
    for row in view.days.iter_rows(named=True):
        days.add_row(
            row["day"].isoformat(), str(row["buckets"]), f.count(row["requests"]), str(row["runs"]), _size(row["bytes"])
        )
    console.print()
    console.print(days)
    runs = Table(title="Runs", title_justify="left", title_style="bold", header_style="bold cyan")
    runs.add_column("run", no_wrap=True)
    runs.add_column("recorded", no_wrap=True)
    runs.add_column("requests", justify="right", no_wrap=True)
    runs.add_column("hours", justify="right", no_wrap=True)
    runs.add_column("span", overflow="fold", min_width=17)
    runs.add_column("inputs", overflow="fold", min_width=12)
    for row in view.runs.iter_rows(named=True):
        inputs = row["inputs"] or []
        shown = ", ".join(inputs[:2]) + (f" (+{len(inputs) - 2})" if len(inputs) > 2 else "")
        runs.add_row(
            row["run_id"],
            _time(row["recorded_at"]),
            f.count(row["requests"]),
            str(row["buckets"]),
            f"{_time(row['first_bucket'])} → {_time(row['last_bucket'])}",
            Text(terminal_text(shown, 200)),
        )
    console.print()
    console.print(runs)
    _trend_table(view, console)
    _anomaly_table(view, console)


#: Trend columns a narrow terminal drops first, rather than shortening their numbers to "13,5…".
TREND_DROPPABLE = ("p50 ms", "accepted", "p99 ms")


def _trend_table(view: HistoryView, console: Console) -> None:
    frame = view.trends
    keyed = "key" in frame.columns
    flags = [c for c in frame.columns if c.startswith("rate_")]
    accepted = frame["acceptance_rate"].is_not_null().any()
    labels = ["period", *(["key"] if keyed else [])]
    header = [*labels, "req", "err", "p50 ms", "p95 ms", "p99 ms", "$/1k req", *(["accepted"] if accepted else [])]
    rows = [
        [
            _period(row["period"], view.every),
            *([terminal_text("—" if row["key"] is None else row["key"], 36)] if keyed else []),
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
    # A key folds (as short as 14 characters) before a column is dropped; a period (10) never folds.
    shown = fit_columns(
        header, rows, n_labels=len(labels), width=console.width, droppable=TREND_DROPPABLE, label_width=(10, 14)
    )
    title = f"Trend per {view.every}, last {view.window_days} day(s) of data" + (f", by {view.by}" if keyed else "")
    table = _table(title, *(header[i] for i in shown), left=len(labels), fixed=("period",))
    for row in rows:
        table.add_row(*(Text(row[i]) if header[i] == "key" else row[i] for i in shown))
    console.print()
    console.print(table)
    console.print(Text("Percentiles come from the stored sketches (within 1 %).", style="dim"))
    if flags and not keyed:
        _flag_trend_table(view, flags, console)


#: Flag-rate trends show at most this many periods (the latest), so the table fits a terminal.
FLAG_TREND_PERIODS = 7


def _flag_trend_table(view: HistoryView, flags: list[str], console: Console) -> None:
    """One row per flag, one column per period: a flag's rate reads left to right over time."""
    frame = view.trends.tail(FLAG_TREND_PERIODS)
    periods = [_period(p, view.every) for p in frame["period"]]
    table = _table(f"Flag rates per {view.every}", "flag", *periods, left=1)
    for column in flags:
        values = frame[column].to_list()
        if any(v is not None and v == v for v in values):  # skip flags never checked (NaN or null)
            table.add_row(column.removeprefix("rate_"), *(f.pct(v) for v in values))
    console.print()
    console.print(table)


def _anomaly_table(view: HistoryView, console: Console) -> None:
    console.print()
    if view.anomalies.is_empty():
        console.print(f"No anomalies in the last {view.window_days} day(s) ({view.scored:,} hourly values scored).")
        return
    table = _table(
        "Anomalies", "hour", "group", "metric", "value", "baseline", "score", "reference", left=3, fixed=("hour",)
    )
    for row in view.anomalies.iter_rows(named=True):
        group = "overall" if row["dimension"] == "overall" else f"{row['dimension']}={row['key'] or '—'}"
        table.add_row(
            _time(row["bucket"]),
            Text(terminal_text(group, 60)),
            Text(terminal_text(row["metric"], 40)),
            _metric(row["metric"], row["value"]),
            _metric(row["metric"], row["baseline"]),
            f"{row['score']:.1f}",
            row["reference"] or "",
        )
    console.print(table)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def render_history_json(view: HistoryView) -> str:
    def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]

    document = {
        "schema": "aiobs.history-view/1",
        "store": view.store,
        "pruned": [d.isoformat() for d in view.removed],
        "days": records(view.days),
        "runs": records(view.runs),
        "trends": {"every": view.every, "by": view.by, "days": view.window_days, "rows": records(view.trends)},
        "anomalies": records(view.anomalies),
    }
    return json_text(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()) + "\n"
