"""Events -> requests: latency, stage sums, TTFT, tokens, model, errors and retries, duplicates, issues."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from aiobs.reconstruct import Rebuilt, rebuild_requests
from aiobs.schema import REQUEST_SCHEMA, conform_events
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

WriteJsonl = Callable[[Path, Iterable[Any]], Path]
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def e(cid: str, stage: str, start_ms: float | None, duration_ms: float | None = None, **extra: Any) -> dict[str, Any]:
    """One canonical event; `is_root` defaults to stage == gateway."""
    row: dict[str, Any] = {
        "correlation_id": cid,
        "event": stage,
        "stage": stage,
        "is_root": stage == "gateway",
        "start": None if start_ms is None else T0 + timedelta(milliseconds=start_ms),
        "duration_ms": None if duration_ms is None else float(duration_ms),
        "is_error": False,
    }
    row.update(extra)
    return row


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Canonical events (plus `cost_usd`, the priced cost, when a row sets it), numbered from line 1."""
    keys = sorted({k for r in rows for k in r})
    numbered = [{"source": "test.jsonl", "line": i + 1, **{k: r.get(k) for k in keys}} for i, r in enumerate(rows)]
    raw = pl.DataFrame(numbered, infer_schema_length=None)
    events = conform_events(raw).collect()
    if "cost_usd" in raw.columns:
        events = events.with_columns(raw["cost_usd"].cast(pl.Float64))
    return events


def rebuild(rows: list[dict[str, Any]]) -> Rebuilt:
    return rebuild_requests(frame(rows))


def request(rebuilt: Rebuilt, cid: str) -> dict[str, Any]:
    rows = rebuilt.requests.filter(pl.col("correlation_id") == cid).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_request_table_has_the_documented_schema() -> None:
    rebuilt = rebuild([e("a", "gateway", 0, 10)])
    assert rebuilt.requests.schema == REQUEST_SCHEMA


# -- latency ---------------------------------------------------------------------------------------------


def test_latency_is_the_root_duration_when_present() -> None:
    rows = [
        e("a", "gateway", 0, 500),
        e("a", "llm", 10, 300),
        e("a", "tool", 320, 100),
    ]
    r = request(rebuild(rows), "a")
    assert r["latency_ms"] == 500.0
    assert r["has_root"] is True
    assert r["start"] == T0
    assert r["end"] == T0 + timedelta(milliseconds=500)


def test_latency_falls_back_to_the_envelope_without_a_root() -> None:
    rows = [e("b", "llm", 300, 50.5), e("b", "embedding", 0, 100), e("b", "retrieval", 120, 10)]
    rebuilt = rebuild(rows)
    r = request(rebuilt, "b")
    assert r["has_root"] is False
    assert r["latency_ms"] == pytest.approx(350.5)
    assert r["start"] == T0
    assert r["end"] == T0 + timedelta(microseconds=350_500)
    assert rebuilt.issues.counts["missing-root"] == 1
    [example] = rebuilt.issues.examples["missing-root"]
    assert "b" in example.source


def test_root_without_duration_falls_back_to_the_envelope() -> None:
    rows = [e("c", "gateway", 0, None), e("c", "llm", 5, 200), e("c", "tool", 220, 30)]
    rebuilt = rebuild(rows)
    r = request(rebuilt, "c")
    assert r["has_root"] is True
    assert r["latency_ms"] == pytest.approx(250.0)
    assert rebuilt.issues.counts["missing-root"] == 0


def test_explicit_is_root_on_a_non_gateway_event() -> None:
    rows = [e("d", "other", 0, 900, is_root=True), e("d", "llm", 10, 100)]
    r = request(rebuild(rows), "d")
    assert r["has_root"] is True
    assert r["latency_ms"] == 900.0


# -- stage sums, TTFT, tokens, model ---------------------------------------------------------------------


def test_stage_sums_and_null_for_stages_never_timed() -> None:
    rows = [
        e("a", "gateway", 0, 1000),
        e("a", "llm", 10, 100.25),
        e("a", "llm", 400, 200.5),
        e("a", "retrieval", 5, 50),
        e("a", "tool", 150, None),  # ran, but its duration was never logged
        e("a", "other", 700, 3),
    ]
    r = request(rebuild(rows), "a")
    assert r["llm_ms"] == pytest.approx(100.25 + 200.5)
    assert r["retrieval_ms"] == 50.0
    assert r["other_ms"] == 3.0
    assert r["tool_ms"] is None
    assert r["embedding_ms"] is None
    assert r["rerank_ms"] is None


def test_ttft_is_that_of_the_first_streamed_call() -> None:
    rows = [
        e("a", "gateway", 0, 1000),
        e("a", "llm", 600, 300, stream=True, ttft_ms=80.0),
        e("a", "llm", 100, 400, ttft_ms=250.0),  # earlier by start, listed later
        e("a", "llm", 50, 20),  # not streamed: no ttft
    ]
    assert request(rebuild(rows), "a")["ttft_ms"] == 250.0


def test_ttft_null_when_nothing_streamed() -> None:
    assert request(rebuild([e("a", "gateway", 0, 10), e("a", "llm", 1, 5)]), "a")["ttft_ms"] is None


def test_tokens_are_sums_and_null_when_never_logged() -> None:
    rows = [
        e("a", "gateway", 0, 1000),
        e("a", "embedding", 1, 5, input_tokens=18),
        e("a", "llm", 10, 100, input_tokens=2200, output_tokens=310, cached_tokens=1024),
        e("a", "llm", 200, 100, input_tokens=100, output_tokens=0),
        e("b", "gateway", 0, 100),
        e("b", "llm", 1, 50),
    ]
    rebuilt = rebuild(rows)
    a, b = request(rebuilt, "a"), request(rebuilt, "b")
    assert (a["input_tokens"], a["output_tokens"], a["cached_tokens"], a["reasoning_tokens"]) == (
        18 + 2200 + 100,
        310,
        1024,
        None,
    )
    assert (b["input_tokens"], b["output_tokens"], b["cached_tokens"], b["reasoning_tokens"]) == (None,) * 4


def test_zero_tokens_logged_is_zero_not_null() -> None:
    r = request(rebuild([e("a", "llm", 0, 5, output_tokens=0)]), "a")
    assert r["output_tokens"] == 0


def test_model_is_the_last_llm_calls_model() -> None:
    rows = [
        e("a", "llm", 900, 50, model="gpt-4o", provider="openai"),
        e("a", "gateway", 0, 2000),
        e("a", "embedding", 5, 10, model="text-embedding-3-small", provider="openai"),
        e("a", "llm", 100, 50, model="claude-sonnet-4-5", provider="anthropic"),
        e("a", "rerank", 1500, 10, model="rerank-v3.5", provider="cohere"),
        e("a", "llm", 400, 50, model="gemini-2.5-flash", provider="google"),
    ]
    r = request(rebuild(rows), "a")
    assert r["model"] == "gpt-4o"
    assert r["provider"] == "openai"
    assert r["models"] == sorted(
        ["gpt-4o", "text-embedding-3-small", "claude-sonnet-4-5", "rerank-v3.5", "gemini-2.5-flash"]
    )


def test_model_without_llm_calls_comes_from_any_event() -> None:
    r = request(rebuild([e("a", "gateway", 0, 10), e("a", "embedding", 1, 5, model="emb")]), "a")
    assert r["model"] == "emb"
    assert r["models"] == ["emb"]


def test_last_llm_call_without_a_model_does_not_hide_the_earlier_one() -> None:
    rows = [e("a", "llm", 0, 5, model="gpt-4o"), e("a", "llm", 10, 5)]
    assert request(rebuild(rows), "a")["model"] == "gpt-4o"


def test_route_user_and_cost() -> None:
    rows = [
        e("a", "llm", 5, 10, route="/child", cost_usd=0.25, logged_cost_usd=0.5),
        e("a", "gateway", 0, 100, route="/rag/answer", user="u-1"),
        e("a", "llm", 30, 10, cost_usd=0.125),
        e("b", "llm", 0, 1),
    ]
    rebuilt = rebuild(rows)
    a, b = request(rebuilt, "a"), request(rebuilt, "b")
    assert (a["route"], a["user"], a["cost_usd"], a["logged_cost_usd"]) == ("/rag/answer", "u-1", 0.375, 0.5)
    assert (b["route"], b["user"], b["cost_usd"], b["logged_cost_usd"]) == (None, None, None, None)


# -- errors and retries ----------------------------------------------------------------------------------


def test_recovered_failed_attempt_is_not_an_error() -> None:
    rows = [
        e("a", "gateway", 0, 1000, status=200),
        e("a", "llm", 10, 100, attempt=1, is_error=True, error_type="rate_limit"),
        e("a", "llm", 200, 300, attempt=2),
    ]
    r = request(rebuild(rows), "a")
    assert r["retries"] == 1
    assert r["is_error"] is False


def test_unrecovered_failed_attempt_is_an_error() -> None:
    rows = [
        e("a", "gateway", 0, 1000),
        e("a", "llm", 10, 100, attempt=1, is_error=True),
        e("a", "llm", 200, 300, attempt=2, is_error=True),
    ]
    r = request(rebuild(rows), "a")
    assert r["retries"] == 1
    assert r["is_error"] is True


def test_three_attempts_last_one_ok() -> None:
    rows = [
        e("a", "llm", 10, 100, attempt=1, is_error=True),
        e("a", "llm", 200, 100, attempt=2, is_error=True),
        e("a", "llm", 400, 100, attempt=3),
    ]
    r = request(rebuild(rows), "a")
    assert (r["retries"], r["is_error"]) == (2, False)


def test_single_failure_without_attempt_is_an_error() -> None:
    rows = [e("a", "gateway", 0, 100), e("a", "retrieval", 5, 10, is_error=True)]
    assert request(rebuild(rows), "a")["is_error"] is True


def test_failed_root_is_an_error_even_when_children_are_fine() -> None:
    rows = [e("a", "gateway", 0, 100, is_error=True), e("a", "llm", 5, 10, attempt=1), e("a", "llm", 20, 10, attempt=2)]
    r = request(rebuild(rows), "a")
    assert (r["is_error"], r["retries"]) == (True, 1)


def test_clean_request_is_not_an_error_and_has_no_retries() -> None:
    r = request(rebuild([e("a", "gateway", 0, 100), e("a", "llm", 5, 10)]), "a")
    assert (r["is_error"], r["retries"]) == (False, 0)


# -- duplicates, skew ------------------------------------------------------------------------------------


def test_duplicates_are_counted_once() -> None:
    llm = e("a", "llm", 10, 100, event_id="e2", model="gpt-4o", input_tokens=50, output_tokens=7)
    rows = [e("a", "gateway", 0, 500, event_id="e1"), llm, dict(llm), e("b", "gateway", 0, 10), dict(llm)]
    rebuilt = rebuild(rows)
    a = request(rebuilt, "a")
    assert a["n_events"] == 2
    assert (a["input_tokens"], a["output_tokens"], a["llm_ms"]) == (50, 7, 100.0)
    assert rebuilt.issues.counts["duplicate-event"] == 2
    assert sorted(x.line or 0 for x in rebuilt.issues.examples["duplicate-event"]) == [3, 5]


def test_same_event_id_with_different_content_is_not_a_duplicate() -> None:
    rows = [e("a", "llm", 10, 100, event_id="x"), e("a", "llm", 20, 100, event_id="x")]
    rebuilt = rebuild(rows)
    assert request(rebuilt, "a")["n_events"] == 2
    assert rebuilt.issues.counts["duplicate-event"] == 0


def test_clock_skew_outside_tolerance_is_counted() -> None:
    rows = [
        e("a", "gateway", 100, 500),
        e("a", "llm", 90, 50),  # starts 10 ms before its root
        e("a", "tool", 500, 101.5),  # ends 1.5 ms after the root: millisecond rounding, not skew
        e("a", "retrieval", 550, 60),  # ends 10 ms after the root
        e("b", "gateway", 0, 100),
        e("b", "llm", 1, 99),
    ]
    rebuilt = rebuild(rows)
    assert request(rebuilt, "a")["skewed_events"] == 2
    assert request(rebuilt, "b")["skewed_events"] == 0
    assert rebuilt.issues.counts["clock-skew"] == 2
    assert [x.source for x in rebuilt.issues.examples["clock-skew"]] == ["request a"]
    # Seconds mapped as milliseconds put every child outside its root: the note names that cause and its fix.
    assert "--map duration_ms=KEY:s" in rebuilt.issues.examples["clock-skew"][0].message


def test_no_skew_without_a_root() -> None:
    rebuilt = rebuild([e("a", "llm", 0, 10), e("a", "tool", 1000, 10)])
    assert request(rebuilt, "a")["skewed_events"] == 0
    assert rebuilt.issues.counts["clock-skew"] == 0


def test_requests_are_independent_of_row_order() -> None:
    """Lines may come in any order (docs/schema.md, native format): one root per request, children shuffled."""
    rng = random.Random(3)
    rows = [e(f"r{i}", "gateway", rng.uniform(0, 10), rng.uniform(900, 1000), route=f"/{i}") for i in range(7)]
    for i in range(80):
        stage = rng.choice(["llm", "tool", "retrieval"])
        extra: dict[str, Any] = {
            "input_tokens": rng.choice([None, rng.randint(1, 99)]),
            "ttft_ms": rng.choice([None, 5.0, 9.0]),
        }
        if stage == "llm":
            extra["model"] = rng.choice(["m1", "m2", None])
        rows.append(e(f"r{i % 7}", stage, rng.uniform(10, 800), rng.uniform(1, 50), **extra))
    first = rebuild(rows).requests.sort("correlation_id")
    for _ in range(3):
        rng.shuffle(rows)
        assert_frame_equal(first, rebuild(rows).requests.sort("correlation_id"), check_exact=False, rel_tol=1e-12)


def test_two_root_events_give_the_same_request_whatever_the_line_order() -> None:
    """A gateway logged twice (two proxies, a replayed log) must not make latency depend on file order."""
    rows = [
        e("a", "gateway", 0, 300, route="/outer"),
        e("a", "gateway", 1, 100, route="/inner"),
        e("a", "llm", 5, 90),
    ]
    forward = request(rebuild(rows), "a")
    backward = request(rebuild(rows[::-1]), "a")
    assert (forward["latency_ms"], forward["route"]) == (backward["latency_ms"], backward["route"])


# -- through the whole pipeline --------------------------------------------------------------------------


def test_requests_split_across_files_are_joined(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    def line(cid: str, event: str, ms: int, **extra: Any) -> dict[str, Any]:
        ts = (T0 + timedelta(milliseconds=ms)).isoformat()
        return {"request_id": cid, "event": event, "ts": ts, **extra}

    a = write_jsonl(
        tmp_path / "a.jsonl",
        [line("r1", "gateway", 0, latency_ms=900), line("r2", "llm", 5, latency_ms=10, input_tokens=3)],
    )
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [line("r1", "llm", 10, latency_ms=800, input_tokens=40), line("r2", "llm", 50, latency_ms=10, input_tokens=4)],
    )
    for n in (1, 3):
        summary = summarize(expand_inputs([str(a), str(b)]), n_buckets=n)
        got = (
            summary.requests.collect()
            .sort("correlation_id")
            .select("correlation_id", "n_events", "input_tokens", "latency_ms")
        )
        assert got.rows() == [("r1", 2, 40, 900.0), ("r2", 2, 7, 55.0)]


# -- texts and feedback ----------------------------------------------------------------------------------


def test_texts_come_from_the_right_calls() -> None:
    rows = [
        e("a", "gateway", 0, 1000, input_text="user asked"),
        e("a", "retrieval", 10, 50, context_text="doc one"),
        e("a", "rerank", 70, 20, context_text="doc one, reranked"),
        e("a", "llm", 100, 300, input_text="first prompt", output_text="tool call", finish_reason="tool_calls"),
        e("a", "llm", 500, 400, input_text="second prompt", output_text="final answer", finish_reason="stop",
          response_format="json_object", max_tokens=512),
        e("b", "gateway", 0, 10, input_text="only the gateway logged it"),
    ]  # fmt: skip
    a = request(rebuild(rows), "a")
    assert a["input_text"] == "first prompt"  # the first LLM call's input
    assert a["output_text"] == "final answer"  # the last LLM call's output
    assert a["context_text"] == "doc one, reranked"  # the last step that returned context
    assert (a["finish_reason"], a["response_format"], a["max_tokens"]) == ("stop", "json_object", 512)
    assert request(rebuild(rows), "b")["input_text"] == "only the gateway logged it"


def test_feedback_is_averaged_and_not_part_of_the_timeline() -> None:
    rows = [
        e("a", "gateway", 0, 1000),
        e("a", "llm", 10, 900),
        e("a", "other", 600_000, None, event="feedback", feedback_score=1.0),  # ten minutes later
        e("a", "other", 700_000, None, event="feedback", feedback_score=0.0),
        e("b", "llm", 0, 100),  # no gateway: latency is the envelope, which feedback must not stretch
        e("b", "other", 300_000, None, event="feedback", feedback_score=1.0),
    ]
    rebuilt = rebuild(rows)
    a, b = request(rebuilt, "a"), request(rebuilt, "b")
    assert a["feedback_score"] == 0.5
    assert a["end"] == T0 + timedelta(milliseconds=1000)
    assert a["skewed_events"] == 0
    assert b["latency_ms"] == 100.0
    assert b["feedback_score"] == 1.0
    assert request(rebuild([e("c", "llm", 0, 5)]), "c")["feedback_score"] is None
