"""Outlier selection and tail attribution, checked against numpy on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiobs.errors import UsageError
from aiobs.outliers import UNATTRIBUTED, OutlierQuery, select_outliers, slowest_stage, tail_attribution
from aiobs.schema import REQUEST_SCHEMA


def table(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    base = {"is_error": False, "retries": 0, "has_root": True, "models": [], "n_events": 1, "skewed_events": 0}
    full = [{**base, "correlation_id": f"r{i:04d}", **row} for i, row in enumerate(rows)]
    return (
        pl.DataFrame(full, infer_schema_length=None)
        .select(
            (pl.col(c) if any(c in r for r in full) else pl.lit(None)).cast(t).alias(c)
            for c, t in REQUEST_SCHEMA.items()
        )
        .lazy()
    )


# Subnormal latencies do not exist; at that scale numpy and Polars interpolate to different last bits.
latencies = st.lists(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_subnormal=False), min_size=2, max_size=300
)


@settings(max_examples=60, deadline=None)
@given(latencies, st.sampled_from([50.0, 90.0, 99.0, 99.9]))
def test_outliers_are_exactly_the_values_above_numpys_percentile(values: list[float], p: float) -> None:
    threshold = np.percentile(np.array(values), p)  # numpy's default: linear
    expected = sorted((v for v in values if v > threshold), reverse=True)
    got = select_outliers(table([{"latency_ms": v} for v in values]), OutlierQuery(p=p, limit=None))
    assert got["value"].to_list() == pytest.approx(expected)
    if expected:
        assert got["threshold"][0] == pytest.approx(threshold)
    assert got["rank"].to_list() == list(range(1, len(expected) + 1))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 1e4, allow_nan=False)), min_size=2, max_size=200))
def test_per_group_thresholds_match_numpy(pairs: list[tuple[str, float]]) -> None:
    rows = [{"model": m, "latency_ms": v} for m, v in pairs]
    got = select_outliers(table(rows), OutlierQuery(p=75, per="model", limit=None))
    for model in "abc":
        values = np.array([v for m, v in pairs if m == model])
        want = sorted(values[values > np.percentile(values, 75)].tolist(), reverse=True) if values.size else []
        assert got.filter(pl.col("model") == model)["value"].to_list() == pytest.approx(want)


def test_limit_metrics_and_flag_filter() -> None:
    rows = [
        {"latency_ms": float(i), "cost_usd": 1.0 / (i + 1), "input_tokens": i, "output_tokens": None}
        for i in range(100)
    ]
    frame = table(rows).with_columns(flag_refusal=pl.col("latency_ms") >= 95)
    assert select_outliers(frame, OutlierQuery(p=90, limit=3))["value"].to_list() == [99.0, 98.0, 97.0]
    assert select_outliers(frame, OutlierQuery(p=98, metric="cost", limit=None))["value"].to_list() == [1.0, 0.5]
    assert select_outliers(frame, OutlierQuery(p=98, metric="tokens", limit=None))["value"].to_list() == [99, 98]
    flagged = select_outliers(frame, OutlierQuery(p=50, flag="refusal", limit=None), flags=["refusal"])
    assert flagged["value"].to_list() == [99.0, 98.0]  # the median among the 5 flagged is 97
    assert flagged["flags"].to_list() == [["refusal"], ["refusal"]]


def test_requests_without_the_metric_are_not_in_the_population() -> None:
    rows = [{"latency_ms": v} for v in (1.0, 2.0, 3.0, 4.0)] + [{"latency_ms": None}] * 50
    got = select_outliers(table(rows), OutlierQuery(p=50, limit=None))
    assert got["value"].to_list() == [4.0, 3.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p": 100.0}, "--p must be"),
        ({"p": -1.0}, "--p must be"),
        ({"metric": "speed"}, "cannot rank by 'speed'"),
        ({"per": "color"}, "cannot take outliers per 'color'"),
        ({"limit": 0}, "--limit must be from 1 to 1,000,000"),
    ],
)
def test_bad_queries(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        OutlierQuery(**kwargs)


def test_unknown_flag_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown flag 'nope': no quality flags were computed"):
        select_outliers(table([{"latency_ms": 1.0}, {"latency_ms": 2.0}]), OutlierQuery(flag="nope"))


def test_a_misspelt_flag_gets_a_suggestion_and_the_names() -> None:
    # As `aiobs check --slo 'rate(refsual) < 2%'` does, rather than "see the Quality flags table".
    rows = table([{"latency_ms": 1.0}, {"latency_ms": 2.0}]).with_columns(
        flag_refusal=pl.lit(False), flag_empty=pl.lit(True)
    )
    with pytest.raises(UsageError) as raised:
        select_outliers(rows, OutlierQuery(flag="refsual"))
    assert str(raised.value) == "unknown flag 'refsual': did you mean refusal? the flags are empty, refusal"


def test_tail_attribution_by_hand() -> None:
    # 8 fast requests (retrieval 10 + llm 80 of 100 ms) and 2 slow ones where retrieval took 900 of 1000 ms.
    rows = [{"latency_ms": 100.0, "retrieval_ms": 10.0, "llm_ms": 80.0} for _ in range(8)]
    rows += [{"latency_ms": 1000.0, "retrieval_ms": 900.0, "llm_ms": 100.0} for _ in range(2)]
    got = tail_attribution(table(rows), OutlierQuery(p=80))
    by_stage = {r["stage"]: r for r in got.to_dicts()}
    all_ms = 8 * 100 + 2 * 1000
    assert by_stage["retrieval"]["share_all"] == pytest.approx((8 * 10 + 2 * 900) / all_ms)
    assert by_stage["retrieval"]["share_tail"] == pytest.approx(900 / 1000)
    assert by_stage["llm"]["share_tail"] == pytest.approx(100 / 1000)
    assert by_stage[UNATTRIBUTED]["share_all"] == pytest.approx(8 * 10 / all_ms)  # the fast ones' gateway time
    assert by_stage[UNATTRIBUTED]["share_tail"] == 0.0
    assert by_stage["retrieval"]["ms_tail"] == pytest.approx(900.0)  # mean per request
    assert got["requests_tail"][0] == 2
    assert got["requests_all"][0] == 10
    assert sum(got["share_all"]) == pytest.approx(1.0)


def test_slowest_stage() -> None:
    frame = table([{"retrieval_ms": 5.0, "llm_ms": 50.0}, {"tool_ms": 9.0}, {}]).collect()
    assert frame.select(slowest_stage()).to_series().to_list() == ["llm", "tool", None]
