"""Exact float sums: the same bits whatever order and chunking the values come in, and right to the cent."""

from __future__ import annotations

import math
import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from aiobs.exact import COST_SCALE, exact_mean, exact_sum, exact_sum_or_null

costs = st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=300)


def chunked(values: list[float], cut: int) -> pl.DataFrame:
    """A column of these values in two chunks, cut at `cut`: how Polars holds data read from several files."""
    head = pl.DataFrame({"x": values[:cut]}, schema={"x": pl.Float64})
    tail = pl.DataFrame({"x": values[cut:]}, schema={"x": pl.Float64})
    return pl.concat([head, tail], rechunk=False)


@settings(max_examples=200, deadline=None)
@given(values=costs, seed=st.integers(0, 2**32), cut=st.integers(0, 300))
def test_the_sum_is_the_same_bits_in_any_order_and_chunking(values: list[float], seed: int, cut: int) -> None:
    shuffled = values.copy()
    random.Random(seed).shuffle(shuffled)
    first = pl.DataFrame({"x": values}).select(exact_sum(pl.col("x"), COST_SCALE)).item()
    again = chunked(shuffled, cut).select(exact_sum(pl.col("x"), COST_SCALE)).item()
    assert first == again  # bit for bit, not approximately
    # Each value is rounded to 1e-15 before the exact sum, and the decimal total is turned into the nearest
    # float or its neighbour: within that of the exactly rounded true sum.
    true = math.fsum(values)
    assert abs(first - true) <= len(values) * 1e-15 + 2 * math.ulp(true)


def test_a_float_sum_without_it_does_depend_on_the_order() -> None:
    """Why this module exists: the plain float sum of these values changes with their order."""
    values = [0.1, 1e16, 0.2, -1e16, 0.3]
    forward = pl.Series(values).sum()
    backward = pl.Series(values[::-1]).sum()
    exact = pl.DataFrame({"x": values}).select(exact_sum(pl.col("x"), 3)).item()
    assert forward != backward or forward != exact
    assert exact == 0.6


def test_null_and_empty() -> None:
    frame = pl.DataFrame({"x": [None, None]}, schema={"x": pl.Float64})
    row = frame.select(
        exact_sum(pl.col("x"), 6).alias("sum"),
        exact_sum_or_null(pl.col("x"), 6).alias("or_null"),
        exact_mean(pl.col("x"), 6).alias("mean"),
    ).row(0)
    assert row == (0.0, None, None)
    assert pl.DataFrame({"x": [1.0, None, 2.0]}).select(exact_mean(pl.col("x"), 6)).item() == 1.5


def test_decimal_digits_are_kept_as_written() -> None:
    """Values are read as their decimal text, not their binary expansion (4e8 is 399999999.99999996...)."""
    frame = pl.DataFrame({"x": [4877.972589, 12.5]})
    assert frame.select(exact_sum(pl.col("x"), COST_SCALE)).item() == 4890.472589
    assert pl.DataFrame({"x": [4e8]}).select(exact_sum(pl.col("x"), COST_SCALE)).item() == 4e8


def test_values_a_decimal_cannot_hold_are_added_as_floats_not_a_failure() -> None:
    huge = pl.DataFrame({"x": [1e24, 1.0]}).select(exact_sum(pl.col("x"), COST_SCALE)).item()
    assert huge == 1e24 + 1.0
    assert math.isnan(pl.DataFrame({"x": [float("nan"), 1.0]}).select(exact_sum(pl.col("x"), COST_SCALE)).item())
    assert pl.DataFrame({"x": [math.inf, 1.0]}).select(exact_sum(pl.col("x"), COST_SCALE)).item() == math.inf
