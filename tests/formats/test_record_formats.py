"""OpenAI Batch, Bedrock, LiteLLM and Langfuse adapters on their fixtures (values read off the files by hand)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from format_helpers import FIXTURES, one, read_events

BATCH = FIXTURES / "openai-batch"
BEDROCK = FIXTURES / "bedrock"
LITELLM = FIXTURES / "litellm"
LANGFUSE = FIXTURES / "langfuse"


# -- OpenAI Batch ----------------------------------------------------------------------------------------


def test_batch_chat_completion_success() -> None:
    events, issues = read_events(BATCH / "formats_md_output_and_errors.jsonl")
    assert issues.failing == 0
    ok = one(events, correlation_id="ticket-00017")
    assert ok["event_id"] == "batch_req_6749b1c2d3e4"
    assert (ok["stage"], ok["is_root"], ok["is_error"]) == ("llm", True, False)
    assert ok["start"] == datetime(2024, 11, 29, 9, 0, tzinfo=UTC)  # body.created, whole seconds
    assert ok["duration_ms"] is None  # a batch line has no latency: unknown, never 0
    assert (ok["model"], ok["provider"]) == ("gpt-4o-mini-2024-07-18", "openai")
    assert (ok["input_tokens"], ok["output_tokens"], ok["cached_tokens"], ok["reasoning_tokens"]) == (1200, 5, 1024, 0)
    assert (ok["finish_reason"], ok["output_text"]) == ("stop", "Refund approved.")


def test_batch_the_two_error_shapes() -> None:
    events, _ = read_events(BATCH / "formats_md_output_and_errors.jsonl")
    http = one(events, correlation_id="ticket-00018")
    assert (http["is_error"], http["error_type"]) == (True, "string_above_max_length")
    line = one(events, correlation_id="ticket-00019")
    assert (line["is_error"], line["error_type"]) == (True, "batch_expired")
    for row in (http, line):
        assert row["input_tokens"] is None and row["output_tokens"] is None and row["start"] is None


def test_batch_responses_api_and_embeddings() -> None:
    events, _ = read_events(BATCH / "responses_and_embeddings.jsonl")
    resp = one(events, correlation_id="resp-0001")
    assert (resp["input_tokens"], resp["cached_tokens"], resp["output_tokens"], resp["reasoning_tokens"]) == (
        300,
        128,
        1500,
        1400,
    )
    assert (resp["model"], resp["response_format"]) == ("o3-mini-2025-01-31", "json_object")
    assert resp["output_text"] == '{"answer": 42}'  # the reasoning item is not the answer
    emb = one(events, correlation_id="emb-0001")
    assert (emb["stage"], emb["input_tokens"], emb["output_tokens"]) == ("embedding", 8, None)


def test_batch_summary_has_no_latency(tmp_path: Path) -> None:
    from aiobs.sources.paths import expand_inputs
    from aiobs.summary import summarize

    summary = summarize(expand_inputs([str(BATCH)]))
    overall = summary.overall.row(0, named=True)
    assert overall["requests"] == 5
    assert overall["errors"] == 2
    assert summary.requests.collect().get_column("latency_ms").null_count() == 5


def test_batch_lines_of_another_shape(tmp_path: Path) -> None:
    good = (BATCH / "formats_md_output_and_errors.jsonl").read_bytes().splitlines()[0]
    path = tmp_path / "out.jsonl"
    # usage as a string is not the documented shape: the lenient reader still takes the line, the tokens are unknown
    odd = orjson.loads(good)
    odd["custom_id"] = "odd-1"
    odd["response"]["body"]["usage"] = "n/a"
    path.write_bytes(b"\n".join([good, b'{"custom_id": "x", "response": ', orjson.dumps(odd)]) + b"\n")
    events, issues = read_events(path)
    assert sorted(events.get_column("correlation_id").to_list()) == ["odd-1", "ticket-00017"]
    assert one(events, correlation_id="odd-1")["input_tokens"] is None
    assert one(events, correlation_id="odd-1")["output_text"] == "Refund approved."
    assert [(i.code, i.line) for i in issues.examples["invalid-json"]] == [("invalid-json", 2)]


# -- Bedrock ---------------------------------------------------------------------------------------------


def test_bedrock_invocation_log() -> None:
    events, issues = read_events(BEDROCK)
    assert events.height == 5
    assert issues.failing == 0
    converse = one(events, correlation_id="3f1c2b7e-1d2a-4c5b-9e8f-0a1b2c3d4e5f")
    assert converse["duration_ms"] == 412.0  # output.outputBodyJson.metrics.latencyMs
    assert converse["start"] == datetime(2024, 11, 29, 9, 40, 2, tzinfo=UTC)
    assert (converse["model"], converse["provider"]) == ("anthropic.claude-3-haiku-20240307-v1:0", "aws")
    assert (converse["input_tokens"], converse["output_tokens"], converse["cached_tokens"]) == (14, 4, 0)
    assert (converse["input_text"], converse["output_text"], converse["finish_reason"]) == (
        "Capital of France?",
        "Paris.",
        "end_turn",
    )
    assert converse["user"] == "arn:aws:sts::123456789012:assumed-role/app-role/session-1"
    invoke = one(events, correlation_id="7a1d6c2e-52f1-4c8e-9b1a-2f0e4c6d8a10")
    assert invoke["model"] == "us.anthropic.claude-3-5-sonnet-20240620-v1:0"  # from the inference-profile ARN
    assert (invoke["input_tokens"], invoke["cached_tokens"]) == (176 + 1024, 1024)  # cache reads counted in
    assert invoke["duration_ms"] is None  # InvokeModel logs no latency
    assert invoke["input_text"] == "You are terse.\nSummarise our refund policy."  # the system string first
    stream = one(events, correlation_id="8b2e7d3f-63a2-4d9f-8c2b-3a1f5d7e9b21")
    assert stream["model"] == "anthropic.claude-3-haiku-20240307-v1:0"  # from the foundation-model ARN
    assert (stream["duration_ms"], stream["ttft_ms"]) == (830.0, 240.0)  # invocationLatency, firstByteLatency
    assert (stream["output_text"], stream["finish_reason"]) == ("Hello.", "end_turn")
    embedding = one(events, correlation_id="9c3f8e4a-74b3-4e0a-9d3c-4b2a6e8f0c32")
    assert (embedding["stage"], embedding["input_text"]) == ("embedding", "refund policy")
    throttled = one(events, correlation_id="ad4a9f5b-85c4-4f1b-8e4d-5c3b7f9a1d43")
    assert (throttled["is_error"], throttled["error_type"], throttled["input_tokens"]) == (
        True,
        "ThrottlingException",
        None,
    )


def test_bedrock_is_priced_by_its_model_id() -> None:
    from aiobs.sources.paths import expand_inputs
    from aiobs.summary import summarize

    summary = summarize(expand_inputs([str(BEDROCK)]))
    assert summary.unpriced.is_empty() or "anthropic" not in " ".join(summary.unpriced.get_column("model").to_list())
    assert summary.overall.row(0, named=True)["cost_usd"] > 0


def test_bedrock_wrong_token_count_is_flagged(tmp_path: Path) -> None:
    line = gzip.decompress(next(BEDROCK.rglob("*.json.gz")).read_bytes()).splitlines()[0]
    row = orjson.loads(line)
    row["input"]["inputTokenCount"] = "lots"
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps(row) + b"\n"))
    events, issues = read_events(path, input_format="bedrock")
    assert events.row(0, named=True)["input_tokens"] is None
    assert [(i.code, i.line, i.message) for i in issues.examples["wrong-type"]] == [
        ("wrong-type", 1, "input_tokens is not a whole number >= 0 (value ignored)")
    ]


# -- LiteLLM ---------------------------------------------------------------------------------------------


def test_litellm_standard_logging_payloads() -> None:
    events, issues = read_events(LITELLM / "formats_md_payloads.jsonl")
    assert issues.failing == 0
    ok = one(events, event_id="b980db26-9512-45cc-b1da-c511a363b83f")  # call_id
    assert ok["correlation_id"] == "9d2f-41aa"  # trace_id groups the retries
    assert ok["is_root"] is False
    assert ok["start"] == datetime(2024, 11, 29, 9, 0, 0, 123400, tzinfo=UTC)  # float epoch seconds
    assert ok["duration_ms"] == pytest.approx(1800.0)
    assert ok["ttft_ms"] == pytest.approx(400.0)  # streamed: completionStartTime - startTime
    assert (ok["model"], ok["provider"], ok["user"]) == ("gpt-4o-mini", "openai", "u_42")
    assert (ok["input_tokens"], ok["output_tokens"], ok["logged_cost_usd"]) == (1200, 5, 0.000183)
    failed = one(events, event_id="c3d1-77ef")
    assert (failed["is_error"], failed["error_type"]) == (True, "RateLimitError")
    assert failed["input_tokens"] is None and failed["output_tokens"] is None  # failures report 0: unknown
    assert failed["ttft_ms"] is None  # not streamed
    assert failed["duration_ms"] == pytest.approx(250.0)


def test_litellm_real_fixtures() -> None:
    events, issues = read_events(LITELLM / "standard_logging_payload.json", LITELLM / "spend_logs_payload.json")
    assert issues.failing == 0
    payload = one(events, correlation_id="chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f")
    assert payload["start"] == datetime(2025, 1, 24, 9, 20, 46, 847371, tzinfo=UTC)  # string times, read as UTC
    assert payload["duration_ms"] == pytest.approx(4.583)
    assert (payload["input_text"], payload["output_text"], payload["finish_reason"]) == ("Hello, world!", "hi", "stop")
    assert payload["logged_cost_usd"] == pytest.approx(0.000225)
    spend = one(events, correlation_id="chatcmpl-2283081b-dc89-41f6-93e6-d4f914774027")
    assert spend["is_root"] is True
    assert spend["ttft_ms"] is None  # completionStartTime == endTime and no stream flag: not streamed
    assert (spend["input_tokens"], spend["output_tokens"]) == (10, 20)
    assert spend["logged_cost_usd"] == pytest.approx(0.000225)
    assert spend["input_text"] is None and spend["output_text"] is None  # "{}" holds no message


def test_litellm_cost_is_shown_next_to_the_priced_cost() -> None:
    from aiobs.sources.paths import expand_inputs
    from aiobs.summary import summarize

    summary = summarize(expand_inputs([str(LITELLM / "formats_md_payloads.jsonl")]))
    check = summary.cost_check.row(0, named=True)
    assert check["model"] == "gpt-4o-mini"
    assert check["logged_cost_usd"] == pytest.approx(0.000183)
    assert check["priced_cost_usd"] > 0


def test_litellm_json_encoded_fields_and_prefixed_models(tmp_path: Path) -> None:
    row = {
        "request_id": "r-1",
        "call_type": "acompletion",
        "model": "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
        "startTime": "2025-01-24T09:20:46.000000+00:00",
        "endTime": "2025-01-24T09:20:47.500000+00:00",
        "metadata": orjson.dumps(
            {"user_api_key_end_user_id": "cust-7", "user_api_key_request_route": "/chat"}
        ).decode(),
        "messages": orjson.dumps([{"role": "user", "content": 'tab\there \\ "q"'}]).decode(),
        "response": orjson.dumps({"choices": [{"finish_reason": "length", "message": {"content": "cut"}}]}).decode(),
        "cache_hit": "None",
        "spend": 0.001,
        "status": "success",
    }
    path = tmp_path / "spend.jsonl"
    path.write_bytes(orjson.dumps(row) + b"\n")
    events, _ = read_events(path)
    got = events.row(0, named=True)
    assert (got["provider"], got["model"]) == ("aws", "bedrock/anthropic.claude-3-haiku-20240307-v1:0")
    assert (got["user"], got["route"], got["duration_ms"]) == ("cust-7", "/chat", 1500.0)
    assert (got["input_text"], got["output_text"], got["finish_reason"]) == ('tab\there \\ "q"', "cut", "length")


# -- Langfuse --------------------------------------------------------------------------------------------


def test_langfuse_trace_across_two_files() -> None:
    events, issues = read_events(LANGFUSE / "observations_v2_seconds.jsonl", LANGFUSE / "formats_md_observation.jsonl")
    assert issues.failing == 0
    root = one(events, event_id="obs_root")
    assert (root["stage"], root["is_root"], root["parent_id"], root["route"]) == ("gateway", True, None, "support-chat")
    gen = one(events, event_id="obs_7f3a")
    assert (gen["parent_id"], gen["correlation_id"], gen["stage"]) == ("obs_root", "tr_91c2", "llm")
    assert gen["start"] == datetime(2024, 11, 29, 9, 40, 0, 123000, tzinfo=UTC)
    assert (gen["duration_ms"], gen["ttft_ms"]) == (pytest.approx(1800.0), pytest.approx(400.0))
    assert (gen["input_tokens"], gen["output_tokens"], gen["logged_cost_usd"]) == (12, 3, 0.0000036)
    retriever = one(events, event_id="obs_ret")
    assert retriever["stage"] == "retrieval"
    assert retriever["context_text"] == "Refunds are accepted within 30 days of purchase."
    failed = one(events, event_id="obs_gen2")
    assert (failed["is_error"], failed["error_type"]) == (True, "RateLimitError: 429")
    # usage_details keeps cached tokens out of `input` (total 2020 = 1500 + 500 + 20): added back
    assert (failed["input_tokens"], failed["cached_tokens"], failed["output_tokens"]) == (2000, 500, 20)
    assert failed["response_format"] == "json_object"


def test_langfuse_latency_unit_is_detected() -> None:
    """The same 1.8 s call, exported in seconds and in milliseconds, and rows that only have `latency`."""
    seconds, _ = read_events(LANGFUSE / "formats_md_observation.jsonl")
    legacy, _ = read_events(LANGFUSE / "observations_legacy_ms.jsonl")
    ui, _ = read_events(LANGFUSE / "ui_export_ms.json")
    assert seconds.row(0, named=True)["ttft_ms"] == pytest.approx(400.0)  # from completion_start_time
    assert one(legacy, event_id="o1")["ttft_ms"] == pytest.approx(400.0)  # 400 ms; ratio latency/elapsed = 1000
    no_end = one(legacy, event_id="o2")
    assert (no_end["duration_ms"], no_end["ttft_ms"]) == (950.0, 210.0)
    # No row has both start and end: a median latency of 2,000 is read as milliseconds.
    assert ui.get_column("duration_ms").to_list() == [1250.0, 2750.0]
    assert ui.get_column("line").to_list() == [2, 25]  # where each object starts in the pretty-printed array


def test_langfuse_seconds_without_end_times(tmp_path: Path) -> None:
    rows = [
        {"id": f"o{i}", "trace_id": f"t{i}", "type": "GENERATION", "start_time": "2026-05-01 10:00:00", "latency": s}
        for i, s in enumerate((1.5, 2.5, 4.0))
    ]
    path = tmp_path / "obs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    events, _ = read_events(path)
    assert events.get_column("duration_ms").to_list() == [1500.0, 2500.0, 4000.0]
