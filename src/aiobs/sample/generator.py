"""A deterministic generator of realistic logs in the aiobs native format.

It writes what two AI applications behind one gateway would log (see
docs/schema.md, "The aiobs native log format"), one event per line:

* a **chatbot** (`/chat`, `/chat/stream`): gateway -> llm, and on some requests
  llm (tool_calls) -> tool -> llm; and `/extract` (~10 % of chatbot requests):
  gateway -> one JSON-mode llm call;
* a **RAG pipeline** (`/rag/answer`, `/rag/search`): gateway -> embedding ->
  retrieval -> rerank (with the passages it kept in `documents`) -> llm.

The mix is meant to exercise every path of the pipeline: real model names over
several providers (plus one self-hosted model that cannot be priced), cached and
reasoning tokens, streamed calls with a time to first token, lognormal latencies
with a heavy tail, rate-limit retries, failed requests, requests whose gateway
event was lost, costs logged by the application on some calls, and, unless
disabled, about one malformed line in 5,000.

It also plants what quality checks look for. Each rate is a probability (the
`P_*` constants below), so counts in a sample are approximate:

* every llm event logs `input`, `output` and `max_tokens` (`MAX_TOKENS`, by
  route; four times that for reasoning models, whose reasoning counts against
  it). An answer that reaches it (~2 %) has `finish_reason` "length",
  `output_tokens == max_tokens` and stops mid-word; other answers end on a
  whole sentence (or a cited link);
* refusals ~2 % of chat and RAG answers (English, French, German, Spanish,
  Japanese, Chinese), looping answers ~0.5 % (half of them until the limit),
  empty answers ~0.3 % (`output` "", one or two output tokens);
* `/extract` logs `response_format` ({"type": "json_object"} 55 %, the string
  "json_object" 20 %, {"type": "json_schema", ...} 25 %) and answers with a JSON
  object; ~4 % do not parse, a third each: cut off at the token limit, wrapped
  in prose ("Here is the extracted data:\n{...}"), or in a Markdown ```json fence;
* RAG answers are built from the sentences of the rerank event's `documents`
  (passages of a built-in knowledge base, `KB`; many link to
  https://docs.example.com/...) and sometimes cite their links; ~3 % ignore
  them (generic text), ~1 % cite a link that is in no passage;
* personal data, realistic in shape and obviously fake: in ~2 % of prompts an
  email address (example.com/.org/.net) or a phone number (fictional ranges),
  ~0.5 % an API key or token (sk-proj-..., AKIA..., ghp_...), ~0.15 % each a
  test card number (Luhn-valid) or one of the IBAN standard's examples; ~0.5 %
  of answers mention an email address, a phone number or a test card number;
* stalled calls (~1 % of requests) decode at a few tokens per second;
* user feedback: ~15 % of chatbot and ~10 % of RAG requests (1.5x as often when
  the answer was bad) get a `feedback` event, "up"/"down" or (a quarter) a 0..1
  score, 5 s to 10 min after the request ended. A normal answer is accepted 86 %
  of the time; a failed, refused, empty, cut-off, looping, invalid-JSON or
  context-ignoring one 25 % (about 80 % overall).

Events are written in start-time order, so the events of concurrent requests
interleave as in a real log. Generation is streaming: memory is bounded by the
events of the requests in flight and the feedback still to come (at most ten
minutes of it), whatever the output size.

Everything random comes from `random.Random(seed)` (plus a second generator
seeded from the same seed for the malformed lines), so the same arguments always
give byte-identical output. For a given `requests`, the output without malformed
lines is exactly the output with them, minus those lines; and a run with
`target_bytes` is a prefix of any run with a larger `target_bytes`.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from aiobs.sample.corpus import (
    ALNUM,
    CHAT_INPUTS,
    CITATIONS,
    CORPUS,
    CORPUS_ENDS,
    CORPUS_STARTS,
    EXAMPLE_IBANS,
    INPUT_PII_TEMPLATES,
    JSON_TRAILERS,
    KB,
    KB_BY_TOPIC,
    KB_PASSAGES,
    KB_SENTENCES,
    KB_URLS,
    LOOPS,
    MAIL_DOMAINS,
    MAX_TEXT,
    NAMES,
    OUTPUT_PII_TEMPLATES,
    PHONES,
    RAG_INPUTS,
    RAG_OPENERS,
    REFUSALS,
    TEST_CARDS,
    TOOLS,
    UNGROUNDED_URLS,
    json_task,
)
from aiobs.sample.traffic import (
    APP_CACHE_FACTOR,
    APP_ROUTES,
    APP_WEIGHTS,
    CHAT_MODELS,
    EMBEDDING_MODEL,
    EXTRACT_MODELS,
    MODELS,
    RAG_ANSWER_MODELS,
    RAG_SEARCH_MODELS,
    RERANK_MODEL,
    SERVICE,
    USER_CUM,
    USERS,
    Model,
    Picker,
    lognormal,
)

__all__ = [
    "APPS",
    "DEFAULT_START",
    "MALFORMED_KINDS",
    "MAX_TOKENS",
    "Generator",
    "SampleStats",
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

# What the answers say (per final answer of a request; the rest are normal answers).
P_REFUSAL: Final = 0.02  # chat and RAG answers that refuse ("I'm sorry, but I can't help with that.")
P_REPETITION: Final = 0.005  # answers that loop on a phrase (half of them until the token limit)
P_EMPTY: Final = 0.003  # answers with an empty text and one or two output tokens
P_CONTEXT_IGNORED: Final = 0.03  # RAG answers that ignore the retrieved passages (generic text)
P_UNGROUNDED_URL: Final = 0.01  # RAG answers that cite a link that is in no passage
P_INVALID_JSON: Final = 0.04  # `/extract` outputs that do not parse (a third each: cut off, prose around, fenced)
P_OUTPUT_PII: Final = 0.005  # normal answers that contain an email address, a phone number or a card number
# What the prompts carry (per request).
P_INPUT_CONTACT: Final = 0.02  # an email address (60 %) or a phone number (40 %)
P_INPUT_SECRET: Final = 0.005  # an API key or token: sk-..., AKIA..., ghp_...
P_INPUT_CARD: Final = 0.0015  # a (test) credit card number
P_INPUT_IBAN: Final = 0.0015  # an (example) IBAN
# User feedback (per request), logged 5 s to 10 min after the request ended.
P_FEEDBACK: Final = {"chatbot": 0.15, "rag": 0.10}
P_FEEDBACK_BAD_BOOST: Final = 1.5  # users rate a bad answer (error, refusal, empty, cut off, ...) more often...
P_THUMBS_UP: Final = 0.86  # ...and a normal one favourably this often,
P_THUMBS_UP_BAD: Final = 0.25  # a bad one this often (about 80 % acceptance overall)
P_FEEDBACK_SCORE: Final = 0.25  # feedback logged as a score in 0..1 (a 1-5 star rating) rather than "up"/"down"

#: `max_tokens` the application asks for, by route; reasoning models get four times as much (their reasoning counts).
MAX_TOKENS: Final = {"/chat": 1024, "/chat/stream": 4096, "/extract": 512, "/rag/answer": 1024, "/rag/search": 300}


@dataclass
class SampleStats:
    """What a generator run produced. `bytes` is uncompressed; `file_bytes` is the size on disk."""

    requests: int = 0
    events: int = 0
    bytes: int = 0
    malformed: int = 0
    file_bytes: int = 0


# ---------------------------------------------------------------------------------------------------------------------


#: An event and its start time (epoch ms), before serialization.
_Timed = tuple[int, dict[str, Any]]

#: What a final answer can be besides a normal one, with its probability, per app.
_CHAT_ANSWER_KINDS: Final = (("refusal", P_REFUSAL), ("repetition", P_REPETITION), ("empty", P_EMPTY))
_RAG_ANSWER_KINDS: Final = (
    *_CHAT_ANSWER_KINDS,
    ("context_ignored", P_CONTEXT_IGNORED),
    ("ungrounded_url", P_UNGROUNDED_URL),
)
_INVALID_JSON_KINDS: Final = ("json_cut", "json_prose", "json_fence")
#: Answers a user is unhappy with (as are failed requests and answers cut off at the token limit).
_BAD_KINDS: Final = frozenset({"refusal", "repetition", "empty", "context_ignored", *_INVALID_JSON_KINDS})
#: Answer kinds that are ordinary prose, so they can carry planted personal data.
_PROSE_KINDS: Final = frozenset({"text", "context_ignored", "ungrounded_url"})


@dataclass(frozen=True, slots=True)
class _Answer:
    """The final answer a request will get. Decided before the call: its tokens set the call's latency."""

    kind: str = "text"  # text, one of the *_ANSWER_KINDS, json (valid) or one of _INVALID_JSON_KINDS
    median_tokens: float = 280.0
    docs: tuple[int, ...] = ()  # indexes into KB: the passages a RAG answer draws on, best first
    json_obj: dict[str, Any] | None = None
    response_format: Any = None
    pii: str | None = None  # "email", "phone" or "card": personal data the answer mentions


def _max_tokens(route: str, model: Model) -> int:
    return MAX_TOKENS[route] * (4 if model.reasons else 1)


def _unhappy(status: int, answer: _Answer, events: list[_Timed]) -> bool:
    """A failed request, or an answer its user would not accept (its feedback is mostly thumbs down)."""
    return status != 200 or answer.kind in _BAD_KINDS or events[-1][1].get("finish_reason") == "length"


def _mid_word(text: str, stop: int, floor: int) -> int:
    """The nearest position at or before `stop` that splits a word: where a reply cut off by the token limit ends."""
    while stop > floor + 1 and not (text[stop - 1].isalnum() and text[stop].isalnum()):
        stop -= 1
    return stop


class Generator:
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
        self.app_picker = Picker([(a, APP_WEIGHTS[a]) for a in APPS if a in apps])
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

    def _text(self, n_chars: int, *, cut: bool = False) -> str:
        """About `n_chars` of generic reply text from a sentence start, ending a sentence (or mid-word if `cut`)."""
        n = min(MAX_TEXT, max(20, n_chars))
        start = CORPUS_STARTS[int(self.rng.random() * len(CORPUS_STARTS))]
        stop = start + n
        if cut:
            return CORPUS[start : _mid_word(CORPUS, stop, start)]
        i = bisect.bisect_right(CORPUS_ENDS, stop) - 1
        if i < 0 or CORPUS_ENDS[i] <= start:
            i += 1  # no sentence ends within n: the first one that ends after the start
        return CORPUS[start : min(CORPUS_ENDS[i], start + MAX_TEXT)]

    def _grounded(self, docs: tuple[int, ...], n_chars: int, *, cut: bool, made_up_link: bool) -> str:
        """An answer made of the passages' sentences, best passage first, sometimes citing one of their links."""
        rng = self.rng
        n = min(1400, max(20, n_chars))  # leaves room for a link and a sentence of personal data
        sentences: list[str] = []
        size = 0
        for doc in docs:
            for sentence in KB_SENTENCES[doc]:
                sentences.append(sentence)
                size += len(sentence) + 1
                if size >= n:
                    break
            if size >= n:
                break
        if made_up_link:
            link = UNGROUNDED_URLS[int(rng.random() * len(UNGROUNDED_URLS))]
            sentences.insert(1, f"See {link} for the full walkthrough.")
        opener = RAG_OPENERS[int(rng.random() * len(RAG_OPENERS))]
        first = sentences[0]
        if opener.endswith(", "):
            first = first[0].lower() + first[1:]
        text = opener + " ".join([first, *sentences[1:]])
        if cut:
            stop = min(n, len(text) - 1)
            link_at = text.rfind("http", 0, stop)
            if link_at > 0 and not any(ch.isspace() for ch in text[link_at:stop]):
                stop = link_at - 1  # half a link would read as a made-up one
            return text[: _mid_word(text, stop, 0)]
        if not made_up_link and rng.random() < 0.35:
            links = [url for doc in docs[:2] for url in KB_URLS[doc]]
            if links:
                text += CITATIONS[int(rng.random() * len(CITATIONS))].format(links[int(rng.random() * len(links))])
        return text

    def _loop(self, answer: _Answer, cap: int) -> tuple[int, str, str]:
        """Degenerate decoding: a phrase repeated many times, half of the time until the token limit."""
        rng = self.rng
        phrase = LOOPS[int(rng.random() * len(LOOPS))]
        sep = " " if rng.random() < 0.7 else "\n"
        prefix = self._text(rng.randint(40, 300)) + sep if rng.random() < 0.7 else ""
        if rng.random() < 0.5:
            text = prefix + sep.join([phrase] * rng.randint(8, 30))
            visible = len(text.encode()) // 4 + rng.randint(0, 5)
            if visible < cap:
                return visible, "stop", text
        text = prefix + sep.join([phrase] * (MAX_TEXT // len(phrase) + 2))
        return cap, "length", text[: _mid_word(text, MAX_TEXT - 1, len(prefix))]

    def _json_reply(self, answer: _Answer, cap: int) -> tuple[int, str, str]:
        """A JSON-mode reply: the object, or (planted) the object cut off, wrapped in prose or in a Markdown fence."""
        rng = self.rng
        pretty = answer.kind == "json_cut" or rng.random() < 0.4
        body = orjson.dumps(answer.json_obj, option=orjson.OPT_INDENT_2 if pretty else 0).decode()
        if answer.kind == "json_cut":
            # Before the closing brace, so never valid JSON; about 3 characters a token for JSON.
            return cap, "length", body[: min(MAX_TEXT, int(cap * (2.8 + 0.6 * rng.random())), len(body) - 2)]
        if answer.kind == "json_prose":
            before, after = JSON_TRAILERS[int(rng.random() * len(JSON_TRAILERS))]
            body = before + body + after
        elif answer.kind == "json_fence":
            body = f"```json\n{body}\n```"
        return min(cap - 1, len(body) // 3 + rng.randint(1, 6)), "stop", body

    def _compose(self, answer: _Answer, cap: int) -> tuple[int, str, str]:
        """(visible output tokens, finish_reason, text) of an answer allowed `cap` visible tokens."""
        rng = self.rng
        kind = answer.kind
        if kind == "refusal":
            text = REFUSALS[int(rng.random() * len(REFUSALS))]
            return len(text.encode()) // 3 + rng.randint(0, 3), "stop", text
        if kind == "empty":
            return rng.randint(1, 2), "stop", ""
        if kind == "repetition":
            return self._loop(answer, cap)
        if kind not in _PROSE_KINDS:
            return self._json_reply(answer, cap)
        visible = max(1, int(lognormal(rng, answer.median_tokens, 0.7)))
        cut = visible >= cap
        if cut:
            visible = cap
        n_chars = min(MAX_TEXT, int(visible * (3.2 + 1.4 * rng.random())))
        extra = ""
        if answer.pii is not None:
            templates = OUTPUT_PII_TEMPLATES[answer.pii]
            extra = templates[int(rng.random() * len(templates))].format(pii=self._pii(answer.pii))
            n_chars -= len(extra) + 1
        if answer.docs and kind != "context_ignored":
            text = self._grounded(answer.docs, n_chars, cut=cut, made_up_link=kind == "ungrounded_url")
        else:
            text = self._text(n_chars, cut=cut)
        if extra:
            # Before a reply that was cut off (so it survives the cut), else after it.
            text = f"{extra} {text}" if cut else f"{text} {extra}"
        return visible, "length" if cut else "stop", text

    # -- planted personal data ----------------------------------------------------------------------------------------

    def _pii(self, kind: str) -> str:
        rng = self.rng
        if kind == "email":
            name = NAMES[int(rng.random() * len(NAMES))]
            suffix = str(rng.randint(1, 99)) if rng.random() < 0.3 else ""
            return f"{name}{suffix}@{MAIL_DOMAINS[int(rng.random() * len(MAIL_DOMAINS))]}"
        if kind == "phone":
            return PHONES[int(rng.random() * len(PHONES))].format(rng.randint(0, 99))
        if kind == "card":
            card = TEST_CARDS[int(rng.random() * len(TEST_CARDS))]
            sep = ("", " ", "-")[int(rng.random() * 3)]
            groups = (
                (card[:4], card[4:10], card[10:]) if len(card) == 15 else (card[i : i + 4] for i in range(0, 16, 4))
            )
            return sep.join(groups)
        if kind == "iban":
            iban = EXAMPLE_IBANS[int(rng.random() * len(EXAMPLE_IBANS))]
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.7 else iban
        if kind == "openai_key":
            return "sk-proj-" + "".join(rng.choices(ALNUM, k=48))
        if kind == "aws_key":
            return "AKIA" + "".join(rng.choices(ALNUM[:26] + ALNUM[52:], k=16))
        return "ghp_" + "".join(rng.choices(ALNUM, k=36))

    def _with_input_pii(self, prompt: str) -> str:
        """The prompt, or (rarely) the prompt with an email, a phone number, a secret, a card number or an IBAN."""
        rng = self.rng
        r = rng.random()
        if r < P_INPUT_CONTACT:
            kind = "email" if r < 0.6 * P_INPUT_CONTACT else "phone"
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET:
            kind = ("openai_key", "aws_key", "github_token")[int((r - P_INPUT_CONTACT) / P_INPUT_SECRET * 3)]
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET + P_INPUT_CARD:
            kind = "card"
        elif r < P_INPUT_CONTACT + P_INPUT_SECRET + P_INPUT_CARD + P_INPUT_IBAN:
            kind = "iban"
        else:
            return prompt
        templates = INPUT_PII_TEMPLATES[kind]
        return templates[int(rng.random() * len(templates))].format(pii=self._pii(kind), prompt=prompt)

    def _answer_kind(self, kinds: tuple[tuple[str, float], ...]) -> str:
        r = self.rng.random()
        for kind, p in kinds:
            if r < p:
                return kind
            r -= p
        return "text"

    def _output_pii(self) -> str | None:
        r = self.rng.random()
        if r >= P_OUTPUT_PII:
            return None
        return "email" if r < 0.45 * P_OUTPUT_PII else "phone" if r < 0.8 * P_OUTPUT_PII else "card"

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
        model: Model,
        *,
        prompt: str,
        input_tokens: int,
        stream: bool,
        slow: float,
        max_tokens: int,
        answer: _Answer | None,
        tool: tuple[str, str] = TOOLS[0],
        attempt: int | None = None,
        failure: str | None = None,
        cache_boost: bool = False,
    ) -> tuple[_Timed, int]:
        """One LLM call starting at `t` (epoch ms). Returns it and its end (epoch ms, rounded up).

        With `answer` None, the call asks for `tool`; else it gives `answer`.
        """
        rng = self.rng
        ev = self._event(t, base, "llm")
        ev["model"] = model.name
        ev["provider"] = model.provider
        ev["stream"] = stream
        ev["max_tokens"] = max_tokens
        if answer is not None and answer.response_format is not None:
            ev["response_format"] = answer.response_format
        if attempt is not None:
            ev["attempt"] = attempt
        if failure is not None:
            if failure == "rate_limit":
                latency = lognormal(rng, 160.0, 0.5)
            elif failure == "timeout":
                latency = 30_000.0 + rng.random() * 60.0
            else:
                latency = lognormal(rng, 900.0, 0.8)
            ev["status"] = "error"
            ev["error_type"] = failure
            ev["input"] = prompt
            ev["latency_ms"] = round(latency, 1)
            return (t, ev), t + math.ceil(latency)

        cached = 0
        if model.caches and input_tokens >= 1024 and rng.random() < (0.85 if cache_boost else P_CACHED):
            cached = int(input_tokens * (0.3 + 0.65 * rng.random())) // 128 * 128
        # Reasoning tokens count against max_tokens, so a call that hits the limit logs output_tokens == max_tokens.
        reasoning = min(int(lognormal(rng, 700.0, 0.8)), max_tokens // 2) if model.reasons else 0
        if answer is None:
            visible = rng.randint(18, 90)
            finish = "tool_calls"
            name, args = tool
            text = f'{{"tool": "{name}", "arguments": {args % rng.randint(1, 99_999)}}}'
        else:
            visible, finish, text = self._compose(answer, max_tokens - reasoning)
        output_tokens = visible + reasoning

        # Prefill grows with the prompt; reasoning happens before the first visible token.
        ttft = lognormal(rng, model.ttft_ms, 0.45) + input_tokens * 0.02 + reasoning * 1000.0 / model.tokens_per_s
        decode = visible * 1000.0 / lognormal(rng, model.tokens_per_s, 0.25)
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
            billed_in = input_tokens - cached + cached * APP_CACHE_FACTOR.get(model.provider, 1.0)
            usd = (billed_in * model.usd_per_mtok_in + output_tokens * model.usd_per_mtok_out) / 1e6
            ev["cost_usd"] = round(usd * (0.94 + 0.12 * rng.random()), 6)
        ev["input"] = prompt
        ev["output"] = text
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
        self, t: int, base: dict[str, Any], model: Model, fate: str, **kw: Any
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
    ) -> tuple[list[_Timed], int, int, bool]:
        """A chatbot request: (events, end, gateway status, whether its user would be unhappy with it)."""
        if route == "/extract":
            return self._extract_request(t0, base, route, fate, slow)
        rng = self.rng
        model = MODELS[CHAT_MODELS(rng)]
        prompt = self._with_input_pii(CHAT_INPUTS[int(rng.random() * len(CHAT_INPUTS))])
        input_tokens = min(60_000, 30 + int(lognormal(rng, 900.0, 0.8)))
        uses_tool = rng.random() < P_TOOL
        tool = TOOLS[int(rng.random() * len(TOOLS))]
        answer = _Answer(self._answer_kind(_CHAT_ANSWER_KINDS), pii=self._output_pii())
        kw: dict[str, Any] = {
            "prompt": prompt,
            "stream": route == "/chat/stream",
            "slow": slow,
            "tool": tool,
            "max_tokens": _max_tokens(route, model),
        }

        t = t0 + rng.randint(2, 12)  # auth, routing, prompt assembly
        first = None if uses_tool else answer
        events, end, status = self._llm_attempts(t, base, model, fate, input_tokens=input_tokens, answer=first, **kw)
        if status == 200 and uses_tool:
            tool_ms = lognormal(rng, 150.0, 0.9)
            ev, end = self._step(end + rng.randint(1, 5), base, "tool", tool_ms, tool_name=tool[0], status="ok")
            events.append(ev)
            # The second call sees the history, the tool call and its result: mostly a prompt-cache hit.
            input_tokens += events[-2][1]["output_tokens"] + rng.randint(40, 900)
            ev, end = self._llm(
                end + rng.randint(1, 5), base, model, input_tokens=input_tokens, answer=answer, cache_boost=True, **kw
            )
            events.append(ev)
        return events, end, status, _unhappy(status, answer, events)

    def _extract_request(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[_Timed], int, int, bool]:
        """`/extract`: one JSON-mode LLM call (response_format json_object or json_schema)."""
        rng = self.rng
        model = MODELS[EXTRACT_MODELS(rng)]
        r = rng.random()
        kind = _INVALID_JSON_KINDS[int(r / P_INVALID_JSON * 3)] if r < P_INVALID_JSON else "json"
        prompt, obj, schema = json_task(rng, long=kind == "json_cut")
        prompt = self._with_input_pii(prompt)
        f = rng.random()
        response_format = {"type": "json_object"} if f < 0.55 else "json_object" if f < 0.75 else schema
        answer = _Answer(kind, json_obj=obj, response_format=response_format)
        # The system prompt holds the extraction instructions and a few examples.
        input_tokens = 150 + len(prompt) // 4 + int(lognormal(rng, 250.0, 0.4))
        events, end, status = self._llm_attempts(
            t0 + rng.randint(2, 12),
            base,
            model,
            fate,
            prompt=prompt,
            input_tokens=input_tokens,
            stream=False,
            slow=slow,
            max_tokens=_max_tokens(route, model),
            answer=answer,
        )
        return events, end, status, _unhappy(status, answer, events)

    def _rag_request(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[_Timed], int, int, bool]:
        rng = self.rng
        is_answer = route == "/rag/answer"
        model = MODELS[(RAG_ANSWER_MODELS if is_answer else RAG_SEARCH_MODELS)(rng)]
        topic = int(rng.random() * len(RAG_INPUTS))
        prompt = self._with_input_pii(RAG_INPUTS[topic])
        question_tokens = max(4, len(prompt) // 4 + rng.randint(0, 6))
        slow_retrieval = slow > 1.0 and rng.random() < 0.25
        events: list[_Timed] = []

        name, provider = EMBEDDING_MODEL
        ev, t = self._step(
            t0 + rng.randint(2, 10),
            base,
            "embedding",
            lognormal(rng, 45.0, 0.4),
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
                lognormal(rng, 2_000.0, 0.5),
                status="error",
                error_type="vector_store_unavailable",
            )
            events.append(ev)
            return events, end, 503, True
        retrieval_ms = lognormal(rng, 85.0, 0.55) * (slow if slow_retrieval else 1.0)
        top_k = 40 if is_answer else 20
        ev, t = self._step(t + rng.randint(1, 4), base, "retrieval", retrieval_ms, index="kb-prod-v7", n_docs=top_k)
        events.append(ev)

        # The reranker keeps the question's two passages at the top (the second one sometimes third) and others.
        kept = 8 if is_answer else 5
        relevant = KB_BY_TOPIC[topic][:: 1 if rng.random() < 0.5 else -1]
        others = [d for d in rng.sample(range(len(KB)), kept) if d not in relevant][: kept - 2]
        docs = (relevant[0], others[0], relevant[1], *others[1:]) if rng.random() < 0.4 else (*relevant, *others)
        name, provider = RERANK_MODEL
        rerank_ms = lognormal(rng, 95.0, 0.4)
        ev, t = self._step(
            t + rng.randint(1, 4),
            base,
            "rerank",
            rerank_ms,
            model=name,
            provider=provider,
            n_docs=kept,
            documents=[KB_PASSAGES[d] for d in docs],
        )
        events.append(ev)

        answer = _Answer(
            self._answer_kind(_RAG_ANSWER_KINDS),
            median_tokens=280.0 if is_answer else 90.0,
            docs=docs,
            pii=self._output_pii(),
        )
        input_tokens = 700 + question_tokens + int(kept * lognormal(rng, 380.0 if is_answer else 120.0, 0.25))
        llm_events, end, status = self._llm_attempts(
            t + rng.randint(2, 8),
            base,
            model,
            fate,
            prompt=prompt,
            input_tokens=input_tokens,
            stream=False,
            slow=1.0 if slow_retrieval else slow,
            max_tokens=_max_tokens(route, model),
            answer=answer,
        )
        events += llm_events
        return events, end, status, _unhappy(status, answer, events)

    def requests(self) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
        """Endless requests in arrival order: (start ms, [(event start ms, line), ...] in start order)."""
        rng = self.rng
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        while True:
            t0 = self._next_arrival()
            app = self.app_picker(rng)
            route = APP_ROUTES[app](rng)
            user = USERS[bisect.bisect(USER_CUM, rng.random() * USER_CUM[-1])]
            lost = rng.random() < P_LOST_GATEWAY
            fate = self._fate()
            slow = lognormal(rng, 10.0, 0.3) if rng.random() < P_SLOW else 1.0
            request_id = self._uuid()
            gateway_id = self._span_id()
            base = {"request_id": request_id, "parent_id": gateway_id, "service": SERVICE[app]}
            build = self._chat_request if app == "chatbot" else self._rag_request
            children, end, status, unhappy = build(t0, base, route, fate, slow)
            # End-to-end: the children plus response serialization and the last network hop.
            latency = round(end - t0 + rng.randint(3, 25) + rng.random(), 1)

            lines: list[tuple[int, bytes]] = []
            if not lost:
                gateway = {
                    "ts": self._iso(t0),
                    "request_id": request_id,
                    "event_id": gateway_id,
                    "event": "gateway",
                    "service": SERVICE[app],
                    "method": "POST",
                    "route": route,
                    "user_id": user,
                    "status": status,
                    "latency_ms": latency,
                }
                lines.append((t0, dumps(gateway, option=newline)))
            lines.extend((t, dumps(ev, option=newline)) for t, ev in children)
            if rng.random() < P_FEEDBACK[app] * (P_FEEDBACK_BAD_BOOST if unhappy else 1.0):
                lines.append(self._feedback(t0 + math.ceil(latency), request_id, unhappy))
            yield t0, lines

    def _feedback(self, done: int, request_id: str, unhappy: bool) -> tuple[int, bytes]:
        """A thumbs (or 1-5 star, as a 0..1 score) event, 5 s to 10 min after the request ended at `done`."""
        rng = self.rng
        t = done + int(min(600_000.0, 5_000.0 + lognormal(rng, 30_000.0, 1.2)))
        up = rng.random() < (P_THUMBS_UP_BAD if unhappy else P_THUMBS_UP)
        value: str | float
        if rng.random() < P_FEEDBACK_SCORE:
            value = (1.0 if rng.random() < 0.6 else 0.75) if up else (0.0 if rng.random() < 0.6 else 0.25)
        else:
            value = "up" if up else "down"
        event = {
            "ts": self._iso(t),
            "request_id": request_id,
            "event_id": self._span_id(),
            "event": "feedback",
            "feedback": value,
        }
        return t, orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)

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
