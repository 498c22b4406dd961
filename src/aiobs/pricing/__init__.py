"""Price LLM and embedding events with genai-prices' bundled data (see docs/pricing.md).

Nothing here touches the network: prices come from the data that ships inside the
installed `genai-prices` package, plus an optional user price file (`PriceBook`).

The event frame can hold tens of millions of rows, so Python never loops over events.
The lazy plan reduces the events to their distinct keys (model, provider, UTC day,
time-of-day bucket, context-size tier); only those keys are priced in Python, with
caches so genai-prices is asked about each resolved model once per day. The small
rate table is joined back onto a narrow frame of token counts, the cost is one
vectorised Polars expression, and the cost column is attached to the caller's frame.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version as _package_version
from importlib.util import find_spec
from pathlib import Path

import polars as pl
from genai_prices import data_snapshot
from genai_prices import types as gp_types

from aiobs.pricing.price_files import (
    PriceBook,
    PriceFileError,
    UserPrice,
    load_price_book,
)
from aiobs.pricing.rates import (
    COLUMN_PREFIX,
    HASH,
    HASH_SEED,
    KEYS,
    RATE_NAMES,
    Pricer,
    rate_schema,
    tier_thresholds,
    time_of_day_breakpoints,
)

__all__ = (
    "TOKEN_COLUMNS",
    "PriceBook",
    "PriceFileError",
    "UserPrice",
    "load_price_book",
    "price_data_version",
    "price_events",
    "unpriced_models",
)

#: Token columns of the event table, all Int64 and nullable (OpenAI-style: input
#: includes cached, output includes reasoning).
TOKEN_COLUMNS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cache_write_tokens",
)

_MTOK = 1_000_000.0
_UTC_TIME = pl.Datetime("us", "UTC")


def _has_tokens(tokens: Iterable[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal([t.is_not_null() for t in tokens])


def _cost_expr(
    input_t: pl.Expr, output_t: pl.Expr, cached_t: pl.Expr, reasoning_t: pl.Expr, written_t: pl.Expr
) -> pl.Expr:
    input_rate, output_rate, cache_rate, reasoning_rate, request_price, write_rate = (
        pl.col(name) for name in RATE_NAMES
    )
    cached = cached_t.fill_null(0)
    written = written_t.fill_null(0)
    reasoning = reasoning_t.fill_null(0)
    # The uncached / non-reasoning rest is clipped at zero in case a log reports more cached (reasoning)
    # tokens than input (output) tokens; for consistent counts this is exactly genai-prices' arithmetic.
    per_mtok = (
        (input_t.fill_null(0) - cached - written).clip(lower_bound=0) * input_rate
        + cached * cache_rate
        + written * write_rate
        + (output_t.fill_null(0) - reasoning).clip(lower_bound=0) * output_rate
        + reasoning * reasoning_rate
    )
    cost = per_mtok / _MTOK + request_price
    has_tokens = _has_tokens((input_t, output_t, cached_t, reasoning_t, written_t))
    return pl.when(has_tokens).then(cost).otherwise(None).cast(pl.Float64)


def _utc_start(schema: pl.Schema) -> pl.Expr:
    if "start" not in schema:
        return pl.lit(None, dtype=_UTC_TIME)
    dtype = schema["start"]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return pl.col("start").dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return pl.col("start").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Date | pl.Null):
        return pl.col("start").cast(_UTC_TIME)
    raise TypeError(f"Column `start` must be a Datetime, not {dtype}.")


def _optional(schema: pl.Schema, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in schema else pl.lit(None, dtype=dtype)


def price_events(events: pl.LazyFrame | pl.DataFrame, *, prices: PriceBook | None = None) -> pl.LazyFrame:
    """`events` with a Float64 `cost_usd` column added (or replaced), priced with genai-prices' bundled data.

    `cost_usd` is null when the model cannot be priced or the event logged no tokens at all. Events
    without a `start` are priced at the current time, as genai-prices does. See docs/pricing.md.

    Lazy: nothing runs until the result is collected. The plan reads `events` once (Polars caches the
    shared input), prices its distinct keys in Python, and joins the small rate table back on.
    """
    # A LazyFrame is read twice below (keys and tokens for pricing, every column for the result):
    # `cache` makes Polars compute it once, e.g. parse a JSONL source once.
    lf = events.lazy() if isinstance(events, pl.DataFrame) else events.cache()
    schema = lf.collect_schema()
    ts = _utc_start(schema).fill_null(pl.lit(datetime.now(UTC), dtype=_UTC_TIME))
    time_of_day = (ts - ts.dt.truncate("1d")).dt.total_microseconds()
    breakpoints = time_of_day_breakpoints()
    bucket = pl.sum_horizontal([(time_of_day >= bp).cast(pl.Int16) for bp in breakpoints]) if breakpoints else pl.lit(0)
    input_tokens = _optional(schema, "input_tokens", pl.Int64()).fill_null(0)
    thresholds = tier_thresholds()
    tier = pl.sum_horizontal([(input_tokens > t).cast(pl.Int16) for t in thresholds]) if thresholds else pl.lit(0)
    tokens = [_optional(schema, name, pl.Int64()).alias(f"{COLUMN_PREFIX}{name}") for name in TOKEN_COLUMNS]
    token_cols = [pl.col(f"{COLUMN_PREFIX}{name}") for name in TOKEN_COLUMNS]
    # A narrow frame of keys and token counts: the join never carries the caller's other columns.
    keyed = lf.select(
        _optional(schema, "model", pl.String()).str.strip_chars().alias(KEYS[0]),
        _optional(schema, "provider", pl.String()).alias(KEYS[1]),
        ts.dt.date().alias(KEYS[2]),
        bucket.cast(pl.Int16).alias(KEYS[3]),
        tier.cast(pl.Int16).alias(KEYS[4]),
        *tokens,
    ).with_columns(pl.struct(KEYS).hash(HASH_SEED).alias(HASH))
    pricer = Pricer(prices)
    rates = (
        keyed.filter(_has_tokens(token_cols))
        .select(*KEYS, HASH)
        .unique()
        .map_batches(pricer.rate_table, schema=rate_schema())
    )
    cost = (
        keyed.select(HASH, *token_cols)
        .join(rates, on=HASH, how="left", maintain_order="left")
        .select(_cost_expr(*token_cols).alias("cost_usd"))
    )
    return pl.concat([lf.drop("cost_usd", strict=False), cost], how="horizontal")


def unpriced_models(events: pl.LazyFrame | pl.DataFrame, *, prices: PriceBook | None = None) -> pl.DataFrame:
    """Models (with provider) whose events logged tokens but could not be priced, most tokens first.

    Columns: model, provider, events, input_tokens, output_tokens. Uses `cost_usd` when the
    frame already has it (output of `price_events`), else prices the events first.
    """
    lf = events.lazy()
    schema = lf.collect_schema()
    if "cost_usd" not in schema:
        lf = price_events(lf, prices=prices)
        schema = lf.collect_schema()
    tokens = [_optional(schema, name, pl.Int64()).alias(name) for name in TOKEN_COLUMNS]
    return (
        lf.select(
            _optional(schema, "model", pl.String()).alias("model"),
            _optional(schema, "provider", pl.String()).alias("provider"),
            pl.col("cost_usd"),
            *tokens,
        )
        .filter(_has_tokens(pl.col(name) for name in TOKEN_COLUMNS) & pl.col("cost_usd").is_null())
        .group_by("model", "provider")
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            pl.col("input_tokens").sum().cast(pl.Int64),
            pl.col("output_tokens").sum().cast(pl.Int64),
        )
        .sort(
            pl.col("input_tokens") + pl.col("output_tokens"),
            "events",
            "model",
            "provider",
            descending=[True, True, False, False],
            nulls_last=True,
        )
        .collect()
    )


# --------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------


@cache
def price_data_version() -> str:
    """Describe the bundled genai-prices data: package version, data file digest, and coverage."""
    package = _package_version("genai-prices")
    spec = find_spec("genai_prices.data")
    digest = "unknown"
    if spec is not None and spec.origin is not None:
        with contextlib.suppress(OSError):
            digest = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:12]
    providers = data_snapshot.get_snapshot().providers
    n_models = sum(len(p.models) for p in providers)
    dates = [
        c.constraint.start_date
        for p in providers
        for m in p.models
        if not isinstance(m.prices, gp_types.ModelPrice)
        for c in m.prices
        if isinstance(c.constraint, gp_types.StartDateConstraint)
    ]
    latest = f"; dated prices up to {max(dates).isoformat()}" if dates else ""
    return (
        f"genai-prices {package} bundled data (sha256 {digest}, {len(providers)} providers, "
        f"{n_models} models{latest}; the package records no snapshot date)"
    )
