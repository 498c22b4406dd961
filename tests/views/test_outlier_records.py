"""The `aiobs.outliers/1` TypedDicts (views/record_types.py) name exactly the keys `aiobs outliers --format
json` writes (views/outlier_records.py), at every level."""

from __future__ import annotations

from typing import Any

from record_helpers import SAMPLE, cli_json, keys_of

from aiobs.views.record_types import (
    InputQualityRecord,
    IssueExample,
    IssueKindRecord,
    OutlierQueryRecord,
    OutlierRecord,
    OutliersRecord,
    TailStageRecord,
    TokensRecord,
)


def document(*args: str) -> dict[str, Any]:
    return cli_json("outliers", SAMPLE, *args)


def test_every_level_of_the_document_has_the_keys_its_type_names() -> None:
    doc = document("--per", "model", "--limit", "2")
    assert set(doc) == keys_of(OutliersRecord)
    assert set(doc["query"]) == keys_of(OutlierQueryRecord)
    outliers = doc["outliers"]
    assert len(outliers) > 2 and all(set(o) == keys_of(OutlierRecord) for o in outliers)
    assert all(set(o["tokens"]) == keys_of(TokensRecord) for o in outliers)
    tail = doc["tail_attribution"]
    assert tail and all(set(stage) == keys_of(TailStageRecord) for stage in tail)
    quality = doc["input_quality"]
    assert set(quality) == keys_of(InputQualityRecord)
    assert quality["by_kind"] and all(set(kind) == keys_of(IssueKindRecord) for kind in quality["by_kind"])
    examples = [example for kind in quality["by_kind"] for example in kind["examples"]]
    assert examples and all(set(example) == keys_of(IssueExample) for example in examples)
