"""The report's Trends and Anomalies sections, read from a history store (`aiobs report --history DIR`).

`read_history` asks the store (aiobs.history) for the last N days: the trend per day, overall and
per model, and every bucket the anomaly detector scored (aiobs.anomaly), grouped into incidents, with how
each metric was scored (aiobs.incidents). `history_section`
turns those frames into what the renderers show. The window is N whole UTC days ending with the
newest day the store holds, so the first day of the trend is never a partial one. Group keys are
model names and routes from the logs: they go through the report's Cleaner like every other label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from aiobs import history
from aiobs.history import RunRecord
from aiobs.incidents import group_incidents
from aiobs.profiles import BUCKET, OVERALL
from aiobs.report.labels import Cleaner, relabel
from aiobs.views.tables import TableSpec
from aiobs.views.trends import IncidentRow, ScoringRow, daily_trend_table, incident_rows, scoring_rows

TREND_EVERY = "1d"
#: Quality flags shown in the trend (the highest rates over the window).
TREND_FLAGS = 4
#: Models drawn one by one in the per-model trend (the busiest over the window).
TREND_MODELS = 8
#: Days (the newest) in the per-model table.
TABLE_DAYS = 7
#: Anomalies listed (the highest scores); the rest are counted.
ANOMALY_ROWS = 100
#: The `error` flag repeats the error rate, which the trend has already.
_REPEATS_A_COLUMN = frozenset({"error"})
RATE_PREFIX = "rate_"


@dataclass(frozen=True)
class HistoryFrames:
    """What the store says about the last `days` days, as aiobs.history returns it (log keys not yet cleaned)."""

    store: str
    days: int
    window_start: datetime | None
    window_end: datetime | None
    #: history.trends(..., every="1d"), overall and by model.
    trend: pl.DataFrame
    by_model: pl.DataFrame
    #: history.detect(...): every bucket, group and metric with enough requests (`scored`, as
    #: history.anomalies(..., everything=True) gives it), the incidents, and how each metric was scored.
    scored: pl.DataFrame
    incidents: pl.DataFrame
    scoring: pl.DataFrame
    runs: int
    stored_days: int
    recorded: RunRecord | None = None


def read_history(
    store: Path, *, days: int, recorded: RunRecord | None = None, warn: history.Warn | None = None
) -> HistoryFrames:
    """The trend and the scored hours of the last `days` whole days of data in `store`.

    `warn` gets one sentence per damaged store file skipped (aiobs.history_store); the rest is shown.
    """
    stored = history.days(store, warn=warn)
    end = None
    if not stored.is_empty():
        last: date = stored.get_column("day").max()  # type: ignore[assignment]
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    detection = history.detect(store, days=days, end=end, warn=warn)
    return HistoryFrames(
        store=str(store),
        days=days,
        window_start=end - timedelta(days=days) if end is not None else None,
        window_end=end,
        trend=history.trends(store, days=days, every=TREND_EVERY, end=end, warn=warn),
        by_model=history.trends(store, days=days, by="model", every=TREND_EVERY, end=end, warn=warn),
        scored=detection.scored,
        incidents=detection.incidents,
        scoring=detection.scoring,
        runs=history.runs(store, warn=warn).height,
        stored_days=stored.height,
        recorded=recorded,
    )


@dataclass
class ReportHistory:
    """What the Trends and Anomalies sections show."""

    store: str
    days: int
    window_start: datetime | None
    window_end: datetime | None
    runs: int
    stored_days: int
    recorded: RunRecord | None
    #: One row per day with data: period, time (the day's middle, where charts draw it), requests, errors,
    #: error_rate, latency_p50/p95/p99, latency_mean, cost_usd, cost_per_1k_requests, acceptance_rate,
    #: rate_<flag> for the flags shown, and anomalies (anomalous hour-metric-group results that day).
    trend: pl.DataFrame
    #: Flags in the trend, highest rate first (without the `rate_` prefix).
    flags: list[str]
    #: period, time, key (cleaned), requests, error_rate, latency_p95: the busiest models, one row per day.
    by_model: pl.DataFrame
    #: Model labels of `by_model`, busiest first.
    models: list[str]
    #: bucket, every (its size), dimension, key (cleaned), group ("overall" or "model=…"), metric, value,
    #: baseline, score, reference, n: the ANOMALY_ROWS highest scores, newest first.
    anomalies: pl.DataFrame
    anomalies_total: int
    #: (metric, anomalies) over all anomalies found, most first.
    anomalies_by_metric: list[tuple[str, int]]
    #: Bucket-metric-group results the detector could judge (it had a baseline for them).
    judged: int
    #: The anomalies grouped into incidents (aiobs.incidents.INCIDENT_SCHEMA, group labels cleaned), oldest first.
    incidents: pl.DataFrame
    #: Per group (key cleaned) and metric: the bucket size it was scored on, or why it was not (aiobs.incidents).
    scoring: pl.DataFrame

    @property
    def incident_rows(self) -> list[IncidentRow]:
        """The incidents, newest first, one metric that moved per line (views.trends)."""
        return incident_rows(self.incidents)

    @property
    def scoring_rows(self) -> list[ScoringRow]:
        """The metrics scored on coarser buckets, partly or not at all, with why (views.trends)."""
        return scoring_rows(self.scoring)

    @property
    def trend_table(self) -> TableSpec:
        """The trend as a table, one row per day (views.trends), for the report's Markdown and HTML."""
        return daily_trend_table(self.trend.to_dicts(), self.flags)

    @property
    def days_of_data(self) -> int:
        return self.trend.height

    @property
    def enough_days(self) -> bool:
        """Two days make a trend; fewer is a single point."""
        return self.trend.height >= 2

    @property
    def first_run(self) -> bool:
        return self.runs <= 1

    @property
    def last_day(self) -> datetime | None:
        return self.window_end - timedelta(days=1) if self.window_end is not None else None

    def model_p95(self, days: int = TABLE_DAYS) -> tuple[list[datetime], list[tuple[str, list[float | None]]]]:
        """The per-model table: the last `days` days with data, and each model's p95 on them (None: no data)."""
        periods = self.trend.get_column("period").to_list()[-days:]
        cells = {(r["key"], r["period"]): r["latency_p95"] for r in self.by_model.iter_rows(named=True)}
        return periods, [(m, [cells.get((m, p)) for p in periods]) for m in self.models]


def _finite(frame: pl.DataFrame) -> pl.DataFrame:
    """A rate over no checked request is 0/0: shown as no value, never as NaN."""
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def _shown_flags(trend: pl.DataFrame) -> list[str]:
    rates = [c for c in trend.columns if c.startswith(RATE_PREFIX) and c[len(RATE_PREFIX) :] not in _REPEATS_A_COLUMN]
    if not rates or trend.is_empty():
        return []
    means = trend.select(pl.col(rates).mean()).row(0, named=True)
    ranked = sorted((c for c in rates if means[c] is not None), key=lambda c: (-means[c], c))
    return [c.removeprefix(RATE_PREFIX) for c in ranked[:TREND_FLAGS]]


#: Where a day is drawn on a time axis: its middle, so an anomalous hour falls inside its day.
_MIDDAY = pl.col("period").dt.offset_by("12h")


def _group_label() -> pl.Expr:
    return (
        pl.when(pl.col("dimension") == OVERALL)
        .then(pl.lit(OVERALL))
        .otherwise(pl.format("{}={}", pl.col("dimension"), pl.col("key")))
        .alias("group")
    )


def history_section(frames: HistoryFrames, clean: Cleaner) -> ReportHistory:
    """The frames the store returned, cleaned and cut to what the report shows."""
    trend = _finite(frames.trend)
    flags = _shown_flags(trend)
    found = frames.scored.filter(pl.col("anomaly"))
    per_day = found.group_by(period=pl.col(BUCKET).dt.truncate(TREND_EVERY)).agg(anomalies=pl.len())
    base = [c for c in trend.columns if not c.startswith(RATE_PREFIX)]
    trend = (
        trend.select(*base, *(f"{RATE_PREFIX}{name}" for name in flags))
        .join(per_day, on="period", how="left")
        .with_columns(pl.col("anomalies").fill_null(0).cast(pl.Int64), time=_MIDDAY)
        .sort("period")
    )

    by_model = _finite(frames.by_model)
    busiest = (
        by_model.group_by("key")
        .agg(pl.col("requests").sum())
        .sort(["requests", "key"], descending=[True, False], nulls_last=True)
        .head(TREND_MODELS)
        .get_column("key")
    )
    by_model = relabel(
        by_model.filter(pl.col("key").is_in(busiest.implode(), nulls_equal=True))
        .select("period", "key", "requests", "error_rate", "latency_p95")
        .with_columns(time=_MIDDAY)
        .sort("period", "key"),
        "key",
        clean,
    )
    cleaned = {key: clean(key) for key in busiest.to_list()}
    models = list(dict.fromkeys(cleaned.values()))

    cleaned_found = relabel(relabel(found, "key", clean), "metric", clean)
    strongest = cleaned_found.sort(["score", BUCKET], descending=[True, True], nulls_last=True).head(ANOMALY_ROWS)
    anomalies = (
        strongest.with_columns(_group_label())
        .select(BUCKET, "every", "dimension", "key", "group", "metric", "value", "baseline", "score", "reference", "n")
        .sort([BUCKET, "score"], descending=[True, True])
    )
    return ReportHistory(
        store=frames.store,
        days=frames.days,
        window_start=frames.window_start,
        window_end=frames.window_end,
        runs=frames.runs,
        stored_days=frames.stored_days,
        recorded=frames.recorded,
        trend=trend,
        flags=flags,
        by_model=by_model,
        models=models,
        anomalies=anomalies,
        anomalies_total=found.height,
        anomalies_by_metric=[
            (clean(metric), int(n))
            for metric, n in found.group_by("metric").len().sort(["len", "metric"], descending=[True, False]).rows()
        ],
        judged=frames.scored.filter(pl.col("score").is_not_null()).height,
        incidents=group_incidents(cleaned_found),
        scoring=relabel(relabel(frames.scoring, "key", clean), "metric", clean),
    )
