"""The event rows of the sample's requests: the gateway line, an LLM call (tokens, prompt-cache hits, timing,
the cost the application logged, its text) with its retries and failures, the other stages' steps
(embedding, retrieval, rerank, tool) and user feedback.

An event is built as a dict with its start time (`Timed`), so that the generator can write every line in
start-time order. `EventRows` draws on the generator's own `random.Random`: the order of its calls is part
of the output.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import orjson

from aiobs.sample.answers import Answer, Texts
from aiobs.sample.corpus import TOOLS
from aiobs.sample.rates import (
    P_CACHED,
    P_FEEDBACK_SCORE,
    P_LOGGED_COST,
    P_THUMBS_UP,
    P_THUMBS_UP_BAD,
)
from aiobs.sample.traffic import APP_CACHE_FACTOR, Model, lognormal

#: An event and its start time (epoch ms), before serialization.
Timed = tuple[int, dict[str, Any]]


class EventRows:
    """Builds the event rows of requests: ids and timestamps, LLM calls, steps, gateway and feedback lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.texts = Texts(rng)
        self._second_cache: dict[int, str] = {}

    def iso(self, ms: int) -> str:
        sec, milli = divmod(ms, 1000)
        prefix = self._second_cache.get(sec)
        if prefix is None:
            if len(self._second_cache) > 8192:
                self._second_cache.clear()
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            self._second_cache[sec] = prefix
        return f"{prefix}.{milli:03d}Z"

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def _event(self, t: int, base: dict[str, Any], event: str) -> dict[str, Any]:
        return {
            "ts": self.iso(t),
            "request_id": base["request_id"],
            "event_id": self.span_id(),
            "parent_id": base["parent_id"],
            "event": event,
            "service": base["service"],
        }

    def llm(
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
        answer: Answer | None,
        tool: tuple[str, str] = TOOLS[0],
        attempt: int | None = None,
        failure: str | None = None,
        cache_boost: bool = False,
    ) -> tuple[Timed, int]:
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
            visible, finish, text = self.texts.reply(answer, max_tokens - reasoning)
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

    def step(self, t: int, base: dict[str, Any], event: str, latency: float, **fields: Any) -> tuple[Timed, int]:
        """A non-LLM child event (embedding, retrieval, rerank, tool)."""
        ev = self._event(t, base, event)
        ev.update(fields)
        ev["latency_ms"] = round(latency, 1)
        return (t, ev), t + math.ceil(latency)

    def llm_attempts(
        self, t: int, base: dict[str, Any], model: Model, fate: str, **kw: Any
    ) -> tuple[list[Timed], int, int]:
        """The LLM call(s) of a request, with retries and failures. Returns (events, end, gateway status)."""
        rng = self.rng
        events: list[Timed] = []
        attempt: int | None = None
        if fate in ("retried", "throttled"):
            ev, end = self.llm(t, base, model, attempt=1, failure="rate_limit", **kw)
            events.append(ev)
            t = end + int(400 + rng.random() * 2000)  # client backoff before the retry
            attempt = 2
        if fate == "throttled":
            ev, end = self.llm(t, base, model, attempt=2, failure="rate_limit", **kw)
            return [*events, ev], end, 429
        if fate == "error":
            failure = "timeout" if rng.random() < 0.35 else "server_error"
            ev, end = self.llm(t, base, model, failure=failure, **kw)
            return [*events, ev], end, 503 if failure == "timeout" else 500
        ev, end = self.llm(t, base, model, attempt=attempt, **kw)
        return [*events, ev], end, 200

    def gateway(
        self, t0: int, base: dict[str, Any], *, route: str, user: str, status: int, latency: float
    ) -> dict[str, Any]:
        """The gateway's event: the whole request as the client saw it (its id is the children's parent)."""
        return {
            "ts": self.iso(t0),
            "request_id": base["request_id"],
            "event_id": base["parent_id"],
            "event": "gateway",
            "service": base["service"],
            "method": "POST",
            "route": route,
            "user_id": user,
            "status": status,
            "latency_ms": latency,
        }

    def feedback(self, done: int, request_id: str, unhappy: bool) -> tuple[int, bytes]:
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
            "ts": self.iso(t),
            "request_id": request_id,
            "event_id": self.span_id(),
            "event": "feedback",
            "feedback": value,
        }
        return t, orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
