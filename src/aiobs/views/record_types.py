"""The `aiobs.summary/1` document's records as types: what docs/json-output.md describes, checked by mypy.

They are TypedDicts, not dataclasses: the records are written as JSON as they are, and every renderer
(terminal, Markdown, CSV, the report) reads them by key. Values that the document leaves null when the
logs cannot say are `| None`.
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
