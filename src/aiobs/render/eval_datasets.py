"""`aiobs outliers --format deepeval|ragas|langsmith`: the requests that misbehaved, as an eval dataset.

A team re-runs its evaluations on exactly the requests that went wrong in production. Each request
gives its input, its answer and its retrieved context, written in the tool's own dataset shape:

- `deepeval`: a JSON array of goldens, as `EvaluationDataset.add_goldens_from_json_file` reads them:
  `input`, `actual_output`, `expected_output`, `retrieval_context`, `additional_metadata`.
- `ragas`: JSON Lines of single-turn samples, as `EvaluationDataset.from_jsonl` reads them:
  `user_input`, `response`, `retrieved_contexts`, `reference`.
- `langsmith`: JSON Lines of examples, as a dataset's JSONL upload and `Client.create_examples` take
  them: `inputs.question`, `outputs.answer`, `metadata`.

The rows come private from `aiobs.views.outlier_records.eval_requests` (redacted by default;
`--no-redact`). aiobs's logs carry no expected answer, so `expected_output` and `reference` are null.
The metadata (correlation ID, model, route, user, latency, the flags raised) goes where the format has
a place for it; Ragas samples have none.
"""

from __future__ import annotations

from typing import Any

import orjson
import polars as pl

from aiobs.escape import json_text

EVAL_FORMATS = ("deepeval", "ragas", "langsmith")


def render_eval_dataset(requests: pl.DataFrame, kind: str) -> str:
    """The outlier requests (`eval_requests`: rows of the request table, private) as `kind`'s dataset file."""
    records = [_record(row, kind) for row in requests.iter_rows(named=True)]
    if kind == "deepeval":
        return json_text(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode()) + "\n"
    return "".join(json_text(orjson.dumps(record).decode()) + "\n" for record in records)


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "correlation_id": row["correlation_id"],
        "model": row.get("model"),
        "route": row.get("route"),
        "user": row.get("user"),
        "latency_ms": row.get("latency_ms"),
        "is_error": row.get("is_error"),
        "flags": row.get("flags") or [],
        "source": "aiobs outliers",
    }


def _record(row: dict[str, Any], kind: str) -> dict[str, Any]:
    contexts = _contexts(row.get("context_text"))
    if kind == "deepeval":
        return {
            "input": row.get("input_text") or "",
            "actual_output": row.get("output_text"),
            "expected_output": None,
            "retrieval_context": contexts or None,
            "additional_metadata": _metadata(row),
        }
    if kind == "ragas":
        return {
            "user_input": row.get("input_text") or "",
            "response": row.get("output_text"),
            "retrieved_contexts": contexts,
            "reference": None,
        }
    return {
        "inputs": {"question": row.get("input_text") or ""},
        "outputs": {"answer": row.get("output_text")},
        "metadata": _metadata(row),
    }


def _contexts(text: str | None) -> list[str]:
    """The retrieved documents: a JSON list of texts when the log gave one (most do), else the one text."""
    if not text:
        return []
    if text.startswith("["):
        try:
            documents = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [text]
        if isinstance(documents, list) and all(isinstance(d, str) for d in documents):
            return documents
    return [text]
