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
`P_*` constants of aiobs.sample.rates), so counts in a sample are approximate:

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

This module decides when requests arrive, which app, route, user and fate each
gets, and writes their lines in start-time order. aiobs.sample.apps builds each
app's child events, aiobs.sample.events the rows (ids, timings, tokens, cost,
feedback), aiobs.sample.answers what prompts and answers say; all of them draw
on the generator's one `random.Random`, so the order of their calls is part of
the output.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import orjson

from aiobs.sample.apps import AppRequests
from aiobs.sample.events import EventRows
from aiobs.sample.rates import (
    P_ERROR_5XX,
    P_ERROR_429,
    P_FEEDBACK,
    P_FEEDBACK_BAD_BOOST,
    P_LOST_GATEWAY,
    P_RETRY,
    P_SLOW,
)
from aiobs.sample.traffic import APP_ROUTES, APP_WEIGHTS, SERVICE, USER_CUM, USERS, Picker, lognormal

__all__ = [
    "APPS",
    "DEFAULT_REQUESTS",
    "DEFAULT_START",
    "MALFORMED_KINDS",
    "Generator",
    "SampleStats",
]

DEFAULT_START: Final = datetime(2026, 11, 28, tzinfo=UTC)
APPS: Final = ("chatbot", "rag")

#: Kinds of planted bad lines, in the order they are cycled through.
MALFORMED_KINDS: Final = ("truncated-json", "not-an-object", "wrong-type", "missing-request-id", "negative-latency")

#: Without `requests` or `target_bytes`, this many requests are generated.
DEFAULT_REQUESTS: Final = 1000


@dataclass
class SampleStats:
    """What a generator run produced. `bytes` is uncompressed; `file_bytes` is the size on disk."""

    requests: int = 0
    events: int = 0
    bytes: int = 0
    malformed: int = 0
    file_bytes: int = 0


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
        self.rows = EventRows(self.rng)
        self.apps = AppRequests(self.rng, self.rows)

    def _next_arrival(self) -> int:
        """Poisson arrivals whose rate follows the time of day (quiet at night, busiest mid-afternoon UTC)."""
        hour = (self.clock_ms / 3_600_000.0) % 24.0
        rate = self.rate * (1.0 + 0.6 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0))
        self.clock_ms += self.rng.expovariate(rate) * 1000.0
        return int(self.clock_ms)

    def _fate(self) -> str:
        """How the request ends: "ok", "retried" (a rate-limited first attempt), "throttled" or "error"."""
        r = self.rng.random()
        if r < P_ERROR_5XX:
            return "error"
        if r < P_ERROR_5XX + P_ERROR_429:
            return "throttled"
        if r < P_ERROR_5XX + P_ERROR_429 + P_RETRY:
            return "retried"
        return "ok"

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
            request_id = self.rows.uuid()
            base = {"request_id": request_id, "parent_id": self.rows.span_id(), "service": SERVICE[app]}
            build = self.apps.chat if app == "chatbot" else self.apps.rag
            children, end, status, unhappy = build(t0, base, route, fate, slow)
            # End-to-end: the children plus response serialization and the last network hop.
            latency = round(end - t0 + rng.randint(3, 25) + rng.random(), 1)

            lines: list[tuple[int, bytes]] = []
            if not lost:
                gateway = self.rows.gateway(t0, base, route=route, user=user, status=status, latency=latency)
                lines.append((t0, dumps(gateway, option=newline)))
            lines.extend((t, dumps(ev, option=newline)) for t, ev in children)
            if rng.random() < P_FEEDBACK[app] * (P_FEEDBACK_BAD_BOOST if unhappy else 1.0):
                lines.append(self.rows.feedback(t0 + math.ceil(latency), request_id, unhappy))
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
