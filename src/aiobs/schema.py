"""The canonical event and request tables, written down once.

Every format adapter produces the event table; `reconstruct` turns it into the
request table; every metric and renderer reads these two shapes.
docs/schema.md is generated from the field lists below (see
`tests/test_schema.py`, which fails when the doc and this module disagree).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: Pipeline stages, in the order a RAG request usually runs them. `gateway` is
#: the root event that wraps the whole request; the others are its children.
STAGES: tuple[str, ...] = ("gateway", "embedding", "retrieval", "rerank", "llm", "tool", "other")
CHILD_STAGES: tuple[str, ...] = STAGES[1:]

Stage = pl.Enum(list(STAGES))
UTC_TIME = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Field:
    name: str
    dtype: pl.DataType
    unit: str
    required: bool
    doc: str


EVENT_FIELDS: tuple[Field, ...] = (
    Field("source", pl.String(), "", True, "File (or s3:// object, or `-`) the event was read from."),
    Field("line", pl.Int64(), "", True, "1-based line number of the event in its source."),
    Field("correlation_id", pl.String(), "", True, "Groups events into one request (request_id, trace_id, ...)."),
    Field("event_id", pl.String(), "", False, "Identifier of this event (span id); used for parents and duplicates."),
    Field("parent_id", pl.String(), "", False, "event_id of the enclosing event, when the log records one."),
    Field("event", pl.String(), "", False, "The event's own name as logged (`gateway`, `llm`, `vector_search`, ...)."),
    Field("stage", Stage, "", True, "Pipeline stage derived from `event`: " + ", ".join(STAGES) + "."),
    Field("is_root", pl.Boolean(), "", True, "True for the event that spans the whole request (gateway or root span)."),
    Field("start", UTC_TIME, "UTC, microseconds", False, "When the event started."),
    Field("duration_ms", pl.Float64(), "milliseconds", False, "How long the event took. Null when not logged."),
    Field("ttft_ms", pl.Float64(), "milliseconds", False, "Time to first token of a streamed LLM call."),
    Field("model", pl.String(), "", False, "Model name as logged (provider prefixes such as `openai/` kept)."),
    Field("provider", pl.String(), "", False, "Provider (openai, anthropic, google, ...), when logged."),
    Field("route", pl.String(), "", False, "Application route or feature (`/chat`, `/rag/answer`)."),
    Field("user", pl.String(), "", False, "User or tenant identifier."),
    Field("is_error", pl.Boolean(), "", True, "The event failed (status error, HTTP >= 400, or an error event)."),
    Field("error_type", pl.String(), "", False, "Error class or code, when logged."),
    Field(
        "error_rule",
        pl.String(),
        "",
        False,
        "Which convention marked the event failed: `status`, `http-status`, `level`, `error-field`, `event` "
        "(docs/formats.md), or `format` (the format's own status field); null when it did not fail.",
    ),
    Field("attempt", pl.Int64(), "", False, "1 for a first try, 2+ for retries."),
    Field("input_tokens", pl.Int64(), "tokens", False, "Prompt tokens, including cached ones."),
    Field("output_tokens", pl.Int64(), "tokens", False, "Completion tokens, including reasoning ones."),
    Field("cached_tokens", pl.Int64(), "tokens", False, "Prompt tokens served from the provider's cache."),
    Field(
        "cache_write_tokens",
        pl.Int64(),
        "tokens",
        False,
        "Prompt tokens written to the provider's cache (Anthropic's cache_creation_input_tokens), billed at "
        "the cache-write rate; included in input_tokens.",
    ),
    Field("reasoning_tokens", pl.Int64(), "tokens", False, "Completion tokens spent on hidden reasoning."),
    Field("logged_cost_usd", pl.Float64(), "US dollars", False, "Cost the application logged itself, if any."),
    Field("finish_reason", pl.String(), "", False, "Why generation stopped (`stop`, `length`, `tool_calls`)."),
    Field("input_text", pl.String(), "", False, "The prompt or input as text (messages joined), when logged."),
    Field("output_text", pl.String(), "", False, "The completion or output as text, when logged."),
    Field("response_format", pl.String(), "", False, "Output format asked for (`json_object`, `json_schema`)."),
    Field("max_tokens", pl.Int64(), "tokens", False, "The output token limit the call asked for."),
    Field("context_text", pl.String(), "", False, "Documents a retrieval or rerank step returned, as text."),
    Field("feedback_score", pl.Float64(), "0 to 1", False, "User feedback on the request (thumbs up 1, down 0)."),
    Field(
        "phase",
        pl.String(),
        "",
        False,
        "`start` or `end` on a record that marks only one end of an event logged as two lines (LangChain's "
        "`on_llm_start` / `on_llm_end`): merged with its partner (same event_id) before requests are rebuilt.",
    ),
    Field(
        "detail_of",
        pl.String(),
        "",
        False,
        "Set on a record that only adds details (messages) to another event, e.g. an OTLP log record: that "
        "event's event_id. Merged into it before requests are rebuilt; never an event of its own.",
    ),
)

REQUEST_FIELDS: tuple[Field, ...] = (
    Field("correlation_id", pl.String(), "", True, "The request's correlation ID."),
    Field("start", UTC_TIME, "UTC, microseconds", False, "Earliest start of its events."),
    Field("end", UTC_TIME, "UTC, microseconds", False, "Latest end (start + duration) of its events."),
    Field(
        "latency_ms",
        pl.Float64(),
        "milliseconds",
        False,
        "End-to-end latency: the root event's duration when present, else end - start over its events.",
    ),
    Field(
        "latency_from",
        pl.String(),
        "",
        False,
        "Where `latency_ms` comes from: `root` (the root event's duration), `events` (first start to last end "
        "of events with durations), `lines` (first to last timestamp of point events: no duration was logged), "
        "`longest` (the longest event's duration: the lines have no timestamps); null when it is unknown.",
    ),
    Field("has_root", pl.Boolean(), "", True, "A root (gateway) event was seen, or the request is a single event."),
    *(
        Field(f"{s}_ms", pl.Float64(), "milliseconds", False, f"Time spent in `{s}` events (sum of durations).")
        for s in CHILD_STAGES
    ),
    Field("ttft_ms", pl.Float64(), "milliseconds", False, "Time to first token of the first streamed LLM call."),
    Field("input_tokens", pl.Int64(), "tokens", False, "Sum over events; null when no event logged it."),
    Field("output_tokens", pl.Int64(), "tokens", False, "Sum over events; null when no event logged it."),
    Field("cached_tokens", pl.Int64(), "tokens", False, "Sum over events; null when no event logged it."),
    Field("cache_write_tokens", pl.Int64(), "tokens", False, "Sum over events; null when no event logged it."),
    Field("reasoning_tokens", pl.Int64(), "tokens", False, "Sum over events; null when no event logged it."),
    Field("llm_output_ms", pl.Float64(), "milliseconds", False, "Time of the LLM calls that logged output tokens."),
    Field("cost_usd", pl.Float64(), "US dollars", False, "Cost priced by aiobs; null when no event could be priced."),
    Field("logged_cost_usd", pl.Float64(), "US dollars", False, "Sum of costs the application logged."),
    Field("model", pl.String(), "", False, "The model of the request's last LLM call (else of any event)."),
    Field("models", pl.List(pl.String()), "", True, "Every distinct model the request used, sorted."),
    Field("provider", pl.String(), "", False, "Provider of `model`, when logged."),
    Field("route", pl.String(), "", False, "Route of the root event (else of any event)."),
    Field("user", pl.String(), "", False, "User or tenant of the request."),
    Field(
        "is_error",
        pl.Boolean(),
        "",
        True,
        "The root event failed, or an event failed with no later attempt (a retry that succeeded recovers it).",
    ),
    Field(
        "error_rule",
        pl.String(),
        "",
        False,
        "The convention that marked the request failed (the `error_rule` of its failing event); null if it did not.",
    ),
    Field("retries", pl.Int64(), "", True, "Events that were retries (attempt > 1)."),
    Field(
        "input_text", pl.String(), "", False, "Input of the first LLM call (else of the first event that logged one)."
    ),
    Field("output_text", pl.String(), "", False, "Output of the last LLM call that logged one."),
    Field("context_text", pl.String(), "", False, "Context of the last retrieval or rerank step that logged one."),
    Field("finish_reason", pl.String(), "", False, "Finish reason of the last LLM call that logged one."),
    Field("response_format", pl.String(), "", False, "Output format the last LLM call asked for."),
    Field("max_tokens", pl.Int64(), "tokens", False, "Output token limit of the last LLM call that logged one."),
    Field("feedback_score", pl.Float64(), "0 to 1", False, "Mean of the request's feedback events; null without any."),
    Field("n_events", pl.Int64(), "", True, "Number of events after de-duplication."),
    Field("skewed_events", pl.Int64(), "", True, "Child events that start before, or end after, their root event."),
)


def schema_of(fields: tuple[Field, ...]) -> pl.Schema:
    return pl.Schema({f.name: f.dtype for f in fields})


EVENT_SCHEMA = schema_of(EVENT_FIELDS)
REQUEST_SCHEMA = schema_of(REQUEST_FIELDS)


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def conform_events(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Select the event columns in order with their canonical types, adding missing ones as null."""
    lf = frame.lazy()
    have = set(lf.collect_schema().names())
    return lf.select(
        (pl.col(name) if name in have else pl.lit(None)).cast(dtype).alias(name) for name, dtype in EVENT_SCHEMA.items()
    )


def markdown_table(fields: tuple[Field, ...]) -> str:
    """The field table docs/schema.md shows (a test keeps the doc in step with this module)."""
    rows = ["| field | type | unit | required | meaning |", "|---|---|---|---|---|"]
    for f in fields:
        dtype = "enum" if isinstance(f.dtype, pl.Enum) else str(f.dtype)
        rows.append(f"| `{f.name}` | {dtype} | {f.unit} | {'yes' if f.required else 'no'} | {f.doc} |")
    return "\n".join(rows)


def refresh_schema_doc(text: str) -> str:
    """docs/schema.md with its two field tables regenerated (`python -m aiobs.schema docs/schema.md`)."""
    tables = iter((markdown_table(EVENT_FIELDS), markdown_table(REQUEST_FIELDS)))
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        table = next(tables, None) if lines[i].startswith("| field | type | unit | required | meaning |") else None
        if table is not None:  # the first two such tables are ours; later ones (the native format) are prose
            out.append(table)
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    doc = Path(sys.argv[1])
    doc.write_text(refresh_schema_doc(doc.read_text(encoding="utf-8")), encoding="utf-8")
