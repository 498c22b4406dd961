"""`error_rate` and `cost_per_1k` mean one thing wherever aiobs shows them: the summary, an SLO, and the
history store's trends are computed from the same definitions (aiobs.metrics) and give the same numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiobs import history
from aiobs.gates.expressions import parse_slo
from aiobs.gates.slo import evaluate_slos
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[1]


def test_summary_slo_and_history_agree(tmp_path: Path) -> None:
    summary = summarize(expand_inputs([str(ROOT / "sample_logs")]))
    overall = summary.overall.row(0, named=True)
    slos = [parse_slo("error_rate < 1"), parse_slo("cost_per_1k < 1000")]
    error_rate, cost_per_1k = (r.value for r in evaluate_slos(summary.requests, slos))
    history.record_run(tmp_path / "store", summary)
    trend = history.trends(tmp_path / "store", days=30, every="30d")
    assert trend.height == 1
    assert overall["error_rate"] == error_rate == trend["error_rate"][0] == 50 / 2600
    assert overall["cost_per_1k_requests"] == cost_per_1k  # both exact decimal sums
    # The store adds hourly sums as floats: the same figure, up to the last bits of a double.
    assert trend["cost_per_1k_requests"][0] == pytest.approx(cost_per_1k, rel=1e-12)


def test_cost_per_1k_is_unknown_not_zero_where_nothing_was_priced(tmp_path: Path) -> None:
    log = tmp_path / "unpriced.jsonl"
    log.write_text(
        '{"request_id": "a", "event": "llm", "model": "my-own-model", "input_tokens": 10, "latency_ms": 5}\n'
    )
    summary = summarize(expand_inputs([str(log)]))
    (result,) = evaluate_slos(summary.requests, [parse_slo("cost_per_1k < 1")])
    assert summary.overall["cost_per_1k_requests"][0] is None and result.value is None
