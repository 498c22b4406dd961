"""aiobs.pricing: costs checked against hand arithmetic on genai-prices' own per-token rates.

Every test runs with the network refused (see `no_network`): pricing must only use the data
bundled in the installed genai-prices package.
"""

from __future__ import annotations

import random
import socket
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
import polars as pl
import pytest
from genai_prices import types as gp_types
from genai_prices.data import providers as bundled_providers

from aiobs.errors import UsageError
from aiobs.pricing import (
    PriceBook,
    PriceFileError,
    UserPrice,
    load_price_book,
    price_data_version,
    price_events,
    unpriced_models,
)
from aiobs.pricing import rates as pricing_rates
from aiobs.schema import conform_events

REL = 1e-12
COLUMNS: dict[str, pl.DataType] = {
    "model": pl.String(),
    "provider": pl.String(),
    "start": pl.Datetime("us", "UTC"),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "cached_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(),
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pricing tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame({name: [row.get(name) for row in rows] for name in COLUMNS}, schema=COLUMNS)


def costs(*rows: dict[str, Any], prices: PriceBook | None = None) -> list[float | None]:
    return price_events(frame(*rows), prices=prices).collect().get_column("cost_usd").to_list()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def model_price(model: str, provider: str | None, when: datetime) -> gp_types.ModelPrice:
    """The prices genai-prices itself uses for `model` at `when`."""
    return genai_prices.calc_price(
        genai_prices.Usage(), model, provider_id=provider, genai_request_timestamp=when
    ).model_price


def rate(value: Decimal | gp_types.TieredPrices | None, *, tier: bool = False) -> float:
    """USD per token, from a per-million-token price (the base or the first tier of a tiered price)."""
    assert value is not None
    if isinstance(value, gp_types.TieredPrices):
        value = value.tiers[0].price if tier else value.base
    return float(value) / 1_000_000


def assert_costs(actual: list[float | None], expected: list[float | None]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, rel=REL, abs=0.0)


# --------------------------------------------------------------------------------------
# Hand-computed costs
# --------------------------------------------------------------------------------------


def test_gpt_4o_bills_cached_tokens_at_the_cache_read_rate() -> None:
    when = at(2025, 3, 1, 12)
    mp = model_price("gpt-4o", "openai", when)
    inp, cache, out = rate(mp.input_mtok), rate(mp.cache_read_mtok), rate(mp.output_mtok)
    assert cache < inp  # the test is only meaningful when the cache is cheaper
    rows = [
        {"model": "gpt-4o", "start": when, "input_tokens": 1000, "cached_tokens": 200, "output_tokens": 300},
        {"model": "gpt-4o", "provider": "openai", "start": when, "input_tokens": 50_000, "cached_tokens": 50_000},
        {"model": "gpt-4o", "start": when, "input_tokens": 10, "output_tokens": 5},
        {"model": "GPT-4o-2024-08-06", "start": when, "input_tokens": 7, "output_tokens": 3, "cached_tokens": 0},
    ]
    assert_costs(
        costs(*rows),
        [
            800 * inp + 200 * cache + 300 * out,
            0 * inp + 50_000 * cache,
            10 * inp + 5 * out,
            7 * inp + 3 * out,
        ],
    )


def test_claude_cache_read_and_context_tiers() -> None:
    when = at(2025, 11, 2, 8)
    mp = model_price("claude-sonnet-4-5", "anthropic", when)
    assert isinstance(mp.input_mtok, gp_types.TieredPrices) and mp.input_mtok.tiers[0].start == 200_000
    inp, cache, out = rate(mp.input_mtok), rate(mp.cache_read_mtok), rate(mp.output_mtok)
    inp2, cache2, out2 = (rate(p, tier=True) for p in (mp.input_mtok, mp.cache_read_mtok, mp.output_mtok))
    rows = [
        {
            "model": "claude-sonnet-4-5",
            "provider": "anthropic",
            "start": when,
            "input_tokens": 12_000,
            "cached_tokens": 10_000,
            "output_tokens": 800,
        },
        # genai-prices' tiers are cliffs on total input tokens: 200,000 is still the base band ...
        {
            "model": "claude-sonnet-4-5",
            "start": when,
            "input_tokens": 200_000,
            "cached_tokens": 150_000,
            "output_tokens": 1000,
        },
        # ... and one token more prices *all* tokens (cached and output too) at the tier rates.
        {
            "model": "claude-sonnet-4-5",
            "start": when,
            "input_tokens": 200_001,
            "cached_tokens": 150_000,
            "output_tokens": 1000,
        },
    ]
    assert_costs(
        costs(*rows),
        [
            2_000 * inp + 10_000 * cache + 800 * out,
            50_000 * inp + 150_000 * cache + 1000 * out,
            50_001 * inp2 + 150_000 * cache2 + 1000 * out2,
        ],
    )


def test_o3_mini_reasoning_tokens_are_billed_as_output() -> None:
    when = at(2025, 5, 5)
    mp = model_price("o3-mini", "openai", when)
    inp, out = rate(mp.input_mtok), rate(mp.output_mtok)
    rows = [
        {"model": "o3-mini", "start": when, "input_tokens": 2000, "output_tokens": 1500, "reasoning_tokens": 1200},
        {"model": "o3-mini", "start": when, "input_tokens": 2000, "output_tokens": 1500},
        {"model": "o3-mini", "start": when, "input_tokens": 0, "output_tokens": 900, "reasoning_tokens": 900},
    ]
    expected = 2000 * inp + 1500 * out
    assert_costs(costs(*rows), [expected, expected, 900 * out])


def test_reasoning_has_its_own_rate_where_the_provider_prices_it_apart() -> None:
    when = at(2026, 1, 1)
    mp = model_price("sonar-deep-research", "perplexity", when)
    inp, out, reasoning = rate(mp.input_mtok), rate(mp.output_mtok), rate(mp.output_reasoning_mtok)
    assert reasoning != out
    row = {
        "model": "sonar-deep-research",
        "provider": "perplexity",
        "start": when,
        "input_tokens": 100,
        "output_tokens": 1000,
        "reasoning_tokens": 600,
    }
    assert_costs(costs(row), [100 * inp + 400 * out + 600 * reasoning])


def test_per_request_prices_are_added_per_event() -> None:
    when = at(2026, 1, 1)
    mp = model_price("sonar", "perplexity", when)
    per_request = float(mp.requests_kcount) / 1000
    row = {"model": "perplexity/sonar", "start": when, "input_tokens": 100, "output_tokens": 50}
    assert_costs(costs(row), [100 * rate(mp.input_mtok) + 50 * rate(mp.output_mtok) + per_request])


def test_historic_prices_use_the_price_in_force_on_the_event_day() -> None:
    # OpenAI cut o3's price on 2025-06-10; genai-prices records both prices.
    before, after = at(2025, 6, 9, 23, 59, 59), at(2025, 6, 10, 0, 0, 0)
    old, new = model_price("o3", "openai", before), model_price("o3", "openai", after)
    assert rate(old.input_mtok) > rate(new.input_mtok) and rate(old.output_mtok) > rate(new.output_mtok)
    usage = {"input_tokens": 10_000, "cached_tokens": 4_000, "output_tokens": 2_000, "reasoning_tokens": 1_500}
    rows = [{"model": "o3", "start": before, **usage}, {"model": "o3", "start": after, **usage}]
    assert_costs(
        costs(*rows),
        [
            6_000 * rate(old.input_mtok) + 4_000 * rate(old.cache_read_mtok) + 2_000 * rate(old.output_mtok),
            6_000 * rate(new.input_mtok) + 4_000 * rate(new.cache_read_mtok) + 2_000 * rate(new.output_mtok),
        ],
    )


def test_time_of_day_prices() -> None:
    # DeepSeek's off-peak discount in genai-prices: standard price from 00:30 to 16:30 UTC.
    off_peak, standard = at(2025, 3, 3, 0, 29, 59), at(2025, 3, 3, 0, 30)
    cheap, full = model_price("deepseek-chat", None, off_peak), model_price("deepseek-chat", None, standard)
    assert rate(cheap.input_mtok) < rate(full.input_mtok)
    rows = [{"model": "deepseek-chat", "start": t, "input_tokens": 1_000_000} for t in (off_peak, standard)]
    assert_costs(costs(*rows), [1_000_000 * rate(cheap.input_mtok), 1_000_000 * rate(full.input_mtok)])


def test_events_without_a_start_are_priced_at_the_current_price() -> None:
    mp = model_price("o3", "openai", datetime.now(UTC))
    assert_costs(costs({"model": "o3", "input_tokens": 1000}), [1000 * rate(mp.input_mtok)])


# --------------------------------------------------------------------------------------
# Model matching
# --------------------------------------------------------------------------------------


def test_provider_prefixes_and_provider_column() -> None:
    when = at(2025, 9, 1)
    gpt = rate(model_price("gpt-4o", "openai", when).input_mtok)
    aws = rate(model_price("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws", when).input_mtok)
    gemini = rate(model_price("gemini-2.5-flash", "google", when).input_mtok)
    embedding = rate(model_price("text-embedding-3-small", "openai", when).input_mtok)
    rows = [
        {"model": "openai/gpt-4o"},  # prefix names a provider: used as provider_id
        {"model": "openai/gpt-4o", "provider": "openai"},
        {"model": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"},
        {"model": "vertex_ai/gemini-2.5-flash"},
        {"model": "models/gemini-2.5-flash"},  # unknown prefix: stripped, then guessed
        {"model": "text-embedding-3-small", "provider": "openai"},
        {"model": "gpt-4o", "provider": "self-hosted"},  # unknown provider: genai-prices guesses
        {"model": "gpt-4o", "provider": "anthropic"},  # known provider without that model: not guessed
        {"model": "text-embedding-3-small"},  # genai-prices cannot guess a provider for it
    ]
    rows = [{**row, "start": when, "input_tokens": 1000} for row in rows]
    assert_costs(
        costs(*rows),
        [1000 * gpt, 1000 * gpt, 1000 * aws, 1000 * gemini, 1000 * gemini, 1000 * embedding, 1000 * gpt, None, None],
    )


def test_matches_genai_prices_for_every_bundled_model() -> None:
    """The vectorised cost equals genai-prices' own calc_price for every model it ships."""
    rng = random.Random(20251129)
    rows: list[dict[str, Any]] = []
    expected: list[float | None] = []
    for provider in bundled_providers:
        for model in provider.models:
            when = at(2024, 6, 1) + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            inp = rng.choice([0, 7, 1000, 31_999, 100_001, 200_000, 200_001, 272_001, 600_000])
            cached, out = rng.randint(0, inp), rng.choice([0, 5, 4000])
            reasoning = rng.randint(0, out)
            usage = genai_prices.Usage(
                input_tokens=inp, cache_read_tokens=cached, output_tokens=out, output_reasoning_tokens=reasoning
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    calc = genai_prices.calc_price(
                        usage, model.id, provider_id=provider.id, genai_request_timestamp=when
                    )
            except LookupError:
                want = None  # the model's id does not match its own rule: unpriced here too
            else:
                token_priced = calc.model_price.input_mtok is not None or calc.model_price.output_mtok is not None
                want = float(calc.total_price) if token_priced else None
            rows.append(
                {
                    "model": model.id,
                    "provider": provider.id,
                    "start": when,
                    "input_tokens": inp,
                    "cached_tokens": cached,
                    "output_tokens": out,
                    "reasoning_tokens": reasoning,
                }
            )
            expected.append(want)
    assert sum(want is not None for want in expected) > 1500
    assert_costs(costs(*rows), expected)


# --------------------------------------------------------------------------------------
# Null, never a silent $0
# --------------------------------------------------------------------------------------


def test_unknown_models_and_tokenless_events_cost_null() -> None:
    when = at(2025, 9, 1)
    rows = [
        {"model": "my-finetune-v2", "start": when, "input_tokens": 5000, "output_tokens": 100},
        {"model": "gpt-4o", "start": when},  # no tokens at all (e.g. a failed call)
        {"model": "gpt-4o", "start": when, "input_tokens": 0, "output_tokens": 0},  # priced, zero tokens
        {"model": "my-finetune-v2", "start": when, "input_tokens": 0},  # zero tokens, unpriced
        {"model": None, "start": when, "input_tokens": 40},  # tokens without a model
        {"model": "tts-1", "provider": "openai", "start": when, "input_tokens": 40},  # priced per character only
        {"model": None, "start": when},
    ]
    assert costs(*rows) == [None, None, 0.0, None, None, None, None]


def test_unpriced_models_lists_every_model_with_tokens_but_no_price() -> None:
    when = at(2025, 9, 1)
    rows = [
        {"model": "my-finetune-v2", "start": when, "input_tokens": 5000, "output_tokens": 100},
        {"model": "my-finetune-v2", "start": when, "input_tokens": 3000},
        {"model": "llama-3.3-70b", "provider": "vllm", "start": when, "input_tokens": 90_000, "output_tokens": 5},
        {"model": "gpt-4o", "provider": "anthropic", "start": when, "input_tokens": 10},
        {"model": "gpt-4o", "start": when, "input_tokens": 1_000_000},  # priced: not listed
        {"model": "nothing-logged", "start": when},  # no tokens: not listed
    ]
    expected = pl.DataFrame(
        {
            "model": ["llama-3.3-70b", "my-finetune-v2", "gpt-4o"],
            "provider": ["vllm", None, "anthropic"],
            "events": [1, 2, 1],
            "input_tokens": [90_000, 8000, 10],
            "output_tokens": [5, 100, 0],
        },
        schema={
            "model": pl.String,
            "provider": pl.String,
            **dict.fromkeys(("events", "input_tokens", "output_tokens"), pl.Int64),
        },
    )
    assert unpriced_models(frame(*rows)).equals(expected)
    # Already priced frames are summarised from their cost_usd column.
    assert unpriced_models(price_events(frame(*rows))).equals(expected)
    # A price file entry makes a model priced.
    book = PriceBook({"my-finetune-v2": UserPrice(1.0, 2.0)})
    assert unpriced_models(frame(*rows), prices=book).get_column("model").to_list() == ["llama-3.3-70b", "gpt-4o"]


def test_inconsistent_counts_never_give_a_negative_cost() -> None:
    when = at(2025, 3, 1)
    mp = model_price("gpt-4o", "openai", when)
    row = {"model": "gpt-4o", "start": when, "input_tokens": 100, "cached_tokens": 300, "output_tokens": 10}
    assert_costs(costs(row), [300 * rate(mp.cache_read_mtok) + 10 * rate(mp.output_mtok)])


# --------------------------------------------------------------------------------------
# User price files
# --------------------------------------------------------------------------------------

TOML_BOOK = """
[models."llama-3.3-70b-instruct-local"]
input_per_mtok = 0.20
output_per_mtok = 0.60
cached_input_per_mtok = 0.10
provider = "self-hosted"

[models."GPT-4o"]
input_per_mtok = 1
output_per_mtok = 4
"""


def test_price_book_overrides_and_adds_models(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(TOML_BOOK)
    book = load_price_book(path)
    assert book.source == str(path)
    assert book.models["gpt-4o"] == UserPrice(1.0, 4.0)
    when = at(2025, 3, 1)
    genai_input = rate(model_price("gpt-4o", "openai", when).input_mtok)
    rows = [
        {"model": "gpt-4o", "input_tokens": 1000, "cached_tokens": 400, "output_tokens": 100},
        {"model": "openai/gpt-4o", "input_tokens": 1000},  # the user's price also wins after prefix stripping
        {
            "model": "llama-3.3-70b-instruct-local",
            "provider": "self-hosted",
            "input_tokens": 1000,
            "cached_tokens": 400,
            "output_tokens": 100,
        },
        {"model": "llama-3.3-70b-instruct-local", "input_tokens": 1000},  # provider not logged: applies
        {"model": "llama-3.3-70b-instruct-local", "provider": "groq", "input_tokens": 1000},  # other provider
    ]
    rows = [{**row, "start": when} for row in rows]
    assert_costs(
        costs(*rows, prices=book),
        [
            (1000 * 1 + 100 * 4) / 1e6,  # no cached price in the file: cached tokens at the input price
            1000 * 1 / 1e6,
            (600 * 0.20 + 400 * 0.10 + 100 * 0.60) / 1e6,
            1000 * 0.20 / 1e6,
            None,
        ],
    )
    assert_costs(
        costs(rows[0]),
        [
            600 * genai_input
            + 400 * rate(model_price("gpt-4o", None, when).cache_read_mtok)
            + 100 * rate(model_price("gpt-4o", None, when).output_mtok)
        ],
    )


def test_json_price_book(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"models": {"local-embed": {"input_per_mtok": 0.02, "output_per_mtok": 0}}}')
    book = load_price_book(path)
    assert_costs(costs({"model": "local-embed", "input_tokens": 5000}, prices=book), [5000 * 0.02 / 1e6])


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.toml", "[models.x\ninput_per_mtok = 1", "is not valid TOML"),
        ("bad.json", '{"models": {', "is not valid JSON"),
        ("empty.toml", "", "no `models` table"),
        ("list.json", "[1, 2]", "must contain a table"),
        ("extra.toml", 'title = "x"\n[models.a]\ninput_per_mtok = 1\noutput_per_mtok = 1', "unknown top-level key"),
        ("missing.toml", "[models.a]\ninput_per_mtok = 1", "missing output_per_mtok"),
        ("negative.toml", "[models.a]\ninput_per_mtok = -1\noutput_per_mtok = 1", "non-negative number"),
        ("text.toml", '[models.a]\ninput_per_mtok = "0.5"\noutput_per_mtok = 1', "non-negative number"),
        ("bool.json", '{"models": {"a": {"input_per_mtok": true, "output_per_mtok": 1}}}', "non-negative number"),
        ("nan.toml", "[models.a]\ninput_per_mtok = nan\noutput_per_mtok = 1", "non-negative number"),
        ("huge.toml", "[models.a]\ninput_per_mtok = 1e308\noutput_per_mtok = 1", "no model costs more than"),
        ("typo.toml", "[models.a]\ninput_per_mtoks = 1\noutput_per_mtok = 1", "unknown key 'input_per_mtoks'"),
        ("scalar.toml", "[models]\na = 3", "must be a table of prices"),
        (
            "twice.json",
            '{"models": {"A": {"input_per_mtok": 1, "output_per_mtok": 1}, '
            '"a": {"input_per_mtok": 1, "output_per_mtok": 1}}}',
            "listed twice",
        ),
        ("provider.toml", "[models.a]\ninput_per_mtok = 1\noutput_per_mtok = 1\nprovider = 3", "provider = 3"),
    ],
)
def test_bad_price_files_raise_one_clear_sentence(tmp_path: Path, name: str, content: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(PriceFileError) as caught:
        load_price_book(path)
    message = str(caught.value)
    assert str(path) in message and problem in message
    assert "\n" not in message and message.endswith(".")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, UsageError)


def test_missing_price_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PriceFileError, match=r"Cannot read price file .*nope\.toml: No such file"):
        load_price_book(path)


# --------------------------------------------------------------------------------------
# Frames and vectorisation
# --------------------------------------------------------------------------------------


def test_keeps_the_callers_frame_and_adds_a_float_column() -> None:
    events = conform_events(
        frame({"model": "gpt-4o", "start": at(2025, 3, 1), "input_tokens": 10}).with_columns(
            source=pl.lit("a.jsonl"), line=pl.lit(1, pl.Int64), correlation_id=pl.lit("r1")
        )
    )
    priced = price_events(events)
    assert isinstance(priced, pl.LazyFrame)
    out = priced.collect()
    assert out.columns == [*events.collect_schema().names(), "cost_usd"]
    assert out.schema["cost_usd"] == pl.Float64
    assert out.drop("cost_usd").equals(events.collect())
    # An existing cost_usd is replaced, not duplicated.
    again = price_events(out).collect()
    assert again.columns.count("cost_usd") == 1 and again.get_column("cost_usd").equals(out.get_column("cost_usd"))


def test_lazy_sources_and_row_order(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        '{"model": "gpt-4o", "input_tokens": 1000}',
        '{"model": "mystery", "input_tokens": 5}',
        '{"model": "o3-mini", "output_tokens": 20}',
    ]
    path.write_text("\n".join(lines * 50) + "\n")
    out = price_events(pl.scan_ndjson(path)).collect()
    direct = costs(
        *(
            {"model": m, "input_tokens": i, "output_tokens": o}
            for m, i, o in [("gpt-4o", 1000, None), ("mystery", 5, None), ("o3-mini", None, 20)]
        )
    )
    assert out.height == 150
    assert out.get_column("cost_usd").to_list() == direct * 50


@pytest.fixture
def counted_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str | None]]]:
    calls: list[tuple[str, str | None]] = []
    original = genai_prices.calc_price
    monkeypatch.setattr(pricing_rates, "_GENAI", pricing_rates._GenaiPrices())  # an empty process-wide cache

    def counting(usage: object, model_ref: str, **kwargs: Any) -> gp_types.PriceCalculation:
        calls.append((model_ref, kwargs.get("provider_id")))
        return original(usage, model_ref, **kwargs)

    monkeypatch.setattr(genai_prices, "calc_price", counting)
    yield calls


def test_genai_prices_is_asked_once_per_distinct_model_and_day(
    counted_lookups: list[tuple[str, str | None]],
) -> None:
    n = 200_000
    rng = random.Random(7)
    models = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "o3", "unknown-model"]
    start = at(2025, 6, 1)
    rows = {
        "model": [rng.choice(models) for _ in range(n)],
        "provider": [None] * n,
        "start": [start + timedelta(seconds=rng.randrange(30 * 86_400)) for _ in range(n)],
        "input_tokens": [rng.randrange(400_000) for _ in range(n)],
        "output_tokens": [rng.randrange(3000) for _ in range(n)],
        "cached_tokens": [rng.randrange(1000) for _ in range(n)],
        "reasoning_tokens": [None] * n,
    }
    events = pl.DataFrame(rows, schema=COLUMNS)
    out = price_events(events).collect()

    distinct = events.select("model", "provider", pl.col("start").dt.date()).n_unique()
    assert distinct == 5 * 30
    # One lookup per (model, day) -- the first one also resolves the name -- plus one failed attempt
    # for the unknown model: bounded by the distinct combinations, not by the 200,000 events.
    assert 0 < len(counted_lookups) <= distinct + len(models)
    assert out.get_column("cost_usd").null_count() == out.filter(pl.col("model") == "unknown-model").height

    # The cache is process-wide: pricing the events again, e.g. bucket by bucket, asks nothing new.
    asked = len(counted_lookups)
    for part in events.with_columns(part=pl.int_range(pl.len()) % 4).partition_by("part", include_key=False):
        price_events(part).collect()
    assert len(counted_lookups) == asked

    # Spot-check a few rows against hand arithmetic on genai-prices' rates.
    for row in out.filter(pl.col("model") == "o3").head(5).iter_rows(named=True):
        mp = model_price("o3", None, row["start"])
        inp, cached, output = row["input_tokens"], row["cached_tokens"], row["output_tokens"]
        want = (inp - cached) * rate(mp.input_mtok) + cached * rate(mp.cache_read_mtok) + output * rate(mp.output_mtok)
        assert row["cost_usd"] == pytest.approx(want, rel=REL)


def test_price_data_version_describes_the_bundled_data() -> None:
    version = price_data_version()
    assert version.startswith(f"genai-prices {genai_prices.__version__} bundled data")
    assert "sha256" in version
