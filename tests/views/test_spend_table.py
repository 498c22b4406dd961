"""The spend-by-model-per-call table (aiobs.views.cost.spend_table), checked against the raw rows.

Each of 12 requests runs an embedding call (text-embedding-3-small) and then answers with one of two LLMs,
a third of them after a failed gpt-4o attempt; two requests answer with a model no price list knows.
Calls and tokens per model are counted here from the rows; costs from list prices (USD per million
tokens: embedding 0.02; gpt-4o 2.50 in / 10 out; gpt-4o-mini 0.15 in / 0.60 out).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from aiobs.render.tables import markdown_table, terminal_table
from aiobs.report.model import build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from aiobs.views.cost import REPORT_SPEND_NOTE, SPEND_NOTE, SPEND_TITLE, model_with_stages, summary_spend
from aiobs.views.records import summary_record
from aiobs.views.tables import TableSpec
from conftest import WriteJsonl

PRICES = {"text-embedding-3-small": (0.02, 0.0), "gpt-4o": (2.50, 10.0), "gpt-4o-mini": (0.15, 0.60)}
UNKNOWN = "in-house-llm-7b"


def _call(i: int, event: str, ms: int, **extra: Any) -> dict[str, Any]:
    """Request `r{i}`'s call at `ms` into second i; a call to a model names its provider (for its price)."""
    base = {"ts": f"2026-11-28T10:00:{i:02d}.{ms:03d}Z", "request_id": f"r{i}", "event": event, "status": "ok"}
    return {**base, **({"provider": "openai"} if "model" in extra else {}), **extra}


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(12):
        call = functools.partial(_call, i)
        rows.append(call("gateway", 0, latency_ms=900, route="/rag", status=200))
        rows.append(call("embedding", 1, latency_ms=20, model="text-embedding-3-small", input_tokens=300 + i))
        if i % 3 == 0:
            rows.append(call("llm", 30, latency_ms=50, model="gpt-4o", input_tokens=40 + i, attempt=1, status="error"))
        model = UNKNOWN if i in (5, 7) else ("gpt-4o" if i % 2 else "gpt-4o-mini")
        rows.append(call("llm", 100, latency_ms=700, model=model, input_tokens=1000 + 10 * i, output_tokens=90 + i))
    return rows


def _expected(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: calls, input and output tokens (None when no call logged any), cost (None unpriced)."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"calls": 0, "in": None, "out": None, "cost": None})
    for r in rows:
        if "model" not in r:
            continue
        e = out[r["model"]]
        e["calls"] += 1
        for key, column in (("in", "input_tokens"), ("out", "output_tokens")):
            if column in r:
                e[key] = (e[key] or 0) + r[column]
        if r["model"] in PRICES:
            price_in, price_out = PRICES[r["model"]]
            cost = (r.get("input_tokens", 0) * price_in + r.get("output_tokens", 0) * price_out) / 1e6
            e["cost"] = (e["cost"] or 0.0) + cost
    return dict(out)


@pytest.fixture
def record(tmp_path: Path, write_jsonl: WriteJsonl) -> dict[str, Any]:
    path = write_jsonl(tmp_path / "a.jsonl", _rows())
    return summary_record(summarize(expand_inputs([str(path)])))


def _by_model(spec: TableSpec) -> dict[str, dict[str, Any]]:
    names = spec.names
    return {str(row[0]): dict(zip(names, row, strict=True)) for row in spec.rows}


def test_the_spend_table_counts_every_call_on_the_model_that_made_it(record: dict[str, Any]) -> None:
    spec = summary_spend(record)
    assert spec.title == SPEND_TITLE
    assert spec.names == ["model", "calls", "tokens in", "tokens out", "cost", "unpriced calls"]
    assert spec.notes == (SPEND_NOTE,)
    expected = _expected(_rows())
    got = _by_model(spec)
    label = {m: m if m != "text-embedding-3-small" else f"{m} (embedding)" for m in expected}
    assert set(got) == set(label.values())
    for model, e in expected.items():
        cells = got[label[model]]
        assert (cells["calls"], cells["tokens in"], cells["tokens out"]) == (e["calls"], e["in"], e["out"])
        if e["cost"] is None:
            assert cells["cost"] is None  # no value, never $0
            assert cells["unpriced calls"] == e["calls"]
        else:
            assert cells["cost"] == pytest.approx(e["cost"], rel=1e-9)
            assert cells["unpriced calls"] == 0
    assert got["text-embedding-3-small (embedding)"]["tokens out"] is None  # an embedding logs no output
    costs = [c if c is not None else -1.0 for c in spec.column("cost")]
    assert costs == sorted(costs, reverse=True)  # most costly first, unpriced last


def test_the_summary_and_the_report_build_the_same_rows(record: dict[str, Any], tmp_path: Path) -> None:
    """One table, two callers: the report's copy differs only in the note (its chart, not --by model)."""
    path = tmp_path / "a.jsonl"
    report = build_report(summarize(expand_inputs([str(path)])), outlier_limit=3)
    summary_rows, report_rows = summary_spend(record).rows, report.spend_table.rows
    cost = summary_spend(record).names.index("cost")
    # Two summaries of one file sum costs in the order their partials finish: equal to float rounding.
    assert [r[:cost] + r[cost + 1 :] for r in report_rows] == [r[:cost] + r[cost + 1 :] for r in summary_rows]
    for mine, theirs in zip(report_rows, summary_rows, strict=True):
        assert mine[cost] == (None if theirs[cost] is None else pytest.approx(theirs[cost], rel=1e-12))
    assert report.spend_table.columns == summary_spend(record).columns
    assert report.spend_table.notes == (REPORT_SPEND_NOTE,)


def test_a_model_is_named_with_the_stages_it_served_unless_it_only_answered() -> None:
    assert model_with_stages("gpt-4o", ["llm"]) == "gpt-4o"
    assert model_with_stages("gpt-4o", ["embedding", "llm"]) == "gpt-4o (embedding, llm)"
    assert model_with_stages("rerank-v3.5", ["rerank"]) == "rerank-v3.5 (rerank)"
    assert model_with_stages(None, ["llm"]) is None  # no value, shown as a dash
    assert model_with_stages(None, ["embedding"]) == "— (embedding)"
    assert model_with_stages("m", [None]) == "m"


def test_each_writer_shows_the_table_and_its_note(record: dict[str, Any]) -> None:
    spec = summary_spend(record)
    md = markdown_table(spec)
    assert md[0] == f"## {SPEND_TITLE}"
    assert "| text-embedding-3-small \\(embedding\\) | 12 | 3,666 | — |" in "\n".join(md)
    assert md[-2] == SPEND_NOTE  # under the table, as the terminal prints it
    for width in (80, 120):  # every column at 80 too: the number headers stack, no value is left out
        console = Console(width=width, record=True)
        console.print(terminal_table(spec, width=width, label_chars=60))
        text = console.export_text()
        assert ("unpriced calls" in text) == (width == 120)
        assert re.search(r"┃\s+unpriced ┃\n┃.*┃\s+calls ┃", text) or width == 120  # stacked at 80
        assert "left out" not in text
        assert "3,666" in text
        assert text.rstrip().endswith("answered it.")  # the note under the table


def test_a_model_whose_calls_logged_no_tokens_is_named_not_left_as_a_dash(
    tmp_path: Path, write_jsonl: WriteJsonl
) -> None:
    rows = _rows() + [_call(i, "rerank", 50, latency_ms=30, model="rerank-v3.5") for i in range(4)]
    spec = summary_spend(summary_record(summarize(expand_inputs([str(write_jsonl(tmp_path / "a.jsonl", rows))]))))
    rerank = _by_model(spec)["rerank-v3.5 (rerank)"]
    assert (rerank["cost"], rerank["unpriced calls"]) == (None, 0)
    note = (
        "rerank-v3.5 (rerank): 4 calls logged no tokens, so aiobs could not price them; "
        "their cost is not in the totals."
    )
    assert spec.notes == (SPEND_NOTE, note)
    assert note in markdown_table(spec)
