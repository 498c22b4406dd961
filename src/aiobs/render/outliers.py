"""`aiobs outliers` output: the worst requests and the tail attribution, in every format.

Writers only: each takes the `aiobs.outliers/1` record (aiobs.views.outlier_records.outliers_record,
privacy applied there, once) and formats it for its medium.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from rich.cells import cell_len, set_cell_size
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from aiobs.escape import csv_cell, json_text, markdown_cell, terminal_text
from aiobs.outliers import METRICS
from aiobs.render import numbers as f
from aiobs.schema import CHILD_STAGES
from aiobs.views.record_types import OutlierRecord, OutliersRecord

#: Snippets in the terminal are cut so a line fits 100 columns, or the terminal when it is narrower.
TERMINAL_SNIPPET_CHARS = 86
#: What goes before a snippet on its line: the indent and the `out    ` label.
SNIPPET_INDENT = 12


def _value(metric: str, value: float | None) -> str:
    unit = METRICS[metric][1]
    if unit == "USD":
        return f.usd(value)
    if unit == "tokens":
        return f.count(None if value is None else int(value))
    return f.ms(value)


def render_outliers_json(record: OutliersRecord) -> str:
    return json_text(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode()) + "\n"


def _stages(stages: dict[str, float]) -> str:
    parts = sorted(stages.items(), key=lambda kv: -kv[1])
    return " · ".join(f"{s} {f.ms(ms)}" for s, ms in parts)


def _title(record: OutliersRecord) -> str:
    q = record["query"]
    per = f" within each {q['per']}" if q["per"] else ""
    flag = f", flagged {q['flag']}" if q["flag"] else ""
    return f"Requests above p{q['p']:g} of {q['metric']}{per}{flag}: worst first"


def _fit_cells(text: str, cells: int) -> str:
    """`text` cut to `cells` terminal columns, `…` last when cut: a CJK character takes two columns."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, cells - 1).rstrip() + "…"


def _outlier_block(r: OutlierRecord, metric: str, width: int) -> Text:
    """One outlier as a few short lines: a block reads better than a table squeezed into a terminal."""
    unit = "" if metric == "cost" else f" {METRICS[metric][1]}"
    lines: list[tuple[str, str, str]] = [
        ("", terminal_text(r["model"] or "—", 40) + " · " + terminal_text(r["route"] or "—", 40), ""),
        ("", f"{f.usd(r['cost_usd'])} · {f.count(r['tokens']['input'])}→{f.count(r['tokens']['output'])} tokens", ""),
        ("stages ", _stages(r["stages_ms"]) or "—", ""),
    ]
    if r["flags"]:
        lines.append(("flags  ", terminal_text(", ".join(r["flags"]), 120), "yellow"))
    for label, snippet in (("in     ", r["input_snippet"]), ("out    ", r["output_snippet"])):
        if snippet:
            cut = max(20, min(TERMINAL_SNIPPET_CHARS, width - SNIPPET_INDENT))
            lines.append((label, _fit_cells(terminal_text(snippet, cut), cut), ""))
    block = Text()
    block.append(f"{r['rank']:>3}. ", style="bold")
    block.append(terminal_text(r["correlation_id"], 80), style="bold")
    block.append(f"  {_value(metric, r['value'])}{unit}" + ("  error" if r["is_error"] else ""))
    for label, value, style in lines:
        block.append("\n     " + label, style="dim")
        block.append(value, style=style)
    return block


def render_outliers_terminal(record: OutliersRecord, console: Console) -> None:
    q = record["query"]
    parts: list[Any] = [Text(_title(record) + (" (texts redacted)" if record["redacted"] else ""), style="bold")]
    if not record["outliers"]:
        parts = [Text(f"{_title(record)}: none (fewer than two distinct values, or nothing above the percentile).")]
    group: tuple[object] | None = None
    for r in record["outliers"]:
        if q["per"] and (_group_of(r, q["per"]),) != group:  # rows come sorted by group, then rank
            group = (_group_of(r, q["per"]),)
            parts.append(_group_heading(q["per"], r, q["metric"], q["p"]))
        parts.append(_outlier_block(r, q["metric"], console.width))
    parts += [Text(""), _attribution_table(record)]
    if record["tail_sentence"]:
        parts.append(Text(record["tail_sentence"]))
    console.print(Group(*parts))


def _group_of(r: OutlierRecord, per: str) -> str | None:
    """The outlier's value of the `--per` key (one of aiobs.outliers.PER_KEYS)."""
    return {"model": r["model"], "route": r["route"], "provider": r["provider"], "user": r["user"]}[per]


def _group_heading(per: str, r: OutlierRecord, metric: str, p: float) -> Text:
    unit = "" if metric == "cost" else f" {METRICS[metric][1]}"
    group = _group_of(r, per)
    value = "—" if group is None else terminal_text(group, 60)
    heading = Text("\n")
    heading.append(f"{per} {value}", style="bold underline")
    heading.append(f"  p{p:g} = {_value(metric, r['threshold'])}{unit}", style="dim")
    return heading


def _attribution_table(record: OutliersRecord) -> Table:
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


def render_outliers_markdown(record: OutliersRecord) -> str:
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
    if record["tail_sentence"]:
        out += [record["tail_sentence"], ""]
    out += ["| stage | share (all) | share (tail) |", "| :-- | --: | --: |"]
    for a in record["tail_attribution"]:
        if a["ms_all"] or a["ms_tail"]:
            out.append(f"| {a['stage']} | {f.pct(a['share_all'])} | {f.pct(a['share_tail'])} |")
    return "\n".join(out) + "\n"


def render_outliers_csv(record: OutliersRecord) -> str:
    fields = [
        "rank", "correlation_id", "value", "threshold", "start", "latency_ms", "slowest_stage", "ttft_ms",
        "input_tokens", "output_tokens", "cost_usd", "model", "route", "user", "is_error", "flags",
        *(f"{s}_ms" for s in CHILD_STAGES), "input_snippet", "output_snippet",
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in record["outliers"]:
        row: dict[str, object] = {k: r.get(k) for k in fields}  # the fields that are the record's keys
        row.update({"input_tokens": r["tokens"]["input"], "output_tokens": r["tokens"]["output"]})
        row.update({f"{s}_ms": r["stages_ms"].get(s) for s in CHILD_STAGES})
        row["flags"] = " ".join(r["flags"])
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return out.getvalue()
