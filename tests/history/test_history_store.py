"""The history store: de-duplication, latest-fullest-wins per hour, pruning, trends against numpy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from aiobs import history
from aiobs.errors import UsageError
from aiobs.profiles import profile_requests
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from synthetic import T0, make_requests

ROOT = Path(__file__).resolve().parents[2]
DAYS3 = make_requests(3 * 24 * 40, seed=5, span=timedelta(days=3), flags={"refusal": 0.03})


def hourly(frame: pl.DataFrame) -> pl.DataFrame:
    return profile_requests(frame.lazy(), every="1h")


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("run_id", strict=False).sort(["bucket", "dimension", "key"], nulls_last=True)


def stored(store: Path) -> pl.DataFrame:
    return canonical(history.read_store(store))


def test_the_same_logs_twice_leave_the_same_store(tmp_path: Path) -> None:
    summary = summarize(expand_inputs([str(ROOT / "sample_logs")]))
    store = tmp_path / "store"
    first = history.record_run(store, summary)
    files = {p.name: p.read_bytes() for p in (store / "days").iterdir()}
    before = history.read_store(store)
    second = history.record_run(store, summary)
    assert first.run_id == second.run_id
    assert_frame_equal(history.read_store(store), before)
    assert {p.name: p.read_bytes() for p in (store / "days").iterdir()} == files
    assert history.runs(store).height == 1
    overall = before.filter(pl.col("dimension") == "overall")
    assert overall["requests"].sum() == summary.n_requests == first.requests


def test_a_growing_log_replaces_its_hours_and_a_partial_reread_erases_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    cut = T0 + timedelta(hours=40, minutes=30)  # mid-hour: the early read sees half of hour 40
    early = DAYS3.filter(pl.col("start") < cut)
    history.append(store, hourly(early), run_id="early", inputs=["app.jsonl"])
    full = history.append(store, hourly(DAYS3), run_id="full", inputs=["app.jsonl"])
    assert full.kept_earlier == 0
    assert_frame_equal(stored(store), canonical(hourly(DAYS3)))
    # Reading the early part again (a file missing, a shorter window) keeps the fuller hour 40;
    # the hours it saw whole are the same requests, so they come out the same.
    again = history.append(store, hourly(early), run_id="early", inputs=["app.jsonl"])
    assert (again.buckets, again.kept_earlier) == (41, 1)
    assert_frame_equal(stored(store), canonical(hourly(DAYS3)))
    owner = history.read_store(store).filter(pl.col("dimension") == "overall").select("bucket", "run_id")
    assert owner.filter(pl.col("bucket") == T0 + timedelta(hours=40))["run_id"].to_list() == ["full"]


def test_overlapping_windows_never_count_a_request_twice(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = DAYS3.filter(pl.col("start") < T0 + timedelta(hours=50))
    second = DAYS3.filter(pl.col("start") >= T0 + timedelta(hours=30))
    history.append(store, hourly(first), run_id="a", inputs=["a"])
    history.append(store, hourly(second), run_id="b", inputs=["b"])
    overall = history.read_store(store).filter(pl.col("dimension") == "overall")
    assert overall["requests"].sum() == DAYS3.height
    assert overall["errors"].sum() == DAYS3["is_error"].sum()
    assert_frame_equal(stored(store), canonical(hourly(DAYS3)))


def test_a_thinner_run_does_not_replace_a_fuller_hour(tmp_path: Path) -> None:
    store = tmp_path / "store"
    history.append(store, hourly(DAYS3), run_id="full", inputs=["all"])
    thinner = DAYS3.filter(pl.col("model") != "gpt-4o")
    record = history.append(store, hourly(thinner), run_id="thin", inputs=["some"])
    assert record.kept_earlier == record.buckets == 72
    assert set(history.read_store(store)["run_id"]) == {"full"}


def test_prune_keeps_the_last_days(tmp_path: Path) -> None:
    store = tmp_path / "store"
    history.append(store, hourly(DAYS3), run_id="r", inputs=["x"], now=T0)
    later = make_requests(100, seed=2, start=T0 + timedelta(days=5), span=timedelta(hours=2))
    history.append(store, hourly(later), run_id="later", inputs=["y"], now=T0)
    removed = history.prune(store, keep_days=2, now=T0 + timedelta(days=5, hours=3))
    assert removed == [(T0 + timedelta(days=d)).date() for d in range(3)]
    assert history.days(store)["day"].to_list() == [(T0 + timedelta(days=5)).date()]
    assert history.runs(store)["run_id"].to_list() == ["later"]
    with pytest.raises(UsageError, match="at least 1"):
        history.prune(store, keep_days=0)


def test_trends_match_numpy_per_day(tmp_path: Path) -> None:
    store = tmp_path / "store"
    history.append(store, hourly(DAYS3), run_id="r", inputs=["x"])
    trend = history.trends(store, days=7)
    assert trend.height == 3
    for row in trend.iter_rows(named=True):
        day = DAYS3.filter(pl.col("start").dt.truncate("1d") == row["period"])
        latency = day["latency_ms"].to_numpy()
        assert row["requests"] == day.height
        assert row["error_rate"] == pytest.approx(day["is_error"].mean())
        assert row["rate_refusal"] == pytest.approx(day["flag_refusal"].mean())
        assert row["cost_per_1k_requests"] == pytest.approx(day["cost_usd"].sum() / day.height * 1000)
        feedback = day["feedback_score"].drop_nulls().to_numpy()
        assert row["acceptance_rate"] == pytest.approx((feedback >= 0.5).mean())
        for name, q in (("latency_p50", 50), ("latency_p95", 95), ("latency_p99", 99)):
            assert row[name] == pytest.approx(np.percentile(latency, q), rel=0.01)  # the sketch's α
    by_model = history.trends(store, days=7, by="model", every="6h")
    assert set(by_model["key"]) == set(DAYS3["model"])
    assert by_model["requests"].sum() == DAYS3.height
    last_day = history.trends(store, days=1)
    assert (
        last_day.height == 1
        and last_day["requests"][0] == DAYS3.filter(pl.col("start") >= T0 + timedelta(days=2)).height
    )
    with pytest.raises(UsageError, match="cannot show history by 'user'"):
        history.trends(store, by="user")


def test_the_store_refuses_other_folders(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not an aiobs history store"):
        history.append(busy, hourly(DAYS3.head(10)), run_id="r", inputs=[])
    with pytest.raises(UsageError, match="exists and is not an aiobs history store"):
        history.check_store_target(busy)
    with pytest.raises(UsageError, match=r"no aiobs-history\.json"):
        history.read_store(tmp_path / "nothing")
    store = tmp_path / "store"
    history.append(store, hourly(DAYS3.head(10)), run_id="r", inputs=[])
    (store / "aiobs-history.json").write_text('{"format": "aiobs.history/99"}')
    with pytest.raises(UsageError, match="cannot read"):
        history.read_store(store)


def test_record_run_fingerprint_depends_on_what_was_read() -> None:
    one = summarize(expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]))
    windowed = summarize(
        expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]),
        since=datetime(2026, 11, 28, 12, tzinfo=UTC),
    )
    assert history.run_fingerprint(one) != history.run_fingerprint(windowed)
    assert history.run_fingerprint(one) == history.run_fingerprint(
        summarize(expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]))
    )
