"""SLO evaluation on synthetic request tables, against numpy computed on the same columns."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from aiobs.gates.expressions import parse_slo
from aiobs.gates.results import Status
from aiobs.gates.slo import evaluate_slos
from synthetic import make_requests

REQUESTS = make_requests(3000, seed=7, flags={"refusal": 0.03, "truncated": 0.01}, error_rate=0.02)


def evaluate(*texts: str, frame: pl.DataFrame = REQUESTS, allow_unmatched: bool = False) -> list:
    return evaluate_slos(frame.lazy(), [parse_slo(t) for t in texts], allow_unmatched=allow_unmatched)


def column(name: str, frame: pl.DataFrame = REQUESTS) -> np.ndarray:
    return frame[name].drop_nulls().to_numpy()


def test_each_metric_matches_numpy() -> None:
    latency = column("latency_ms")
    cost = column("cost_usd")
    feedback = column("feedback_score")
    gpt = REQUESTS.filter(pl.col("model") == "gpt-4o")
    expected = {
        "p95(latency_ms) < 1": np.percentile(latency, 95),
        "p99.9 < 1": np.percentile(latency, 99.9),
        "p50(ttft_ms) < 1": None,  # no TTFT in these requests
        "p95(latency_ms, stage=llm) < 1": np.percentile(column("llm_ms"), 95),
        "p90(llm_ms) < 1": np.percentile(column("llm_ms"), 90),
        "mean(latency_ms) < 1": latency.mean(),
        "max(output_tokens) < 1": column("output_tokens").max(),
        "requests < 1": 3000,
        "errors < 1": REQUESTS["is_error"].sum(),
        "error_rate < 1%": REQUESTS["is_error"].mean(),
        "retry_rate < 1%": (column("retries") > 0).mean(),
        "cost < 1": cost.sum(),
        "cost_per_1k < 1": cost.sum() / 3000 * 1000,
        "tokens_per_s > 1": column("output_tokens").sum() / (column("llm_output_ms").sum() / 1000),
        "rate(refusal) < 1%": REQUESTS["flag_refusal"].mean(),
        "rate(truncated) < 1%": REQUESTS["flag_truncated"].mean(),
        "acceptance_rate > 1%": (feedback >= 0.5).mean(),
        "p95(latency_ms, model=gpt-4o) < 1": np.percentile(column("latency_ms", gpt), 95),
        "error_rate(model=gpt-4o, route=/chat) < 1%": REQUESTS.filter(
            (pl.col("model") == "gpt-4o") & (pl.col("route") == "/chat")
        )["is_error"].mean(),
    }
    results = evaluate(*expected)
    assert len(results) == len(expected)
    for result, (text, value) in zip(results, expected.items(), strict=True):
        if value is None:
            assert result.status is Status.NO_DATA, text
        else:
            assert result.value == pytest.approx(value, rel=1e-9), text


def test_verdicts() -> None:
    p95 = np.percentile(column("latency_ms"), 95)
    holds, breached, edge = evaluate(f"p95 < {p95 * 1.01:.3f}", f"p95 < {p95 * 0.99:.3f}", "requests <= 3000")
    assert (holds.status, breached.status, edge.status) == (Status.OK, Status.BREACHED, Status.OK)
    assert holds.n == 3000


def test_by_gives_one_result_per_group_with_numpy_values() -> None:
    results = evaluate("error_rate < 1% by model")
    by_model = {r.group: r for r in results}
    assert set(by_model) == {(("model", m),) for m in REQUESTS["model"].unique()}
    for ((_, model),), result in by_model.items():
        rows = REQUESTS.filter(pl.col("model") == model)
        assert result.value == pytest.approx(rows["is_error"].mean())
        assert result.n == rows.height
    two = evaluate("p95 < 1 by model, route")
    assert len(two) == 6
    assert all(len(r.group) == 2 for r in two)


def test_cost_metrics_are_over_every_request_and_say_how_many_are_unpriced() -> None:
    # Every 7th request unpriced (a model genai-prices does not know).
    frame = REQUESTS.with_columns(
        cost_usd=pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col("cost_usd"))
    )
    unpriced, n = frame["cost_usd"].null_count(), frame.height
    per_1k, total = evaluate("cost_per_1k < 1", "cost < 1", frame=frame)
    assert per_1k.n == total.n == n
    assert per_1k.value == pytest.approx(column("cost_usd", frame).sum() / n * 1000)
    assert per_1k.note == f"{unpriced:,} unpriced: a lower bound"
    assert total.note == f"{unpriced:,} unpriced: a lower bound"
    for result in evaluate("cost_per_1k < 1 by model", frame=frame):
        rows = frame.filter(pl.col("model") == result.group[0][1])
        assert result.n == rows.height
        assert result.value == pytest.approx(column("cost_usd", rows).sum() / rows.height * 1000)
        assert result.note == f"{rows['cost_usd'].null_count():,} unpriced: a lower bound"
    (priced,) = evaluate("cost_per_1k < 1")
    assert priced.n == REQUESTS.height and priced.note == ""


def test_by_stage_reads_each_stage_time() -> None:
    results = {r.group: r for r in evaluate("p99(latency_ms) < 1 by stage")}
    assert set(results) == {(("stage", "llm"),), (("stage", "retrieval"),)}
    assert results[(("stage", "retrieval"),)].value == pytest.approx(np.percentile(column("retrieval_ms"), 99))


def test_no_data_says_why() -> None:
    plain = make_requests(200, seed=1, flags=None, feedback_share=0).drop("feedback_score", strict=False)
    refusal, acceptance, nobody, stage_cost = evaluate(
        "rate(refusal) < 2%",
        "acceptance_rate > 85%",
        "p95(latency_ms, model=gpt-5) < 100",
        "cost_per_1k(stage=llm) < 1",
        frame=plain,
        allow_unmatched=True,
    )
    assert all(r.status is Status.NO_DATA for r in (refusal, acceptance, nobody, stage_cost))
    assert "no 'refusal' flag (no flag_refusal column)" in refusal.note
    assert "no user feedback (no feedback_score column)" in acceptance.note
    assert "no latency_ms values with model=gpt-5" in nobody.note
    assert "cost is not split by stage" in stage_cost.note
    # A feedback column with no value in it (logs whose users never rated an answer) says so too.
    (unrated,) = evaluate("acceptance_rate > 85%", frame=plain.with_columns(feedback_score=pl.lit(None, pl.Float64)))
    assert unrated.status is Status.NO_DATA and unrated.note == "no request has feedback"
    (empty_by,) = evaluate("error_rate < 1% by model", frame=plain.head(0))
    assert empty_by.status is Status.NO_DATA


def test_a_filter_that_matches_no_request_fails_unless_allowed() -> None:
    """A misspelt model must not pass CI forever as "no data"."""
    (typo,) = evaluate("p95(latency_ms, model=gpt-5) < 100")
    assert typo.status is Status.UNMATCHED and typo.status.fails
    assert typo.note.startswith("model=gpt-5 matches no request")
    assert "pass --allow-unmatched" in typo.note
    (allowed,) = evaluate("p95(latency_ms, model=gpt-5) < 100", allow_unmatched=True)
    assert allowed.status is Status.NO_DATA and not allowed.status.fails
    # A filter that matches, on a metric with no values there, stays "no data".
    (no_values,) = evaluate("acceptance_rate(model=gpt-4o) > 50%", frame=REQUESTS.with_columns(feedback_score=None))
    assert no_values.status is Status.NO_DATA


def test_a_flag_column_with_only_nulls_is_no_data() -> None:
    frame = REQUESTS.with_columns(pl.lit(None, pl.Boolean).alias("flag_refusal"))
    (result,) = evaluate("rate(refusal) < 2%", frame=frame)
    assert result.status is Status.NO_DATA
    assert "no request has a value for the 'refusal' flag" in result.note


def test_thin_percentiles_are_marked() -> None:
    (thin,) = evaluate("p99 < 1", frame=REQUESTS.head(400))
    (solid,) = evaluate("p99 < 1", frame=REQUESTS.head(2000))
    assert "p99 from 400 values: rough" in thin.note
    assert solid.note == ""
    (few,) = evaluate("error_rate < 1%", frame=REQUESTS.head(12))
    assert few.note == "a rate of 12 request(s): rough"
