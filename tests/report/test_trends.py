"""The report's history sections: store frames -> report fields, checked against aiobs.history and numpy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from aiobs import history
from aiobs.profiles import profile_requests
from aiobs.report import trends
from aiobs.report.labels import LABEL_CHARS, Cleaner
from aiobs.report.trends import ReportHistory, history_section, read_history
from conftest import PAYLOADS
from synthetic import SPIKE, T0, TREND_FLAGS, make_requests, two_days_with_a_spike

PLANTED = two_days_with_a_spike()
CLEAN = Cleaner(redact_pii=True)


def store_with(frame: pl.DataFrame, tmp_path: Path, name: str = "store") -> Path:
    store = tmp_path / name
    history.append(store, profile_requests(frame.lazy(), every="1h"), run_id=name, inputs=[name])
    return store


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return store_with(PLANTED, tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def planted(planted_store: Path) -> ReportHistory:
    return history_section(read_history(planted_store, days=7), CLEAN)


def test_the_window_is_whole_days_ending_with_the_newest_day(planted_store: Path) -> None:
    frames = read_history(planted_store, days=7)
    assert frames.window_end == T0 + timedelta(days=2)
    assert frames.window_start == T0 - timedelta(days=5)
    # The same frames the history module gives for that window.
    assert_frame_equal(frames.trend, history.trends(planted_store, days=7, end=frames.window_end))
    assert_frame_equal(frames.scored, history.anomalies(planted_store, days=7, end=frames.window_end, everything=True))
    assert (frames.runs, frames.stored_days) == (1, 2)


def test_the_trend_per_day_matches_numpy(planted: ReportHistory) -> None:
    assert planted.days_of_data == 2 and planted.enough_days and planted.first_run
    assert planted.trend.get_column("period").to_list() == [T0, T0 + timedelta(days=1)]
    assert planted.trend.get_column("time").to_list() == [T0 + timedelta(hours=12), T0 + timedelta(hours=36)]
    for row in planted.trend.iter_rows(named=True):
        day = PLANTED.filter(pl.col("start").dt.truncate("1d") == row["period"])
        assert row["requests"] == day.height
        assert row["error_rate"] == pytest.approx(day["is_error"].mean())
        assert row["cost_per_1k_requests"] == pytest.approx(day["cost_usd"].sum() / day.height * 1000)
        for name in planted.flags:
            assert row[f"rate_{name}"] == pytest.approx(day[f"flag_{name}"].mean())
        for name, q in (("latency_p50", 50), ("latency_p95", 95), ("latency_p99", 99)):
            assert row[name] == pytest.approx(np.percentile(day["latency_ms"].to_numpy(), q), rel=0.01)


def test_the_highest_flag_rates_are_shown_and_error_is_not_repeated(planted: ReportHistory) -> None:
    assert planted.flags == list(TREND_FLAGS)[: trends.TREND_FLAGS]
    assert [c for c in planted.trend.columns if c.startswith("rate_")] == [f"rate_{f}" for f in planted.flags]


def test_the_planted_spike_is_the_only_anomaly(planted: ReportHistory, planted_store: Path) -> None:
    expected = history.anomalies(planted_store, days=7, end=T0 + timedelta(days=2))
    assert planted.anomalies_total == expected.height > 0
    assert set(planted.anomalies.get_column("bucket")) == {SPIKE}
    assert set(planted.anomalies.get_column("metric")) == {"p95(latency_ms)"}
    overall = planted.anomalies.filter(pl.col("group") == "overall").row(0, named=True)
    hour = PLANTED.filter((pl.col("start") >= SPIKE) & (pl.col("start") < SPIKE + timedelta(hours=1)))
    assert overall["value"] == pytest.approx(np.percentile(hour["latency_ms"].to_numpy(), 95), rel=0.01)
    assert overall["score"] >= 3.5 and overall["value"] > 2 * overall["baseline"]
    assert overall["reference"].startswith("last 24 h")  # two days: no three earlier days of that hour yet
    # Each listed row is one the detector found, with its numbers unchanged.
    columns = ["bucket", "dimension", "metric", "value", "baseline", "score", "n"]
    assert_frame_equal(
        planted.anomalies.select(columns).sort("dimension", "score"),
        expected.select(columns).sort("dimension", "score"),
    )
    groups = set(planted.anomalies.get_column("group"))
    assert "overall" in groups and groups <= {"overall", "stage=llm", "stage=retrieval"}
    per_day = dict(planted.trend.select("period", "anomalies").iter_rows())
    assert per_day == {T0: 0, T0 + timedelta(days=1): expected.height}
    assert planted.anomalies_by_metric == [("p95(latency_ms)", expected.height)]
    everything = history.anomalies(planted_store, days=7, end=T0 + timedelta(days=2), everything=True)
    assert planted.judged == everything.filter(pl.col("score").is_not_null()).height


def test_per_model_trend_and_table(planted: ReportHistory) -> None:
    busiest = PLANTED.group_by("model").len().sort(["len", "model"], descending=[True, False])
    assert planted.models == busiest.get_column("model").to_list()
    assert planted.by_model.get_column("requests").sum() == PLANTED.height
    periods, rows = planted.model_p95()
    assert periods == [T0, T0 + timedelta(days=1)]
    for model, values in rows:
        for period, value in zip(periods, values, strict=True):
            day = PLANTED.filter((pl.col("model") == model) & (pl.col("start").dt.truncate("1d") == period))
            assert value == pytest.approx(np.percentile(day["latency_ms"].to_numpy(), 95), rel=0.01)


def test_the_busiest_models_are_kept_in_order(tmp_path: Path) -> None:
    names = tuple(f"model-{i:02d}" for i in range(12))
    weights = tuple(float(12 - i) for i in range(12))
    frame = make_requests(6000, seed=4, span=timedelta(days=2), models=names, model_weights=weights)
    section = history_section(read_history(store_with(frame, tmp_path), days=7), CLEAN)
    counts = frame.group_by("model").len().sort(["len", "model"], descending=[True, False])
    assert section.models == counts.get_column("model").head(trends.TREND_MODELS).to_list()
    assert set(section.by_model.get_column("key")) == set(section.models)


def test_only_the_last_days_are_read(tmp_path: Path) -> None:
    frame = make_requests(10 * 24 * 20, seed=6, span=timedelta(days=10))
    section = history_section(read_history(store_with(frame, tmp_path), days=3), CLEAN)
    assert section.trend.get_column("period").to_list() == [T0 + timedelta(days=d) for d in (7, 8, 9)]
    assert section.trend.get_column("requests").sum() == frame.filter(pl.col("start") >= T0 + timedelta(days=7)).height
    assert section.window_start == T0 + timedelta(days=7) and section.last_day == T0 + timedelta(days=9)


def test_one_day_is_not_a_trend(tmp_path: Path) -> None:
    frame = make_requests(500, seed=8, span=timedelta(hours=20), flags={"refusal": 0.1})
    section = history_section(read_history(store_with(frame, tmp_path), days=7), CLEAN)
    assert section.days_of_data == 1 and not section.enough_days and section.first_run


def test_a_rate_over_no_checked_request_is_no_value(tmp_path: Path) -> None:
    frame = make_requests(480, seed=9, span=timedelta(days=2), flags={"invalid_json": 0.5})
    frame = frame.with_columns(
        pl.when(pl.col("start") >= T0 + timedelta(days=1))
        .then(None)
        .otherwise("flag_invalid_json")
        .alias("flag_invalid_json")
    )
    section = history_section(read_history(store_with(frame, tmp_path), days=7), CLEAN)
    rates = section.trend.get_column("rate_invalid_json").to_list()
    assert rates[0] == pytest.approx(frame.filter(pl.col("start") < T0 + timedelta(days=1))["flag_invalid_json"].mean())
    assert rates[1] is None  # 0 / 0 in the store; never NaN in a report


def test_only_the_strongest_anomalies_are_listed(planted_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trends, "ANOMALY_ROWS", 1)
    section = history_section(read_history(planted_store, days=7), CLEAN)
    everything = history.anomalies(planted_store, days=7, end=T0 + timedelta(days=2))
    assert section.anomalies.height == 1 and section.anomalies_total == everything.height > 1
    assert section.anomalies["score"][0] == pytest.approx(everything["score"].max())


def test_group_keys_are_cleaned_like_every_label(tmp_path: Path) -> None:
    hostile = (PAYLOADS["model"], "alice@example.com", "m" * 200)
    frame = two_days_with_a_spike(models=hostile, routes=(PAYLOADS["route"],), seed=12)
    section = history_section(read_history(store_with(frame, tmp_path), days=7), CLEAN)
    keys = set(section.by_model.get_column("key")) | set(section.models)
    assert PAYLOADS["model"] in keys  # kept as text: escaping is each renderer's job
    assert "[email]" in keys and not any("alice@example.com" in k for k in keys)
    assert all(len(k) <= LABEL_CHARS for k in keys)
    assert f"route={PAYLOADS['route']}" in set(section.anomalies["group"])  # one route: all 250 requests an hour
    plain = history_section(read_history(tmp_path / "store", days=7), Cleaner(redact_pii=False))
    assert "alice@example.com" in plain.models


def test_the_spike_is_one_incident_and_what_was_not_scored_is_said(planted: ReportHistory, planted_store: Path) -> None:
    detection = history.detect(planted_store, days=7, end=T0 + timedelta(days=2))
    assert planted.incidents.drop("moves").equals(detection.incidents.drop("moves"))  # no key needed cleaning
    (incident,) = planted.incident_rows
    assert (incident.start, incident.end) == (SPIKE, SPIKE + timedelta(hours=1))
    assert [m.metric for m in incident.moves] == ["p95(latency_ms)"]
    assert incident.anomalies == planted.anomalies_total
    assert incident.groups[0] == "overall" and set(incident.groups) == set(planted.anomalies["group"])
    move = incident.moves[0]
    strongest = planted.anomalies.sort("score", descending=True).row(0, named=True)
    assert (move.size, move.value, move.score) == ("1 h", strongest["value"], strongest["score"])
    # Two days: each model's p95 (80 requests an hour) waits on 3 h buckets for a baseline; the report says so.
    waiting = {
        g
        for row in planted.scoring_rows
        if row.note == "not scored yet: no baseline until the 3 h buckets have about 4 earlier days"
        for metrics, groups in row.parts
        if "p95(latency_ms)" in metrics
        for g in groups or []
    }
    assert waiting >= {f"model={m}" for m in PLANTED["model"].unique()}


def test_incident_groups_are_cleaned_like_every_label(tmp_path: Path) -> None:
    frame = two_days_with_a_spike(models=("alice@example.com",), routes=(PAYLOADS["route"],), seed=12)
    section = history_section(read_history(store_with(frame, tmp_path), days=7), CLEAN)
    groups = {g for row in section.incident_rows for g in row.groups}
    assert f"route={PAYLOADS['route']}" in groups and "model=[email]" in groups
    scored_groups = {g for row in section.scoring_rows for _, groups in row.parts for g in groups or []}
    assert not any("alice@example.com" in g for g in groups | scored_groups)
