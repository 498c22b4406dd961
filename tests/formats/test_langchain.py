"""LangChain callback events and LangSmith runs: the run tree is the request, start and end lines one run.

Hand-computed for the runs of tests/formats/langchain_writers.py: requests of 1.2, 2.3 and 0.5 s; one
failure (q-3's RateLimitError); 2,100 input and 850 output tokens; cost at list prices (gpt-4o 2.50 / 10,
gpt-4o-mini 0.15 / 0.60 USD per million tokens).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from langchain_writers import FIXTURES, callback_lines, run_lines
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.formats.details import merge_phases
from aiobs.formats.run_tree import request_ids
from aiobs.schema import empty_events
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
LATENCIES_MS = [1200.0, 2300.0, 500.0]
COST_USD = (100 * 2.50 + 50 * 10.0 + 2000 * 0.15 + 800 * 0.60) / 1_000_000


def summary(path: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["summarize", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_hand_figures(doc: dict[str, Any]) -> None:
    overall = doc["overall"]
    assert (overall["requests"], overall["errors"]) == (3, 1)
    assert overall["latency_ms"]["p50"] == pytest.approx(np.percentile(LATENCIES_MS, 50))
    assert overall["latency_ms"]["max"] == 2300.0
    assert (overall["tokens"]["input"], overall["tokens"]["output"]) == (2100, 850)
    assert overall["cost_usd"] == pytest.approx(COST_USD, rel=1e-12)
    assert doc["input_quality"]["by_kind"] == []


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (FIXTURES / "langchain" / "callbacks.jsonl", "langchain"),
        (FIXTURES / "langsmith" / "tracer_runs.jsonl", "langsmith"),
    ],
)
def test_fixture_gives_the_hand_computed_figures(path: Path, fmt: str) -> None:
    assert_hand_figures(summary(path))
    assert_hand_figures(summary(path, "--input-format", fmt))


@pytest.mark.parametrize("write", [callback_lines, run_lines], ids=["callbacks", "tracer-runs"])
def test_live_langchain_runs_give_the_same_figures(tmp_path: Path, write: Any) -> None:
    """The real runnables, the documented handler and tracer, written now (new run IDs every time)."""
    path = tmp_path / "runs.jsonl"
    path.write_text(write())
    assert_hand_figures(summary(path))


def test_runs_spilled_to_disk_are_placed_in_their_requests(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text(callback_lines() * 1)
    one = summarize(expand_inputs([str(path)]), n_buckets=1)
    many = summarize(expand_inputs([str(path)]), n_buckets=7)  # a spill folder: runs wait on disk
    assert one.requests.collect().sort("correlation_id").equals(many.requests.collect().sort("correlation_id"))
    assert one.n_requests == 3


def test_the_tree_and_the_failure_in_a_trace() -> None:
    path = FIXTURES / "langchain" / "callbacks.jsonl"
    failed = next(
        json.loads(line)
        for line in path.read_text().splitlines()
        if line.startswith('{"event": "on_chain_error"') and '"parent_run_id": null' in line
    )
    result = runner.invoke(app, ["trace", str(path), "--id", failed["run_id"], "--format", "json"])
    assert result.exit_code == 0, result.output
    (request,) = json.loads(result.stdout)["requests"]
    assert request["request"]["is_error"] is True
    stages = [(e["stage"], e["duration_ms"], e["is_error"]) for e in request["events"]]
    assert ("llm", 500.0, True) in stages
    assert stages[0] == ("gateway", 500.0, True)


def test_request_ids_follow_parents_to_the_root() -> None:
    # a <- b <- c <- d (depth 4); e's parent is not in the input; f is a root of its own with a trace id.
    edges = pl.DataFrame(
        {
            "event_id": ["b", "c", "d", "a", "e", "f"],
            "parent_id": ["a", "b", "c", None, "gone", None],
            "correlation_id": [None, None, None, "a", None, "trace-f"],
        }
    )
    ids = dict(request_ids(edges).iter_rows())
    assert ids == {"a": "a", "b": "a", "c": "a", "d": "a", "e": "gone", "f": "trace-f"}


def test_a_cycle_in_the_parents_ends() -> None:
    edges = pl.DataFrame({"event_id": ["x", "y"], "parent_id": ["y", "x"], "correlation_id": [None, None]})
    assert set(dict(request_ids(edges).iter_rows())) == {"x", "y"}  # some answer, no endless loop


def test_merge_phases_joins_halves_and_keeps_the_unpaired() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    rows = [
        {"correlation_id": "r", "event_id": "1", "phase": "start", "start": t0, "model": "gpt-4o", "line": 1},
        {
            "correlation_id": "r",
            "event_id": "1",
            "phase": "end",
            "start": t0 + timedelta(seconds=2),
            "input_tokens": 7,
            "line": 2,
        },
        {"correlation_id": "r", "event_id": "2", "phase": "start", "start": t0, "line": 3},  # never ended
        {"correlation_id": "r", "event_id": "3", "phase": "end", "start": t0 + timedelta(seconds=1), "line": 4},
    ]
    events = pl.concat([empty_events(), pl.DataFrame(rows)], how="diagonal_relaxed").with_columns(
        is_error=pl.lit(False), is_root=pl.lit(False)
    )
    merged = {r["event_id"]: r for r in merge_phases(events).iter_rows(named=True)}
    assert (merged["1"]["duration_ms"], merged["1"]["model"], merged["1"]["input_tokens"]) == (2000.0, "gpt-4o", 7)
    assert (merged["2"]["duration_ms"], merged["2"]["start"]) == (None, t0)
    assert (merged["3"]["duration_ms"], merged["3"]["start"]) == (None, t0 + timedelta(seconds=1))


def test_the_documented_handler_is_the_tested_one() -> None:
    doc = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(class JsonLinesCallbackHandler.*?)```", doc, re.S)
    assert block, "docs/formats.md shows no JsonLinesCallbackHandler"
    source = (Path(__file__).parent / "langchain_writers.py").read_text(encoding="utf-8")
    tested = re.search(r"(class JsonLinesCallbackHandler.*?)# -- end of the documented handler", source, re.S)
    assert tested
    assert block.group(1).strip() == tested.group(1).strip()
