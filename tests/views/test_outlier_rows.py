"""Outlier rows (aiobs.views.outliers) from select_outliers, against the times written into the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aiobs.outliers import OutlierQuery, select_outliers
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from aiobs.views.outliers import outlier_rows
from conftest import WriteJsonl


def _request(i: int, latency: float, llm: float, retrieval: float) -> list[dict[str, Any]]:
    ts = f"2026-11-28T00:{i:02d}:00.000Z"
    root = {"ts": ts, "request_id": f"r{i}", "event_id": f"g{i}", "event": "gateway", "latency_ms": latency}
    child = {"ts": ts, "request_id": f"r{i}", "parent_id": f"g{i}"}
    return [
        {**root, "route": "/chat", "user_id": f"u{i}"},
        {**child, "event_id": f"s{i}", "event": "retrieval", "latency_ms": retrieval},
        {**child, "event_id": f"l{i}", "event": "llm", "model": "gpt-4o", "latency_ms": llm, "output_tokens": i},
    ]


def test_rows_hold_the_stage_times_the_slowest_stage_and_its_share(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [e for i in range(20) for e in _request(i, 1000.0 + 100 * i, 500.0 + 10 * i, 200.0)]
    rows += _request(30, 9000.0, 1000.0, 7000.0)  # the slowest request spent its time retrieving
    summary = summarize(expand_inputs([str(write_jsonl(tmp_path / "a.jsonl", rows))]))
    picked = outlier_rows(select_outliers(summary.requests, OutlierQuery(p=90.0)))
    latencies = {f"r{i}": 1000.0 + 100 * i for i in range(20)} | {"r30": 9000.0}
    cut = np.percentile(list(latencies.values()), 90)  # linear interpolation, as aiobs
    above = sorted((r for r, v in latencies.items() if v > cut), key=lambda r: -latencies[r])
    assert [r.correlation_id for r in picked] == above == ["r30", "r19"]
    assert [r.rank for r in picked] == [1, 2]
    assert [r.threshold for r in picked] == pytest.approx([cut, cut])
    worst, second = picked[0], picked[1]
    assert worst.latency_ms == 9000.0 and worst.stages_ms == {"retrieval": 7000.0, "llm": 1000.0}
    assert worst.slowest_stage == "retrieval" and worst.slowest_share == pytest.approx(7000.0 / 9000.0)
    assert second.slowest_stage == "llm" and second.slowest_share == pytest.approx(690.0 / 2900.0)
    assert second.tokens["output"] == 19 and second.model == "gpt-4o" and second.route == "/chat"
    assert worst.flags == [] and worst.is_error is False and worst.retries == 0
