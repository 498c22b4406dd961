"""The events of one request of each sample app, below its gateway line: a chatbot request (`/chat`,
`/chat/stream`: an LLM call, sometimes a tool call between two), `/extract` (one JSON-mode call) and a RAG
request (embedding, retrieval, rerank, then the LLM call that answers from the passages kept).

Each returns its events, when it ended, the gateway's status, and whether its user would be unhappy with
it (which makes feedback likelier and mostly negative).
"""

from __future__ import annotations

import random
from typing import Any, Final

from aiobs.sample.answers import BAD_KINDS, CHAT_ANSWER_KINDS, INVALID_JSON_KINDS, RAG_ANSWER_KINDS, Answer
from aiobs.sample.corpus import CHAT_INPUTS, KB, KB_BY_TOPIC, KB_PASSAGES, RAG_INPUTS, TOOLS, json_task
from aiobs.sample.events import EventRows, Timed
from aiobs.sample.rates import P_INVALID_JSON, P_TOOL
from aiobs.sample.traffic import (
    CHAT_MODELS,
    EMBEDDING_MODEL,
    EXTRACT_MODELS,
    MODELS,
    RAG_ANSWER_MODELS,
    RAG_SEARCH_MODELS,
    RERANK_MODEL,
    Model,
    lognormal,
)

#: `max_tokens` the application asks for, by route; reasoning models get four times as much (their reasoning counts).
MAX_TOKENS: Final = {"/chat": 1024, "/chat/stream": 4096, "/extract": 512, "/rag/answer": 1024, "/rag/search": 300}


def max_tokens_for(route: str, model: Model) -> int:
    """The `max_tokens` a call on `route` asks `model` for."""
    return MAX_TOKENS[route] * (4 if model.reasons else 1)


def unhappy(status: int, answer: Answer, events: list[Timed]) -> bool:
    """A failed request, or an answer its user would not accept (its feedback is mostly thumbs down)."""
    return status != 200 or answer.kind in BAD_KINDS or events[-1][1].get("finish_reason") == "length"


class AppRequests:
    """The child events of chatbot, `/extract` and RAG requests."""

    def __init__(self, rng: random.Random, rows: EventRows) -> None:
        self.rng = rng
        self.rows = rows
        self.texts = rows.texts

    def chat(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[Timed], int, int, bool]:
        """A chatbot request: (events, end, gateway status, whether its user would be unhappy with it)."""
        if route == "/extract":
            return self._extract(t0, base, route, fate, slow)
        rng = self.rng
        model = MODELS[CHAT_MODELS(rng)]
        prompt = self.texts.with_input_pii(CHAT_INPUTS[int(rng.random() * len(CHAT_INPUTS))])
        input_tokens = min(60_000, 30 + int(lognormal(rng, 900.0, 0.8)))
        uses_tool = rng.random() < P_TOOL
        tool = TOOLS[int(rng.random() * len(TOOLS))]
        answer = Answer(self.texts.answer_kind(CHAT_ANSWER_KINDS), pii=self.texts.output_pii())
        kw: dict[str, Any] = {
            "prompt": prompt,
            "stream": route == "/chat/stream",
            "slow": slow,
            "tool": tool,
            "max_tokens": max_tokens_for(route, model),
        }

        t = t0 + rng.randint(2, 12)  # auth, routing, prompt assembly
        first = None if uses_tool else answer
        events, end, status = self.rows.llm_attempts(
            t, base, model, fate, input_tokens=input_tokens, answer=first, **kw
        )
        if status == 200 and uses_tool:
            tool_ms = lognormal(rng, 150.0, 0.9)
            ev, end = self.rows.step(end + rng.randint(1, 5), base, "tool", tool_ms, tool_name=tool[0], status="ok")
            events.append(ev)
            # The second call sees the history, the tool call and its result: mostly a prompt-cache hit.
            input_tokens += events[-2][1]["output_tokens"] + rng.randint(40, 900)
            ev, end = self.rows.llm(
                end + rng.randint(1, 5), base, model, input_tokens=input_tokens, answer=answer, cache_boost=True, **kw
            )
            events.append(ev)
        return events, end, status, unhappy(status, answer, events)

    def _extract(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[Timed], int, int, bool]:
        """`/extract`: one JSON-mode LLM call (response_format json_object or json_schema)."""
        rng = self.rng
        model = MODELS[EXTRACT_MODELS(rng)]
        r = rng.random()
        kind = INVALID_JSON_KINDS[int(r / P_INVALID_JSON * 3)] if r < P_INVALID_JSON else "json"
        prompt, obj, schema = json_task(rng, long=kind == "json_cut")
        prompt = self.texts.with_input_pii(prompt)
        f = rng.random()
        response_format = {"type": "json_object"} if f < 0.55 else "json_object" if f < 0.75 else schema
        answer = Answer(kind, json_obj=obj, response_format=response_format)
        # The system prompt holds the extraction instructions and a few examples.
        input_tokens = 150 + len(prompt) // 4 + int(lognormal(rng, 250.0, 0.4))
        events, end, status = self.rows.llm_attempts(
            t0 + rng.randint(2, 12),
            base,
            model,
            fate,
            prompt=prompt,
            input_tokens=input_tokens,
            stream=False,
            slow=slow,
            max_tokens=max_tokens_for(route, model),
            answer=answer,
        )
        return events, end, status, unhappy(status, answer, events)

    def rag(
        self, t0: int, base: dict[str, Any], route: str, fate: str, slow: float
    ) -> tuple[list[Timed], int, int, bool]:
        rng = self.rng
        is_answer = route == "/rag/answer"
        model = MODELS[(RAG_ANSWER_MODELS if is_answer else RAG_SEARCH_MODELS)(rng)]
        topic = int(rng.random() * len(RAG_INPUTS))
        prompt = self.texts.with_input_pii(RAG_INPUTS[topic])
        question_tokens = max(4, len(prompt) // 4 + rng.randint(0, 6))
        slow_retrieval = slow > 1.0 and rng.random() < 0.25
        events: list[Timed] = []

        name, provider = EMBEDDING_MODEL
        ev, t = self.rows.step(
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
            ev, end = self.rows.step(
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
        ev, t = self.rows.step(t + rng.randint(1, 4), base, "retrieval", retrieval_ms, index="kb-prod-v7", n_docs=top_k)
        events.append(ev)

        # The reranker keeps the question's two passages at the top (the second one sometimes third) and others.
        kept = 8 if is_answer else 5
        relevant = KB_BY_TOPIC[topic][:: 1 if rng.random() < 0.5 else -1]
        others = [d for d in rng.sample(range(len(KB)), kept) if d not in relevant][: kept - 2]
        docs = (relevant[0], others[0], relevant[1], *others[1:]) if rng.random() < 0.4 else (*relevant, *others)
        name, provider = RERANK_MODEL
        rerank_ms = lognormal(rng, 95.0, 0.4)
        ev, t = self.rows.step(
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

        answer = Answer(
            self.texts.answer_kind(RAG_ANSWER_KINDS),
            median_tokens=280.0 if is_answer else 90.0,
            docs=docs,
            pii=self.texts.output_pii(),
        )
        input_tokens = 700 + question_tokens + int(kept * lognormal(rng, 380.0 if is_answer else 120.0, 0.25))
        llm_events, end, status = self.rows.llm_attempts(
            t + rng.randint(2, 8),
            base,
            model,
            fate,
            prompt=prompt,
            input_tokens=input_tokens,
            stream=False,
            slow=1.0 if slow_retrieval else slow,
            max_tokens=max_tokens_for(route, model),
            answer=answer,
        )
        events += llm_events
        return events, end, status, unhappy(status, answer, events)
