"""A deterministic generator of realistic logs in the aiobs native format.

It writes what two AI applications behind one gateway would log (see
docs/native-format.md), one event per line:

* a **chatbot** (`/chat`, `/chat/stream`): gateway -> llm, and on some requests
  llm (tool_calls) -> tool -> llm;
* a **RAG pipeline** (`/rag/answer`, `/rag/search`): gateway -> embedding ->
  retrieval -> rerank -> llm.

The mix is meant to exercise every path of the pipeline: real model names over
several providers (plus one self-hosted model that cannot be priced), cached and
reasoning tokens, streamed calls with a time to first token, lognormal latencies
with a heavy tail, rate-limit retries, failed requests, requests whose gateway
event was lost, costs logged by the application on some calls, and, unless
disabled, about one malformed line in 5,000.

Events are written in start-time order, so the events of concurrent requests
interleave as in a real log. Generation is streaming: memory is bounded by the
events of the requests in flight, whatever the output size.

Everything random comes from `random.Random(seed)` (plus a second generator
seeded from the same seed for the malformed lines), so the same arguments always
give byte-identical output. For a given `requests`, the output without malformed
lines is exactly the output with them, minus those lines; and a run with
`target_bytes` is a prefix of any run with a larger `target_bytes`.
"""

from __future__ import annotations

import bisect
import gzip
import heapq
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import orjson
import zstandard

__all__ = [
    "APPS",
    "DEFAULT_START",
    "MALFORMED_KINDS",
    "SampleStats",
    "iter_sample_lines",
    "write_sample",
]

DEFAULT_START: Final = datetime(2026, 11, 28, tzinfo=UTC)
APPS: Final = ("chatbot", "rag")

#: Kinds of planted bad lines, in the order they are cycled through.
MALFORMED_KINDS: Final = ("truncated-json", "not-an-object", "wrong-type", "missing-request-id", "negative-latency")

#: Without `requests` or `target_bytes`, this many requests are generated.
DEFAULT_REQUESTS: Final = 1000

# Request fates (per request, independent of the app).
P_LOST_GATEWAY: Final = 0.02  # the gateway event never made it to the log
P_ERROR_5XX: Final = 0.013  # the request fails upstream: gateway 500/503
P_ERROR_429: Final = 0.004  # rate limited twice: gateway 429
P_RETRY: Final = 0.02  # a rate-limited first attempt, then a successful retry
P_SLOW: Final = 0.012  # a stalled provider or vector store: that stage takes ~10x longer
P_TOOL: Final = 0.15  # chatbot requests that call a tool
P_LOGGED_COST: Final = 0.30  # LLM calls whose cost the application logged itself
P_CACHED: Final = 0.45  # LLM calls (with >= 1,024 prompt tokens) that hit the provider's prompt cache


@dataclass
class SampleStats:
    """What a generator run produced. `bytes` is uncompressed; `file_bytes` is the size on disk."""

    requests: int = 0
    events: int = 0
    bytes: int = 0
    malformed: int = 0
    file_bytes: int = 0


@dataclass(frozen=True)
class _Model:
    name: str
    provider: str
    ttft_ms: float  # median time to first token for a small prompt
    tokens_per_s: float  # median decoding speed
    usd_per_mtok_in: float  # list prices the *application* uses for its own cost estimate
    usd_per_mtok_out: float
    caches: bool = True
    reasons: bool = False


_MODELS: Final = {
    m.name: m
    for m in (
        _Model("gpt-4o", "openai", 420.0, 85.0, 2.5, 10.0),
        _Model("gpt-4o-mini", "openai", 300.0, 110.0, 0.15, 0.6),
        _Model("gpt-4.1", "openai", 450.0, 80.0, 2.0, 8.0),
        _Model("o3-mini", "openai", 600.0, 150.0, 1.1, 4.4, reasons=True),
        _Model("claude-sonnet-4-5", "anthropic", 900.0, 60.0, 3.0, 15.0),
        _Model("claude-3-5-haiku-latest", "anthropic", 520.0, 95.0, 0.8, 4.0),
        _Model("gemini-2.5-flash", "google", 380.0, 190.0, 0.3, 2.5),
        _Model("mistral-large-latest", "mistral", 500.0, 45.0, 2.0, 6.0, caches=False),
        _Model("llama-3.3-70b-instruct-local", "vllm", 250.0, 35.0, 0.0, 0.0, caches=False),
    )
}
#: The share of the input price the application charges itself for cached prompt tokens.
_APP_CACHE_FACTOR: Final = {"openai": 0.5, "anthropic": 0.1, "google": 0.25}
_EMBEDDING_MODEL: Final = ("text-embedding-3-small", "openai")
_RERANK_MODEL: Final = ("rerank-v3.5", "cohere")


class _Picker:
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


_CHAT_MODELS: Final = _Picker(
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
_RAG_ANSWER_MODELS: Final = _Picker(
    [
        ("gpt-4o", 30),
        ("gpt-4.1", 15),
        ("claude-sonnet-4-5", 20),
        ("gemini-2.5-flash", 15),
        ("gpt-4o-mini", 12),
        ("mistral-large-latest", 8),
    ]
)
_RAG_SEARCH_MODELS: Final = _Picker([("gpt-4o-mini", 55), ("gemini-2.5-flash", 25), ("claude-3-5-haiku-latest", 20)])
_APP_ROUTES: Final = {
    "chatbot": _Picker([("/chat/stream", 60), ("/chat", 40)]),
    "rag": _Picker([("/rag/answer", 75), ("/rag/search", 25)]),
}
_APP_WEIGHTS: Final = {"chatbot": 60.0, "rag": 40.0}
_SERVICE: Final = {"chatbot": "chatbot-api", "rag": "rag-api"}

# ---------------------------------------------------------------------------------------------------------------------
# Text pools. They are fixed (seeded with constants), so they never depend on the caller's seed.

_CHAT_INPUTS: Final = (
    "How do I reset my password?",
    "Can you summarize this email thread for me?",
    "Write a haiku about Mondays.",
    "What's the difference between a Roth IRA and a traditional IRA?",
    "Translate 'see you tomorrow' into Japanese, please.",
    'My order #A-20931 says "delivered" but nothing arrived. What now?',
    "Explain recursion to a 10 year old.",
    "Draft a polite reply declining the meeting on Thursday.",
    "Why does my Python script say `ModuleNotFoundError: No module named 'yaml'`?",
    "Wie kündige ich mein Abo zum Monatsende?",
    "¿Cuál es el horario de atención al cliente?",
    "Quelle est la différence entre « tu » et « vous » ?",
    "パスワードを忘れました。どうすればいいですか？",
    "帮我写一段产品介绍，100字以内。",
    "What's the weather like in Zürich this weekend?",
    "Give me three dinner ideas with chickpeas and spinach.",
    "Is it safe to run `rm -rf node_modules` while the dev server is running?",
    "Convert 72°F to Celsius and explain the formula.",
    "Can I change the delivery address after checkout?",
    "Rewrite this sentence to sound more formal: we gonna ship it next week",
    "What are the side effects of ibuprofen?",
    "Plan a 3-day trip to Lisbon on a budget.",
    "How many tokens is a 10-page PDF, roughly?",
    "Tell me a joke about databases.",
    "Fix the SQL: SELECT name, count(*) FROM users GROUP BY 1 HAVING count > 2",
    "Where is my refund? It has been 12 days.",
    "Summarize the plot of Hamlet in two sentences.",
    "Write a regex that matches ISO-8601 dates like 2026-11-28T10:00:00Z.",
    "Which plan includes SSO and audit logs?",
    "I got charged twice 😡 please help",
)
_RAG_INPUTS: Final = (
    "How do I rotate my API key?",
    "What is the rate limit for the batch endpoint?",
    "Does the SDK support streaming responses in Node 18?",
    "How do I configure SAML SSO with Okta?",
    "What data residency options are available in the EU?",
    "Why am I getting HTTP 413 when uploading files?",
    "How long are request logs retained on the Enterprise plan?",
    "Can I use webhooks to get notified when an export finishes?",
    "What's the max context window for the fine-tuned models?",
    "How do I migrate from API v1 to v2?",
    "Wie richte ich die Zwei-Faktor-Authentifizierung ein?",
    "¿Cómo exporto los datos de facturación en CSV?",
    "Is there an on-prem deployment option?",
    "Which regions support private networking?",
    "How are seats counted for guest users?",
    "What does error code E1042 mean?",
    "How do I set a per-project spending cap?",
    "Can two workspaces share one billing account?",
    "What's the SLA for the Pro plan?",
    "How do I delete a user and all their data (GDPR)?",
    "APIキーの権限を制限する方法は？",
    "How to paginate the /v2/events endpoint?",
)
_TOOLS: Final = (
    ("get_order_status", '{"order_id": "A-%d"}'),
    ("search_kb", '{"query": "refund policy", "top_k": %d}'),
    ("get_weather", '{"city": "Zürich", "days": %d}'),
    ("lookup_account", '{"account_id": "acct_%d"}'),
    ("run_sql", '{"sql": "SELECT count(*) FROM orders WHERE user_id = %d"}'),
    ("calculator", '{"expression": "%d * 1.19"}'),
)
_SENTENCES: Final = (
    "Sure! Here's what you can do.",
    "To reset your password, open Settings > Security and click “Reset password”.",
    "You'll receive an email with a link that expires after 30 minutes.",
    "If the link doesn't arrive, check your spam folder first.",
    'The short answer is "yes", but there are two caveats.',
    "First, the change only applies to new requests.",
    "Second, existing sessions keep their old settings until they are renewed.",
    "Here is a quick example:",
    '```python\nimport os\nkey = os.environ["API_KEY"]\nprint(len(key))\n```',
    "```sql\nSELECT name, count(*) AS n\nFROM users\nGROUP BY name\nHAVING count(*) > 2;\n```",
    "According to the documentation (section 4.2), the limit is 500 requests per minute.",
    "Batch jobs are processed within 24 hours and cost 50% less.",
    "Note: the API returns HTTP 429 when you exceed the limit; retry with exponential backoff.",
    "1. Open the dashboard.\n2. Go to *API keys*.\n3. Click **Rotate** and confirm.",
    "- Pros: faster, cheaper\n- Cons: less accurate on long documents",
    "Let me know if you'd like me to go into more detail.",
    "I hope this helps! 😊",
    "Unfortunately, I can't access your account details directly.",
    "Please contact support@example.com with your order number.",
    "The temperature in Zürich will be around 4 °C with light snow on Saturday.",
    "Die Kündigung ist jederzeit zum Monatsende möglich.",
    "Sie finden die Option unter „Konto“ → „Abonnement“.",
    "El horario de atención es de lunes a viernes, de 9:00 a 18:00.",
    "La différence tient surtout au degré de politesse et de familiarité.",
    "パスワードは設定画面から再発行できます。",
    "这款产品轻巧、耐用，适合日常通勤使用。",
    "Chickpea and spinach curry: sauté onion, garlic and ginger, add spices, then simmer.",
    "Recursion is when a function solves a problem by calling itself on a smaller piece of it.",
    "Think of Russian dolls: each doll contains a smaller one until you reach the tiniest.",
    "A Roth IRA is funded with after-tax money; withdrawals in retirement are tax-free.",
    "A traditional IRA gives you a deduction now, and you pay tax when you withdraw.",
    "Formula: °C = (°F − 32) × 5/9, so 72 °F ≈ 22.2 °C.",
    "Day 1: Alfama and the castle. Day 2: Belém. Day 3: a day trip to Sintra.",
    "Tokens are pieces of words; on average one token is about 4 characters of English text.",
    "A 10-page PDF is typically 5,000–7,000 tokens, depending on layout and tables.",
    "Why did the database administrator leave his wife? She had one-to-many relationships.",
    "Hamlet seeks revenge for his father's murder, and the hesitation costs nearly everyone their life.",
    "The regex `^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$` matches that format.",
    "SSO and audit logs are included in the Enterprise plan only.",
    "Refunds usually take 5–10 business days to appear on your statement.",
    "I've escalated your case; a human agent will reply within one business day.",
    "Based on the retrieved documents, the answer is in the admin guide [doc 3].",
    "Sources: [1] API reference, [2] Security whitepaper, [3] Admin guide.",
    "Data can be stored in Frankfurt (eu-central) or Dublin (eu-west) regions.",
    "HTTP 413 means the payload is too large; the upload limit is 512 MB per file.",
    "Logs are retained for 30 days on Pro and 400 days on Enterprise.",
    "Yes, set `stream: true` and read the server-sent events as they arrive.",
    "E1042 indicates an expired signing certificate; renew it under Settings → SAML.",
    "Private networking is available in us-east-1, eu-west-1 and ap-northeast-1.",
    "To paginate, pass the `cursor` value from the previous response as `?cursor=`.",
    "\tIndented note: values are case-sensitive.",
    "Warning: this operation can't be undone!",
    "Does that answer your question?",
)


def _build_corpus() -> tuple[str, list[int]]:
    """About 1 MB of text; model outputs are slices of it starting at a sentence.

    Half the sentences are the canned ones above, half are new sentences drawn from their words
    (Zipf-weighted), so outputs do not repeat verbatim and compress about like real text.
    """
    rng = random.Random(1128)
    words = sorted({w.strip('.,:;!?()[]*"“”„«»') for sentence in _SENTENCES for w in sentence.split()} - {""})
    rng.shuffle(words)
    word_weights = [rank**-0.7 for rank in range(1, len(words) + 1)]
    separators = (" ", " ", " ", "\n", "\n\n", "\n- ")
    parts: list[str] = []
    starts: list[int] = []
    size = 0
    while size < 1_000_000:
        if rng.random() < 0.5:
            sentence = rng.choice(_SENTENCES)
        else:
            sentence = " ".join(rng.choices(words, word_weights, k=rng.randint(6, 24))).rstrip(".,:;!?")
            sentence = sentence[0].upper() + sentence[1:] + rng.choice((".", ".", ".", "?", "!", ":"))
        piece = sentence + rng.choice(separators)
        starts.append(size)
        parts.append(piece)
        size += len(piece)
    corpus = "".join(parts)
    return corpus, [s for s in starts if s < len(corpus) - 2_100]


_CORPUS, _CORPUS_STARTS = _build_corpus()


def _build_users() -> tuple[list[str], list[float]]:
    """A few hundred users with Zipf-like activity (s = 1.1): a handful of heavy users, a long tail."""
    ids = random.Random(42).sample(range(10_000, 100_000), 400)
    users = [f"u-{n}" for n in ids]
    cum: list[float] = []
    total = 0.0
    for rank in range(1, len(users) + 1):
        total += rank**-1.1
        cum.append(total)
    return users, cum


_USERS, _USER_CUM = _build_users()


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


# ---------------------------------------------------------------------------------------------------------------------


#: An event and its start time (epoch ms), before serialization.
_Timed = tuple[int, dict[str, Any]]


class _Generator:
    """Generates requests in arrival order and yields their event lines in start-time order."""

    def __init__(self, *, seed: int, start: datetime, apps: Sequence[str], requests_per_second: float) -> None:
        unknown = set(apps) - set(APPS)
        if unknown or not apps:
            msg = f"apps must be a non-empty subset of {APPS}, got {tuple(apps)}"
            raise ValueError(msg)
        if requests_per_second <= 0:
            msg = "requests_per_second must be positive"
            raise ValueError(msg)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.rng = random.Random(seed)
        self.app_picker = _Picker([(a, _APP_WEIGHTS[a]) for a in APPS if a in apps])
        self.rate = requests_per_second
        self.clock_ms = start.timestamp() * 1000.0
        self._second_cache: dict[int, str] = {}

    # -- small helpers ------------------------------------------------------------------------------------------------

    def _iso(self, ms: int) -> str:
        sec, milli = divmod(ms, 1000)
        prefix = self._second_cache.get(sec)
        if prefix is None:
            if len(self._second_cache) > 8192:
                self._second_cache.clear()
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            self._second_cache[sec] = prefix
        return f"{prefix}.{milli:03d}Z"

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def _span_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def _text(self, n_chars: int) -> str:
        n = min(2000, max(20, n_chars))
        start = _CORPUS_STARTS[int(self.rng.random() * len(_CORPUS_STARTS))]
        return _CORPUS[start : start + n]

    def _next_arrival(self) -> int:
        """Poisson arrivals whose rate follows the time of day (quiet at night, busiest mid-afternoon UTC)."""
        hour = (self.clock_ms / 3_600_000.0) % 24.0
        rate = self.rate * (1.0 + 0.6 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0))
        self.clock_ms += self.rng.expovariate(rate) * 1000.0
        return int(self.clock_ms)

    def _event(self, t: int, base: dict[str, Any], event: str) -> dict[str, Any]:
        return {
            "ts": self._iso(t),
            "request_id": base["request_id"],
            "event_id": self._span_id(),
            "parent_id": base["parent_id"],
            "event": event,
            "service": base["service"],
        }

    # -- events -------------------------------------------------------------------------------------------------------

    def _llm(
        self,
        t: int,
        base: dict[str, Any],
        model: _Model,
        *,
        prompt: str,
        input_tokens: int,
        stream: bool,
        mode: str,
        slow: float,
        tool: tuple[str, str] = _TOOLS[0],
        attempt: int | None = None,
        failure: str | None = None,
        cache_boost: bool = False,
    ) -> tuple[_Timed, int]:
        """One LLM call starting at `t` (epoch ms). Returns it and its end (epoch ms, rounded up)."""
        rng = self.rng
        ev = self._event(t, base, "llm")
        ev["model"] = model.name
        ev["provider"] = model.provider
        ev["stream"] = stream
        if attempt is not None:
            ev["attempt"] = attempt
        if failure is not None:
            if failure == "rate_limit":
                latency = _lognormal(rng, 160.0, 0.5)
            elif failure == "timeout":
                latency = 30_000.0 + rng.random() * 60.0
            else:
                latency = _lognormal(rng, 900.0, 0.8)
            ev["status"] = "error"
            ev["error_type"] = failure
            ev["input"] = prompt
            ev["latency_ms"] = round(latency, 1)
            return (t, ev), t + math.ceil(latency)

        cached = 0
        if model.caches and input_tokens >= 1024 and rng.random() < (0.85 if cache_boost else P_CACHED):
            cached = int(input_tokens * (0.3 + 0.65 * rng.random())) // 128 * 128
        reasoning = int(_lognormal(rng, 700.0, 0.8)) if model.reasons else 0
        if mode == "tool_calls":
            visible = rng.randint(18, 90)
            finish = "tool_calls"
        else:
            median, cap = (90.0, 300) if mode == "short" else (280.0, 1024)
            visible = max(1, int(_lognormal(rng, median, 0.7)))
            finish = "stop"
            if visible >= cap:
                visible, finish = cap, "length"
        output_tokens = visible + reasoning

        # Prefill grows with the prompt; reasoning happens before the first visible token.
        ttft = _lognormal(rng, model.ttft_ms, 0.45) + input_tokens * 0.02 + reasoning * 1000.0 / model.tokens_per_s
        decode = visible * 1000.0 / _lognormal(rng, model.tokens_per_s, 0.25)
        # A stalled call takes ~10x longer, up to the client's 120 s read timeout.
        latency = min((ttft + decode) * slow, 120_000.0 - 500.0 * rng.random())
        ttft = min(ttft * slow, 0.9 * latency)

        ev["status"] = "ok"
        ev["input_tokens"] = input_tokens
        if cached:
            ev["cached_tokens"] = cached
        ev["output_tokens"] = output_tokens
        if reasoning:
            ev["reasoning_tokens"] = reasoning
        if stream:
            ev["ttft_ms"] = round(ttft, 1)
        ev["finish_reason"] = finish
        if model.usd_per_mtok_in and rng.random() < P_LOGGED_COST:
            # The app's own estimate: list prices, one cache discount per provider, tokens counted client-side
            # (a few % off): close to, but never exactly, a real price calculation.
            billed_in = input_tokens - cached + cached * _APP_CACHE_FACTOR.get(model.provider, 1.0)
            usd = (billed_in * model.usd_per_mtok_in + output_tokens * model.usd_per_mtok_out) / 1e6
            ev["cost_usd"] = round(usd * (0.94 + 0.12 * rng.random()), 6)
        ev["input"] = prompt
        if mode == "tool_calls":
            name, args = tool
            ev["output"] = f'{{"tool": "{name}", "arguments": {args % rng.randint(1, 99_999)}}}'
        else:
            ev["output"] = self._text(int(visible * (3.2 + 1.4 * rng.random())))
        ev["latency_ms"] = round(latency, 1)
        return (t, ev), t + math.ceil(latency)

    def _step(self, t: int, base: dict[str, Any], event: str, latency: float, **fields: Any) -> tuple[_Timed, int]:
        """A non-LLM child event (embedding, retrieval, rerank, tool)."""
        ev = self._event(t, base, event)
        ev.update(fields)
        ev["latency_ms"] = round(latency, 1)
        return (t, ev), t + math.ceil(latency)

    # -- requests -----------------------------------------------------------------------------------------------------

    def _fate(self) -> str:
        r = self.rng.random()
        if r < P_ERROR_5XX:
            return "error"
        if r < P_ERROR_5XX + P_ERROR_429:
            return "throttled"
        if r < P_ERROR_5XX + P_ERROR_429 + P_RETRY:
            return "retried"
        return "ok"

    def _llm_attempts(
        self, t: int, base: dict[str, Any], model: _Model, fate: str, **kw: Any
    ) -> tuple[list[_Timed], int, int]:
        """The LLM call(s) of a request, with retries and failures. Returns (events, end, gateway status)."""
        rng = self.rng
        events: list[_Timed] = []
        attempt: int | None = None
        if fate in ("retried", "throttled"):
            ev, end = self._llm(t, base, model, attempt=1, failure="rate_limit", **kw)
            events.append(ev)
            t = end + int(400 + rng.random() * 2000)  # client backoff before the retry
            attempt = 2
        if fate == "throttled":
            ev, end = self._llm(t, base, model, attempt=2, failure="rate_limit", **kw)
            return [*events, ev], end, 429
        if fate == "error":
            failure = "timeout" if rng.random() < 0.35 else "server_error"
            ev, end = self._llm(t, base, model, failure=failure, **kw)
            return [*events, ev], end, 503 if failure == "timeout" else 500
        ev, end = self._llm(t, base, model, attempt=attempt, **kw)
        return [*events, ev], end, 200

    def _chat_request(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[_Timed], int, int]:
        rng = self.rng
        model = _MODELS[_CHAT_MODELS(rng)]
        prompt = _CHAT_INPUTS[int(rng.random() * len(_CHAT_INPUTS))]
        input_tokens = min(60_000, 30 + int(_lognormal(rng, 900.0, 0.8)))
        uses_tool = rng.random() < P_TOOL
        tool = _TOOLS[int(rng.random() * len(_TOOLS))]
        kw: dict[str, Any] = {"prompt": prompt, "stream": route == "/chat/stream", "slow": slow, "tool": tool}

        t = t0 + rng.randint(2, 12)  # auth, routing, prompt assembly
        mode = "tool_calls" if uses_tool else "answer"
        events, end, status = self._llm_attempts(t, base, model, fate, input_tokens=input_tokens, mode=mode, **kw)
        if status == 200 and uses_tool:
            tool_ms = _lognormal(rng, 150.0, 0.9)
            ev, end = self._step(end + rng.randint(1, 5), base, "tool", tool_ms, tool_name=tool[0], status="ok")
            events.append(ev)
            # The second call sees the history, the tool call and its result: mostly a prompt-cache hit.
            input_tokens += events[-2][1]["output_tokens"] + rng.randint(40, 900)
            ev, end = self._llm(
                end + rng.randint(1, 5), base, model, input_tokens=input_tokens, mode="answer", cache_boost=True, **kw
            )
            events.append(ev)
        return events, end, status

    def _rag_request(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[_Timed], int, int]:
        rng = self.rng
        answer = route == "/rag/answer"
        model = _MODELS[(_RAG_ANSWER_MODELS if answer else _RAG_SEARCH_MODELS)(rng)]
        prompt = _RAG_INPUTS[int(rng.random() * len(_RAG_INPUTS))]
        question_tokens = max(4, len(prompt) // 4 + rng.randint(0, 6))
        slow_retrieval = slow > 1.0 and rng.random() < 0.25
        events: list[_Timed] = []

        name, provider = _EMBEDDING_MODEL
        ev, t = self._step(
            t0 + rng.randint(2, 10),
            base,
            "embedding",
            _lognormal(rng, 45.0, 0.4),
            model=name,
            provider=provider,
            input_tokens=question_tokens,
        )
        events.append(ev)

        if fate == "error" and rng.random() < 0.3:
            # The vector store is down: no rerank, no LLM call, the gateway answers 503.
            ev, end = self._step(
                t + rng.randint(1, 4),
                base,
                "retrieval",
                _lognormal(rng, 2_000.0, 0.5),
                status="error",
                error_type="vector_store_unavailable",
            )
            events.append(ev)
            return events, end, 503
        retrieval_ms = _lognormal(rng, 85.0, 0.55) * (slow if slow_retrieval else 1.0)
        top_k = 40 if answer else 20
        ev, t = self._step(t + rng.randint(1, 4), base, "retrieval", retrieval_ms, index="kb-prod-v7", n_docs=top_k)
        events.append(ev)

        kept = 8 if answer else 5
        name, provider = _RERANK_MODEL
        rerank_ms = _lognormal(rng, 95.0, 0.4)
        ev, t = self._step(t + rng.randint(1, 4), base, "rerank", rerank_ms, model=name, provider=provider, n_docs=kept)
        events.append(ev)

        input_tokens = 700 + question_tokens + int(kept * _lognormal(rng, 380.0 if answer else 120.0, 0.25))
        llm_events, end, status = self._llm_attempts(
            t + rng.randint(2, 8),
            base,
            model,
            fate,
            prompt=prompt,
            input_tokens=input_tokens,
            stream=False,
            mode="answer" if answer else "short",
            slow=1.0 if slow_retrieval else slow,
        )
        return events + llm_events, end, status

    def requests(self) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
        """Endless requests in arrival order: (start ms, [(event start ms, line), ...] in start order)."""
        rng = self.rng
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        while True:
            t0 = self._next_arrival()
            app = self.app_picker(rng)
            route = _APP_ROUTES[app](rng)
            user = _USERS[bisect.bisect(_USER_CUM, rng.random() * _USER_CUM[-1])]
            lost = rng.random() < P_LOST_GATEWAY
            fate = self._fate()
            slow = _lognormal(rng, 10.0, 0.3) if rng.random() < P_SLOW else 1.0
            request_id = self._uuid()
            gateway_id = self._span_id()
            base = {"request_id": request_id, "parent_id": gateway_id, "service": _SERVICE[app]}
            build = self._chat_request if app == "chatbot" else self._rag_request
            children, end, status = build(t0, base, route, fate, slow)

            lines: list[tuple[int, bytes]] = []
            if not lost:
                gateway = {
                    "ts": self._iso(t0),
                    "request_id": request_id,
                    "event_id": gateway_id,
                    "event": "gateway",
                    "service": _SERVICE[app],
                    "method": "POST",
                    "route": route,
                    "user_id": user,
                    "status": status,
                    # End-to-end: the children plus response serialization and the last network hop.
                    "latency_ms": round(end - t0 + rng.randint(3, 25) + rng.random(), 1),
                }
                lines.append((t0, dumps(gateway, option=newline)))
            lines.extend((t, dumps(ev, option=newline)) for t, ev in children)
            yield t0, lines

    def lines(self, n_requests: int | None) -> Iterator[tuple[bytes, bool]]:
        """(line, is-first-line-of-its-request) in start-time order; endless when `n_requests` is None."""
        heap: list[tuple[int, int, bytes, bool]] = []
        push, pop = heapq.heappush, heapq.heappop
        seq = 0
        for done, (t0, lines) in enumerate(self.requests()):
            if done == n_requests:
                break
            # Every later event starts at or after t0, so everything up to t0 is final.
            while heap and heap[0][0] <= t0:
                _, _, line, first = pop(heap)
                yield line, first
            for i, (ts, line) in enumerate(lines):
                push(heap, (ts, seq, line, i == 0))
                seq += 1
        while heap:
            _, _, line, first = pop(heap)
            yield line, first


# ---------------------------------------------------------------------------------------------------------------------
# Malformed lines: extra lines, so the real requests stay intact whatever a reader does with them.


def _malformed_line(kind: str, good: bytes, rng: random.Random) -> bytes:
    """A bad line of `kind`, derived from the good line just written."""
    if kind == "truncated-json":
        # A writer killed mid-line. Cut before the closing brace, and on a character boundary (still UTF-8).
        cut = rng.randint(8, len(good) - 2)
        while good[cut] & 0xC0 == 0x80:
            cut -= 1
        return good[:cut] + b"\n"
    if kind == "not-an-object":
        return rng.choice((b"[1,2]\n", b'"healthcheck ok"\n', b"null\n", b"42\n"))
    obj = orjson.loads(good)
    if kind == "missing-request-id":
        obj.pop("request_id", None)
        obj["event_id"] = f"{rng.getrandbits(64):016x}"
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    # wrong-type / negative-latency: an extra `cache_lookup` event of the same request, starting with the good
    # line's event (so it never widens the request's time envelope) and carrying no tokens.
    extra: dict[str, Any] = {
        "ts": obj["ts"],
        "request_id": obj["request_id"],
        "event_id": f"{rng.getrandbits(64):016x}",
        "parent_id": obj.get("parent_id", obj.get("event_id")),
        "event": "cache_lookup",
        "hit": False,
        "latency_ms": "oops" if kind == "wrong-type" else -round(1.0 + 40.0 * rng.random(), 1),
    }
    return orjson.dumps(extra, option=orjson.OPT_APPEND_NEWLINE)


# ---------------------------------------------------------------------------------------------------------------------


def iter_sample_lines(
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    requests: int | None = None,
    target_bytes: int | None = None,
    malformed: bool = True,
    malformed_every: int = 5000,
    apps: Sequence[str] = APPS,
    requests_per_second: float = 20.0,
    stats: SampleStats | None = None,
) -> Iterator[bytes]:
    """Yield native-format JSON lines (each ending in b"\\n"), deterministically from `seed`.

    `requests` caps the number of requests generated, `target_bytes` the output size (the output
    stops at the last whole line that fits, so requests at the cut may lack their later events).
    With neither, 1,000 requests are generated. `malformed` plants about one bad line per
    `malformed_every` good ones, cycling through `MALFORMED_KINDS`. `requests_per_second` is
    the mean arrival rate (it follows a daily cycle). If `stats` is given, it is updated as lines
    are yielded.
    """
    if requests is None and target_bytes is None:
        requests = DEFAULT_REQUESTS
    if malformed_every < 2:
        msg = "malformed_every must be at least 2"
        raise ValueError(msg)
    stats = stats if stats is not None else SampleStats()
    generator = _Generator(seed=seed, start=start, apps=apps, requests_per_second=requests_per_second)
    budget = target_bytes if target_bytes is not None else math.inf
    bad_rng = random.Random(f"aiobs-sample-malformed-{seed}")
    countdown = bad_rng.randint(malformed_every // 2, malformed_every * 3 // 2)
    kind = 0
    size = 0
    for line, first in generator.lines(requests):
        size += len(line)
        if size > budget:
            break
        stats.events += 1
        stats.requests += first
        stats.bytes = size
        yield line
        if not malformed:
            continue
        countdown -= 1
        if countdown == 0:
            countdown = bad_rng.randint(malformed_every // 2, malformed_every * 3 // 2)
            bad = _malformed_line(MALFORMED_KINDS[kind], line, bad_rng)
            kind = (kind + 1) % len(MALFORMED_KINDS)
            size += len(bad)
            if size > budget:
                break
            stats.malformed += 1
            stats.bytes = size
            yield bad


def write_sample(
    path: Path,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    requests: int | None = None,
    target_bytes: int | None = None,
    malformed: bool = True,
    malformed_every: int = 5000,
    apps: Sequence[str] = APPS,
    requests_per_second: float = 20.0,
) -> SampleStats:
    """Write a sample log to `path`: plain, or gzip (level 6) / zstandard by the `.gz` / `.zst` suffix.

    Streams in ~1 MB chunks (bounded memory), writes to `<path>.part` and renames at the end, so an
    interrupted run never leaves a complete-looking file. `target_bytes` counts uncompressed bytes.
    Compressed output is byte-for-byte reproducible too (no timestamp in the gzip header).
    """
    stats = SampleStats()
    lines = iter_sample_lines(
        seed=seed,
        start=start,
        requests=requests,
        target_bytes=target_bytes,
        malformed=malformed,
        malformed_every=malformed_every,
        apps=apps,
        requests_per_second=requests_per_second,
        stats=stats,
    )
    part = path.with_name(path.name + ".part")
    with part.open("wb") as raw:
        if path.suffix == ".gz":
            with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as out:
                _copy_chunked(lines, out)
        elif path.suffix == ".zst":
            with zstandard.ZstdCompressor(level=10).stream_writer(raw, closefd=False) as out:
                _copy_chunked(lines, out)
        else:
            _copy_chunked(lines, raw)
    part.replace(path)
    stats.file_bytes = path.stat().st_size
    return stats


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _copy_chunked(lines: Iterator[bytes], out: _Writable, chunk: int = 1 << 20) -> None:
    buf: list[bytes] = []
    buffered = 0
    for line in lines:
        buf.append(line)
        buffered += len(line)
        if buffered >= chunk:
            out.write(b"".join(buf))
            buf.clear()
            buffered = 0
    if buf:
        out.write(b"".join(buf))
