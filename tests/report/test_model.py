"""The report model: aggregates checked against numpy and plain sums over the request table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from aiobs.errors import InputError
from aiobs.redact import Privacy
from aiobs.report.labels import LABEL_CHARS
from aiobs.report.model import (
    CHART_MODELS,
    OTHER_MODELS,
    TABLE_MODELS,
    Report,
    auto_every,
    build_report,
)
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, summarize
from conftest import WriteJsonl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample() -> Summary:
    return summarize(expand_inputs([str(ROOT / "sample_logs")]), keep_events=True)


@pytest.fixture(scope="module")
def report(sample: Summary) -> Report:
    return build_report(sample, outlier_limit=30)


def test_headline_repeats_the_summary(report: Report, sample: Summary) -> None:
    overall = sample.overall.row(0, named=True)
    figures = {f.key: f.value for f in report.headline}
    assert figures["requests"] == overall["requests"] == 2600
    assert figures["error_rate"] == overall["error_rate"]
    assert figures["p99"] == overall["latency_p99"]
    assert figures["cost"] == overall["cost_usd"]
    assert figures["cost_per_1k"] == pytest.approx(overall["cost_usd"] / 2600 * 1000)
    assert figures["problems"] == sample.issues.failing


def test_latency_box_matches_numpy_per_model(report: Report, sample: Summary) -> None:
    frame = sample.requests.select("model", "latency_ms").collect()
    for row in report.latency_box.iter_rows(named=True):
        if row["model_group"] == OTHER_MODELS:
            continue
        values = frame.filter(pl.col("model") == row["model_group"]).get_column("latency_ms").drop_nulls().to_numpy()
        assert row["requests"] == len(values)
        for name, q in (("p5", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95), ("p99", 99)):
            assert row[name] == pytest.approx(np.percentile(values, q)), (row["model_group"], name)
    assert report.latency_box.height == CHART_MODELS + 1  # the 8 busiest models, then the rest together


def test_histogram_holds_every_request_in_its_bin(report: Report, sample: Summary) -> None:
    latency = sample.requests.select("latency_ms").collect().get_column("latency_ms").drop_nulls().to_numpy()
    hist = report.latency_hist
    assert hist.get_column("requests").sum() == len(latency)
    lo, hi = hist.get_column("lo_ms").min(), hist.get_column("hi_ms").max()
    assert lo <= latency.min() < hi
    assert lo <= latency.max() < hi
    # recount one bin independently
    row = hist.group_by("lo_ms", "hi_ms").agg(pl.col("requests").sum()).sort("requests").row(-1, named=True)
    assert row["requests"] == int(((latency >= row["lo_ms"] * (1 - 1e-12)) & (latency < row["hi_ms"])).sum())


def test_time_series_add_up_to_the_totals(report: Report, sample: Summary) -> None:
    assert report.every == "1h"  # 41.7 hours of logs: 42 hourly buckets
    assert report.over_time.get_column("requests").sum() == 2600
    assert report.over_time.get_column("errors").sum() == report.overall["errors"]
    assert report.cost_over_time.get_column("cost_usd").sum() == pytest.approx(report.overall["cost_usd"])
    assert report.cost_over_time.get_column("requests").sum() == report.overall["priced_requests"]


def test_outlier_timelines_hold_each_request_events(report: Report, sample: Summary) -> None:
    n_events = dict(sample.requests.select("correlation_id", "n_events").collect().iter_rows())
    assert len(report.outliers) == report.outliers_total == 26  # 1% of 2,600, all listed under the cap of 30
    latencies = [x["latency_ms"] for x in report.outliers]
    assert latencies == sorted(latencies, reverse=True)
    assert latencies[-1] > report.outlier_threshold_ms
    for x in report.outliers:
        bars, annotations = x["timeline"]["bars"], x["timeline"]["annotations"]
        assert len(bars) + len(annotations) == n_events[x["id"]]
        assert all(b["offset_ms"] >= -1.0 for b in bars)
        assert x["timeline"]["span_ms"] >= x["latency_ms"]
        assert min(b["offset_ms"] for b in bars) == pytest.approx(0.0, abs=1e-6)
        # Feedback logged minutes later is listed apart and does not stretch the waterfall.
        ends = [b["offset_ms"] + (b["duration_ms"] or 0.0) for b in bars]
        assert x["timeline"]["span_ms"] == pytest.approx(max([x["latency_ms"], *ends]))
        assert all(a["feedback_score"] is not None and a["offset_ms"] > x["timeline"]["span_ms"] for a in annotations)
    events = sample.events_of([x["id"] for x in report.outliers])
    feedback = events.filter(pl.col("feedback_score").is_not_null() & pl.col("duration_ms").is_null()).height
    assert sum(len(x["timeline"]["annotations"]) for x in report.outliers) == feedback > 0


def test_outliers_without_kept_events_have_no_timeline(sample: Summary) -> None:
    plain = summarize(expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]))
    report = build_report(plain, outlier_limit=3)
    assert len(report.outliers) == 3 < report.outliers_total
    assert all(x["timeline"] is None for x in report.outliers)
    assert not report.timelines_kept


def test_flag_rates_and_cost_of_flagged_requests(sample: Summary) -> None:
    flagged = Summary(**{**sample.__dict__})
    flagged.requests = sample.requests.with_columns(
        flag_refusal=pl.col("output_tokens").fill_null(0) < 100,
        flag_truncated=pl.col("latency_ms") > 10_000,
        not_a_flag=pl.lit(True),
    )
    report = build_report(flagged, outlier_limit=5)
    frame = flagged.requests.collect()
    flags = {r["flag"]: r for r in report.flags.iter_rows(named=True)}
    assert {"refusal", "truncated"} <= set(flags)
    assert "not_a_flag" not in flags
    for name in ("refusal", "truncated"):
        mask = frame.get_column(f"flag_{name}")
        assert flags[name]["flagged"] == mask.sum()
        assert flags[name]["rate"] == pytest.approx(mask.mean())
        assert flags[name]["cost_usd"] == pytest.approx(frame.filter(mask).get_column("cost_usd").sum())
    by_model = report.flags_by_model.filter((pl.col("model_group") == "gpt-4o") & (pl.col("flag") == "refusal"))
    gpt = frame.filter(pl.col("model") == "gpt-4o")
    assert by_model.get_column("rate").item() == pytest.approx(gpt.get_column("flag_refusal").mean())
    assert [f.key for f in report.headline if f.key.startswith("flag_")]
    assert any(x["flags"] for x in report.outliers)


def test_no_flag_columns_means_no_flag_section() -> None:
    report = build_report(summarize(expand_inputs([str(ROOT / "sample_logs")]), flags=False), outlier_limit=3)
    assert report.flags is None
    assert not report.has_flags


def _rows_with_models(models: list[str]) -> list[dict[str, object]]:
    return [
        {
            "ts": f"2026-11-28T00:{i // 60:02d}:{i % 60:02d}Z",
            "request_id": f"r{i}",
            "event": "llm",
            "model": model,
            "output": "mail bob@example.com, key sk-abcdefghijklmnopqrstuvwx",
            "latency_ms": 100.0 + i,
        }
        for i, model in enumerate(models)
    ]


def test_labels_are_redacted_and_cut(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    long = "m" * 500
    path = write_jsonl(tmp_path / "a.jsonl", _rows_with_models(["carol@example.com"] * 50 + [long] * 50))
    summary = summarize(expand_inputs([str(path)]), keep_events=True)
    report = build_report(summary, outlier_limit=5)
    labels = report.models.get_column("model").to_list()
    assert any(label.startswith("[email]#") for label in labels)
    assert all(len(label) <= LABEL_CHARS for label in labels)
    text = report.outliers[0]["timeline"]["output_text"]
    assert "bob@example.com" not in text and "sk-abc" not in text
    assert "[email]" in text and "[api_key]" in text
    # Privacy is chosen once, when the summary is made: a summary read with --no-redact shows it all.
    raw = build_report(
        summarize(expand_inputs([str(path)]), keep_events=True, privacy=Privacy(redact=False)), outlier_limit=5
    )
    assert "carol@example.com" in raw.models.get_column("model").to_list()
    assert "bob@example.com" in raw.outliers[0]["timeline"]["output_text"]


def test_many_models_are_capped(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    models = [f"model-{i % 100:03d}" for i in range(1000)]
    path = write_jsonl(tmp_path / "many.jsonl", _rows_with_models(models))
    report = build_report(summarize(expand_inputs([str(path)])))
    assert report.models.height == TABLE_MODELS
    assert report.models_hidden == 100 - TABLE_MODELS
    assert report.latency_box.height == CHART_MODELS + 1
    assert report.latency_box.get_column("requests").sum() == 1000


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(minutes=30), "1m"),
        (timedelta(hours=2), "5m"),
        (timedelta(hours=41.7), "1h"),
        (timedelta(days=7), "3h"),
        (timedelta(days=30), "12h"),
        (timedelta(days=400), "7d"),
    ],
)
def test_auto_every_draws_at_most_60_buckets(span: timedelta, expected: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert auto_every(start, start + span) == expected


def test_an_empty_time_window_is_an_input_error_not_an_empty_report() -> None:
    """A nightly report over a window with nothing in it must fail loudly, not publish zeros."""
    with pytest.raises(InputError, match="lie outside the window"):
        summarize(expand_inputs([str(ROOT / "sample_logs")]), since=datetime(2030, 1, 1, tzinfo=UTC))
