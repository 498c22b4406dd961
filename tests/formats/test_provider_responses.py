"""The provider-response adapter on its fixtures (values read off the files by hand), detection, odd lines,
and a summary whose cost is computed by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from format_helpers import FIXTURES, one, read_events
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.formats.detect import detect_format

FIXTURE = FIXTURES / "provider-response"
CHAT = FIXTURE / "openai_chat.jsonl"
RESPONSES = FIXTURE / "openai_responses.jsonl"
ANTHROPIC = FIXTURE / "anthropic_messages.jsonl"
GEMINI = FIXTURE / "gemini.jsonl"
TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens")
runner = CliRunner()


def tokens(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[name] for name in TOKENS)


def a_request(row: dict[str, object], correlation_id: str, provider: str) -> None:
    """What every line of this format is: one LLM call that is its own request, with no latency."""
    assert row["correlation_id"] == row["event_id"] == correlation_id
    assert (row["stage"], row["is_root"], row["provider"]) == ("llm", True, provider)
    assert row["duration_ms"] is None  # a response object carries no latency: unknown, never 0
    assert row["ttft_ms"] is None


@pytest.mark.parametrize("path", [CHAT, RESPONSES, ANTHROPIC, GEMINI], ids=lambda p: p.name)
def test_each_fixture_is_detected_and_read_cleanly(path: Path) -> None:
    assert detect_format(path.read_bytes()) == "provider-response"
    events, issues = read_events(path)
    assert issues.failing == 0
    assert events.height == len(path.read_bytes().splitlines())


# -- OpenAI Chat Completions -----------------------------------------------------------------------------


def test_chat_completions() -> None:
    events, _ = read_events(CHAT)
    cached = one(events, correlation_id="chatcmpl-AZ1refund0001")
    a_request(cached, "chatcmpl-AZ1refund0001", "openai")
    assert (cached["event"], cached["is_error"], cached["error_type"]) == ("chat.completion", False, None)
    assert cached["start"] == datetime(2024, 11, 29, 9, 0, tzinfo=UTC)  # created: 1732870800
    assert cached["model"] == "gpt-4o-mini-2024-07-18"
    assert tokens(cached) == (1200, 11, 1024, None, 0)
    assert (cached["finish_reason"], cached["output_text"]) == (
        "stop",
        "Refunds are accepted within 30 days of purchase.",
    )
    reasoning = one(events, correlation_id="chatcmpl-AZ2reason0002")
    assert reasoning["start"] == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    assert reasoning["model"] == "o4-mini-2025-04-16"
    assert tokens(reasoning) == (2048, 640, 1920, None, 512)
    assert (reasoning["finish_reason"], reasoning["output_text"]) == ("stop", "The answer is 42.")
    cut = one(events, correlation_id="chatcmpl-AZ3length0003")
    assert tokens(cut) == (85, 16, 0, None, 0)
    assert (cut["finish_reason"], cut["output_text"]) == ("length", "Step 1: open the settings page and")
    tool = one(events, correlation_id="chatcmpl-AZ4tools0004")
    assert tokens(tool) == (140, 18, None, None, None)  # no *_tokens_details logged: unknown, not 0
    assert (tool["finish_reason"], tool["output_text"]) == ("tool_calls", None)
    for row in (cached, reasoning, cut, tool):
        assert row["response_format"] is None and row["max_tokens"] is None  # not in a completion object


# -- OpenAI Responses ------------------------------------------------------------------------------------


def test_responses() -> None:
    events, _ = read_events(RESPONSES)
    done = one(events, correlation_id="resp_68b1a0completed")
    a_request(done, "resp_68b1a0completed", "openai")
    assert (done["event"], done["is_error"], done["error_type"]) == ("response", False, None)
    assert done["start"] == datetime(2025, 7, 1, 9, 0, 0, 250000, tzinfo=UTC)  # created_at: 1751360400.25
    assert (done["model"], done["user"]) == ("o4-mini-2025-04-16", "user-7f3a")  # safety_identifier
    assert tokens(done) == (3000, 900, 2048, 0, 640)
    # The reasoning item (and its summary) comes first; the answer is the message item's output_text.
    assert (done["finish_reason"], done["output_text"]) == ("stop", "Paris is the capital of France.")
    assert (done["response_format"], done["max_tokens"]) == ("text", 2000)
    failed = one(events, correlation_id="resp_68b1b0failed")
    a_request(failed, "resp_68b1b0failed", "openai")
    assert (failed["is_error"], failed["error_type"], failed["error_rule"]) == (True, "server_error", "format")
    assert failed["start"] == datetime(2025, 7, 1, 9, 1, tzinfo=UTC)
    assert tokens(failed) == (None,) * 5  # usage: null
    assert (failed["finish_reason"], failed["output_text"]) == (None, None)
    cut = one(events, correlation_id="resp_68b1c0incomplete")
    assert (cut["is_error"], cut["finish_reason"]) == (False, "max_output_tokens")  # incomplete_details.reason
    assert tokens(cut) == (500, 256, 0, 0, 200)
    assert (cut["output_text"], cut["response_format"], cut["max_tokens"]) == (
        '{"causes": ["heat", ',
        "json_object",
        256,
    )


# -- Anthropic Messages ----------------------------------------------------------------------------------


def test_anthropic_messages() -> None:
    events, _ = read_events(ANTHROPIC)
    cached = one(events, correlation_id="msg_01XFDUDYJgAACzvnptvVoYEL")
    a_request(cached, "msg_01XFDUDYJgAACzvnptvVoYEL", "anthropic")
    assert (cached["event"], cached["is_error"]) == ("message", False)
    assert cached["start"] is None  # an Anthropic message has no timestamp
    assert cached["model"] == "claude-sonnet-4-20250514"
    # input_tokens 210 excludes cache reads (9000) and writes (1500); aiobs's input includes them
    assert tokens(cached) == (210 + 9000 + 1500, 320, 9000, 1500, None)
    assert (cached["finish_reason"], cached["output_text"]) == (
        "end_turn",
        "Our refund window is 30 days from delivery.",
    )
    tool = one(events, correlation_id="msg_01Aq9w938a90dw8q")
    assert tokens(tool) == (400, 80, 0, 0, 30)  # output_tokens_details.thinking_tokens
    # Neither the thinking block nor the tool_use input (which has a `text` member) is the answer.
    assert (tool["finish_reason"], tool["output_text"]) == ("tool_use", "Let me check the weather in Paris.")
    cited = one(events, correlation_id="msg_01CitedTextBlocks03")
    assert tokens(cited) == (1800, 64, None, None, None)  # cache counts null: input is input_tokens alone
    assert cited["finish_reason"] == "max_tokens"
    assert cited["output_text"] == "According to the policy, refunds take 5 business days and the"  # blocks joined


def test_anthropic_error_object() -> None:
    events, _ = read_events(ANTHROPIC)
    error = one(events, correlation_id="req_011CSHoEeqs5C35K2UUqR7Fy")  # the error body's request_id
    a_request(error, "req_011CSHoEeqs5C35K2UUqR7Fy", "anthropic")
    assert (error["event"], error["is_error"], error["error_type"]) == ("error", True, "overloaded_error")
    assert (error["start"], error["model"], error["output_text"]) == (None, None, None)
    assert tokens(error) == (None,) * 5


# -- Gemini ----------------------------------------------------------------------------------------------


def test_gemini() -> None:
    events, _ = read_events(GEMINI)
    api = one(events, correlation_id="mKdFaOq2LqG7nvgPkq3y8Ac")
    a_request(api, "mKdFaOq2LqG7nvgPkq3y8Ac", "google")
    assert (api["event"], api["is_error"], api["start"]) == ("generate_content", False, None)  # no createTime
    assert api["model"] == "gemini-2.5-flash"  # modelVersion
    # output = candidatesTokenCount 120 + thoughtsTokenCount 380; promptTokenCount already holds the cached 4096
    assert tokens(api) == (5000, 120 + 380, 4096, None, 380)
    assert (api["finish_reason"], api["output_text"]) == ("STOP", "Hello! How can I help you today?")  # no thought
    vertex = one(events, correlation_id="2yLSaN3hIZ6o2PgP5cWC4Ak")
    assert vertex["start"] == datetime(2025, 7, 15, 9, 0, 0, 123456, tzinfo=UTC)  # createTime
    assert vertex["model"] == "gemini-2.5-flash-lite"
    assert tokens(vertex) == (80, 1000, None, None, None)
    assert (vertex["finish_reason"], vertex["output_text"]) == ("MAX_TOKENS", "The report covers three regions: north,")
    dump = one(events, correlation_id="sdkDumpSnakeCase01")  # the SDK's snake_case model_dump_json()
    a_request(dump, "sdkDumpSnakeCase01", "google")
    assert (dump["model"], tokens(dump)) == ("gemini-2.5-flash", (12, 3, None, None, None))
    assert (dump["finish_reason"], dump["output_text"]) == ("STOP", "Bonjour !")


# -- all shapes, odd lines -------------------------------------------------------------------------------


def test_all_shapes_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_bytes(b"".join(p.read_bytes() for p in (GEMINI, ANTHROPIC, RESPONSES, CHAT)))
    assert detect_format(path.read_bytes()) == "provider-response"
    events, issues = read_events(path)
    assert issues.failing == 0
    assert events.group_by("provider").len().sort("provider").rows() == [("anthropic", 4), ("google", 3), ("openai", 7)]


def test_streamed_pieces_are_skipped_and_other_objects_unknown(tmp_path: Path) -> None:
    chunk = {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1732870800,
        "model": "gpt-4o",
        "choices": [],
    }
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    event = {"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 4}
    embeddings = {"object": "list", "data": [], "model": "text-embedding-3-small"}
    path = tmp_path / "mixed.jsonl"
    lines = [CHAT.read_bytes().splitlines()[0], *(orjson.dumps(r) for r in (chunk, delta, event, embeddings))]
    path.write_bytes(b"\n".join(lines) + b"\n")
    events, issues = read_events(path, input_format="provider-response")
    assert events.get_column("correlation_id").to_list() == ["chatcmpl-AZ1refund0001"]
    assert [i.line for i in issues.examples["skipped-record"]] == [2, 3, 4]
    assert [i.line for i in issues.examples["unknown-record"]] == [5]


def test_error_bodies_without_an_id_are_orphans(tmp_path: Path) -> None:
    rows = [
        {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"}},
        {"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}},  # Gemini
        {"error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
    ]
    path = tmp_path / "errors.jsonl"
    path.write_bytes(ANTHROPIC.read_bytes() + b"".join(orjson.dumps(r) + b"\n" for r in rows))
    events, issues = read_events(path)
    assert events.height == 4  # the fixture's lines; each error body has no ID to put it in a request
    assert issues.counts["missing-correlation-id"] == 3
    assert [i.line for i in issues.examples["missing-correlation-id"]] == [5, 6, 7]


def test_wrong_types_are_flagged_not_nulled(tmp_path: Path) -> None:
    anthropic = orjson.loads(ANTHROPIC.read_bytes().splitlines()[0])
    anthropic["usage"]["cache_read_input_tokens"] = "lots"  # the total input cannot be known either
    gemini = orjson.loads(GEMINI.read_bytes().splitlines()[0])
    gemini["usageMetadata"]["thoughtsTokenCount"] = -3
    chat = orjson.loads(CHAT.read_bytes().splitlines()[0])
    chat["created"] = "yesterday"
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in (anthropic, gemini, chat)))
    events, issues = read_events(path)
    got = one(events, correlation_id=anthropic["id"])
    assert (got["input_tokens"], got["cached_tokens"], got["output_tokens"]) == (None, None, 320)
    flagged = one(events, correlation_id=gemini["responseId"])
    assert (flagged["output_tokens"], flagged["reasoning_tokens"], flagged["input_tokens"]) == (None, None, 5000)
    assert one(events, correlation_id=chat["id"])["start"] is None
    wrong = sorted((i.line, i.message) for i in issues.examples["wrong-type"])
    assert wrong == [
        (1, "cached_tokens is not a whole number >= 0 (value ignored)"),
        (1, "input_tokens is not a whole number >= 0 (value ignored)"),
        (2, "output_tokens is not a whole number >= 0 (value ignored)"),
        (2, "reasoning_tokens is not a whole number >= 0 (value ignored)"),
    ]
    assert [i.line for i in issues.examples["invalid-timestamp"]] == [3]


def test_objects_of_another_shape_are_read_leniently(tmp_path: Path) -> None:
    good, *_ = RESPONSES.read_bytes().splitlines()
    odd = orjson.loads(good)
    odd["id"] = "resp_odd"
    odd["usage"] = "n/a"  # an object that is not one: the tokens are unknown, the rest of the line is read
    broken = orjson.loads(ANTHROPIC.read_bytes().splitlines()[0])
    broken["content"] = "a string, not a list of blocks"  # an array of another shape: the line cannot be read
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join([good, orjson.dumps(odd), orjson.dumps(broken)]) + b"\n")
    events, issues = read_events(path)
    assert events.get_column("correlation_id").to_list() == ["resp_68b1a0completed", "resp_odd"]
    lenient = one(events, correlation_id="resp_odd")
    assert tokens(lenient) == (None,) * 5
    assert (lenient["output_text"], lenient["response_format"]) == ("Paris is the capital of France.", "text")
    assert tokens(one(events, correlation_id="resp_68b1a0completed")) == (3000, 900, 2048, 0, 640)
    assert [(i.code, i.line) for i in issues.examples["wrong-type"]] == [("wrong-type", 3)]


# -- summary ---------------------------------------------------------------------------------------------


def test_summary_prices_anthropic_cache_reads_and_writes_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "claude.jsonl"
    path.write_bytes(ANTHROPIC.read_bytes().splitlines()[0] + b"\n")
    result = runner.invoke(app, ["summarize", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    overall = doc["overall"]
    # genai-prices, claude-sonnet-4-0 (matches claude-sonnet-4-20250514), USD per million tokens:
    # input 3, cache read 0.3, cache write 3.75, output 15. The line: input_tokens 210 (uncached),
    # cache_read_input_tokens 9000, cache_creation_input_tokens 1500, output_tokens 320.
    cost = (210 * 3 + 9000 * 0.3 + 1500 * 3.75 + 320 * 15) / 1_000_000  # = 0.013755
    assert overall["cost_usd"] == pytest.approx(cost, rel=1e-12)
    assert overall["cost_usd"] == pytest.approx(0.013755, rel=1e-12)
    assert (overall["requests"], overall["tokens"]["input"], overall["tokens"]["cached"]) == (1, 10710, 9000)
    assert overall["latency_ms"]["n"] == 0  # no latency in a response object
    by_kind = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert by_kind["unknown-latency"]["count"] == 1
    assert doc["input_quality"]["problems"] == 0


def test_summary_of_every_fixture(tmp_path: Path) -> None:
    result = runner.invoke(app, ["summarize", str(FIXTURE), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    overall = doc["overall"]
    assert (overall["requests"], overall["errors"]) == (14, 2)  # the failed response and the Anthropic error
    assert overall["latency_ms"]["n"] == 0
    by_kind = {k["code"]: k["count"] for k in doc["input_quality"]["by_kind"]}
    assert by_kind["unknown-latency"] == 14
    assert doc["unpriced_models"] == []
