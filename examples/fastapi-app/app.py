"""A small RAG-shaped FastAPI service that logs the way aiobs reads best.

One JSON line per step of a request, written by structlog:

- the request's ID is bound once per request (`structlog.contextvars`), so every line carries it;
- each step is one event named after its stage (`retrieval`, `llm`), with its start (`ts`, when the
  step began, not when the line was written) and its own `duration_ms`;
- the LLM call logs the model, the provider, and the tokens from the provider's `usage` object;
- the request itself is one `gateway` event at the end: route, HTTP status, `status` ok or error, and
  the whole request's `duration_ms` (the latency aiobs reports);
- a failure is logged where it happens (`status: error`, `error_type`), not only as an HTTP 5xx.

The LLM client is a fake (no network), deterministic in its tokens, so the tests can check aiobs's
numbers against what was sent. Run it: `uvicorn app:app`, then `aiobs summarize app.jsonl`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel

MODEL = "gpt-4o-mini"


def configure_logging(out: TextIO) -> None:
    """JSON lines to `out`: the bound context (request ID, user), level, and the event's fields. Each event
    passes its own `ts`, when the step started: a timestamp taken when the line is written would be its end."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger()


class Step:
    """A step's start (wall clock, for `ts`) and its duration so far (monotonic clock, for `duration_ms`)."""

    def __init__(self) -> None:
        self.ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self._started = time.perf_counter()

    @property
    def duration_ms(self) -> float:
        return round((time.perf_counter() - self._started) * 1000, 3)


app = FastAPI(title="aiobs example: RAG answers")


# -- a fake LLM client, shaped like a provider SDK's response -------------------------------------------


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    finish_reason: str
    usage: Usage


class RateLimitError(Exception):
    """What a provider SDK raises on HTTP 429."""


class FakeLLM:
    """Answers from the context, with tokens a function of the text; questions with 'overload' fail."""

    def complete(self, question: str, context: list[str]) -> Completion:
        if "overload" in question:
            raise RateLimitError("429: rate limit reached for requests")
        prompt = len(question.split()) + sum(len(c.split()) for c in context)
        answer = f"From the docs: {context[0]}" if context else "I could not find that in the docs."
        return Completion(answer, MODEL, "stop", Usage(prompt_tokens=prompt * 2, completion_tokens=len(answer.split())))


DOCS = [
    "Invoices are sent on the first working day of each month.",
    "A workspace can belong to one billing account at a time.",
    "API keys can be rotated from the settings page without downtime.",
]
llm = FakeLLM()


def search(question: str, top_k: int) -> list[str]:
    words = set(question.lower().split())
    ranked = sorted(DOCS, key=lambda doc: -len(words & set(doc.lower().split())))
    return ranked[:top_k]


# -- the service -----------------------------------------------------------------------------------------


class Question(BaseModel):
    question: str
    user: str = "anonymous"


@app.middleware("http")
async def one_gateway_event_per_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Bind the request's ID for every line it logs, and log the request itself once it is answered."""
    structlog.contextvars.clear_contextvars()
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    structlog.contextvars.bind_contextvars(request_id=request_id)
    step = Step()
    response = await call_next(request)
    log.info(
        "gateway",
        ts=step.ts,
        route=request.url.path,
        method=request.method,
        http_status=response.status_code,
        status="ok" if response.status_code < 500 else "error",
        duration_ms=step.duration_ms,
    )
    response.headers["x-request-id"] = request_id
    return response


@app.post("/rag/answer")
def answer(body: Question) -> dict[str, Any]:
    structlog.contextvars.bind_contextvars(user=body.user)
    step = Step()
    context = search(body.question, top_k=2)
    log.info("retrieval", ts=step.ts, top_k=2, documents=len(context), duration_ms=step.duration_ms)
    step = Step()
    try:
        completion = llm.complete(body.question, context)
    except RateLimitError as exc:
        log.error(
            "llm",
            model=MODEL,
            provider="openai",
            status="error",
            error_type="RateLimitError",
            error=str(exc),
            ts=step.ts,
            duration_ms=step.duration_ms,
        )
        raise HTTPException(status_code=502, detail="the model is overloaded, try again") from None
    log.info(
        "llm",
        model=completion.model,
        provider="openai",
        status="ok",
        input_tokens=completion.usage.prompt_tokens,
        output_tokens=completion.usage.completion_tokens,
        finish_reason=completion.finish_reason,
        ts=step.ts,
        duration_ms=step.duration_ms,
    )
    return {
        "answer": completion.text,
        "usage": {"input": completion.usage.prompt_tokens, "output": completion.usage.completion_tokens},
    }


if os.environ.get("AIOBS_EXAMPLE_LOG"):  # uvicorn app:app: where to write the log
    configure_logging(Path(os.environ["AIOBS_EXAMPLE_LOG"]).open("a", encoding="utf-8"))  # noqa: SIM115
