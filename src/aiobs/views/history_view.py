"""`aiobs history` as one view: what a store holds, its trend and its anomalous hours, privacy applied once.

The store keeps group keys as the recording run showed them; they are shown again under this run's
policy (`--no-redact`, `--hash-users`), and the anomalies are grouped into incidents after that, so an
incident names its groups as the tables beside it do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from aiobs.incidents import Detection, group_incidents
from aiobs.redact import Privacy, private_keys


@dataclass
class HistoryView:
    store: str
    days: pl.DataFrame
    runs: pl.DataFrame
    trends: pl.DataFrame
    anomalies: pl.DataFrame
    scored: int
    window_days: int
    by: str
    every: str
    removed: list[date]
    #: aiobs.incidents: the anomalies grouped into incidents, and per group and metric how it was scored.
    incidents: pl.DataFrame | None = None
    scoring: pl.DataFrame | None = None


@dataclass(frozen=True)
class HistoryQuery:
    """What `aiobs history` was asked: the last `window_days` days, the trend `by` a dimension `every` period."""

    window_days: int
    by: str
    every: str


def history_view(
    store: str,
    query: HistoryQuery,
    *,
    days: pl.DataFrame,
    runs: pl.DataFrame,
    trends: pl.DataFrame,
    detection: Detection,
    removed: list[date],
    privacy: Privacy,
) -> HistoryView:
    """The store's days, runs, trend and detection as shown: keys private, anomalies grouped after that."""
    scored = private_keys(detection.scored, privacy)
    anomalies = scored.filter(pl.col("anomaly"))
    return HistoryView(
        store=store,
        days=days,
        runs=runs,
        trends=private_keys(trends, privacy, dimension=query.by),
        anomalies=anomalies,
        scored=scored.height,
        window_days=query.window_days,
        by=query.by,
        every=query.every,
        removed=removed,
        incidents=group_incidents(anomalies),
        scoring=private_keys(detection.scoring, privacy),
    )
