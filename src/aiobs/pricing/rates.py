"""What a model costs: rates from genai-prices' bundled data or a user price file, per day, time of day
and context-size tier, and the small rate table the cost expression joins (aiobs.pricing)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import genai_prices
import polars as pl
from genai_prices import data_snapshot
from genai_prices import types as gp_types

from aiobs.pricing.price_files import PriceBook, UserPrice

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
def time_of_day_breakpoints() -> tuple[int, ...]:
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
    us = time_of_day_breakpoints()[bucket - 1]
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
COLUMN_PREFIX = "__aiobs_pricing_"
KEYS: tuple[str, ...] = (
    f"{COLUMN_PREFIX}model",
    f"{COLUMN_PREFIX}provider",
    f"{COLUMN_PREFIX}day",
    f"{COLUMN_PREFIX}bucket",
    f"{COLUMN_PREFIX}tier",
)
#: The join key: a 64-bit hash of the key columns (joining on one integer is several times faster than on
#: five columns with strings). `rate_table` checks the distinct keys' hashes are distinct, so a collision
#: raises instead of mispricing.
HASH = f"{COLUMN_PREFIX}key_hash"
HASH_SEED = 0x5EED
RATE_NAMES: tuple[str, ...] = tuple(
    f"{COLUMN_PREFIX}{name}" for name in ("input", "output", "cache_read", "reasoning", "per_request", "cache_write")
)


@cache
def rate_schema() -> pl.Schema:
    return pl.Schema({HASH: pl.UInt64(), **dict.fromkeys(RATE_NAMES, pl.Float64())})


@cache
def tier_thresholds() -> tuple[int, ...]:
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
    probe = 0 if tier <= 0 else tier_thresholds()[tier - 1] + 1
    chosen = rates.bands[0]
    for band in rates.bands[1:]:
        if band.above is not None and probe > band.above:
            chosen = band
    return chosen


def _band_values(rates: _Rates | None, tier: int) -> tuple[float | None, ...]:
    """input, output, cache_read, reasoning, per_request, cache_write rates; cache reads and writes default
    to the input rate, reasoning to the output rate."""
    if rates is None:
        return (None,) * len(RATE_NAMES)
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


class Pricer:
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
        """Rates for each distinct key, keyed by the key's hash (`rate_schema()`; null rates: unpriced)."""
        hashes = keys.get_column(HASH)
        if hashes.n_unique() != keys.height:  # two distinct keys with one 64-bit hash: never seen, but never silent
            raise RuntimeError("aiobs pricing: 64-bit hash collision between price keys; please report this.")
        columns: list[list[float | None]] = [[] for _ in RATE_NAMES]
        for model, provider, day, bucket, tier in keys.select(KEYS).iter_rows():
            rates = self.rates(model, provider, day, bucket)
            for column, value in zip(columns, _band_values(rates, tier), strict=True):
                column.append(value)
        data: dict[str, Any] = {HASH: hashes, **dict(zip(RATE_NAMES, columns, strict=True))}
        return pl.DataFrame(data, schema=rate_schema())
