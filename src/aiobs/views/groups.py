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


def group_title(name: str) -> str:
    """`By model`, and `Per 1h bucket` for the `per 1h` table."""
    return f"Per {name.removeprefix('per ')} bucket" if name.startswith("per ") else f"By {name}"


def group_table(name: str, records: Sequence[Mapping[str, Any]], *, hidden: int = 0, folded: int = 0) -> TableSpec:
    """The table of one `Summary.groups` entry; `hidden` groups left out of `records` are counted in a note."""
    keys = list(records[0]["key"]) if records else [name]
    columns = [*(ColumnSpec(k, "label") for k in keys), *METRIC_COLUMNS]
    rows = [[*(r["key"][k] for k in keys), *_metrics(r)] for r in records]
    notes = [f"{hidden:,} more {'models' if keys == ['model'] else 'groups'} not shown."] if hidden else []
    if folded:
        notes.append(f"other: {folded:,} smaller groups counted together (--top).")
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
