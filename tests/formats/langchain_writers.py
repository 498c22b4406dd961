"""Real LangChain runs, logged as callback JSON lines and as tracer runs, on a clock time-machine holds.

Three requests through langchain-core's own runnables (a prompt, a chat model, a tool, an output parser):
q-1 answers with gpt-4o in 1.2 s (100 in / 50 out tokens); q-2 runs a tool for 0.3 s then gpt-4o-mini for
2.0 s (2,000 / 800); q-3's model call fails with a RateLimitError after 0.5 s. Every other step takes no
time on the held clock, so the requests last 1.2, 2.3 and 0.5 s.

`JsonLinesCallbackHandler` is the handler docs/formats.md shows (a test checks the two are the same
code); `RunsToJsonl` is a LangChain tracer writing each finished run as a LangSmith run. `python
tests/formats/langchain_writers.py` rewrites the fixtures.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.tracers.base import BaseTracer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# -- the handler docs/formats.md shows (keep the two identical) --------------------------------------------
class JsonLinesCallbackHandler(BaseCallbackHandler):
    """Writes one JSON line per LangChain callback: what aiobs reads as the `langchain` format."""

    def __init__(self, out):  # any text file: open("langchain.jsonl", "a")
        self.out = out

    def _write(self, event, run_id, parent_run_id, **fields):
        line = {"event": event, "ts": datetime.now(UTC).isoformat(), "run_id": str(run_id),
                "parent_run_id": str(parent_run_id) if parent_run_id else None, **fields}  # fmt: skip
        self.out.write(json.dumps(line, default=str) + "\n")

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kw):
        self._write("on_chain_start", run_id, parent_run_id, name=kw.get("name"), metadata=kw.get("metadata"))

    def on_chain_end(self, outputs, *, run_id, parent_run_id=None, **kw):
        self._write("on_chain_end", run_id, parent_run_id)

    def on_chain_error(self, error, *, run_id, parent_run_id=None, **kw):
        self._write("on_chain_error", run_id, parent_run_id, error=repr(error))

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
        self._write("on_chat_model_start", run_id, parent_run_id, name=kw.get("name"), metadata=kw.get("metadata"),
                    invocation_params=kw.get("invocation_params"))  # fmt: skip

    def on_llm_start(self, serialized, prompts, *, run_id, parent_run_id=None, **kw):
        self._write("on_llm_start", run_id, parent_run_id, name=kw.get("name"), metadata=kw.get("metadata"),
                    invocation_params=kw.get("invocation_params"))  # fmt: skip

    def on_llm_end(self, response, *, run_id, parent_run_id=None, **kw):
        message = getattr(response.generations[0][0], "message", None)
        self._write("on_llm_end", run_id, parent_run_id, llm_output=response.llm_output,
                    usage_metadata=getattr(message, "usage_metadata", None),
                    response_metadata=getattr(message, "response_metadata", None))  # fmt: skip

    def on_llm_error(self, error, *, run_id, parent_run_id=None, **kw):
        self._write("on_llm_error", run_id, parent_run_id, error=repr(error))

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, **kw):
        self._write("on_tool_start", run_id, parent_run_id, name=kw.get("name") or serialized.get("name"))

    def on_tool_end(self, output, *, run_id, parent_run_id=None, **kw):
        self._write("on_tool_end", run_id, parent_run_id)

    def on_tool_error(self, error, *, run_id, parent_run_id=None, **kw):
        self._write("on_tool_error", run_id, parent_run_id, error=repr(error))

    def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kw):
        self._write("on_retriever_start", run_id, parent_run_id, name=kw.get("name"))

    def on_retriever_end(self, documents, *, run_id, parent_run_id=None, **kw):
        self._write("on_retriever_end", run_id, parent_run_id)


# -- end of the documented handler --------------------------------------------------------------------------


class RunsToJsonl(BaseTracer):
    """A LangChain tracer that writes every finished run (children too) as one LangSmith run per line."""

    def __init__(self, out: io.TextIOBase) -> None:
        super().__init__()
        self.out = out

    def _persist_run(self, run: Any) -> None:
        runs = [run]
        while runs:
            one = runs.pop(0)
            self.out.write(json.dumps(one.model_dump(exclude={"child_runs"}, mode="json")) + "\n")
            runs.extend(one.child_runs)


class RateLimitError(Exception):
    pass


class TimedModel(GenericFakeChatModel):
    """A chat model whose call takes `seconds` on the held clock, and then answers or fails."""

    seconds: float = 0.0
    fail: bool = False
    model_name: str = "gpt-4o"
    provider: str = "openai"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        # What ChatOpenAI reports in the run's metadata (ls_provider, ls_model_name), so runs look like its.
        return {
            **super()._get_ls_params(stop=stop, **kwargs),
            "ls_provider": self.provider,
            "ls_model_name": self.model_name,
        }

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        CLOCK.shift(timedelta(seconds=self.seconds))
        if self.fail:
            raise RateLimitError("429 Too Many Requests")
        return super()._generate(*args, **kwargs)


def answer(model: str, tokens: tuple[int, int]) -> AIMessage:
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)}
    return AIMessage(content="ok", usage_metadata=usage, response_metadata={"model_name": model})  # type: ignore[arg-type]


@tool
def lookup_order(order_id: str) -> str:
    """Look an order up (takes 0.3 s)."""
    CLOCK.shift(timedelta(seconds=0.3))
    return f"order {order_id}: shipped"


class _Clock:
    traveller: Any = None

    def shift(self, by: timedelta) -> None:
        self.traveller.shift(by)


CLOCK = _Clock()


def run_requests(callbacks: list[Any]) -> None:
    import time_machine

    prompt = ChatPromptTemplate.from_messages([("user", "{q}")])
    with time_machine.travel(T0, tick=False) as traveller:
        CLOCK.traveller = traveller
        q1 = (
            prompt
            | TimedModel(messages=iter([answer("gpt-4o", (100, 50))]), seconds=1.2, model_name="gpt-4o")
            | StrOutputParser()
        )
        q1.invoke({"q": "hi"}, config={"callbacks": callbacks})
        traveller.move_to(T0 + timedelta(seconds=10))
        model2 = TimedModel(messages=iter([answer("gpt-4o-mini", (2000, 800))]), seconds=2.0, model_name="gpt-4o-mini")
        q2 = RunnableLambda(lambda q: {"q": lookup_order.invoke(q["order"])}) | prompt | model2 | StrOutputParser()
        q2.invoke({"order": "A-1"}, config={"callbacks": callbacks})
        traveller.move_to(T0 + timedelta(seconds=20))
        q3 = prompt | TimedModel(messages=iter([]), seconds=0.5, fail=True) | StrOutputParser()
        with contextlib.suppress(RateLimitError):
            q3.invoke({"q": "hello?"}, config={"callbacks": callbacks})


def callback_lines() -> str:
    out = io.StringIO()
    run_requests([JsonLinesCallbackHandler(out)])
    return out.getvalue()


def run_lines() -> str:
    out = io.StringIO()
    run_requests([RunsToJsonl(out)])
    return out.getvalue()


if __name__ == "__main__":
    (FIXTURES / "langchain").mkdir(exist_ok=True)
    (FIXTURES / "langsmith").mkdir(exist_ok=True)
    (FIXTURES / "langchain" / "callbacks.jsonl").write_text(callback_lines())
    (FIXTURES / "langsmith" / "tracer_runs.jsonl").write_text(run_lines())
