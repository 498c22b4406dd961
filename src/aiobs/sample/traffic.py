"""Who asks what of which model: the models (speeds, prices the application charges itself), the routes, the
model mix per route, and a few hundred users with Zipf-like activity. Fixed, whatever the seed."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    ttft_ms: float  # median time to first token for a small prompt
    tokens_per_s: float  # median decoding speed
    usd_per_mtok_in: float  # list prices the *application* uses for its own cost estimate
    usd_per_mtok_out: float
    caches: bool = True
    reasons: bool = False


MODELS: Final = {
    m.name: m
    for m in (
        Model("gpt-4o", "openai", 420.0, 85.0, 2.5, 10.0),
        Model("gpt-4o-mini", "openai", 300.0, 110.0, 0.15, 0.6),
        Model("gpt-4.1", "openai", 450.0, 80.0, 2.0, 8.0),
        Model("o3-mini", "openai", 600.0, 150.0, 1.1, 4.4, reasons=True),
        Model("claude-sonnet-4-5", "anthropic", 900.0, 60.0, 3.0, 15.0),
        Model("claude-3-5-haiku-latest", "anthropic", 520.0, 95.0, 0.8, 4.0),
        Model("gemini-2.5-flash", "google", 380.0, 190.0, 0.3, 2.5),
        Model("mistral-large-latest", "mistral", 500.0, 45.0, 2.0, 6.0, caches=False),
        Model("llama-3.3-70b-instruct-local", "vllm", 250.0, 35.0, 0.0, 0.0, caches=False),
    )
}
#: The share of the input price the application charges itself for cached prompt tokens.
APP_CACHE_FACTOR: Final = {"openai": 0.5, "anthropic": 0.1, "google": 0.25}
EMBEDDING_MODEL: Final = ("text-embedding-3-small", "openai")
RERANK_MODEL: Final = ("rerank-v3.5", "cohere")


class Picker:
    """Weighted choice with one `random()` call (bisect over cumulative weights)."""

    def __init__(self, weighted: Sequence[tuple[str, float]]) -> None:
        self.items = [item for item, _ in weighted]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in weighted:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


CHAT_MODELS: Final = Picker(
    [
        ("gpt-4o", 26),
        ("gpt-4o-mini", 30),
        ("gpt-4.1", 8),
        ("o3-mini", 6),
        ("claude-sonnet-4-5", 13),
        ("claude-3-5-haiku-latest", 7),
        ("gemini-2.5-flash", 6.5),
        ("mistral-large-latest", 3),
        ("llama-3.3-70b-instruct-local", 0.5),
    ]
)
RAG_ANSWER_MODELS: Final = Picker(
    [
        ("gpt-4o", 30),
        ("gpt-4.1", 15),
        ("claude-sonnet-4-5", 20),
        ("gemini-2.5-flash", 15),
        ("gpt-4o-mini", 12),
        ("mistral-large-latest", 8),
    ]
)
RAG_SEARCH_MODELS: Final = Picker([("gpt-4o-mini", 55), ("gemini-2.5-flash", 25), ("claude-3-5-haiku-latest", 20)])
EXTRACT_MODELS: Final = Picker(
    [
        ("gpt-4o-mini", 45),
        ("gpt-4o", 20),
        ("gemini-2.5-flash", 15),
        ("claude-3-5-haiku-latest", 10),
        ("gpt-4.1", 10),
    ]
)
APP_ROUTES: Final = {
    "chatbot": Picker([("/chat/stream", 54), ("/chat", 36), ("/extract", 10)]),
    "rag": Picker([("/rag/answer", 75), ("/rag/search", 25)]),
}
APP_WEIGHTS: Final = {"chatbot": 60.0, "rag": 40.0}
SERVICE: Final = {"chatbot": "chatbot-api", "rag": "rag-api"}


def build_users() -> tuple[list[str], list[float]]:
    """A few hundred users with Zipf-like activity (s = 1.1): a handful of heavy users, a long tail."""
    ids = random.Random(42).sample(range(10_000, 100_000), 400)
    users = [f"u-{n}" for n in ids]
    cum: list[float] = []
    total = 0.0
    for rank in range(1, len(users) + 1):
        total += rank**-1.1
        cum.append(total)
    return users, cum


USERS, USER_CUM = build_users()


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))
