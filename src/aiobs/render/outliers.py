"""`aiobs outliers` output: the worst requests and the tail attribution, in every format.

`outliers_record` is the versioned JSON document (`aiobs.outliers/1`); the other renderers read it,
so privacy (redaction, hashed users) is applied once, there.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from aiobs.outliers import METRICS, OutlierQuery
from aiobs.redact import apply_privacy
from aiobs.render import formats as f
from aiobs.render.escape import csv_cell, markdown_cell, terminal_text
from aiobs.render.records import summary_record
from aiobs.schema import CHILD_STAGES
from aiobs.summary import Summary

SCHEMA = "aiobs.outliers/1"
SNIPPET_CHARS = 100


@dataclass
class OutlierReport:
    query: OutlierQuery
    outliers: pl.DataFrame
    attribution: pl.DataFrame
    summary: Summary


def _snippet(text: str | None) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def _value(metric: str, value: float | None) -> str:
    unit = METRICS[metric][1]
    if unit == "USD":
        return f.usd(value)
    if unit == "tokens":
        return f.count(None if value is None else int(value))
    return f.ms(value)


def outliers_record(report: OutlierReport) -> dict[str, Any]:
    q = report.query
    shown = apply_privacy(
        report.outliers,
        report.summary.privacy,
        text=("input_text", "output_text", "route", "user"),
        users=("user",),
    )
    rows = []
    for r in shown.iter_rows(named=True):
        rows.append(
            {
                "rank": r["rank"],
                "correlation_id": r["correlation_id"],
                "value": r["value"],
                "threshold": r["threshold"],
                "start": r["start"].isoformat().replace("+00:00", "Z") if r["start"] else None,
                "latency_ms": r["latency_ms"],
                "stages_ms": {s: r[f"{s}_ms"] for s in CHILD_STAGES if r[f"{s}_ms"] is not None},
                "slowest_stage": r["slowest_stage"],
                "ttft_ms": r["ttft_ms"],
                "tokens": {k: r[f"{k}_tokens"] for k in ("input", "output", "cached", "reasoning")},
                "cost_usd": r["cost_usd"],
                "model": r["model"],
                "route": r["route"],
                "user": r["user"],
                "is_error": r["is_error"],
                "flags": r["flags"],
                "input_snippet": _snippet(r["input_text"]),
                "output_snippet": _snippet(r["output_text"]),
            }
        )
    summary = summary_record(report.summary)
    return {
        "schema": SCHEMA,
        "aiobs_version": summary["aiobs_version"],
        "inputs": summary["inputs"],
        "query": {"p": q.p, "metric": q.metric, "per": q.per, "flag": q.flag, "limit": q.limit},
        "population": int(report.attribution["requests_all"][0]) if report.attribution.height else 0,
        "outliers": rows,
        "tail_attribution": report.attribution.select(
            "stage", "share_all", "share_tail", "ms_all", "ms_tail"
        ).to_dicts(),
        "tail_requests": int(report.attribution["requests_tail"][0]) if report.attribution.height else 0,
        "input_quality": summary["input_quality"],
        "redacted": report.summary.privacy.redact,
    }


def render_outliers_json(report: OutlierReport) -> str:
    return orjson.dumps(outliers_record(report), option=orjson.OPT_INDENT_2).decode() + "\n"


def _stages(stages: dict[str, float]) -> str:
    parts = sorted(stages.items(), key=lambda kv: -kv[1])
    return " · ".join(f"{s} {f.ms(ms)}" for s, ms in parts)


def _title(record: dict[str, Any]) -> str:
    q = record["query"]
    per = f" within each {q['per']}" if q["per"] else ""
    flag = f", flagged {q['flag']}" if q["flag"] else ""
    return f"Requests above p{q['p']:g} of {q['metric']}{per}{flag}: worst first"


def render_outliers_terminal(report: OutlierReport, console: Console) -> None:
    record = outliers_record(report)
    q = record["query"]
    table = Table(title=_title(record), title_justify="left", title_style="bold", header_style="bold cyan")
    for name, right in (("#", True), ("request", False), (q["metric"], True), ("stages (slowest first)", False)):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    table.add_column("tokens in/out", justify="right")
    table.add_column("cost", justify="right")
    table.add_column("model · route", overflow="fold", max_width=28)
    table.add_column("flags", overflow="fold", max_width=24)
    for r in record["outliers"]:
        table.add_row(
            str(r["rank"]),
            Text(terminal_text(r["correlation_id"], 40)),
            _value(q["metric"], r["value"]),
            _stages(r["stages_ms"]),
            f"{f.count(r['tokens']['input'])}/{f.count(r['tokens']['output'])}",
            f.usd(r["cost_usd"]),
            Text(terminal_text(f"{r['model'] or '—'} · {r['route'] or '—'}", 60)),
            Text(terminal_text(", ".join(r["flags"]) or "—", 60)),
        )
    parts: list[Any] = [table]
    if not record["outliers"]:
        parts = [Text(f"{_title(record)}: none (fewer than two distinct values, or nothing above the percentile).")]
    snippets = Text()
    for r in record["outliers"]:
        if r["input_snippet"] or r["output_snippet"]:
            snippets.append(f"{r['rank']:>3}. ", style="bold")
            snippets.append("in: " + terminal_text(r["input_snippet"] or "—", SNIPPET_CHARS) + "\n")
            snippets.append("     out: " + terminal_text(r["output_snippet"] or "—", SNIPPET_CHARS) + "\n")
    if snippets.plain:
        parts += [Text(""), Text("Snippets" + (" (redacted)" if record["redacted"] else ""), style="bold"), snippets]
    parts += [Text(""), _attribution_table(record)]
    console.print(Group(*parts))


def _attribution_table(record: dict[str, Any]) -> Table:
    p, tail, population = record["query"]["p"], record["tail_requests"], record["population"]
    title = f"Where the time went: all {population:,} requests vs the {tail:,} above p{p:g}"
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    for name in ("stage", "share of time (all)", "share in the tail", "mean ms (all)", "mean ms (tail)"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    for a in record["tail_attribution"]:
        if a["ms_all"] or a["ms_tail"]:
            table.add_row(
                a["stage"], f.pct(a["share_all"]), f.pct(a["share_tail"]), f.ms(a["ms_all"]), f.ms(a["ms_tail"])
            )
    return table


def render_outliers_markdown(report: OutlierReport) -> str:
    record = outliers_record(report)
    q = record["query"]
    out = [f"# {markdown_cell(_title(record), 200)}", ""]
    header = ["#", "request", q["metric"], "stages", "tokens in/out", "cost", "model", "route", "flags"]
    out += [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["--:", ":--", "--:", ":--", "--:", "--:", ":--", ":--", ":--"]) + " |",
    ]
    for r in record["outliers"]:
        cells = [
            str(r["rank"]),
            markdown_cell(r["correlation_id"]),
            _value(q["metric"], r["value"]),
            markdown_cell(_stages(r["stages_ms"]), 120),
            f"{f.count(r['tokens']['input'])}/{f.count(r['tokens']['output'])}",
            f.usd(r["cost_usd"]),
            markdown_cell(r["model"] or "—"),
            markdown_cell(r["route"] or "—"),
            markdown_cell(", ".join(r["flags"]) or "—"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", f"## Where the time went (all requests vs above p{q['p']:g})", ""]
    out += ["| stage | share (all) | share (tail) |", "| :-- | --: | --: |"]
    for a in record["tail_attribution"]:
        if a["ms_all"] or a["ms_tail"]:
            out.append(f"| {a['stage']} | {f.pct(a['share_all'])} | {f.pct(a['share_tail'])} |")
    return "\n".join(out) + "\n"


def render_outliers_csv(report: OutlierReport) -> str:
    record = outliers_record(report)
    fields = [
        "rank", "correlation_id", "value", "threshold", "start", "latency_ms", "slowest_stage", "ttft_ms",
        "input_tokens", "output_tokens", "cost_usd", "model", "route", "user", "is_error", "flags",
        *(f"{s}_ms" for s in CHILD_STAGES), "input_snippet", "output_snippet",
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in record["outliers"]:
        row = {k: r.get(k) for k in fields}
        row.update({"input_tokens": r["tokens"]["input"], "output_tokens": r["tokens"]["output"]})
        row.update({f"{s}_ms": r["stages_ms"].get(s) for s in CHILD_STAGES})
        row["flags"] = " ".join(r["flags"])
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return out.getvalue()
