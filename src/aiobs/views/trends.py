"""The report's trend table: one row per day of the history store, built once for its Markdown and HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
