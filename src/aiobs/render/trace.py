"""`aiobs trace` output: one request as a waterfall, its key figures, flags and texts (redacted).

Writers only: each takes the `aiobs.trace/1` record (aiobs.views.trace_records.trace_document, privacy
applied there, once) and formats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from aiobs.escape import json_text, terminal_block, terminal_text
from aiobs.render import numbers as f
from aiobs.schema import CHILD_STAGES
from aiobs.trace import span_ms
from aiobs.views.record_types import TraceEventRecord, TraceRecord, TraceRowRecord

#: A text longer than this is cut in the terminal, with the count of what was left out.
TEXT_CHARS = 20_000
BAR_WIDTH = 40
STAGE_STYLES = {
    "gateway": "bold",
    "llm": "magenta",
    "retrieval": "cyan",
    "embedding": "blue",
    "rerank": "cyan",
    "tool": "yellow",
}


def _bar(line: TraceEventRecord, span: float, width: int = BAR_WIDTH) -> str:
    if line["start_offset_ms"] is None or span <= 0:
        return " " * width
    start = min(width - 1, int(line["start_offset_ms"] / span * width))
    length = max(1, round((line["duration_ms"] or 0.0) / span * width))
    length = min(length, width - start)
    return " " * start + "█" * length + " " * (width - start - length)


def _detail(d: TraceEventRecord) -> str:
    """What the event logged, in a few words."""
    parts = []
    if "input_tokens" in d or "output_tokens" in d:
        parts.append(f"{f.count(d.get('input_tokens'))}→{f.count(d.get('output_tokens'))} tok")
    if "ttft_ms" in d:
        parts.append(f"ttft {f.ms(d['ttft_ms'])} ms")
    if "attempt" in d:
        parts.append(f"attempt {d['attempt']}")
    if "finish_reason" in d:
        parts.append(str(d["finish_reason"]))
    if "error_type" in d:
        parts.append(f"error {d['error_type']}")
    if "feedback_score" in d:
        parts.append(f"feedback {d['feedback_score']:g}")
    return ", ".join(parts)


def _bar_width(console_width: int) -> int:
    """The bars take what the other columns (about 80 characters with their borders) leave: 12 to 40."""
    return max(12, min(BAR_WIDTH, console_width - 80))


def _annotations(lines: list[TraceEventRecord]) -> Text:
    """Feedback events, with their offset from the request's start: listed, not drawn to scale."""
    out = Text("Annotations (feedback: not in the span above)", style="bold")
    for line in lines:
        offset = "—" if line["start_offset_ms"] is None else f"+{f.ms(line['start_offset_ms'])} ms"
        out.append(f"\n  {terminal_text(line['event'], 24)}  {offset}  {terminal_text(_detail(line), 80)}", style="")
    return out


def _waterfall(every_line: list[TraceEventRecord], console_width: int) -> RenderableType:
    lines = [t for t in every_line if not t["annotation"]]
    span = span_ms((t["start_offset_ms"], t["duration_ms"]) for t in lines)
    width = _bar_width(console_width)
    table = Table(title=f"Events ({len(lines)}), {f.ms(span)} ms", title_justify="left", header_style="bold cyan")
    # What the other columns take (numbers, the bar, a detail of at least 16, the borders): the event name
    # gets the rest, so the table fits the terminal (an 80-column one included) instead of being cut.
    table.add_column("event", no_wrap=True, max_width=max(12, min(26, console_width - 47 - width)))
    table.add_column("start ms", justify="right", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column(f"0 → {f.ms(span)} ms", no_wrap=True, width=width)
    table.add_column("detail", overflow="fold", min_width=16)
    for line in lines:
        name = "  " * line["depth"] + terminal_text(line["event"], 24)
        if line["model"]:
            name += f" ({terminal_text(line['model'], 24)})"
        style = "red" if line["is_error"] else STAGE_STYLES.get(line["stage"], "")
        table.add_row(
            Text(name, style=style),
            f.ms(line["start_offset_ms"]),
            f.ms(line["duration_ms"]),
            Text(_bar(line, span, width), style=style),
            Text(terminal_text(_detail(line), 80)),
        )
    annotations = [t for t in every_line if t["annotation"]]
    return Group(table, _annotations(annotations)) if annotations else table


def _facts(r: TraceRowRecord) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("", style="bold")
    table.add_column("")
    columns: Mapping[str, Any] = r  # the stage columns, `<stage>_ms`, by name
    stages = " · ".join(f"{s} {f.ms(columns[f'{s}_ms'])}" for s in CHILD_STAGES if columns[f"{s}_ms"] is not None)
    logged = f", {f.usd(r['logged_cost_usd'])} logged" if r["logged_cost_usd"] is not None else ""
    facts = [
        ("latency ms", f.ms(r["latency_ms"]) + ("" if r["has_root"] else " (envelope: no root event)")),
        ("stages ms", stages or "—"),
        ("ttft ms", f.ms(r["ttft_ms"])),
        ("tokens", f"in {f.count(r['input_tokens'])}, out {f.count(r['output_tokens'])}, "
         f"cached {f.count(r['cached_tokens'])}, reasoning {f.count(r['reasoning_tokens'])}"),
        ("cost", f"{f.usd(r['cost_usd'])} priced{logged}"),
        ("model", ", ".join(r["models"]) or "—"),
        ("route · user", f"{r['route'] or '—'} · {r['user'] or '—'}"),
        ("status", ("error" if r["is_error"] else "ok") + (f", {r['retries']} retries" if r["retries"] else "")),
        ("flags", ", ".join(r["flags"]) or "none"),
    ]  # fmt: skip
    for name, value in facts:
        table.add_row(name, Text(terminal_text(value, 200)))
    return table


def render_trace_terminal(record: TraceRecord, console: Console, *, redacted: bool) -> None:
    for i, traced in enumerate(record["requests"]):
        r = traced["request"]
        parts: list[RenderableType] = [
            Text(f"Request {terminal_text(r['correlation_id'], 80)}", style="bold"),
            _facts(r),
        ]
        parts += [Text(""), _waterfall(traced["events"], console.width)]
        texts = ((r.get("input_text"), "Input"), (r.get("context_text"), "Context"), (r.get("output_text"), "Output"))
        for text, title in texts:
            if text:
                label = f"{title}{' (redacted)' if redacted else ''}"
                parts += [Text(""), Text(label, style="bold"), *_text_block(text)]
        if i:
            console.rule()
        console.print(Group(*parts))


def _text_block(text: str) -> list[Text]:
    """A text as logged, its first TEXT_CHARS characters, and how many more there are when it is longer."""
    # Cut before escaping, so the count is of the logged characters, not of their escapes.
    shown = [Text(terminal_block(text[:TEXT_CHARS], limit=8 * TEXT_CHARS))]
    if len(text) > TEXT_CHARS:
        rest = len(text) - TEXT_CHARS
        shown.append(Text(f"… and {rest:,} more characters (--format json has the whole text)", style="dim"))
    return shown


def render_trace_json(record: TraceRecord) -> str:
    return json_text(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode()) + "\n"
