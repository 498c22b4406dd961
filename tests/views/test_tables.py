"""Table specs (aiobs.views) on small logs, checked against values computed here from the raw rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from aiobs.views.cost import summary_cost_check, unpriced_table
from aiobs.views.groups import REQUEST_ONLY, STAGE_NOTE, group_table
from aiobs.views.records import summary_record
from aiobs.views.tables import ColumnSpec, Rough, TableSpec, table
from conftest import WriteJsonl

#: Per model: request latencies (ms) and which requests failed. Of 40 requests, 20 lie above p50 (not
#: rough) and 2 above p95 (rough); of 12, even p50 has only 6 above it (rough).
LATENCIES = {
    "gpt-4o-mini": [100.0 + 37.0 * ((i * 13) % 40) for i in range(40)],
    "gpt-4o": [900.0 + 211.0 * ((i * 5) % 12) for i in range(12)],
}
FAILED = {"gpt-4o-mini": {3, 17}, "gpt-4o": {0, 1, 2}}


def _rows() -> list[dict[str, Any]]:
    rows = []
    for model, latencies in LATENCIES.items():
        for i, latency in enumerate(latencies):
            rows.append(
                {
                    "ts": f"2026-11-28T00:{len(rows) // 60:02d}:{len(rows) % 60:02d}Z",
                    "request_id": f"{model}-{i}",
                    "event": "llm",
                    "model": model,
                    "provider": "openai",
                    "status": "error" if i in FAILED[model] else "ok",
                    "input_tokens": 100 + i,
                    "output_tokens": 10 + i,
                    "latency_ms": latency,
                }
            )
    return rows


def _record(path: Path, by: list[str] | None = None) -> dict[str, Any]:
    return summary_record(summarize(expand_inputs([str(path)]), by=by))


def _by_model(spec: TableSpec, column: str) -> dict[str, Any]:
    return dict(zip(spec.column("model"), spec.column(column), strict=True))


def test_the_group_table_holds_each_models_figures(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    record = _record(write_jsonl(tmp_path / "a.jsonl", _rows()), by=["model"])
    spec = group_table("model", record["groups"]["model"])
    assert spec.title == "By model"
    assert set(spec.column("model")) == set(LATENCIES)
    assert _by_model(spec, "requests") == {m: len(v) for m, v in LATENCIES.items()}
    for model, rate in _by_model(spec, "error rate").items():
        assert rate == pytest.approx(len(FAILED[model]) / len(LATENCIES[model]))
    for p in (50, 95, 99):
        for model, cell in _by_model(spec, f"p{p} ms").items():
            value = cell.value if isinstance(cell, Rough) else cell
            assert value == pytest.approx(np.percentile(LATENCIES[model], p))  # numpy's linear interpolation
    for model, cell in _by_model(spec, "max ms").items():
        assert cell == max(LATENCIES[model])
    tokens_out = _by_model(spec, "tokens out")
    assert tokens_out == {m: sum(10 + i for i in range(len(v))) for m, v in LATENCIES.items()}


def test_a_percentile_from_few_requests_is_rough_and_one_from_many_is_not(
    tmp_path: Path, write_jsonl: WriteJsonl
) -> None:
    record = _record(write_jsonl(tmp_path / "a.jsonl", _rows()), by=["model"])
    spec = group_table("model", record["groups"]["model"])
    p50, p95 = _by_model(spec, "p50 ms"), _by_model(spec, "p95 ms")
    assert not isinstance(p50["gpt-4o-mini"], Rough)  # 20 of 40 requests above it
    assert isinstance(p95["gpt-4o-mini"], Rough)  # 2 above it
    assert isinstance(p50["gpt-4o"], Rough)  # 6 of 12 above it: fewer than 10


def test_a_stage_table_leaves_out_what_only_a_request_has(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    record = _record(write_jsonl(tmp_path / "a.jsonl", _rows()), by=["stage"])
    spec = group_table("stage", record["groups"]["stage"])
    assert not set(REQUEST_ONLY) & set(spec.names)
    assert spec.names[:3] == ["stage", "requests", "error rate"]
    assert spec.drop_order == ("p50 ms",)  # the dropped columns are no longer offered to drop
    assert spec.notes == (STAGE_NOTE,)  # its error rate is of whole requests, and it says so


def test_hidden_groups_are_counted_in_a_note(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    record = _record(write_jsonl(tmp_path / "a.jsonl", _rows()), by=["model"])
    spec = group_table("model", record["groups"]["model"][:1], hidden=1234)
    assert spec.notes == ("1,234 more models not shown.",)
    assert len(spec.rows) == 1


def test_the_unpriced_table_counts_events_and_tokens_of_models_without_a_price(
    tmp_path: Path, write_jsonl: WriteJsonl
) -> None:
    local = [
        {**row, "request_id": f"local-{i}", "model": "my-own-finetune-xyz", "provider": "vllm"}
        for i, row in enumerate(_rows()[:5])
    ]
    record = _record(write_jsonl(tmp_path / "a.jsonl", [*_rows(), *local]))
    spec = unpriced_table(record["unpriced_models"])
    assert spec.names == ["model", "provider", "events", "tokens in", "tokens out"]
    tokens_in = sum(r["input_tokens"] for r in local)
    assert spec.rows == (("my-own-finetune-xyz", "vllm", 5, tokens_in, 10 + 11 + 12 + 13 + 14),)


def test_the_cost_check_compares_what_was_logged_and_says_on_how_many_requests(
    tmp_path: Path, write_jsonl: WriteJsonl
) -> None:
    rows = _rows()
    logged = {i: 0.001 * (i + 1) for i in range(0, 40, 4)}  # 10 gpt-4o-mini requests log their cost
    for i, cost in logged.items():
        rows[i]["cost_usd"] = cost
    rows.append({**rows[0], "request_id": "local", "model": "my-own-finetune-xyz", "cost_usd": 0.5})
    record = _record(write_jsonl(tmp_path / "a.jsonl", rows))
    spec = summary_cost_check(record)
    ((model, requests, logged_usd, priced_usd, difference),) = spec.rows
    assert (model, requests) == ("gpt-4o-mini", 10)
    assert logged_usd == pytest.approx(sum(logged.values()))
    assert difference == pytest.approx(logged_usd - priced_usd)
    assert spec.notes == (
        "Compared on the 10 of 53 requests with both a logged and a priced cost; "
        "1 more logged a cost aiobs could not price.",
    )


def test_a_row_must_have_a_cell_per_column() -> None:
    with pytest.raises(ValueError, match="2 cells for 1 columns"):
        table("t", [ColumnSpec("a", "count")], [[1, 2]])


def test_compact_and_keep_take_cells_with_their_columns() -> None:
    spec = table(
        "t",
        [ColumnSpec("a", "label"), ColumnSpec("b", "count", compact=False), ColumnSpec("c", "usd", short="C")],
        [["x", 1, 2.0], ["y", 3, None]],
        drop_order=["b", "c"],
    )
    compact = spec.compact()
    assert compact.names == ["a", "c"]
    assert compact.rows == (("x", 2.0), ("y", None))
    assert compact.drop_order == ("c",)
    assert compact.columns[1].header == "C"
