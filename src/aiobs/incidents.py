"""Incidents and scoring notes: what the anomaly detector (aiobs.anomaly) found, told once, and what it could not judge.

An **incident** is a stretch of time in which something was anomalous: the anomalies (one per
bucket, group and metric) whose buckets overlap or touch, whatever their size (an error-rate hour
inside a 3 h latency bucket is one incident). It lists the metrics that moved, each with its
strongest bucket (value, baseline, score, bucket size) and the groups where it moved, and the
groups in all. `error_rate` and the `error` flag's rate are one signal: aiobs.anomaly scores it once.

The **scoring** table has one row per group and metric with data in the window: the bucket sizes
its hours were judged on (each hour on the finest bucket with enough requests: aiobs.anomaly), its
hours with data, and of those how many were judged, how many wait for a baseline (the first days of
a store), and how many have too few requests even on the coarsest bucket; `status` and `note` say
it in words. Nothing is left out without a word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from aiobs.anomaly import GROUP, AnomalyRules, judged_hours, residuals_needed, score_profiles, size_hours, size_label
from aiobs.profiles import BUCKET, OVERALL

#: `scoring` statuses, best first.
SCORED, PARTLY, NO_BASELINE, TOO_FEW = "scored", "partly scored", "no baseline yet", "too few requests"
STATUSES = (SCORED, PARTLY, NO_BASELINE, TOO_FEW)
INCIDENT_SCHEMA = {
    "incident": pl.Int64(),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
    "metrics": pl.List(pl.String()),
    "groups": pl.List(pl.String()),
    "score": pl.Float64(),
    "anomalies": pl.Int64(),
    "moves": pl.List(
        pl.Struct(
            {
                "metric": pl.String(),
                "every": pl.String(),
                BUCKET: pl.Datetime("us", "UTC"),
                "group": pl.String(),
                "value": pl.Float64(),
                "baseline": pl.Float64(),
                "score": pl.Float64(),
                "groups": pl.List(pl.String()),
            }
        )
    ),
}


@dataclass(frozen=True)
class Detection:
    """What the detector says about a window."""

    #: Every bucket, group and metric judged or eligible (aiobs.anomaly.score_series' columns, `anomaly` marks).
    scored: pl.DataFrame
    #: One row per incident (INCIDENT_SCHEMA), oldest first.
    incidents: pl.DataFrame
    #: One row per group and metric with data in the window: the size scored on, counts, status and note.
    scoring: pl.DataFrame

    @property
    def anomalies(self) -> pl.DataFrame:
        return self.scored.filter(pl.col("anomaly"))

    @property
    def unscored(self) -> pl.DataFrame:
        """The scoring rows of metrics not (or not wholly) judged, with why."""
        return self.scoring.filter(pl.col("status") != SCORED)


def detect(profiles: pl.DataFrame, rules: AnomalyRules, *, since: datetime | None = None) -> Detection:
    """Score hourly history rows (and the reference days before `since`), group the anomalies into incidents,
    and say, per group and metric, on which bucket sizes it was judged and why some hours were not."""
    scored, hourly = score_profiles(profiles, rules, since=since)
    return Detection(
        scored=scored,
        incidents=group_incidents(scored.filter(pl.col("anomaly"))),
        scoring=scoring(scored, hourly, rules, since=since),
    )


def group_label() -> pl.Expr:
    """`overall`, or `dimension=key` (`—` for a missing key)."""
    return (
        pl.when(pl.col("dimension") == OVERALL)
        .then(pl.lit(OVERALL))
        .otherwise(pl.format("{}={}", pl.col("dimension"), pl.col("key").fill_null("—")))
    )


def group_incidents(anomalies: pl.DataFrame) -> pl.DataFrame:
    """Anomalies (bucket, every, dimension, key, metric, value, baseline, score) as incidents: those whose
    buckets overlap or touch are one (INCIDENT_SCHEMA)."""
    if anomalies.is_empty():
        return pl.DataFrame(schema=INCIDENT_SCHEMA)
    rows = (
        anomalies.with_columns(group=group_label(), end=pl.col(BUCKET).dt.offset_by(pl.col("every")))
        .sort([BUCKET, "end"])
        # A bucket starting after every earlier one has ended opens a new incident.
        .with_columns(opens=(pl.col(BUCKET) > pl.col("end").cum_max().shift(1)).fill_null(True))
        .with_columns(incident=pl.col("opens").cum_sum().cast(pl.Int64))
    )
    strongest = rows.sort(["score", BUCKET], descending=[True, False])
    moves = (
        strongest.group_by(["incident", "metric"], maintain_order=True)
        .agg(pl.col("every", BUCKET, "group", "value", "baseline", "score").first(), groups=_groups())
        .group_by("incident", maintain_order=True)
        .agg(
            metrics=pl.col("metric"),
            moves=pl.struct("metric", "every", BUCKET, "group", "value", "baseline", "score", "groups"),
        )
    )
    spans = strongest.group_by("incident", maintain_order=True).agg(
        start=pl.col(BUCKET).min(),
        end=pl.col("end").max(),
        groups=_groups(),
        score=pl.col("score").max(),
        anomalies=pl.len().cast(pl.Int64),
    )
    joined = spans.join(moves, on="incident").sort("incident")
    return joined.select(pl.col(name).cast(dtype) for name, dtype in INCIDENT_SCHEMA.items())


def _groups() -> pl.Expr:
    """The groups of an incident (rows strongest first): overall first, then the others strongest first."""
    group = pl.col("group")
    return group.sort_by(group != OVERALL, maintain_order=True).unique(maintain_order=True)


def scoring(
    scored: pl.DataFrame, hourly: pl.DataFrame, rules: AnomalyRules, *, since: datetime | None = None
) -> pl.DataFrame:
    """Per group and metric with data after `since`: the bucket sizes it was judged on (`sizes`, finest first),
    its hours with data, and of those the hours `judged`, `waiting` (no baseline yet) and `thin` (too few
    requests even on the coarsest bucket), with `status` and a `note` saying why."""
    data = hourly.filter(pl.col("n") > 0)
    if since is not None:
        data = data.filter(pl.col(BUCKET) >= since)
    hours = data.select(*GROUP, BUCKET, needs=pl.max_horizontal("needs", pl.lit(rules.min_requests))).join(
        judged_hours(scored), on=[*GROUP, BUCKET], how="left", nulls_equal=True
    )
    finest_first = pl.col("every").replace_strict({e: i for i, e in enumerate(rules.sizes)}, return_dtype=pl.Int64)
    sizes = (
        scored.sort(finest_first)
        .group_by(GROUP, maintain_order=True)
        .agg(sizes=pl.col("every").unique(maintain_order=True))
    )
    counts = (
        hours.group_by(GROUP)
        .agg(
            needs=pl.col("needs").first(),
            hours=pl.len().cast(pl.Int64),
            judged=pl.col("judged").fill_null(False).sum().cast(pl.Int64),
            thin=pl.col("judged").is_null().sum().cast(pl.Int64),
        )
        .with_columns(waiting=pl.col("hours") - pl.col("judged") - pl.col("thin"))
        .join(sizes, on=GROUP, how="left", nulls_equal=True)
        .with_columns(pl.col("sizes").fill_null([]))
    )
    status = (
        pl.when(pl.col("judged") == pl.col("hours"))
        .then(pl.lit(SCORED))
        .when(pl.col("judged") > 0)
        .then(pl.lit(PARTLY))
        .when(pl.col("waiting") > 0)
        .then(pl.lit(NO_BASELINE))
        .otherwise(pl.lit(TOO_FEW))
    )
    rows = counts.with_columns(status=status)
    notes = [scoring_note(r, rules) for r in rows.iter_rows(named=True)]
    columns = ["dimension", "key", "metric", "status", "sizes", "hours", "judged", "waiting", "thin", "needs"]
    return (
        rows.with_columns(note=pl.Series(notes, dtype=pl.String)).select(*columns, "note").sort(GROUP, nulls_last=False)
    )


def _per(every: str) -> str:
    return {"1h": "hour", "1d": "day"}.get(every, f"{size_label(every)} bucket")


def scoring_note(row: dict[str, Any], rules: AnomalyRules) -> str:
    """The sentence a scoring row shows: the bucket sizes, and why some hours were not judged. Free of the
    group's own counts (columns of their own) and of the metric, so groups and metrics can share one line;
    `requests` is what the metric counts (priced ones for cost, those checked for a flag, with feedback
    for acceptance)."""
    needs = f"{row['needs']:,} requests"
    sizes: list[str] = row["sizes"]
    if row["status"] == TOO_FEW:
        return f"not scored: fewer than {needs} even per {_per(rules.sizes[-1])}"
    if row["status"] == NO_BASELINE:
        thin = f"; other hours: fewer than {needs} even per {_per(rules.sizes[-1])}" if row["thin"] else ""
        return f"not scored yet: {_baseline_needs(sizes[0], rules)}{thin}"
    on = f"scored on {' and '.join(size_label(s) for s in sizes)} buckets"
    if sizes != [rules.sizes[0]]:
        on += f", each hour on the finest that has {needs}"
    if row["status"] == SCORED:
        return on
    why = ["no baseline yet"] if row["waiting"] else []
    why += [f"fewer than {needs} even per {_per(rules.sizes[-1])}"] if row["thin"] else []
    return f"{on}; some hours not judged ({'; '.join(why)})"


def _baseline_needs(every: str, rules: AnomalyRules) -> str:
    """What a bucket of this size waits for (aiobs.anomaly: the seasonal baseline, or for hours the last 24)."""
    if every == "1h":
        return f"no baseline until {rules.min_trailing} of the previous 24 hours have data"
    days = rules.min_reference + math.ceil(residuals_needed(rules, every) * size_hours(every) / 24)
    return f"no baseline until the {size_label(every)} buckets have about {days} earlier days"
