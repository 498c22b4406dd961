"""The history views: the report's trend table (one row per day of the store), and the incidents and scoring
notes of the anomaly detector (aiobs.incidents), built once for `aiobs history`, the Markdown and the HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from aiobs.anomaly import SIZES, size_label
from aiobs.incidents import SCORED, STATUSES, group_label
from aiobs.profiles import OVERALL
from aiobs.views.tables import ColumnSpec, TableSpec, table

DAILY_TREND_TITLE = "Per day (UTC); percentiles from the stored sketches (within 1%)"


def _day(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


def daily_trend_table(rows: Sequence[Mapping[str, Any]], flags: Sequence[str]) -> TableSpec:
    """Per day: requests, error rate, latency percentiles, cost per 1,000 requests, acceptance, the rate of
    each flag in `flags` (its `rate_<flag>` column) and the anomalous hour results that day (an alert).

    `rows` are the report history's trend rows (`report.trends.ReportHistory.trend`), oldest first.
    """
    columns = (
        ColumnSpec("day", "text"),
        ColumnSpec("requests", "count"),
        ColumnSpec("error rate", "percent"),
        ColumnSpec("p50 ms", "ms"),
        ColumnSpec("p95 ms", "ms"),
        ColumnSpec("p99 ms", "ms"),
        ColumnSpec("$/1k req", "usd"),
        ColumnSpec("accepted", "percent"),
        *(ColumnSpec(name, "percent") for name in flags),
        ColumnSpec("anomalies", "alert"),
    )
    cells = [
        [
            _day(r["period"]),
            r["requests"],
            r["error_rate"],
            r["latency_p50"],
            r["latency_p95"],
            r["latency_p99"],
            r["cost_per_1k_requests"],
            r["acceptance_rate"],
            *(r[f"rate_{name}"] for name in flags),
            r["anomalies"],
        ]
        for r in rows
    ]
    return table(DAILY_TREND_TITLE, columns, cells)


# -- incidents and scoring notes (aiobs.incidents), for `aiobs history` and the report ----------------------

#: Groups named in one cell; the rest are counted (all of them are in the JSON).
GROUPS_SHOWN = 8


@dataclass(frozen=True)
class Move:
    """One metric that moved in an incident: its strongest bucket, and every group where it moved."""

    metric: str
    #: The bucket size it was scored on, as people write it: `1 h`, `3 h`, `1 d`.
    size: str
    value: float | None
    baseline: float | None
    score: float
    groups: list[str]


@dataclass(frozen=True)
class IncidentRow:
    start: datetime
    end: datetime
    moves: list[Move]
    groups: list[str]
    score: float
    #: Bucket, group and metric results in it (the rows of `history.anomalies`).
    anomalies: int

    @property
    def when(self) -> str:
        """`2026-11-07 12:00 → 15:00` (UTC; the end is exclusive), the end's day too when it differs."""
        end = self.end.strftime("%H:%M" if self.end.date() == self.start.date() else "%Y-%m-%d %H:%M")
        return f"{self.start:%Y-%m-%d %H:%M} → {end}"


def incident_rows(incidents: pl.DataFrame) -> list[IncidentRow]:
    """The incidents (aiobs.incidents.INCIDENT_SCHEMA), newest first."""
    rows = []
    for r in incidents.sort("start", descending=True).iter_rows(named=True):
        moves = [
            Move(m["metric"], size_label(m["every"]), m["value"], m["baseline"], m["score"], m["groups"])
            for m in r["moves"]
        ]
        rows.append(IncidentRow(r["start"], r["end"], moves, r["groups"], r["score"], r["anomalies"]))
    return rows


def some_groups(groups: Sequence[str], shown: int = GROUPS_SHOWN) -> str:
    """`overall, route=/chat`, or the first `shown` and `and 4 more`."""
    more = f" and {len(groups) - shown} more" if len(groups) > shown else ""
    return ", ".join(groups[:shown]) + more


@dataclass(frozen=True)
class ScoringRow:
    """The group-metric pairs scored the same way: on coarser buckets, partly, or not at all (`note` says how)."""

    status: str
    note: str
    #: (metrics, groups): these metrics in these groups, metrics that share their groups on one line.
    #: `groups` is None when they are every group that has the metric in the window.
    parts: list[tuple[list[str], list[str] | None]]


def scoring_rows(scoring: pl.DataFrame, *, finest: str = SIZES[0]) -> list[ScoringRow]:
    """The scoring notes worth a line (aiobs.incidents.scoring): every group and metric not judged wholly on
    `finest` buckets, one row per note, worst status first."""
    if scoring.is_empty():
        return []
    every_group = scoring.group_by("metric").agg(pl.len().alias("of"))
    worth = scoring.filter((pl.col("status") != SCORED) | (pl.col("sizes") != pl.lit([finest]))).with_columns(
        group=group_label()
    )
    per_metric = (
        worth.sort(pl.col("dimension") != OVERALL, "dimension", "key", nulls_last=False)
        .group_by("status", "note", "metric", maintain_order=True)
        .agg(pl.col("group"))
        .join(every_group, on="metric")
        .with_columns(groups=pl.when(pl.col("group").list.len() < pl.col("of")).then(pl.col("group")))
        .sort("metric")
    )
    parts = per_metric.group_by("status", "note", "groups", maintain_order=True).agg(pl.col("metric"))
    rank = pl.col("status").replace_strict({s: i for i, s in enumerate(STATUSES)}, default=len(STATUSES))
    rows = (
        parts.group_by("status", "note", maintain_order=True)
        .agg(pl.struct("metric", "groups").alias("parts"))
        .sort([rank, pl.col("note")], descending=[True, False])
    )
    return [
        ScoringRow(r["status"], r["note"], [(p["metric"], p["groups"]) for p in r["parts"]])
        for r in rows.iter_rows(named=True)
    ]


#: Flag rates named one by one on a scoring line; more are counted (`12 flag rates`), all named in the JSON.
FLAGS_NAMED = 3


def scoring_text(part: tuple[list[str], list[str] | None], *, groups_shown: int = GROUPS_SHOWN) -> str:
    """`error_rate, cost_per_1k: model=gpt-4o, route=/chat`, `…: every group`, or `…, 12 flag rates: …`."""
    metrics, groups = part
    flags = [m for m in metrics if m.startswith("rate(")]
    named = [m for m in metrics if m not in flags]
    named += flags if len(flags) <= FLAGS_NAMED else [f"{len(flags)} flag rates"]
    where = "every group" if groups is None else some_groups(groups, groups_shown)
    return f"{', '.join(named)}: {where}"
