"""A Summary as GitHub-flavoured Markdown (fit for $GITHUB_STEP_SUMMARY). Every cell from the logs is escaped."""

from __future__ import annotations

from aiobs.escape import markdown_cell
from aiobs.formats.conventions import RULE_TITLES
from aiobs.render import numbers as f
from aiobs.render.overall_rows import overall_rows
from aiobs.render.quality_view import acceptance_line, flag_rows, group_flags, unchecked_flags
from aiobs.render.tables import markdown_table
from aiobs.summary import Summary
from aiobs.views.cost import summary_cost_check, summary_spend, unpriced_table
from aiobs.views.groups import READ_ROWS, group_table
from aiobs.views.record_types import IssueKindRecord, SummaryRecord
from aiobs.views.records import summary_record


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1, text_at: tuple[int, ...] = ()) -> list[str]:
    """A GitHub table; columns from `numeric_from` on are right-aligned, except the text ones in `text_at`."""
    align = [":--" if i < numeric_from or i in text_at else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _flags(record: SummaryRecord) -> list[str]:
    flags = record["overall"]["flags"]
    if not flags:
        return []
    rows = [
        [f"`{r.name}`", f.count(r.applicable), f.count(r.flagged), f.pct(r.rate), f.usd(r.cost_usd), r.meaning]
        for r in flag_rows(flags)
    ]
    out = [
        "## Quality flags",
        "",
        *_table(["flag", "checked", "flagged", "rate", "cost of flagged", "meaning"], rows, text_at=(5,)),
        "",
    ]
    unchecked = unchecked_flags(flags)
    if unchecked:
        out += [f"Not checked (no request had the data): {', '.join(unchecked)}.", ""]
    feedback = acceptance_line(record["overall"]["feedback"])
    if feedback:
        out += [feedback + ".", ""]
    shown = group_flags(flags)
    for key, records in record["quality"]["by"].items():
        if not shown or not records:
            continue
        header = [key, "requests", *shown, "accepted"]
        table_rows = [
            [
                markdown_cell("—" if r["key"][key] is None else r["key"][key]),
                f.count(r["requests"]),
                *(f.pct(r["flags"][name]["rate"]) if name in r["flags"] else "—" for name in shown),
                f.pct(r["feedback"]["acceptance_rate"]),
            ]
            for r in records
        ]
        out += [f"### Flag rates by {key}", "", *_table(header, table_rows), ""]
    return out


def _kinds(word: str, kinds: list[IssueKindRecord]) -> list[str]:
    rows = [
        [
            f"`{k['code']}`",
            f.count(k["count"]),
            "<br>".join(markdown_cell(f"{e['source']}:{e['line'] or ''} {e['message']}", 160) for e in k["examples"]),
        ]
        for k in kinds
    ]
    return [*_table([word, "count", "first examples"], rows, text_at=(2,)), ""]


def render_markdown(summary: Summary) -> str:
    record = summary_record(summary)
    o = record["overall"]
    out = [
        "# aiobs summary",
        "",
        f"{f.requests_read(o['requests'], summary.requests_read, summary.selected_by)} "
        f"from {f.count(record['events'])} events in "
        f"{len(record['inputs'])} input(s)"
        + (f", {o['first_start']} → {o['last_start']}." if o["first_start"] else "; none in the time window."),
        "",
        *_table(["metric", "value"], [[name, value] for name, value in overall_rows(o)]),
        "",
    ]
    if record["errors_by_rule"]:
        out += [f.errors_by_rule(record["errors_by_rule"], RULE_TITLES).replace("errors", "Errors", 1) + ".", ""]
    for name, records in record["groups"].items():
        out += markdown_table(group_table(name, records, folded=summary.folded.get(name, 0), limit=READ_ROWS))
    if record["spend_by_model_per_call"]:
        out += markdown_table(summary_spend(record))
    if record["unpriced_models"]:
        out += markdown_table(unpriced_table(record["unpriced_models"]))
    if record["cost_check"]:
        out += markdown_table(summary_cost_check(record))
    out += _flags(record)
    kinds = record["input_quality"]["by_kind"]
    problems = [k for k in kinds if not k["informational"]]
    notes = [k for k in kinds if k["informational"]]
    out += ["## Input quality", ""]
    out += _kinds("problem", problems) if problems else ["No problems found.", ""]
    if notes:
        out += ["### What the logs do not say (not counted as problems)", "", *_kinds("note", notes)]
    if f.any_thin([o, *(r for rs in record["groups"].values() for r in rs)]):
        out += [f"\\{f.THIN_NOTE}", ""]
    return "\n".join(out)
