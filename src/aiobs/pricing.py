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
import json
import math
import os
import stat
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib.metadata import version as _package_version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import genai_prices
import polars as pl
from genai_prices import data_snapshot
from genai_prices import types as gp_types

from aiobs.errors import UsageError

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
#: A user price above this (USD per million tokens) is a typo, and large enough ones overflow the cost sums.
MAX_PRICE_PER_MTOK = 100_000.0
_UTC_TIME = pl.Datetime("us", "UTC")


class PriceFileError(UsageError, ValueError):
    """A user price file that cannot be read or is malformed (one sentence naming the file)."""


# --------------------------------------------------------------------------------------
# User price book
# --------------------------------------------------------------------------------------

_PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok")
_OPTIONAL_PRICE_KEYS = ("cached_input_per_mtok", "cache_write_per_mtok")
_ENTRY_KEYS = (*_PRICE_KEYS, "provider")


@dataclass(frozen=True)
class UserPrice:
    """A flat user price in USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float
    #: Rate for cached input tokens; `None` bills them at `input_per_mtok`.
    cached_input_per_mtok: float | None = None
    #: Rate for input tokens written to the cache; `None` bills them at `input_per_mtok`.
    cache_write_per_mtok: float | None = None
    #: When set, the price applies only to events whose provider is this one (compared
    #: case-insensitively) or is not logged at all.
    provider: str | None = None

    def applies_to(self, provider: str | None) -> bool:
        return self.provider is None or provider is None or provider.casefold() == self.provider.casefold()


@dataclass(frozen=True)
class PriceBook:
    """User prices that override or extend genai-prices, keyed by model name (case-insensitive)."""

    models: Mapping[str, UserPrice] = field(default_factory=dict)
    #: Where the prices came from (a file path), for messages and provenance.
    source: str | None = None

    def __post_init__(self) -> None:
        folded: dict[str, UserPrice] = {}
        for name, price in self.models.items():
            key = name.strip().casefold()
            if key in folded:
                raise ValueError(f"Model {name!r} is listed twice (names are case-insensitive).")
            folded[key] = price
        object.__setattr__(self, "models", folded)

    def lookup(self, model: str, provider: str | None) -> UserPrice | None:
        price = self.models.get(model.strip().casefold())
        return price if price is not None and price.applies_to(provider) else None


#: A price file is a few hundred lines; a device or a huge file is a mistake, not prices.
MAX_PRICE_FILE_BYTES = 16 << 20


def load_price_book(path: str | os.PathLike[str]) -> PriceBook:
    """Read a TOML (or, for a `.json` name, JSON) price file; see docs/pricing.md for the format.

    Raises `PriceFileError` with one sentence naming the file and the problem.
    """
    where = os.fspath(path)
    is_json = Path(where).suffix.lower() == ".json"
    try:
        size = Path(where).stat()
        if not stat.S_ISREG(size.st_mode) or size.st_size > MAX_PRICE_FILE_BYTES:
            what = (
                "not a regular file"
                if not stat.S_ISREG(size.st_mode)
                else f"larger than {MAX_PRICE_FILE_BYTES >> 20} MB"
            )
            raise PriceFileError(f"Cannot read price file {where}: it is {what}.")
        raw_bytes = Path(where).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PriceFileError(f"Cannot read price file {where}: {reason}.") from exc
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PriceFileError(f"Price file {where} is not valid UTF-8 text.") from exc
    try:
        document: object = json.loads(text) if is_json else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if is_json else "TOML"
        raise PriceFileError(f"Price file {where} is not valid {kind}: {exc}.") from exc
    return _book_from_document(document, where)


def _book_from_document(document: object, where: str) -> PriceBook:
    if not isinstance(document, dict):
        raise PriceFileError(f"Price file {where} must contain a table with a `models` table in it.")
    extra = sorted(str(k) for k in document if k != "models")
    if extra:
        raise PriceFileError(f"Price file {where} has unknown top-level key {extra[0]!r} (only `models` is allowed).")
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        raise PriceFileError(f"Price file {where} has no `models` table with at least one model in it.")

    entries: dict[str, UserPrice] = {}
    seen: dict[str, str] = {}
    for name, entry in models.items():
        label = f'Price file {where}: model "{name}"'
        if not isinstance(name, str) or not name.strip():
            raise PriceFileError(f"Price file {where} has a model with an empty name.")
        folded = name.strip().casefold()
        if folded in seen:
            raise PriceFileError(f'{label} is listed twice (as "{seen[folded]}" too; names are case-insensitive).')
        seen[folded] = name
        if not isinstance(entry, dict):
            raise PriceFileError(f"{label} must be a table of prices, not {_type_word(entry)}.")
        unknown = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
        if unknown:
            raise PriceFileError(f"{label} has unknown key {unknown[0]!r} (expected one of {', '.join(_ENTRY_KEYS)}).")
        values: dict[str, float | None] = {}
        for key in _PRICE_KEYS:
            value = entry.get(key)
            if value is None:
                if key not in _OPTIONAL_PRICE_KEYS:
                    raise PriceFileError(f"{label} is missing {key}.")
                values[key] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise PriceFileError(f"{label} has {key} = {value!r}; expected a non-negative number (USD per MTok).")
            if value > MAX_PRICE_PER_MTOK:  # beyond any real price, and costs would overflow to nothing
                raise PriceFileError(
                    f"{label} has {key} = {value!r}; no model costs more than ${MAX_PRICE_PER_MTOK:,.0f} per MTok."
                )
            values[key] = float(value)
        provider = entry.get("provider")
        if provider is not None and (not isinstance(provider, str) or not provider.strip()):
            raise PriceFileError(f"{label} has provider = {provider!r}; expected a non-empty string.")
        input_rate, output_rate = values["input_per_mtok"], values["output_per_mtok"]
        assert input_rate is not None and output_rate is not None
        entries[name] = UserPrice(
            input_per_mtok=input_rate,
            output_per_mtok=output_rate,
            cached_input_per_mtok=values["cached_input_per_mtok"],
            cache_write_per_mtok=values["cache_write_per_mtok"],
            provider=provider.strip() if isinstance(provider, str) else None,
        )
    return PriceBook(entries, source=where)


def _type_word(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# --------------------------------------------------------------------------------------
# Rates: what one resolved model costs on one day, per context-size tier band
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Band:
    """Rates (USD per million tokens) for events whose input_tokens > `above` (None: the base band)."""

    above: int | None
    input: float
    output: float
    #: Cache-read rate; None when cached tokens are not priced apart (they stay input tokens).
    cache_read: float | None
    #: Reasoning rate; None when reasoning tokens are not priced apart (they stay output tokens).
    reasoning: float | None
    #: Cache-write rate; None when cache writes are not priced apart (they stay input tokens).
    cache_write: float | None
    #: Fixed price per event (genai-prices' per-request prices), USD.
    per_request: float


@dataclass(frozen=True)
class _Rates:
    bands: tuple[_Band, ...]  # base band first, then ascending `above`


@dataclass(frozen=True)
class _GenaiMatch:
    model_ref: str
    provider_id: str | None
    #: The model's prices change with the time of day (e.g. DeepSeek off-peak hours).
    time_of_day: bool


def _user_rates(price: UserPrice) -> _Rates:
    return _Rates(
        (
            _Band(
                above=None,
                input=price.input_per_mtok,
                output=price.output_per_mtok,
                cache_read=price.cached_input_per_mtok,
                reasoning=None,
                cache_write=price.cache_write_per_mtok,
                per_request=0.0,
            ),
        )
    )


_PriceValue = Decimal | gp_types.TieredPrices | None


def _price_at(price: _PriceValue, input_tokens: int) -> Decimal | None:
    """The rate genai-prices applies for a request with `input_tokens` input tokens (cliff tiers)."""
    if price is None or isinstance(price, Decimal):
        return price
    for tier in reversed(price.tiers):  # tiers are sorted ascending by genai-prices
        if input_tokens > tier.start:
            return tier.price
    return price.base


def _rates_from_model_price(model_price: gp_types.ModelPrice) -> _Rates | None:
    """Token rates from a genai-prices ModelPrice; None when it has no token price at all."""
    # ModelPrice returns None for any registered price key that is not set.
    input_p: _PriceValue = getattr(model_price, "input_mtok", None)
    output_p: _PriceValue = getattr(model_price, "output_mtok", None)
    cache_p: _PriceValue = getattr(model_price, "cache_read_mtok", None)
    reasoning_p: _PriceValue = getattr(model_price, "output_reasoning_mtok", None)
    write_p: _PriceValue = getattr(model_price, "cache_write_mtok", None)
    request_p: _PriceValue = getattr(model_price, "requests_kcount", None)
    if input_p is None and output_p is None:
        return None  # e.g. priced per character or per audio hour only: not a token price
    priced = (input_p, output_p, cache_p, reasoning_p, request_p, write_p)
    starts = sorted({t.start for p in priced if isinstance(p, gp_types.TieredPrices) for t in p.tiers})
    bands: list[_Band] = []
    for above in (None, *starts):
        probe = 0 if above is None else above + 1  # any input count inside this band
        cache_rate, reasoning_rate = _price_at(cache_p, probe), _price_at(reasoning_p, probe)
        request_rate, write_rate = _price_at(request_p, probe), _price_at(write_p, probe)
        bands.append(
            _Band(
                above=above,
                input=float(_price_at(input_p, probe) or 0),
                output=float(_price_at(output_p, probe) or 0),
                cache_read=None if cache_rate is None else float(cache_rate),
                reasoning=None if reasoning_rate is None else float(reasoning_rate),
                cache_write=None if write_rate is None else float(write_rate),
                per_request=0.0 if request_rate is None else float(request_rate / 1000),
            )
        )
    return _Rates(tuple(bands))


def _utc_time_of_day_us(value: time) -> int:
    if value.tzinfo is not None:
        value = datetime.combine(date(2000, 1, 1), value).astimezone(UTC).time()
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _time_of_day_constraints(model: gp_types.ModelInfo) -> list[gp_types.TimeOfDateConstraint]:
    if isinstance(model.prices, gp_types.ModelPrice):
        return []
    return [c.constraint for c in model.prices if isinstance(c.constraint, gp_types.TimeOfDateConstraint)]


@cache
def _time_of_day_breakpoints() -> tuple[int, ...]:
    """Every time of day (µs since UTC midnight) at which some bundled price starts or stops."""
    points: set[int] = set()
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            for constraint in _time_of_day_constraints(model):
                points.add(_utc_time_of_day_us(constraint.start_time))
                points.add(_utc_time_of_day_us(constraint.end_time))
    points.discard(0)
    return tuple(sorted(points))


def _bucket_start(bucket: int) -> time:
    """Start of a time-of-day bucket: bucket b covers [breakpoint b-1, breakpoint b)."""
    if bucket <= 0:
        return time(0, tzinfo=UTC)
    us = _time_of_day_breakpoints()[bucket - 1]
    start = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    return start.timetz()


def _ref_candidates(model: str) -> list[tuple[str, str | None]]:
    """(model ref, prefix stripped to get it) pairs: the full name, then each provider prefix stripped."""
    out: list[tuple[str, str | None]] = [(model, None)]
    ref = model
    while "/" in ref:
        prefix, ref = ref.split("/", 1)
        if not ref:
            break
        out.append((ref, prefix))
    return out


# --------------------------------------------------------------------------------------
# The rate table and the cost expression
# --------------------------------------------------------------------------------------

# Helper column names, prefixed so they cannot collide with the caller's columns; all dropped at the end.
_P = "__aiobs_pricing_"
_KEYS: tuple[str, ...] = (f"{_P}model", f"{_P}provider", f"{_P}day", f"{_P}bucket", f"{_P}tier")
#: The join key: a 64-bit hash of the key columns (joining on one integer is several times faster than on
#: five columns with strings). `rate_table` checks the distinct keys' hashes are distinct, so a collision
#: raises instead of mispricing.
_HASH = f"{_P}key_hash"
_HASH_SEED = 0x5EED
_RATE_NAMES: tuple[str, ...] = tuple(
    f"{_P}{name}" for name in ("input", "output", "cache_read", "reasoning", "per_request", "cache_write")
)


@cache
def _rate_schema() -> pl.Schema:
    return pl.Schema({_HASH: pl.UInt64(), **dict.fromkeys(_RATE_NAMES, pl.Float64())})


@cache
def _tier_thresholds() -> tuple[int, ...]:
    """Every context-size tier start in the bundled data, ascending (user prices have no tiers)."""
    starts: set[int] = set()
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            prices = (
                [model.prices] if isinstance(model.prices, gp_types.ModelPrice) else [c.prices for c in model.prices]
            )
            for price in prices:
                for value in vars(price).values():
                    if isinstance(value, gp_types.TieredPrices):
                        starts.update(tier.start for tier in value.tiers)
    return tuple(sorted(starts))


def _band_for_tier(rates: _Rates, tier: int) -> _Band:
    """The band of `rates` that applies to every input count in global tier `tier`.

    Global tier t holds input counts in (threshold[t-1], threshold[t]]; since every model's own tier
    starts are among the global thresholds, one band of the model applies to the whole global tier.
    """
    probe = 0 if tier <= 0 else _tier_thresholds()[tier - 1] + 1
    chosen = rates.bands[0]
    for band in rates.bands[1:]:
        if band.above is not None and probe > band.above:
            chosen = band
    return chosen


def _band_values(rates: _Rates | None, tier: int) -> tuple[float | None, ...]:
    """input, output, cache_read, reasoning, per_request, cache_write rates; cache reads and writes default
    to the input rate, reasoning to the output rate."""
    if rates is None:
        return (None,) * len(_RATE_NAMES)
    band = _band_for_tier(rates, tier)
    cache_read = band.input if band.cache_read is None else band.cache_read
    reasoning = band.output if band.reasoning is None else band.reasoning
    cache_write = band.input if band.cache_write is None else band.cache_write
    return (band.input, band.output, cache_read, reasoning, band.per_request, cache_write)


class _GenaiPrices:
    """Model matching and per-day rates from genai-prices, cached for the whole process.

    The bundled data never changes while we run, so one cache serves every `price_events` call (the
    summary prices its events bucket by bucket): genai-prices is asked once per model name and provider
    to match it, and once per matched model and UTC day (and time-of-day bucket, for the few models whose
    price depends on the hour) for the prices in force.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matches: dict[tuple[str, str | None], _GenaiMatch | None] = {}
        self._rates: dict[tuple[str, str | None, date, int], _Rates | None] = {}
        self._known_providers: dict[str, bool] = {}

    def rates(self, model: str, provider: str | None, day: date, bucket: int) -> _Rates | None:
        with self._lock:
            key = (model, provider)
            if key not in self._matches:
                self._matches[key] = self._match(model, provider, day, bucket)
            match = self._matches[key]
            return None if match is None else self._rates_for(match, day, bucket)

    def _rates_for(self, match: _GenaiMatch, day: date, bucket: int) -> _Rates | None:
        bucket = bucket if match.time_of_day else 0
        key = (match.model_ref, match.provider_id, day, bucket)
        if key not in self._rates:
            try:
                calc = _calc(match.model_ref, match.provider_id, day, bucket)
            except (LookupError, ValueError):  # pragma: no cover - the model matched before
                self._rates[key] = None
            else:
                self._rates[key] = _rates_from_model_price(calc.model_price)
        return self._rates[key]

    def _match(self, model: str, provider: str | None, day: date, bucket: int) -> _GenaiMatch | None:
        known = provider if provider is not None and self._is_known_provider(provider) else None
        attempts: list[tuple[str, str | None]] = []
        for ref, prefix in _ref_candidates(model):
            # A stripped prefix naming a provider is used as the provider when the column does not give one.
            if known is None and prefix is not None and self._is_known_provider(prefix):
                attempts.append((ref, prefix))
            attempts.append((ref, known))
        tried: set[tuple[str, str | None]] = set()
        for ref, provider_id in attempts:
            if (ref.casefold(), provider_id) in tried:
                continue
            tried.add((ref.casefold(), provider_id))
            try:
                calc = _calc(ref, provider_id, day, bucket)
            except (LookupError, ValueError):
                continue
            match = _GenaiMatch(ref, provider_id, bool(_time_of_day_constraints(calc.model)))
            # This call already returned the prices in force for the key being priced: keep them.
            self._rates[(ref, provider_id, day, bucket if match.time_of_day else 0)] = _rates_from_model_price(
                calc.model_price
            )
            return match
        return None

    def _is_known_provider(self, provider: str) -> bool:
        if provider not in self._known_providers:
            found = data_snapshot.find_provider_by_id(data_snapshot.get_snapshot().providers, provider)
            self._known_providers[provider] = found is not None
        return self._known_providers[provider]


def _calc(model_ref: str, provider_id: str | None, day: date, bucket: int) -> gp_types.PriceCalculation:
    """genai-prices' price calculation (for no usage) at the start of `bucket` on `day`, UTC."""
    return genai_prices.calc_price(
        genai_prices.Usage(),
        model_ref,
        provider_id=provider_id,
        genai_request_timestamp=datetime.combine(day, _bucket_start(bucket)),
    )


_GENAI = _GenaiPrices()


class _Pricer:
    """Prices the distinct keys of one `price_events` call: user prices first, then genai-prices."""

    def __init__(self, book: PriceBook | None) -> None:
        self._book = book
        self._user: dict[tuple[str, str | None], UserPrice | None] = {}

    def rates(self, model: str | None, provider: str | None, day: date, bucket: int) -> _Rates | None:
        if model is None or not model.strip():
            return None
        model = model.strip()
        if self._book is not None:
            key = (model, provider)
            if key not in self._user:
                self._user[key] = next(
                    (
                        user
                        for ref, _ in _ref_candidates(model)
                        if (user := self._book.lookup(ref, provider)) is not None
                    ),
                    None,
                )
            if (user := self._user[key]) is not None:
                return _user_rates(user)
        return _GENAI.rates(model, provider, day, bucket)

    def rate_table(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Rates for each distinct key, keyed by the key's hash (`_rate_schema()`; null rates: unpriced)."""
        hashes = keys.get_column(_HASH)
        if hashes.n_unique() != keys.height:  # two distinct keys with one 64-bit hash: never seen, but never silent
            raise RuntimeError("aiobs pricing: 64-bit hash collision between price keys; please report this.")
        columns: list[list[float | None]] = [[] for _ in _RATE_NAMES]
        for model, provider, day, bucket, tier in keys.select(_KEYS).iter_rows():
            rates = self.rates(model, provider, day, bucket)
            for column, value in zip(columns, _band_values(rates, tier), strict=True):
                column.append(value)
        data: dict[str, Any] = {_HASH: hashes, **dict(zip(_RATE_NAMES, columns, strict=True))}
        return pl.DataFrame(data, schema=_rate_schema())


def _has_tokens(tokens: Iterable[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal([t.is_not_null() for t in tokens])


def _cost_expr(
    input_t: pl.Expr, output_t: pl.Expr, cached_t: pl.Expr, reasoning_t: pl.Expr, written_t: pl.Expr
) -> pl.Expr:
    input_rate, output_rate, cache_rate, reasoning_rate, request_price, write_rate = (
        pl.col(name) for name in _RATE_NAMES
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
    breakpoints = _time_of_day_breakpoints()
    bucket = pl.sum_horizontal([(time_of_day >= bp).cast(pl.Int16) for bp in breakpoints]) if breakpoints else pl.lit(0)
    input_tokens = _optional(schema, "input_tokens", pl.Int64()).fill_null(0)
    thresholds = _tier_thresholds()
    tier = pl.sum_horizontal([(input_tokens > t).cast(pl.Int16) for t in thresholds]) if thresholds else pl.lit(0)
    tokens = [_optional(schema, name, pl.Int64()).alias(f"{_P}{name}") for name in TOKEN_COLUMNS]
    token_cols = [pl.col(f"{_P}{name}") for name in TOKEN_COLUMNS]
    # A narrow frame of keys and token counts: the join never carries the caller's other columns.
    keyed = lf.select(
        _optional(schema, "model", pl.String()).str.strip_chars().alias(_KEYS[0]),
        _optional(schema, "provider", pl.String()).alias(_KEYS[1]),
        ts.dt.date().alias(_KEYS[2]),
        bucket.cast(pl.Int16).alias(_KEYS[3]),
        tier.cast(pl.Int16).alias(_KEYS[4]),
        *tokens,
    ).with_columns(pl.struct(_KEYS).hash(_HASH_SEED).alias(_HASH))
    pricer = _Pricer(prices)
    rates = (
        keyed.filter(_has_tokens(token_cols))
        .select(*_KEYS, _HASH)
        .unique()
        .map_batches(pricer.rate_table, schema=_rate_schema())
    )
    cost = (
        keyed.select(_HASH, *token_cols)
        .join(rates, on=_HASH, how="left", maintain_order="left")
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
