"""Percentiles equal numpy.percentile(..., method="linear") for any list of values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from aiobs.metrics import PERCENTILES, TTFT_PERCENTILES, summarize_requests
from aiobs.schema import REQUEST_SCHEMA

T0 = datetime(2026, 11, 28, tzinfo=UTC)

latency = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
values_lists = st.lists(latency, min_size=1, max_size=400) | st.lists(
    st.sampled_from([0.0, 1.5, 7.0, 1e6]), min_size=1, max_size=50
)


def table(latencies: list[float | None], ttfts: list[float | None], groups: list[str]) -> pl.LazyFrame:
    n = len(latencies)
    data: dict[str, list[Any]] = {name: [None] * n for name in REQUEST_SCHEMA}
    data.update(
        correlation_id=[f"r{i}" for i in range(n)],
        start=[T0 + timedelta(seconds=i) for i in range(n)],
        latency_ms=latencies,
        ttft_ms=ttfts,
        model=groups,
        has_root=[True] * n,
        models=[[] for _ in range(n)],
        is_error=[False] * n,
        retries=[0] * n,
        n_events=[1] * n,
        skewed_events=[0] * n,
    )
    return pl.DataFrame(data, schema=REQUEST_SCHEMA).lazy()


def assert_matches_numpy(got: float | None, values: list[float], q: float) -> None:
    want = float(np.percentile(np.array(values, dtype=np.float64), q * 100))  # numpy's default is "linear"
    scale = max(abs(v) for v in values)
    assert got is not None
    assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * scale), (q, got, want)


@settings(max_examples=200, deadline=None, database=None)
@given(values_lists, st.data())
def test_latency_percentiles_equal_numpy_linear(values: list[float], data: st.DataObject) -> None:
    # nulls anywhere in the column are ignored
    nulls = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    column: list[float | None] = []
    for value, null_before in zip(values, nulls, strict=True):
        if null_before:
            column.append(None)
        column.append(value)
    row = summarize_requests(table(column, column, ["m"] * len(column))).row(0, named=True)
    for name, q in PERCENTILES:
        assert_matches_numpy(row[f"latency_{name}"], values, q)
    for name, q in TTFT_PERCENTILES:
        assert_matches_numpy(row[f"ttft_{name}"], values, q)
    assert row["latency_max"] == max(values)
    assert row["latency_n"] == len(values)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), latency), min_size=1, max_size=200))
def test_grouped_percentiles_equal_numpy_per_group(pairs: list[tuple[str, float]]) -> None:
    result = summarize_requests(table([v for _, v in pairs], [None] * len(pairs), [g for g, _ in pairs]), ["model"])
    groups: dict[str, list[float]] = {}
    for g, v in pairs:
        groups.setdefault(g, []).append(v)
    assert sorted(result["model"].to_list()) == sorted(groups)
    for row in result.iter_rows(named=True):
        values = groups[row["model"]]
        assert row["requests"] == len(values)
        for name, q in PERCENTILES:
            assert_matches_numpy(row[f"latency_{name}"], values, q)
