"""Anomalies: none on a flat seasonal series, exactly the planted spike when there is one."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from aiobs import history
from aiobs.anomaly import AnomalyRules, hourly_series, score_series
from aiobs.profiles import profile_requests
from synthetic import T0, make_requests

DAYS = 8
PER_HOUR = 300
SPIKE = T0 + timedelta(days=6, hours=14)


def daily_cycle(hours: np.ndarray) -> np.ndarray:
    """Latency twice as high at the afternoon peak as at night: a seasonal series with no anomaly."""
    return np.exp(math.log(2) / 2 * np.sin(2 * math.pi * (hours % 24 - 8) / 24))


SEASONAL = make_requests(
    DAYS * 24 * PER_HOUR,
    seed=21,
    span=timedelta(days=DAYS),
    flags={"refusal": 0.02},
    hourly_factor=daily_cycle,
)


def in_spike(hours: int = 1) -> pl.Expr:
    return (pl.col("start") >= SPIKE) & (pl.col("start") < SPIKE + timedelta(hours=hours))


def store_of(frame: pl.DataFrame, tmp_path: Path) -> Path:
    store = tmp_path / "store"
    history.append(store, profile_requests(frame.lazy(), every="1h"), run_id="run", inputs=["x"])
    return store


def flagged(store: Path) -> pl.DataFrame:
    return history.anomalies(store, days=DAYS, by=("overall",))


def test_a_flat_seasonal_series_has_no_anomaly(tmp_path: Path) -> None:
    store = store_of(SEASONAL, tmp_path)
    assert flagged(store).is_empty()
    everything = history.anomalies(store, days=DAYS, everything=True)
    assert everything.filter(pl.col("reference").str.starts_with("same hour")).height > 1000
    # The peak hours are ordinary for their hour: compared with the whole day they would stand out.
    peak = everything.filter(
        (pl.col("dimension") == "overall") & (pl.col("metric") == "p95(latency_ms)") & (pl.col("bucket") == SPIKE)
    )
    assert peak["score"].abs().max() < 2


@pytest.mark.parametrize(
    ("change", "metric"),
    [
        (pl.col("latency_ms") * 3, "p95(latency_ms)"),
        (pl.lit(True), "error_rate"),
        (pl.col("cost_usd") * 4, "cost_per_1k"),
    ],
)
def test_a_planted_spike_is_found_and_nothing_else(tmp_path: Path, change: pl.Expr, metric: str) -> None:
    column = {"p95(latency_ms)": "latency_ms", "error_rate": "is_error", "cost_per_1k": "cost_usd"}[metric]
    if metric == "error_rate":  # a fifth of the hour's requests fail instead of 1 %
        change = pl.when(pl.col("correlation_id").str.ends_with("3")).then(pl.lit(True)).otherwise(pl.col(column))
    spiked = SEASONAL.with_columns(pl.when(in_spike()).then(change).otherwise(pl.col(column)).alias(column))
    found = flagged(store_of(spiked, tmp_path))
    assert found.select("bucket", "metric").rows() == [(SPIKE, metric)]
    row = found.row(0, named=True)
    assert row["score"] >= 3.5
    assert row["reference"] == "same hour, 6 day(s)"


def test_flag_and_acceptance_jumps(tmp_path: Path) -> None:
    worse = SEASONAL.with_columns(
        pl.when(in_spike())
        .then(pl.col("correlation_id").str.ends_with("1"))
        .otherwise("flag_refusal")
        .alias("flag_refusal"),
        pl.when(in_spike(2) & pl.col("feedback_score").is_not_null())
        .then(0.0)
        .otherwise("feedback_score")
        .alias("feedback_score"),
    )
    found = flagged(store_of(worse, tmp_path))
    assert set(found.select("bucket", "metric").rows()) == {
        (SPIKE, "rate(refusal)"),
        (SPIKE, "acceptance_rate"),
        (SPIKE + timedelta(hours=1), "acceptance_rate"),
    }


def test_thin_hours_are_not_judged() -> None:
    rows = profile_requests(SEASONAL.head(5000).lazy(), every="1h")
    rules = AnomalyRules(min_requests=10_000)
    assert score_series(hourly_series(rows), rules).is_empty()


def test_early_hours_use_the_last_day_and_the_first_hours_are_not_judged(tmp_path: Path) -> None:
    store = store_of(SEASONAL.filter(pl.col("start") < T0 + timedelta(days=5)), tmp_path)
    scored = history.anomalies(store, days=5, by=("overall",), everything=True)
    first_hours = scored.filter(pl.col("bucket") < T0 + timedelta(hours=12))
    assert first_hours["reference"].null_count() == first_hours.height
    day_two = scored.filter(pl.col("bucket").dt.date() == (T0 + timedelta(days=1)).date())
    assert day_two["reference"].drop_nulls().str.starts_with("last 24 h").all()
    # From the fifth day on, three earlier same hours and a day of residuals: the seasonal baseline.
    day_five = scored.filter(
        (pl.col("bucket").dt.date() == (T0 + timedelta(days=4)).date()) & (pl.col("metric") == "p95(latency_ms)")
    )
    assert day_five.height == 24
    assert day_five["reference"].str.starts_with("same hour, 4 day(s)").all()
