"""The latency sketch: within α of numpy's percentiles, mergeable, and the same in Polars and numpy."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiobs import sketch

QS = {"p1": 0.01, "p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}


def sketch_of(values: np.ndarray) -> list[dict[str, int]]:
    frame = pl.DataFrame({"latency_ms": values}).lazy()
    return sketch.sketch_by(frame, []).collect()["sketch"][0].to_list()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e7, allow_nan=False)), min_size=1, max_size=400
    )
)
def test_percentiles_are_within_alpha_of_numpy(values: list[float]) -> None:
    data = np.array(values)
    frame = pl.DataFrame({"sketch": [sketch_of(data)]}).lazy()
    got = sketch.quantiles(frame, [], QS).collect().row(0, named=True)
    assert got["n"] == len(values)
    for name, q in QS.items():
        exact = np.percentile(data, q * 100)
        assert abs(got[name] - exact) <= sketch.ALPHA * exact + 1e-9, (name, got[name], exact)


def test_numpy_and_polars_read_a_sketch_alike() -> None:
    data = np.random.default_rng(3).lognormal(7, 1, 5000)
    bins = sketch_of(data)
    polars_p = sketch.quantiles(pl.DataFrame({"sketch": [bins]}).lazy(), [], QS).collect().row(0, named=True)
    values, counts = sketch.as_arrays(bins)
    for name, q in QS.items():
        assert sketch.array_quantile(values, counts, q) == pytest.approx(polars_p[name], rel=1e-12)


def test_merging_parts_gives_the_sketch_of_the_whole() -> None:
    data = np.random.default_rng(4).lognormal(6, 1.2, 3000)
    data[:7] = 0.0
    parts = pl.DataFrame({"part": np.arange(3000) % 7, "latency_ms": data}).lazy()
    per_part = sketch.sketch_by(parts, ["part"])
    merged = sketch.merge(per_part, []).collect()["sketch"][0].to_list()
    assert merged == sketch_of(data)
    assert sum(b["n"] for b in merged) == 3000
    assert merged[0] == {"key": sketch.ZERO_KEY, "n": 7}


def test_groups_and_nulls() -> None:
    frame = pl.DataFrame({"g": ["a", "a", "b", None], "latency_ms": [10.0, None, 20.0, 30.0]}).lazy()
    out = sketch.sketch_by(frame, ["g"]).collect()
    assert out["g"].to_list() == ["a", "b", None]
    assert [sum(b["n"] for b in s) for s in out["sketch"].to_list()] == [1, 1, 1]


def test_record_round_trip_and_validation() -> None:
    bins = sketch_of(np.array([0.0, 0.0, 5.0, 7.5, 1000.0]))
    record = sketch.to_record(bins)
    assert record["zeros"] == 2
    assert len(record["keys"]) == len(record["counts"]) == 3
    assert sketch.from_record(record) == bins
    with pytest.raises(ValueError, match="alpha"):
        sketch.from_record({**record, "alpha": 0.02})
    with pytest.raises(ValueError, match="equal length"):
        sketch.from_record({**record, "counts": [1]})
    with pytest.raises(ValueError, match="integers"):
        sketch.from_record({**record, "counts": [1, -1, 1]})


def test_band_holds_the_order_statistic_band() -> None:
    data = np.random.default_rng(5).lognormal(7, 0.8, 4000)
    frame = pl.DataFrame({"sketch": [sketch_of(data)]}).lazy()
    band = sketch.quantile_band(frame, [], 0.95, z=1.0).collect().row(0, named=True)
    spread = np.sqrt(4000 * 0.95 * 0.05)
    order = np.sort(data)
    assert band["low"] == pytest.approx(order[int(np.floor(3999 * 0.95 - spread))], rel=sketch.ALPHA)
    assert band["high"] == pytest.approx(order[int(np.floor(3999 * 0.95 + spread))], rel=sketch.ALPHA)
    assert band["low"] < band["value"] < band["high"]
