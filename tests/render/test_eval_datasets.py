"""`outliers --format deepeval|ragas|langsmith`: the misbehaving requests as each tool's dataset, private."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from langsmith.schemas import ExampleCreate
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
ARGS = ["outliers", str(SAMPLES), "--flag", "pii_in_input", "--p", "0", "--limit", "5"]

TEXT_OR_NULL = {"type": ["string", "null"]}
#: DeepEval's Golden, as its JSON dataset files hold them (deepeval.dataset.golden.Golden).
DEEPEVAL_GOLDEN = {
    "type": "object",
    "required": ["input", "actual_output", "expected_output", "retrieval_context", "additional_metadata"],
    "properties": {
        "input": {"type": "string"},
        "actual_output": TEXT_OR_NULL,
        "expected_output": TEXT_OR_NULL,
        "retrieval_context": {"type": ["array", "null"], "items": {"type": "string"}},
        "additional_metadata": {"type": "object"},
    },
}
#: Ragas' SingleTurnSample (ragas.dataset_schema): no field beyond these is accepted.
RAGAS_SAMPLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["user_input", "response", "retrieved_contexts"],
    "properties": {
        "user_input": {"type": "string"},
        "response": TEXT_OR_NULL,
        "retrieved_contexts": {"type": "array", "items": {"type": "string"}},
        "reference": TEXT_OR_NULL,
    },
}


def dataset(kind: str, *extra: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, [*ARGS, "--format", kind, *extra])
    assert result.exit_code == 0, result.output
    if kind == "deepeval":
        records: list[dict[str, Any]] = orjson.loads(result.stdout)
        return records
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def outlier_ids() -> list[str]:
    result = CliRunner().invoke(app, [*ARGS, "--format", "json"])
    return [row["correlation_id"] for row in orjson.loads(result.stdout)["outliers"]]


@pytest.mark.parametrize("kind", ["deepeval", "ragas", "langsmith"])
def test_each_format_holds_the_outliers_in_its_tools_shape(kind: str) -> None:
    records = dataset(kind)
    ids = outlier_ids()
    assert len(records) == len(ids) == 5
    for record in records:
        if kind == "deepeval":
            jsonschema.validate(record, DEEPEVAL_GOLDEN)
            assert record["additional_metadata"]["correlation_id"] in ids
        elif kind == "ragas":
            jsonschema.validate(record, RAGAS_SAMPLE)
        else:
            # The LangSmith SDK's own model. Its `outputs` (the key of dataset JSONL uploads) is deprecated in
            # favour of `reference_outputs` in the SDK's newest classes, and still read as such.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                example = ExampleCreate.model_validate(record)
            assert example.reference_outputs == record["outputs"]
            assert record["metadata"]["correlation_id"] in ids and "pii_in_input" in record["metadata"]["flags"]


def test_texts_are_redacted_unless_asked() -> None:
    redacted = " ".join(r["user_input"] for r in dataset("ragas"))
    raw = " ".join(r["user_input"] for r in dataset("ragas", "--no-redact"))
    assert "[" in redacted and redacted != raw  # each of these inputs holds PII: all of it is replaced
    assert any(marker in redacted for marker in ("[email]", "[phone]", "[ip]", "[card]", "[iban]"))


def test_retrieved_documents_are_a_list_of_texts() -> None:
    contexts = [r["retrieved_contexts"] for r in dataset("ragas")]
    assert any(len(c) > 1 for c in contexts)  # a JSON list of documents in the log: one entry each
    assert all(not c or not c[0].startswith("[") for c in contexts)
