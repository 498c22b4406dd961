"""LangChain / LangGraph callback events and LangSmith runs -> canonical events; the run tree is the request.

**`langsmith`: runs**, one JSON object per run, as LangSmith exports them (`client.list_runs`, the UI's
export) and as a LangChain tracer's `Run.dict()` writes them: `id`, `trace_id`, `parent_run_id`, `name`,
`run_type` (llm, chain, tool, retriever, embedding, prompt, parser), `start_time` / `end_time` (ISO,
naive means UTC), `status`, `error`, `prompt_tokens` / `completion_tokens`, `total_cost`,
`first_token_time`, `extra.metadata.ls_model_name` / `ls_provider`, `extra.invocation_params`,
`inputs`, `outputs`.

**`langchain`: callback events**, one JSON object per callback, each with the callback's name as `event`
(`on_chain_start`, `on_chat_model_start`, `on_llm_end`, `on_tool_error`, ...), its timestamp (`ts`,
`timestamp` or `time`), and its arguments as LangChain names them: `run_id`, `parent_run_id`, `name`,
`serialized`, `metadata`, `invocation_params`, `inputs` / `outputs`, `prompts` / `messages`, `response` (the
`LLMResult`: `llm_output.token_usage`, `generations[0][0].message.usage_metadata`), `error`. docs/formats.md
shows a 20-line handler that writes them. LangGraph's `astream_events` lines (`parent_ids`, root first)
read the same way. A run is logged twice (start and end): each half is an event with `phase`, and
`aiobs.formats.details.merge_phases` joins them, so the run lasts from its start line to its end line.

In both, the root run (no parent) is the request and child runs are its stages (llm, tool, retrieval, ...).
Lines only name their parent, so the request of each run is found after the whole input is read
(`aiobs.formats.run_tree`); `resolves_tree` tells the reader to keep runs without a correlation ID for it.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import finish, first_present, json_field, ms_between, nonempty, timestamp
from aiobs.formats.providers import normalize_provider
from aiobs.formats.text import message_text

_S = pl.String()

#: run_type (LangSmith) or callback kind -> stage; a root chain is the request's gateway.
_STAGE_OF_RUN = {"llm": "llm", "chat_model": "llm", "tool": "tool", "retriever": "retrieval", "embedding": "embedding"}


def _stage(kind: pl.Expr, is_root: pl.Expr) -> pl.Expr:
    named = kind.replace_strict(_STAGE_OF_RUN, default=None, return_dtype=pl.String)
    return pl.when(is_root).then(pl.lit("gateway")).otherwise(named.fill_null("other"))


def _error_type(error: pl.Expr) -> pl.Expr:
    """`RateLimitError('429 ...')` or `RateLimitError: 429 ...` -> RateLimitError; else the first line."""
    text = nonempty(error)
    return pl.coalesce(text.str.extract(r"^([A-Za-z_][\w.]*)\s*[(:]", 1), text.str.split("\n").list.first())


class LangSmithRunAdapter:
    name = "langsmith"
    resolves_tree = True
    FIELDS = (
        "id", "trace_id", "parent_run_id", "name", "run_type", "start_time", "end_time", "status", "error",
        "prompt_tokens", "completion_tokens", "total_cost", "first_token_time", "extra", "inputs", "outputs",
    )  # fmt: skip
    SCHEMA = pl.Schema(dict.fromkeys(FIELDS, _S))

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=self.SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        return finish(_runs(raw.lazy().with_columns(source=pl.lit(source))))


#: Where a tracer's LLM run keeps its answer: the message serialized with LangChain's `dumpd`.
_MESSAGE = "$.generations[0][0].message.kwargs"


def _runs(frame: pl.LazyFrame) -> pl.LazyFrame:
    extra, outputs = pl.col("extra"), pl.col("outputs")
    run_id, parent = nonempty(pl.col("id")), nonempty(pl.col("parent_run_id"))
    is_root = parent.is_null()
    start, end = timestamp(pl.col("start_time")), timestamp(pl.col("end_time"))
    status = nonempty(pl.col("status")).str.to_lowercase()
    is_error = (status == "error").fill_null(False) | nonempty(pl.col("error")).is_not_null()
    return frame.select(
        "source",
        "line",
        correlation_id=pl.coalesce(nonempty(pl.col("trace_id")), pl.when(is_root).then(run_id)),
        event_id=run_id,
        parent_id=parent,
        event=nonempty(pl.col("name")),
        stage=_stage(nonempty(pl.col("run_type")).str.to_lowercase(), is_root),
        is_root=is_root,
        _raw_start=nonempty(pl.col("start_time")),
        duration_ms=ms_between(start, end),
        ttft_ms=ms_between(start, timestamp(pl.col("first_token_time"))),
        model=first_present(
            json_field(extra, "$.metadata.ls_model_name"),
            json_field(extra, "$.invocation_params.model_name"),
            json_field(extra, "$.invocation_params.model"),
            json_field(outputs, f"{_MESSAGE}.response_metadata.model_name"),
        ),
        provider=normalize_provider(json_field(extra, "$.metadata.ls_provider")),
        is_error=is_error,
        error_type=pl.when(is_error).then(pl.coalesce(_error_type(pl.col("error")), status)),
        _raw_input_tokens=first_present(
            pl.col("prompt_tokens"),
            json_field(outputs, "$.llm_output.token_usage.prompt_tokens"),
            json_field(outputs, f"{_MESSAGE}.usage_metadata.input_tokens"),
        ),
        _raw_output_tokens=first_present(
            pl.col("completion_tokens"),
            json_field(outputs, "$.llm_output.token_usage.completion_tokens"),
            json_field(outputs, f"{_MESSAGE}.usage_metadata.output_tokens"),
        ),
        _raw_cached_tokens=json_field(outputs, f"{_MESSAGE}.usage_metadata.input_token_details.cache_read"),
        _raw_logged_cost_usd=nonempty(pl.col("total_cost")),
        input_text=message_text(pl.col("inputs")),
        output_text=message_text(outputs),
    )


class LangChainCallbackAdapter:
    name = "langchain"
    resolves_tree = True
    FIELDS = (
        "event", "run_id", "parent_run_id", "parent_ids", "ts", "timestamp", "time", "name", "serialized",
        "metadata", "invocation_params", "inputs", "outputs", "prompts", "messages", "response", "error",
        "usage_metadata", "response_metadata", "llm_output", "data",
    )  # fmt: skip
    SCHEMA = pl.Schema(dict.fromkeys(FIELDS, _S))

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        return pl.scan_ndjson(data, schema=self.SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        return finish(_callbacks(raw.lazy().with_columns(source=pl.lit(source))))


#: Callback name -> kind of run (the middle of `on_<kind>_<start|end|error>`).
_CALLBACK = r"^on_(chain|chat_model|llm|tool|retriever|embedding)_(start|end|error)$"


def _callbacks(frame: pl.LazyFrame) -> pl.LazyFrame:
    event = nonempty(pl.col("event"))
    kind, half = event.str.extract(_CALLBACK, 1), event.str.extract(_CALLBACK, 2)
    response, metadata, params = pl.col("response"), pl.col("metadata"), pl.col("invocation_params")
    usage = pl.coalesce(pl.col("usage_metadata"), json_field(response, "$.generations[0][0].message.usage_metadata"))
    token_usage = pl.coalesce(
        json_field(response, "$.llm_output.token_usage"), json_field(pl.col("llm_output"), "$.token_usage")
    )
    parent = nonempty(pl.col("parent_run_id"))
    root_of_path = json_field(pl.col("parent_ids"), "$[0]")  # LangGraph astream_events: ancestors, root first
    is_root = parent.is_null() & root_of_path.is_null()
    run_id = nonempty(pl.col("run_id"))
    is_error = (half == "error").fill_null(False)
    return frame.select(
        "source",
        "line",
        correlation_id=pl.coalesce(root_of_path, pl.when(is_root).then(run_id)),
        event_id=run_id,
        parent_id=pl.coalesce(parent, pl.col("parent_ids").str.extract(r'"([^"]*)"\s*\]\s*$', 1)),
        event=first_present(pl.col("name"), json_field(pl.col("serialized"), "$.name")),
        stage=_stage(kind, is_root),
        is_root=is_root,
        phase=pl.when(half == "start").then(pl.lit("start")).when(half.is_not_null()).then(pl.lit("end")),
        _raw_start=first_present(pl.col("ts"), pl.col("timestamp"), pl.col("time")),
        model=first_present(
            json_field(metadata, "$.ls_model_name"),
            json_field(params, "$.model_name"),
            json_field(params, "$.model"),
            json_field(response, "$.llm_output.model_name"),
            json_field(response, "$.generations[0][0].message.response_metadata.model_name"),
            json_field(pl.col("response_metadata"), "$.model_name"),
        ),
        provider=normalize_provider(json_field(metadata, "$.ls_provider")),
        is_error=is_error,
        error_type=pl.when(is_error).then(_error_type(pl.col("error"))),
        _raw_input_tokens=first_present(
            json_field(token_usage, "$.prompt_tokens"), json_field(usage, "$.input_tokens")
        ),
        _raw_output_tokens=first_present(
            json_field(token_usage, "$.completion_tokens"), json_field(usage, "$.output_tokens")
        ),
        _raw_cached_tokens=first_present(
            json_field(usage, "$.input_token_details.cache_read"),
            json_field(token_usage, "$.prompt_tokens_details.cached_tokens"),
        ),
        _raw_reasoning_tokens=first_present(
            json_field(usage, "$.output_token_details.reasoning"),
            json_field(token_usage, "$.completion_tokens_details.reasoning_tokens"),
        ),
        finish_reason=json_field(response, "$.generations[0][0].generation_info.finish_reason"),
        input_text=pl.coalesce(
            message_text(pl.col("messages")), message_text(pl.col("prompts")), message_text(pl.col("inputs"))
        ),
        output_text=pl.coalesce(json_field(response, "$.generations[0][0].text"), message_text(pl.col("outputs"))),
        _drop=pl.when(half.is_null()).then(pl.lit("skipped-record")),
        _drop_message=pl.concat_str(pl.lit("callback "), event, pl.lit(" is not a run's start or end")),
    )
