"""A mergeable latency distribution: a fixed log-scale histogram (DDSketch's bucket map), kept as a table.

A value x > 0 falls in bucket `key = ceil(ln x / ln γ)` with `γ = (1 + α) / (1 − α)`; every value in a
bucket is within a relative error α of the bucket's representative `2γ^key / (1 + γ)`. Zero (and any
value below 1e-9) has its own bucket. Merging sketches is adding counts per key, so hourly sketches
roll up into daily ones, and a saved summary can stand in for its logs when comparing latency
percentiles (see aiobs.gates.baseline). With α = 1 % a bucket is 2 % wide: far finer than the 10 %
regressions a CI gate looks for, and one to two hundred buckets for a typical latency range.

Sketches live as `list[struct{key: i32, n: i64}]` columns (sorted by key); `quantiles` reads a long
table of (group..., key, n) rows with the same linear interpolation as aiobs.metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LN_GAMMA = math.log(GAMMA)
#: The bucket of zero and of values too small to have a log bucket.
ZERO_KEY = -(2**31)
MIN_VALUE = 1e-9

BIN = pl.Struct({"key": pl.Int32(), "n": pl.Int64()})
SKETCH = pl.List(BIN)


def bucket_key(values: pl.Expr) -> pl.Expr:
    """The sketch bucket of each value (null stays null)."""
    return (
        pl.when(values > MIN_VALUE)
        .then((values.log() / LN_GAMMA).ceil())
        .when(values.is_not_null())
        .then(pl.lit(ZERO_KEY))
        .cast(pl.Int32)
    )


def bucket_value(keys: pl.Expr) -> pl.Expr:
    """The representative value of each bucket (within α of every value in it)."""
    return pl.when(keys == ZERO_KEY).then(0.0).otherwise(2.0 * (keys.cast(pl.Float64) * LN_GAMMA).exp() / (1 + GAMMA))


def bucket_values(keys: np.ndarray) -> np.ndarray:
    """numpy twin of `bucket_value`, for the bootstrap."""
    keys = np.asarray(keys, dtype=np.int64)
    return np.where(keys == ZERO_KEY, 0.0, 2.0 * np.exp(keys.astype(np.float64) * LN_GAMMA) / (1 + GAMMA))


# Working column names, chosen not to clash with group keys (a profile has a `key` column of its own).
_BIN, _N = "_bin", "_n"


def _bins() -> pl.Expr:
    return pl.struct(pl.col(_BIN).alias("key"), pl.col(_N).alias("n"))


def _long(frame: pl.LazyFrame, keys: Sequence[str], column: str) -> pl.LazyFrame:
    """One row per (group, bucket) from a sketch column."""
    return (
        frame.select(*keys, pl.col(column))
        .explode(column)
        .select(*keys, pl.col(column).struct.field("key").alias(_BIN), pl.col(column).struct.field("n").alias(_N))
        .drop_nulls(_BIN)
    )


def sketch_by(frame: pl.LazyFrame, keys: Sequence[str], column: str = "latency_ms") -> pl.LazyFrame:
    """One row per group: the group keys and the sketch of `column` (groups with no value get no row)."""
    return (
        frame.select(*keys, bucket_key(pl.col(column)).alias(_BIN))
        .drop_nulls(_BIN)
        .group_by([*keys, _BIN])
        .agg(pl.len().cast(pl.Int64).alias(_N))
        .sort([*keys, _BIN], nulls_last=True)
        .group_by(list(keys), maintain_order=True)
        .agg(_bins().alias("sketch"))
    )


def merge(frame: pl.LazyFrame, keys: Sequence[str], column: str = "sketch") -> pl.LazyFrame:
    """Merge the sketches of each group (sum of counts per bucket) into one sketch per group."""
    return (
        _long(frame, keys, column)
        .group_by([*keys, _BIN])
        .agg(pl.col(_N).sum())
        .sort([*keys, _BIN], nulls_last=True)
        .group_by(list(keys), maintain_order=True)
        .agg(_bins().alias(column))
    )


def quantiles(frame: pl.LazyFrame, keys: Sequence[str], qs: dict[str, float], column: str = "sketch") -> pl.LazyFrame:
    """Percentiles of each group's sketch, linearly interpolated between order statistics (numpy's default)."""
    cum = pl.col(_N).cum_sum()
    long = (
        _long(frame, keys, column)
        .sort([*keys, _BIN], nulls_last=True)
        .with_columns(bucket_value(pl.col(_BIN)).alias("_value"), (cum.over(list(keys)) if keys else cum).alias("_cum"))
    )
    total = pl.col(_N).sum()
    exprs = []
    for name, q in qs.items():
        rank = (total - 1).cast(pl.Float64) * q
        lower, upper = rank.floor(), rank.ceil()
        at_lower = pl.col("_value").filter(pl.col("_cum") > lower).first()
        at_upper = pl.col("_value").filter(pl.col("_cum") > upper).first()
        exprs.append((at_lower + (at_upper - at_lower) * (rank - lower)).alias(name))
    if not keys:
        return long.select(*exprs, n=total)
    return long.group_by(list(keys), maintain_order=True).agg(*exprs, n=total)


def to_record(sketch: list[dict[str, int]] | None) -> dict[str, Any]:
    """A sketch as a small JSON object: parallel `keys` and `counts`, and the count of zeros."""
    bins = sketch or []
    zeros = sum(b["n"] for b in bins if b["key"] == ZERO_KEY)
    rest = [b for b in bins if b["key"] != ZERO_KEY]
    return {"alpha": ALPHA, "zeros": zeros, "keys": [b["key"] for b in rest], "counts": [b["n"] for b in rest]}


def from_record(record: dict[str, Any]) -> list[dict[str, int]]:
    """Inverse of `to_record`. Raises ValueError for a sketch made with another α or a malformed one."""
    if not isinstance(record, dict) or record.get("alpha") != ALPHA:
        msg = f"latency sketch has alpha {record.get('alpha') if isinstance(record, dict) else '?'}, expected {ALPHA}"
        raise ValueError(msg)
    keys, counts, zeros = record.get("keys"), record.get("counts"), record.get("zeros", 0)
    if not isinstance(keys, list) or not isinstance(counts, list) or len(keys) != len(counts):
        msg = "latency sketch needs two lists of equal length, keys and counts"
        raise ValueError(msg)
    if not all(isinstance(v, int) for v in [*keys, *counts, zeros]) or any(c < 0 for c in [*counts, zeros]):
        msg = "latency sketch keys and counts must be integers (counts >= 0)"
        raise ValueError(msg)
    bins = [{"key": ZERO_KEY, "n": zeros}] if zeros else []
    return bins + [{"key": k, "n": c} for k, c in sorted(zip(keys, counts, strict=True)) if c > 0]


def as_arrays(sketch: list[dict[str, int]] | None) -> tuple[np.ndarray, np.ndarray]:
    """(bucket values, counts) as numpy arrays, in key order."""
    bins = sorted(sketch or [], key=lambda b: b["key"])
    keys = np.array([b["key"] for b in bins], dtype=np.int64)
    return bucket_values(keys), np.array([b["n"] for b in bins], dtype=np.int64)


def array_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float | None:
    """One percentile of one sketch (the same interpolation as `quantiles`)."""
    result = resampled_quantiles(values, counts[None, :], q)
    return None if result is None else float(result[0])


def resampled_quantiles(values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray | None:
    """The percentile q of each row of `counts` (shape resamples × buckets), vectorised over the rows."""
    totals = counts.sum(axis=1)
    if counts.size == 0 or (totals == 0).any():
        return None
    cum = np.cumsum(counts, axis=1)
    rank = (totals - 1) * q
    lower, upper = np.floor(rank), np.ceil(rank)
    at_lower = values[(cum > lower[:, None]).argmax(axis=1)]
    at_upper = values[(cum > upper[:, None]).argmax(axis=1)]
    return at_lower + (at_upper - at_lower) * (rank - lower)


def quantile_band(
    frame: pl.LazyFrame, keys: Sequence[str], q: float, *, z: float = 1.0, column: str = "sketch"
) -> pl.LazyFrame:
    """Percentile q of each group's sketch with the values at ranks n·q ∓ z·√(n·q·(1−q)).

    The order-statistic (Woodruff) band: `(ln high − ln low) / 2z` estimates the standard error of
    ln(percentile) from the group's own values, whatever their distribution.
    """
    cum = pl.col(_N).cum_sum()
    long = (
        _long(frame, keys, column)
        .sort([*keys, _BIN], nulls_last=True)
        .with_columns(bucket_value(pl.col(_BIN)).alias("_value"), (cum.over(list(keys)) if keys else cum).alias("_cum"))
    )
    total = pl.col(_N).sum().cast(pl.Float64)
    spread = z * (total * q * (1 - q)).sqrt()

    def at(rank: pl.Expr) -> pl.Expr:
        return pl.col("_value").filter(pl.col("_cum") > rank.clip(0, total - 1).floor()).first()

    rank = (total - 1) * q
    exprs = [at(rank).alias("value"), at(rank - spread).alias("low"), at(rank + spread).alias("high"), total.alias("n")]
    return long.group_by(list(keys), maintain_order=True).agg(exprs) if keys else long.select(exprs)
