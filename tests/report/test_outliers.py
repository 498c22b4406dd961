"""Outlier selection and tail attribution, checked against numpy and hand-computed sums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from aiobs.report.outliers import UNATTRIBUTED, keep_slowest_events, select_outliers, tail_attribution
from aiobs.schema import REQUEST_SCHEMA
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 28, tzinfo=UTC)


def requests(latency: list[float | None], **columns: list[object]) -> pl.LazyFrame:
    n = len(latency)
    data: dict[str, object] = {
        "correlation_id": [f"r{i:04d}" for i in range(n)],
        "start": [T0 + timedelta(seconds=i) for i in range(n)],
        "latency_ms": latency,
        **columns,
    }
    frame = pl.DataFrame(data)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in REQUEST_SCHEMA.items() if c not in frame.columns]
    return frame.with_columns(missing).select(pl.col(c).cast(t) for c, t in REQUEST_SCHEMA.items()).lazy()


def test_outliers_are_the_requests_above_the_numpy_percentile_worst_first() -> None:
    rng = np.random.default_rng(7)
    latency = rng.lognormal(7, 1, 5000).round(1)
    picked, total, cut = select_outliers(requests(latency.tolist()), p=99, limit=20)
    threshold = np.percentile(latency, 99)  # numpy's default is linear interpolation
    assert cut == pytest.approx(threshold)
    assert total == int((latency > threshold).sum())
    assert picked.get_column("latency_ms").to_list() == sorted(latency[latency > threshold], reverse=True)[:20]


def test_outliers_skip_requests_without_latency_and_ties_break_by_id() -> None:
    lazy = requests([5.0, None, 100.0, 100.0, 1.0] + [2.0] * 95)
    picked, total, _ = select_outliers(lazy, p=90, limit=10)
    assert total == 3  # 100, 100 and 5 lie above p90 (2.0); the null latency is no outlier
    assert picked.get_column("correlation_id").to_list() == ["r0002", "r0003", "r0000"]


def test_outliers_per_group_use_each_group_threshold() -> None:
    fast = [10.0 + i for i in range(100)]
    slow = [1000.0 + 10 * i for i in range(100)]
    lazy = requests(fast + slow, model=["fast"] * 100 + ["slow"] * 100)
    picked, total, cut = select_outliers(lazy, p=95, per="model", limit=100)
    assert cut is None
    expected = sum(int((np.array(v) > np.percentile(v, 95)).sum()) for v in (fast, slow))
    assert total == expected == picked.height
    assert set(picked.get_column("model")) == {"fast", "slow"}


def test_tail_attribution_matches_hand_computed_shares() -> None:
    # 99 requests of 100 ms (60 llm, 20 retrieval), one of 1000 ms (900 retrieval, 50 llm)
    latency = [100.0] * 99 + [1000.0]
    lazy = requests(latency, llm_ms=[60.0] * 99 + [50.0], retrieval_ms=[20.0] * 99 + [900.0])
    tail = {r["stage"]: r for r in tail_attribution(lazy, p=99).iter_rows(named=True)}
    total = 99 * 100 + 1000
    assert tail["llm"]["share_all"] == pytest.approx((99 * 60 + 50) / total)
    assert tail["retrieval"]["share_all"] == pytest.approx((99 * 20 + 900) / total)
    assert tail["retrieval"]["share_tail"] == pytest.approx(0.9)
    assert tail["llm"]["share_tail"] == pytest.approx(0.05)
    assert tail[UNATTRIBUTED]["share_tail"] == pytest.approx(0.05)
    assert tail["llm"]["ms_all"] == pytest.approx((99 * 60 + 50) / 100)
    assert tail["retrieval"]["requests_tail"] == 1
    assert tail["retrieval"]["requests_all"] == 100
    assert tail["embedding"]["share_all"] == 0.0


def test_unattributed_time_is_never_negative_when_stages_overlap() -> None:
    lazy = requests([100.0] * 10, llm_ms=[80.0] * 10, tool_ms=[60.0] * 10)
    tail = {r["stage"]: r for r in tail_attribution(lazy, p=50).iter_rows(named=True)}
    assert tail[UNATTRIBUTED]["share_all"] == 0.0


def test_kept_events_cover_the_overall_slowest_requests_across_buckets() -> None:
    """Each bucket keeps its own slowest; the union must hold the timelines of the overall slowest."""
    keeper = keep_slowest_events(15)
    summary = summarize(expand_inputs([str(ROOT / "sample_logs")]), n_buckets=4, keep_events=keeper)
    assert summary.kept_events is not None
    picked, _, _ = select_outliers(summary.requests, p=99, limit=15)
    kept_ids = set(summary.kept_events.get_column("correlation_id"))
    assert set(picked.get_column("correlation_id")) <= kept_ids
    assert len(kept_ids) <= 4 * 15
    # every event of a kept request is kept, so its timeline is whole
    n_events = dict(summary.requests.select("correlation_id", "n_events").collect().iter_rows())
    counts = summary.kept_events.group_by("correlation_id").len()
    for cid, n in counts.iter_rows():
        assert n >= n_events[cid]


def test_kept_events_respect_the_time_window() -> None:
    since = datetime(2026, 11, 29, tzinfo=UTC)
    keeper = keep_slowest_events(10, since=since)
    summary = summarize(expand_inputs([str(ROOT / "sample_logs")]), since=since, keep_events=keeper)
    assert summary.kept_events is not None
    picked, _, _ = select_outliers(summary.requests, p=99, limit=10)
    assert set(picked.get_column("correlation_id")) <= set(summary.kept_events.get_column("correlation_id"))
