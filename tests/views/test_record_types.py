"""The TypedDicts of views/record_types.py name exactly the keys the JSON document has, at every level."""

from __future__ import annotations

from typing import Any

from record_helpers import SAMPLE, cli_json, keys_of

from aiobs.views.record_types import (
    FeedbackRecord,
    FlagRecord,
    GroupRecord,
    InputQualityRecord,
    IssueExample,
    IssueKindRecord,
    LatencyRecord,
    MetricsRecord,
    SpendRecord,
    SummaryRecord,
    TokensRecord,
    TtftRecord,
)


def document() -> dict[str, Any]:
    return cli_json("summarize", SAMPLE, "--by", "model")


def test_every_level_of_the_document_has_the_keys_its_type_names() -> None:
    doc = document()
    assert set(doc) - {"profiles"} == keys_of(SummaryRecord)
    metrics = doc["overall"]
    assert set(metrics) == keys_of(MetricsRecord)
    assert set(metrics["latency_ms"]) == keys_of(LatencyRecord)
    assert set(metrics["ttft_ms"]) == keys_of(TtftRecord)
    assert set(metrics["tokens"]) == keys_of(TokensRecord)
    assert set(metrics["feedback"]) == keys_of(FeedbackRecord)
    assert metrics["flags"] and all(set(flag) == keys_of(FlagRecord) for flag in metrics["flags"].values())
    groups = doc["groups"]["model"] + doc["quality"]["by"]["route"]
    assert groups and all(set(group) == keys_of(GroupRecord) for group in groups)
    assert all(set(spend) == keys_of(SpendRecord) for spend in doc["spend_by_model_per_call"])
    quality = doc["input_quality"]
    assert set(quality) == keys_of(InputQualityRecord)
    assert all(set(kind) == keys_of(IssueKindRecord) for kind in quality["by_kind"])
    assert all(set(example) == keys_of(IssueExample) for kind in quality["by_kind"] for example in kind["examples"])
