"""`aiobs inspect` as terminal tables or the versioned JSON document (`aiobs.inspect/1`).

Key names and paths come from the logs: they go into rich as `Text` (never markup) and are escaped like
any other log text. No value of the logs is shown, only key names, types and shares.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import orjson
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from aiobs.escape import json_text, terminal_text
from aiobs.inspection import FieldUse, FileInspection
from aiobs.issues import INFORMATIONAL
from aiobs.render import numbers as f

SCHEMA = "aiobs.inspect/1"


def inspect_record(files: list[FileInspection]) -> dict[str, Any]:
    def uses(items: list[FieldUse]) -> list[dict[str, Any]]:
        return [
            {"name": u.name, "share": u.share, "paths": [{"path": p, "share": s} for p, s in u.paths]} for u in items
        ]

    def one(i: FileInspection) -> dict[str, Any]:
        doc = {
            k.name: getattr(i, k.name)
            for k in fields(i)
            if k.name not in ("fields", "status", "unmapped", "gaps", "issues")
        }
        return {
            **doc,
            "fields": uses(i.fields),
            "status": uses(i.status),
            # A key's median only chooses a unit hint: for a key seen once it is the logged value itself.
            "unmapped": [{"path": k.path, "type": k.type, "share": k.share} for k in i.unmapped],
            "gaps": [{**asdict(g), "config": g.config} for g in i.gaps],
            "issues": [
                {
                    "code": code,
                    "title": title,
                    "count": n,
                    "examples": [{"source": e.source, "line": e.line, "message": e.message} for e in ex],
                }
                for code, title, n, ex in i.issues.rows()
            ],
        }

    return {"schema": SCHEMA, "files": [one(i) for i in files]}


def render_inspect_json(files: list[FileInspection]) -> str:
    return json_text(orjson.dumps(inspect_record(files), option=orjson.OPT_INDENT_2).decode()) + "\n"


def _share(value: float | None) -> str:
    if value is None:
        return "—"
    return "100%" if value == 1 else ("0%" if value == 0 else f"{value:.1%}")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    for column in columns:
        numeric = column in ("filled", "in lines")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    return table


def _sources(paths: list[tuple[str, float]], fallback: str = "—") -> Text:
    return Text(", ".join(f"{terminal_text(p, 60)} {_share(s)}" for p, s in paths[:3]) or fallback)


def _file(i: FileInspection) -> RenderableType:
    head = Text.assemble((terminal_text(i.source, 200), "bold"), f"  {i.format}: {i.format_reads}")
    if i.sampled_lines == 0:
        head.append("\nThe file is empty: nothing to inspect.", style="yellow")
        return head
    sampled = "the whole file" if i.whole_file else f"the first {f.count(i.sampled_lines)} lines"
    head.append(
        f"\n{i.evidence}. Read {sampled} ({i.sampled_bytes / 1e6:,.1f} MB): "
        f"{f.count(i.events)} events, {f.count(i.requests)} requests.",
        style="dim",
    )
    fields = _table("Fields (share of events; of lines for each source)", "field", "filled", "from")
    for use in i.fields:
        if use.share or use.paths:
            reader = "—" if i.mappable else f"{i.format} reader"
            if use.name == "error_type" and i.mappable:
                reader = "the error field"
            fields.add_row(use.name, _share(use.share), _sources(use.paths, reader))
    parts: list[RenderableType] = [head, fields]
    if i.status:
        status = _table("Status fields (errors by convention)", "field", "in lines", "from")
        for use in i.status:
            status.add_row(use.name, _share(sum(share for _, share in use.paths)), _sources(use.paths))
        parts.append(status)
    missing = [u.name for u in i.fields if not u.share and not u.paths]
    if missing:
        parts.append(Text(f"Not in these logs: {', '.join(missing)}", style="dim"))
    if i.unmapped:
        keys = _table("Keys not read", "key", "type", "in lines")
        for k in i.unmapped:
            keys.add_row(Text(terminal_text(k.path, 80)), k.type, _share(k.share))
        parts.append(keys)
    parts.append(_gaps(i))
    if i.issues.counts:
        parts.append(_sample_issues(i))
    return Group(*parts)


def _sample_issues(i: FileInspection) -> Text:
    """What `summarize` would report about these lines (problems and notes), with the first example of each."""
    text = Text("In the sample, aiobs summarize would also report\n", style="bold")
    for code, title, count, examples in i.issues.rows():
        text.append(f"  {code} ({f.count(count)}): {title}", style="yellow" if code not in INFORMATIONAL else "dim")
        if examples:
            text.append("  e.g. " + terminal_text(f"{examples[0].location} {examples[0].message}", 160))
        text.append("\n")
    text.rstrip()
    return text


def _gaps(i: FileInspection) -> RenderableType:
    if not i.gaps:
        return Text("aiobs can compute latency, errors, tokens and cost from these lines.", style="green")
    text = Text("What aiobs cannot compute from these lines\n", style="bold")
    for gap in i.gaps:
        text.append(f"  {gap.what}: ", style="bold yellow")
        text.append(f"{gap.why}.\n")
        if gap.options:
            text.append("    try: ", style="dim")
            text.append(terminal_text("   or   ".join(gap.options), 300) + "\n")
            text.append("    or in aiobs.toml: ", style="dim")
            text.append(terminal_text("  ".join(gap.config), 200) + "\n")
        elif i.mappable:
            text.append("    no key looks like it: log one, or name yours with --map FIELD=PATH\n", style="dim")
        else:
            text.append(f"    {i.format} records do not carry it: nothing to map\n", style="dim")
    text.rstrip()
    return text


def render_inspect(files: list[FileInspection], console: Console) -> None:
    for n, i in enumerate(files):
        if n:
            console.print()
        console.print(_file(i))
