"""A Summary as rich tables. Every value from the logs goes in as `Text`, never as markup."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from aiobs.escape import terminal_text
from aiobs.formats.conventions import RULE_TITLES
from aiobs.render import numbers as f
from aiobs.render.overall_rows import overall_rows
from aiobs.render.quality_view import acceptance_line, flag_rows, group_flags, unchecked_flags
from aiobs.render.tables import terminal_table
from aiobs.summary import Summary
from aiobs.views.cost import summary_cost_check, summary_spend, unpriced_table
from aiobs.views.groups import READ_ROWS, group_table
from aiobs.views.record_types import GroupRecord, InputQualityRecord, IssueKindRecord, SummaryRecord
from aiobs.views.records import summary_record


def _data(value: object, limit: int = 40) -> Text:
    return Text("—" if value is None else terminal_text(value, limit))


def _table(title: str, *columns: str, numeric_from: int = 0) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    for i, column in enumerate(columns):
        if i >= numeric_from:
            table.add_column(column, justify="right", no_wrap=True)
        else:  # labels from the logs may be long: fold them rather than squeeze the numbers
            table.add_column(column, justify="left", overflow="fold", min_width=16, max_width=30)
    return table


def _overall(
    record: SummaryRecord, n_inputs: int, requests_read: int | None = None, selected_by: str = ""
) -> RenderableType:
    o = record["overall"]
    head = Text.assemble(
        ("aiobs summary", "bold"),
        f"  {f.requests_read(o['requests'], requests_read, selected_by)} from {f.count(record['events'])} events"
        f" in {n_inputs} input(s)",
    )
    if o["first_start"]:
        head.append(f"\n{o['first_start']} → {o['last_start']}", style="dim")
    table = _table("Overall", "metric", "value", numeric_from=1)
    for name, value in overall_rows(o):
        table.add_row(name, value)
    parts: list[RenderableType] = [head, Text(""), table]
    if record["errors_by_rule"]:
        parts.append(Text(f.errors_by_rule(record["errors_by_rule"], RULE_TITLES), style="dim"))
    return Group(*parts)


#: A group table's label column is shown at least this wide; a longer label folds onto the next line.
LABEL_MIN = 12


#: A model in the spend table is cut at this many characters, not 40: its stages follow its name.
SPEND_LABEL_CHARS = 60


#: Below this width the flag table leaves out how many requests were checked and what the flagged ones cost.
FULL_FLAG_TABLE = 100
#: Width a flag-rate column takes (header folded on two lines), and the label, request and accepted columns.
FLAG_COLUMN, FLAG_TABLE_FIXED = 14, 40


def _flags(record: SummaryRecord, width: int) -> RenderableType | None:
    flags = record["overall"]["flags"]
    if not flags:
        return None
    full = width >= FULL_FLAG_TABLE
    extra = ("checked", "flagged", "rate", "cost of flagged") if full else ("flagged", "rate")
    table = _table("Quality flags", "flag", *extra, "meaning", numeric_from=1)
    table.columns[-1].justify = "left"
    table.columns[-1].no_wrap = False
    table.columns[-1].overflow = "fold"
    table.columns[-1].min_width = 20
    for row in flag_rows(flags):
        numbers = (f.count(row.applicable), f.count(row.flagged), f.pct(row.rate), f.usd(row.cost_usd))
        table.add_row(row.name, *(numbers if full else numbers[1:3]), row.meaning)
    parts: list[RenderableType] = [table]
    unchecked = unchecked_flags(flags)
    if unchecked:
        parts.append(Text(f"Not checked (no request had the data): {', '.join(unchecked)}", style="dim"))
    feedback = acceptance_line(record["overall"]["feedback"])
    if feedback:
        parts.append(Text(feedback))
    if not full:
        parts.append(Text("checked and cost of flagged: in a wider terminal, or --format json/md/csv", style="dim"))
    shown = group_flags(flags)
    fits = max(1, (width - FLAG_TABLE_FIXED) // FLAG_COLUMN)
    for key, records in record["quality"]["by"].items():
        if shown and records:
            parts += [Text(""), _group_flag_table(key, records, shown[:fits])]
            if len(shown) > fits:
                left = ", ".join(shown[fits:])
                parts.append(Text(f"not shown at this width: {left}", style="dim"))
    return Group(*parts)


def _group_flag_table(key: str, records: list[GroupRecord], shown: list[str]) -> Table:
    # Flag names as headers that may wrap at the underscore, so the label column keeps its width.
    headers = [name.replace("_", " ") for name in shown]
    table = _table(f"Flag rates by {key}", key, "req", *headers, "accepted", numeric_from=1)
    table.columns[0].min_width = 20
    for column in table.columns[2:]:
        column.no_wrap = False
    for r in records:
        cells = [f.pct(r["flags"][name]["rate"]) if name in r["flags"] else "—" for name in shown]
        table.add_row(_data(r["key"][key]), f.count(r["requests"]), *cells, f.pct(r["feedback"]["acceptance_rate"]))
    return table


def _quality(quality: InputQualityRecord) -> RenderableType:
    """Problems (what --strict fails on), then notes: what the logs do not say, each with how to say it."""
    problems = [k for k in quality["by_kind"] if not k["informational"]]
    notes = [k for k in quality["by_kind"] if k["informational"]]
    parts: list[RenderableType] = []
    if not problems:
        parts.append(Text("Input quality: no problems found.", style="green"))
    else:
        parts += _kinds_table("Input quality", "problem", problems)
    if notes:
        parts += [Text(""), *_kinds_table("What the logs do not say (not counted as problems)", "note", notes)]
    return Group(*parts)


def _kinds_table(title: str, word: str, kinds: list[IssueKindRecord]) -> list[RenderableType]:
    table = _table(title, word, "count", "meaning", numeric_from=1)
    table.columns[0].min_width = 22
    table.columns[1].min_width = 5
    table.columns[2].justify = "left"
    table.columns[2].no_wrap = False
    examples = Text("First examples:\n", style="dim")
    for kind in kinds:
        table.add_row(kind["code"], f.count(kind["count"]), kind["title"])
        _append_examples(examples, kind)
    examples.rstrip()
    return [table, examples]


def _append_examples(examples: Text, kind: IssueKindRecord) -> None:
    """One line per example; when every example says the same (missing-root), the sentence once, then where."""
    locations = [f"{e['source']}:{e['line']}" if e["line"] is not None else e["source"] for e in kind["examples"]]
    messages = {e["message"] for e in kind["examples"]}
    if len(locations) > 1 and len(messages) == 1:
        examples.append(f"  {kind['code']}  ", style="dim")
        examples.append(terminal_text(messages.pop(), 400) + "\n")
        for location in locations:
            examples.append("    " + terminal_text(location, 200) + "\n")
        return
    for location, e in zip(locations, kind["examples"], strict=True):
        examples.append(f"  {kind['code']}  ", style="dim")
        examples.append(terminal_text(f"{location}  {e['message']}", 200) + "\n")


def render_terminal(summary: Summary, console: Console) -> None:
    record = summary_record(summary)
    console.print(_overall(record, len(summary.inputs), summary.requests_read, summary.selected_by))
    for name, records in record["groups"].items():
        console.print()
        table = group_table(name, records, folded=summary.folded.get(name, 0), limit=READ_ROWS)
        console.print(terminal_table(table, width=console.width, label_width=(LABEL_MIN, 30)))
    if record["spend_by_model_per_call"]:
        console.print()
        console.print(terminal_table(summary_spend(record), width=console.width, label_chars=SPEND_LABEL_CHARS))
    if record["unpriced_models"]:
        console.print()
        console.print(terminal_table(unpriced_table(record["unpriced_models"]), width=console.width))
    if record["cost_check"]:
        console.print()
        console.print(terminal_table(summary_cost_check(record), width=console.width))
    flags = _flags(record, console.width)
    if flags is not None:
        console.print()
        console.print(flags)
    console.print()
    console.print(_quality(record["input_quality"]))
    if _any_thin(record):
        console.print(Text(f.THIN_NOTE, style="dim"))


def _any_thin(record: SummaryRecord) -> bool:
    return f.any_thin([record["overall"], *(r for rs in record["groups"].values() for r in rs)])
