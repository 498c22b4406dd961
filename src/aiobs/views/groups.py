"""The per-group latency table (`summarize --by model`, the report's latency by model), built once.

One row per group from the summary record's `groups` (or `group_records` of the report's model frame):
the group's key columns as labels, then requests, error rate, latency percentiles, tokens and cost. A
compact medium (the terminal) shows the columns not marked `compact=False`, under their short headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiobs.metrics import STAGE_KEY
from aiobs.views.tables import Cell, ColumnSpec, Rough, TableSpec, table

#: Latency percentiles of a group row; a rough one (few requests above it) is wrapped in `Rough`.
PERCENTILES = ("p50", "p95", "p99")
METRIC_COLUMNS = (
    ColumnSpec("requests", "count", short="req"),
    ColumnSpec("error rate", "percent", short="err"),
    *(ColumnSpec(f"{p} ms", "ms") for p in PERCENTILES),
    ColumnSpec("max ms", "ms", compact=False),
    ColumnSpec("TTFT p50", "ms", compact=False),
    ColumnSpec("tokens in", "count", compact=False),
    ColumnSpec("tokens out", "count", short="out tok"),
    ColumnSpec("cost", "usd"),
    ColumnSpec("$/1k req", "usd"),
)
#: Columns a narrow medium leaves out first, in this order (JSON, Markdown and CSV keep them all).
DROP_ORDER = ("tokens out", "$/1k req", "p50 ms")
#: Columns of what belongs to a whole request: null for every stage row, so a stage table leaves them out.
REQUEST_ONLY = ("TTFT p50", "tokens in", "tokens out", "cost", "$/1k req")


#: What a stage row counts: its latency is the stage's, its requests and errors are whole requests'.
STAGE_NOTE = (
    "A stage's latency is the time its requests spent in it; requests and error rate are of the requests "
    "that ran it (an error may have happened in another stage)."
)


def group_title(name: str) -> str:
    """`By model`, and `Per 1h bucket` for the `per 1h` table."""
    return f"Per {name.removeprefix('per ')} bucket" if name.startswith("per ") else f"By {name}"


#: Rows of a group table a person reads (terminal, Markdown) shows at most; JSON and CSV list every group.
READ_ROWS = 25


def group_table(
    name: str,
    records: Sequence[Mapping[str, Any]],
    *,
    hidden: int = 0,
    folded: int = 0,
    limit: int | None = None,
) -> TableSpec:
    """The table of one `Summary.groups` entry; `hidden` groups left out of `records` are counted in a note.

    `limit` shows at most that many of the groups (the busiest: the rows come busiest first), saying how
    many more there are and how to see or sum them; tables over time, read in time order, and tables --top
    folded already, are whole."""
    keys = list(records[0]["key"]) if records else [name]
    # --top already chose how many groups to show (and summed the rest as `other`): no second cut.
    if limit is not None and not folded and "time" not in keys and len(records) > limit:
        hidden = len(records) - limit
        hint = f"and {hidden:,} more {_plural(keys)}: --top N sums them as other; json and csv list every one."
        return _group_table(name, keys, records[:limit], [hint], folded)
    notes = [f"{hidden:,} more {_plural(keys)} not shown."] if hidden else []
    return _group_table(name, keys, records, notes, folded)


def _plural(keys: list[str]) -> str:
    return f"{keys[0]}s" if len(keys) == 1 and keys[0] in ("model", "route", "user", "provider") else "groups"


def _group_table(
    name: str, keys: list[str], records: Sequence[Mapping[str, Any]], notes: list[str], folded: int
) -> TableSpec:
    columns = [*(ColumnSpec(k, "label") for k in keys), *METRIC_COLUMNS]
    rows = [[*(r["key"][k] for k in keys), *_metrics(r)] for r in records]
    if "time" in keys:
        rows = _days_as_dates(rows, keys.index("time"))
    if folded:
        notes.append(f"other: {folded:,} smaller groups counted together (--top).")
    if STAGE_KEY in keys:
        notes.append(STAGE_NOTE)
    spec = table(group_title(name), columns, rows, notes=notes, drop_order=DROP_ORDER)
    if STAGE_KEY in keys:
        return spec.keep([c.name for c in spec.columns if c.name not in REQUEST_ONLY])
    return spec


def _metrics(r: Mapping[str, Any]) -> list[Cell]:
    latency = r["latency_ms"]
    return [
        r["requests"],
        r["error_rate"],
        *(_percentile(latency, p) for p in PERCENTILES),
        latency["max"],
        r["ttft_ms"]["p50"],
        r["tokens"]["input"],
        r["tokens"]["output"],
        r["cost_usd"],
        r["cost_per_1k_requests"],
    ]


def _percentile(latency: Mapping[str, Any], name: str) -> Cell:
    value = latency[name]
    present = value is not None and value == value  # NaN (a percentile over nothing) is no value
    return Rough(value) if present and name in latency["thin"] else value


def _days_as_dates(rows: list[list[Cell]], at: int) -> list[list[Cell]]:
    """Time buckets that all start at midnight (--every 1d, 1w) read as dates: `2026-11-28`, not
    `2026-11-28T00:00:00Z`, so the column stays narrow. The JSON keeps the full time."""
    starts = [row[at] for row in rows]
    if not starts or not all(isinstance(s, str) and s.endswith("T00:00:00Z") for s in starts):
        return rows
    return [[*row[:at], str(row[at]).removesuffix("T00:00:00Z"), *row[at + 1 :]] for row in rows]
