"""The JSON documents' records as types: what docs/json-output.md describes, checked by mypy.

`aiobs.summary/1` (`SummaryRecord`), `aiobs.outliers/1` (`OutliersRecord`) and `aiobs.trace/1`
(`TraceRecord`). They are TypedDicts, not dataclasses: the records are written as JSON as they are, and
every renderer (terminal, Markdown, CSV, the report) reads them by key. Values that the document leaves
null when the logs cannot say are `| None`. tests/views/test_record_types.py holds every level's keys to
the real documents.
"""

from __future__ import annotations

from typing import Any, TypedDict

# `p99.9` is not an identifier: the percentile records use the functional form.
LatencyRecord = TypedDict(
    "LatencyRecord",
    {
        "p50": float | None,
        "p90": float | None,
        "p95": float | None,
        "p99": float | None,
        "p99.9": float | None,
        "max": float | None,
        "mean": float | None,
        "n": int,
        "thin": list[str],
    },
)


class TtftRecord(TypedDict):
    p50: float | None
    p95: float | None
    p99: float | None
    n: int | None


class TokensRecord(TypedDict):
    input: int | None
    output: int | None
    cached: int | None
    reasoning: int | None


class FeedbackRecord(TypedDict):
    requests: int
    accepted: int
    acceptance_rate: float | None
    mean_score: float | None


class FlagRecord(TypedDict):
    applicable: int
    flagged: int
    rate: float | None
    cost_usd: float | None


class MetricsRecord(TypedDict):
    """One row of metrics: overall, or one group's (`GroupRecord` adds its key)."""

    requests: int
    errors: int
    error_rate: float | None
    retries: int
    latency_ms: LatencyRecord
    ttft_ms: TtftRecord
    output_tokens_per_s: float | None
    tokens: TokensRecord
    cost_usd: float | None
    cost_per_1k_requests: float | None
    priced_requests: int
    logged_cost_usd: float | None
    logged_cost_requests: int
    first_start: str | None
    last_start: str | None
    feedback: FeedbackRecord
    flags: dict[str, FlagRecord]


class GroupRecord(MetricsRecord):
    #: The group's values, by key name (`model`, `route`, `time`...); null for requests without one.
    key: dict[str, Any]


class SpendRecord(TypedDict):
    model: str | None
    stages: list[str]
    calls: int
    tokens: dict[str, int | None]
    cost_usd: float | None
    unpriced_calls: int


class IssueExample(TypedDict):
    source: str
    line: int | None
    message: str


class IssueKindRecord(TypedDict):
    code: str
    title: str
    count: int
    informational: bool
    examples: list[IssueExample]


class InputQualityRecord(TypedDict):
    problems: int
    by_kind: list[IssueKindRecord]


class FiltersRecord(TypedDict):
    since: str | None
    until: str | None
    every: str | None
    where: str | None


class QualityRecord(TypedDict):
    flags: list[str]
    by: dict[str, list[GroupRecord]]


class SummaryRecord(TypedDict):
    """The `aiobs.summary/1` document, without `profiles` (records.document_record adds them)."""

    schema: str
    aiobs_version: str
    generated_at: str | None
    inputs: list[str]
    filters: FiltersRecord
    events: int
    bytes_read: int
    price_data: str
    overall: MetricsRecord
    groups: dict[str, list[GroupRecord]]
    quality: QualityRecord
    unpriced_models: list[dict[str, Any]]
    cost_check: list[dict[str, Any]]
    errors_by_rule: list[dict[str, Any]]
    spend_by_model_per_call: list[SpendRecord]
    input_quality: InputQualityRecord


# `aiobs.outliers/1` (views/outlier_records.py)


class OutlierQueryRecord(TypedDict):
    p: float
    metric: str
    per: str | None
    flag: str | None
    #: At most this many (per group with `per`); null for no limit (`OutlierQuery(limit=None)`).
    limit: int | None


class OutlierRecord(TypedDict):
    """One request above the percentile, worst first (within its `per` group)."""

    rank: int
    correlation_id: str
    value: float | None
    threshold: float | None
    start: str | None
    latency_ms: float | None
    #: Timed stages only: `{"llm": 812.0, "retrieval": 95.5}`.
    stages_ms: dict[str, float]
    slowest_stage: str | None
    ttft_ms: float | None
    tokens: TokensRecord
    cost_usd: float | None
    model: str | None
    provider: str | None
    route: str | None
    user: str | None
    is_error: bool
    flags: list[str]
    input_snippet: str | None
    output_snippet: str | None


class TailStageRecord(TypedDict):
    """One stage's share of the time, over all requests and over those above the percentile."""

    stage: str
    share_all: float | None
    share_tail: float | None
    ms_all: float | None
    ms_tail: float | None


class OutliersRecord(TypedDict):
    """The `aiobs.outliers/1` document."""

    schema: str
    aiobs_version: str
    inputs: list[str]
    query: OutlierQueryRecord
    population: int
    outliers: list[OutlierRecord]
    tail_attribution: list[TailStageRecord]
    tail_requests: int
    tail_sentence: str
    input_quality: InputQualityRecord
    redacted: bool


# `aiobs.trace/1` (views/trace_records.py)


class TraceRowRecord(TypedDict):
    """A request's row of the request table (docs/schema.md), as the trace shows it: its columns, then
    `context_utilisation`, one `flag_<name>` column per quality flag rated (not typed here: the flags are
    configurable) and `flags`, the names of those it raised."""

    correlation_id: str
    start: str | None
    end: str | None
    latency_ms: float | None
    latency_from: str | None
    has_root: bool | None
    embedding_ms: float | None
    retrieval_ms: float | None
    rerank_ms: float | None
    llm_ms: float | None
    tool_ms: float | None
    other_ms: float | None
    ttft_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cache_write_tokens: int | None
    reasoning_tokens: int | None
    llm_output_ms: float | None
    cost_usd: float | None
    logged_cost_usd: float | None
    model: str | None
    models: list[str]
    provider: str | None
    route: str | None
    user: str | None
    is_error: bool
    error_rule: str | None
    retries: int
    input_text: str | None
    output_text: str | None
    context_text: str | None
    finish_reason: str | None
    response_format: str | None
    max_tokens: int | None
    feedback_score: float | None
    n_events: int
    skewed_events: int
    context_utilisation: float | None
    flags: list[str]


class TraceDetailRecord(TypedDict, total=False):
    """What an event logged (`aiobs.trace.DETAIL_COLUMNS`): a key is there only when the event has a value."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_usd: float
    ttft_ms: float
    attempt: int
    finish_reason: str
    error_type: str
    feedback_score: float


class TraceEventRecord(TraceDetailRecord):
    """One event of the request's tree, in tree order (`depth` 0 for a root), with what it logged."""

    depth: int
    event: str
    stage: str
    start_offset_ms: float | None
    duration_ms: float | None
    model: str | None
    is_error: bool
    source: str
    line: int
    #: A feedback event without a duration: it annotates the request, outside its timeline.
    annotation: bool


class TraceRequestRecord(TypedDict):
    request: TraceRowRecord
    events: list[TraceEventRecord]


class TraceRecord(TypedDict):
    """The `aiobs.trace/1` document."""

    schema: str
    requests: list[TraceRequestRecord]
