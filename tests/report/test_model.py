"""The report model: aggregates checked against numpy and plain sums over the request table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from aiobs.errors import InputError
from aiobs.redact import Privacy
from aiobs.report.flag_rates import RATE_Z, Rate
from aiobs.report.labels import LABEL_CHARS, flag_title
from aiobs.report.model import (
    CHART_MODELS,
    OTHER_MODELS,
    TABLE_MODELS,
    Report,
    auto_every,
    build_report,
)
from aiobs.report.outlier_list import round_ticks
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


# -- headline: what matters, named as a person would, each rate with what it is over --------------------------


def test_the_headline_names_each_figure_once_and_says_what_each_rate_is_over(report: Report, sample: Summary) -> None:
    labels = [f.label for f in report.headline]
    assert len(labels) == len(set(labels))
    assert not [label for label in labels if "_" in label]  # "Invalid JSON", not "invalid_json rate"
    assert [f.key for f in report.headline if "error" in f.key] == ["error_rate"]  # the `error` flag is this card
    errors = next(f for f in report.headline if f.key == "error_rate")
    assert errors.detail == "50 of 2,600 requests failed" and not errors.rough
    # Flag cards: only flags that flagged something, solid ones by rate, each over the requests it could check.
    frame = sample.requests.collect()
    cards = [f for f in report.headline if f.key.startswith("flag_")]
    assert [f.label for f in cards] == ["Context unused", "Truncated answers", "Retried", "Personal data in input"]
    for card in cards:
        column = frame.get_column(card.key)
        flagged, checked = int(column.sum()), column.count()
        assert card.value == pytest.approx(flagged / checked) and card.value > 0
        assert card.detail == f"{flagged:,} of {checked:,} checked requests"
        assert not card.rough


def test_a_rate_over_few_requests_is_marked_rough_and_ranked_after_the_solid_ones(report: Report) -> None:
    """invalid_json is 2 of 31 (6.45 %): the highest rate, but not the news; it is listed last, marked rough."""
    assert report.flags is not None
    flags = {r["flag"]: r for r in report.flags.iter_rows(named=True)}
    invalid = flags["invalid_json"]
    assert (invalid["flagged"], invalid["checked"], invalid["rough"]) == (2, 31, True)
    assert invalid["title"] == "Invalid JSON"
    assert invalid["rate"] == max(r["rate"] for r in flags.values())
    assert report.flags.get_column("flag").to_list()[0] == "invalid_json"  # by rate, as the Markdown lists them
    assert report.flags_ranked is not None and report.flags_ranked.get_column("flag").to_list()[-1] == "invalid_json"
    assert not any(r["rough"] for name, r in flags.items() if name != "invalid_json")
    assert "flag_invalid_json" not in {f.key for f in report.headline}
    solid = report.flags_ranked.filter(~pl.col("rough")).get_column("rate").to_list()
    assert solid == sorted(solid, reverse=True)


def test_headline_flags_skip_zero_rates_and_mark_a_rough_one(sample: Summary) -> None:
    custom = Summary(**{**sample.__dict__})
    row = pl.int_range(pl.len())
    custom.requests = sample.requests.select(pl.exclude("^flag_.*$")).with_columns(
        flag_error=pl.col("is_error"),
        flag_slow_answer=pl.col("latency_ms") > 10_000,
        flag_no_sources=pl.when(row < 12).then(row < 3),  # 3 of 12 checked: 25 %, but rough
        flag_never=pl.lit(False),
    )
    report = build_report(custom, outlier_limit=0)
    cards = {f.key: f for f in report.headline if f.key.startswith("flag_")}
    assert list(cards) == ["flag_slow_answer", "flag_no_sources"]  # no `error` (the error rate), no 0 % card
    assert [c.label for c in cards.values()] == ["Slow answer", "No sources"]
    rough = cards["flag_no_sources"]
    assert rough.value == pytest.approx(0.25) and rough.detail == "3 of 12 checked requests"
    low, high = Rate(3, 12).interval or (0.0, 0.0)
    assert rough.rough == f"rough: few requests, could be {low * 100:.1f}–{high * 100:.1f} %"
    assert not cards["flag_slow_answer"].rough
    assert report.flags_ranked is not None and report.flags_ranked.get_column("flag").to_list()[-1] == "no_sources"


@pytest.mark.parametrize(
    ("hits", "n", "rough"),
    [
        (2, 31, True),
        (0, 31, True),
        (3, 12, True),
        (50, 100, True),
        (118, 2143, False),
        (0, 2600, False),
        (5, 100, False),
    ],
)
def test_rough_means_the_95_percent_interval_is_wider_than_5_points(hits: int, n: int, rough: bool) -> None:
    rate = Rate(hits, n)
    low, high = rate.interval or (0.0, 0.0)
    # Wilson's interval is the set of true rates p the score test does not reject: |hits/n - p| <= z·sqrt(p(1-p)/n).
    p = np.linspace(0.0, 1.0, 2_000_001)
    kept = p[np.abs(hits / n - p) <= RATE_Z * np.sqrt(p * (1 - p) / n)]
    assert low == pytest.approx(kept.min(), abs=1e-6)
    assert high == pytest.approx(kept.max(), abs=1e-6)
    assert rate.rough is rough
    assert rate.of("requests") == f"{hits:,} of {n:,} requests"


@pytest.mark.parametrize(
    ("name", "title"),
    [("invalid_json", "Invalid JSON"), ("pii_in_output", "Personal data in output"), ("my_rule_2", "My rule 2")],
)
def test_flags_are_named_as_a_person_would(name: str, title: str) -> None:
    assert flag_title(name) == title


def test_flag_rates_by_model_say_what_they_are_over(report: Report, sample: Summary) -> None:
    assert report.flags_by_model is not None
    frame = sample.requests.collect()
    by_model = report.flags_by_model
    none_checked = by_model.filter(pl.col("checked") == 0)
    assert not none_checked.is_empty()  # e.g. invalid_json for models never asked for JSON
    assert none_checked.get_column("rate").null_count() == none_checked.height
    row = by_model.filter((pl.col("model_group") == "gpt-4o") & (pl.col("flag") == "context_unused")).row(0, named=True)
    column = frame.filter(pl.col("model") == "gpt-4o").get_column("flag_context_unused")
    assert (row["flagged"], row["checked"]) == (column.sum(), column.count())
    assert row["rate_low"] < row["rate"] < row["rate_high"]


# -- outlier timelines: round ticks -------------------------------------------------------------------------


def _is_round_step(step: float) -> bool:
    mantissa = step / 10 ** np.floor(np.log10(step))
    return any(mantissa == pytest.approx(m) for m in (1, 2, 5))


@pytest.mark.parametrize(
    ("span", "ticks"),
    [
        (120_042, [0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 140_000]),
        (30_010, [0, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000]),
        (60_021, [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000]),
        (1_000, [0, 200, 400, 600, 800, 1_000]),
        (1, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (0, [0, 1]),
    ],
)
def test_round_ticks(span: float, ticks: list[float]) -> None:
    assert round_ticks(span) == ticks


def test_timeline_axes_end_on_a_round_tick_past_the_request(report: Report) -> None:
    for x in report.outliers:
        t = x["timeline"]
        ticks = t["ticks"]
        steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
        assert ticks[0] == 0 and len(steps) == 1 and _is_round_step(steps.pop())
        assert t["axis_ms"] == ticks[-1] >= t["span_ms"] > ticks[-2]
        assert 3 <= len(ticks) <= 8
