"""User price files (`--prices FILE`, TOML or JSON): read, checked, and looked up by model and provider."""

from __future__ import annotations

import json
import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiobs.errors import UsageError

#: A user price above this (USD per million tokens) is a typo, and large enough ones overflow the cost sums.
MAX_PRICE_PER_MTOK = 100_000.0


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
