"""Synthetic request tables (the shape `aiobs.reconstruct` produces) for gate, history and anomaly tests.

Everything is drawn with numpy from a seed, so a test can plant an effect (a slower model, more
errors, a flag that fires more often, an hour with a spike) and know the truth it planted. The
tables carry the columns the quality work adds to the request table: `flag_<name>` booleans and
`feedback_score` (0..1, null when the user gave none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from aiobs.schema import REQUEST_SCHEMA

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MODELS = ("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash")
ROUTES = ("/chat", "/rag/answer")
#: Each request's latency is split over these stages (the rest is gateway overhead).
STAGE_SHARES = {"retrieval": 0.1, "llm": 0.8}


def make_requests(
    n: int,
    *,
    seed: int = 0,
    start: datetime = T0,
    span: timedelta = timedelta(hours=24),
    models: tuple[str, ...] = MODELS,
    model_weights: tuple[float, ...] | None = None,
    routes: tuple[str, ...] = ROUTES,
    latency_median_ms: float = 1500.0,
    sigma: float = 0.7,
    slower: Mapping[str, float] | None = None,
    error_rate: float = 0.01,
    error_rates: Mapping[str, float] | None = None,
    cost_mean: float = 0.002,
    cost_factor: Mapping[str, float] | None = None,
    flags: Mapping[str, float] | None = None,
    feedback_share: float = 0.3,
    acceptance: float = 0.9,
    hourly_factor: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pl.DataFrame:
    """`n` requests spread uniformly over [start, start + span).

    `slower`, `error_rates` and `cost_factor` are per model; `flags` maps a flag name to its rate
    (None: no flag columns at all); `feedback_share=0` gives no feedback column; `hourly_factor`
    multiplies latency by a function of the start time (in hours since `start`).
    """
    rng = np.random.default_rng(seed)
    weights = np.array(model_weights or [1.0] * len(models))
    model = rng.choice(np.array(models), n, p=weights / weights.sum())
    route = rng.choice(np.array(routes), n)
    offsets_s = np.sort(rng.uniform(0, span.total_seconds(), n))
    factor = np.ones(n)
    for name, f in (slower or {}).items():
        factor = np.where(model == name, f, factor)
    if hourly_factor is not None:
        factor = factor * hourly_factor(offsets_s / 3600.0)
    latency = rng.lognormal(np.log(latency_median_ms), sigma, n) * factor
    p_error = np.full(n, error_rate)
    for name, rate in (error_rates or {}).items():
        p_error = np.where(model == name, rate, p_error)
    cost_scale = np.ones(n)
    for name, f in (cost_factor or {}).items():
        cost_scale = np.where(model == name, f, cost_scale)
    starts = np.datetime64(start.replace(tzinfo=None), "us") + (offsets_s * 1e6).astype("timedelta64[us]")
    columns: dict[str, object] = {
        "correlation_id": pl.Series(np.arange(n))
        .cast(pl.String)
        .str.pad_start(7, "0")
        .str.replace("^", f"req-{seed}-"),
        "start": pl.Series(starts).dt.replace_time_zone("UTC"),
        "latency_ms": latency,
        "has_root": np.ones(n, dtype=bool),
        **{f"{stage}_ms": latency * share for stage, share in STAGE_SHARES.items()},
        "input_tokens": rng.integers(100, 2000, n),
        "output_tokens": rng.integers(20, 500, n),
        "llm_output_ms": latency * STAGE_SHARES["llm"],
        "cost_usd": rng.gamma(2.0, cost_mean / 2.0, n) * cost_scale,
        "model": model,
        "models": pl.Series(model).reshape((n, 1)).cast(pl.List(pl.String)),
        "route": route,
        "is_error": rng.random(n) < p_error,
        "retries": (rng.random(n) < 0.02).astype(np.int64),
        "n_events": np.full(n, 3, dtype=np.int64),
        "skewed_events": np.zeros(n, dtype=np.int64),
    }
    for name, rate in (flags or {}).items():
        columns[f"flag_{name}"] = rng.random(n) < rate
    frame = pl.DataFrame(columns)
    if feedback_share > 0:
        given = rng.random(n) < feedback_share
        score = (rng.random(n) < acceptance).astype(np.float64)
        frame = frame.with_columns(feedback_score=pl.Series(np.where(given, score, np.nan)).fill_nan(None))
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in REQUEST_SCHEMA.items() if name not in frame.columns]
    frame = frame.with_columns(missing)
    extra = [c for c in frame.columns if c not in REQUEST_SCHEMA]
    return frame.select(
        *(pl.col(name).cast(dtype) for name, dtype in REQUEST_SCHEMA.items()),
        *extra,
    )


# -- history stores for the report's Trends and Anomalies sections ------------------------------------------

#: The hour whose latency `two_days_with_a_spike` triples (the second day, 14:00 UTC).
SPIKE = T0 + timedelta(days=1, hours=14)
#: Flag rates of the planted store: `error` repeats the error rate; `empty` is the fifth highest.
TREND_FLAGS = {"truncated": 0.04, "refusal": 0.02, "pii_in_input": 0.01, "repetition": 0.005, "empty": 0.002}


def two_days_with_a_spike(
    *, models: tuple[str, ...] = MODELS, routes: tuple[str, ...] = ROUTES, factor: float = 3.0, seed: int = 11
) -> pl.DataFrame:
    """Two days of steady traffic (250 requests an hour), with every request's latency × `factor` in the SPIKE hour."""
    frame = make_requests(
        2 * 24 * 250,
        seed=seed,
        span=timedelta(days=2),
        models=models,
        routes=routes,
        flags={**TREND_FLAGS, "error": 0.01},
    )
    spiked = (pl.col("start") >= SPIKE) & (pl.col("start") < SPIKE + timedelta(hours=1))
    return frame.with_columns(
        pl.when(spiked).then(pl.col(c) * factor).otherwise(pl.col(c)).alias(c)
        for c in ("latency_ms", *(f"{stage}_ms" for stage in STAGE_SHARES), "llm_output_ms")
    )
