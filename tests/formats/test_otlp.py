"""The OTLP adapter on the spec's own files, the FORMATS.md records, and traces built here to the spec.

Expected values are read off the JSON by hand (nanoseconds subtracted as integers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from format_helpers import FIXTURES, one, read_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_builder import jsonl, log_record, logs_data, span, span_event, traces_data

from aiobs.formats.otlp import OtlpAdapter
from aiobs.formats.reader import READ_ERRORS, AdapterParser
from aiobs.issues import IssueLog
from aiobs.sources.read import Chunk

OTLP = FIXTURES / "otlp"
SCHEMAS = FIXTURES / "otel_genai_schemas"
T0 = 1_732_870_800_000_000_000  # 2024-11-29T09:00:00Z in ns
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def ms(n: float) -> int:
    return int(n * 1_000_000)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the FORMATS.md records -------------------------------------------------------------------------------


def test_formats_md_traces_line() -> None:
    events, issues = read_events(OTLP / "formats_md_traces.jsonl")
    assert events.height == 2
    assert not issues.counts
    chat = one(events, event_id="00f067aa0ba902b7")
    assert chat["correlation_id"] == TRACE
    assert chat["parent_id"] == "53995c3f42cd8ad8"
    assert chat["is_root"] is False
    assert chat["stage"] == "llm"
    assert chat["event"] == "chat gpt-4o-mini"
    assert chat["start"] == datetime(2024, 11, 29, 9, 0, 0, 123456, tzinfo=UTC)
    assert chat["duration_ms"] == 1800.0  # 1732870801923456789 - 1732870800123456789 ns
    assert chat["model"] == "gpt-4o-mini-2024-07-18"  # the served model wins over the requested alias
    assert chat["provider"] == "openai"
    assert (chat["input_tokens"], chat["output_tokens"]) == (52, 47)
    assert chat["cached_tokens"] is None and chat["reasoning_tokens"] is None
    assert chat["finish_reason"] == "stop"
    assert chat["is_error"] is False
    failed = one(events, event_id="7a2c9e4f1b3d5a60")
    assert failed["provider"] == "openai"  # from the deprecated gen_ai.system
    assert failed["is_error"] is True
    assert failed["error_type"] == "RateLimitError"
    assert failed["duration_ms"] == 250.0
    assert failed["input_tokens"] is None and failed["output_tokens"] is None  # no usage: unknown, not 0


def test_formats_md_logs_line_gives_its_span_the_answer() -> None:
    events, issues = read_events(OTLP / "formats_md_traces.jsonl", OTLP / "formats_md_logs.jsonl")
    assert events.height == 2  # the log record is not an event of its own
    chat = one(events, event_id="00f067aa0ba902b7")
    assert chat["output_text"] == "Paris."
    assert chat["finish_reason"] == "stop"
    assert one(events, event_id="7a2c9e4f1b3d5a60")["output_text"] is None
    assert "skipped-record" not in issues.counts


def test_formats_md_openinference_span() -> None:
    events, _ = read_events(OTLP / "formats_md_openinference.jsonl")
    llm = events.row(0, named=True)
    assert llm["stage"] == "llm"  # openinference.span.kind LLM (the OTLP kind is INTERNAL)
    assert llm["model"] == "gpt-4o-mini-2024-07-18"
    assert llm["provider"] == "openai"  # llm.system
    assert (llm["input_tokens"], llm["output_tokens"]) == (12, 3)
    assert llm["input_text"] == "Capital of France?"
    assert llm["output_text"] == "Paris."
    assert llm["duration_ms"] == 1800.0
    assert llm["is_error"] is False  # status code 1 is OK


# -- the real files from the OpenTelemetry repositories ---------------------------------------------------


def test_spec_file_exporter_traces_have_empty_ids_so_are_orphans() -> None:
    events, issues = read_events(OTLP / "otel_spec_file_exporter_traces_example.jsonl")
    assert events.is_empty()
    assert issues.counts["missing-correlation-id"] == 4  # two lines of two spans, traceId ""
    assert sorted(i.line for i in issues.examples["missing-correlation-id"]) == [1, 1, 2, 2]


def test_spec_file_exporter_logs_are_not_genai_events() -> None:
    events, issues = read_events(OTLP / "otel_spec_file_exporter_logs_example.jsonl")
    assert events.is_empty()
    assert issues.counts == {"skipped-record": 4}
    assert "not a GenAI event" in issues.examples["skipped-record"][0].message


def test_proto_trace_example_is_a_pretty_printed_document() -> None:
    events, issues = read_events(OTLP / "opentelemetry-proto_examples_trace.json")
    row = events.row(0, named=True)
    assert events.height == 1
    assert row["line"] == 1  # the document's first line
    assert row["correlation_id"] == "5b8efff798038103d269b633813fc60c"  # hex is case-insensitive: lower-cased
    assert row["event_id"] == "eee19b7ec3c1b174"
    assert row["parent_id"] == "eee19b7ec3c1b173"
    assert row["duration_ms"] == 1000.0
    assert row["stage"] == "other"  # not a GenAI span, and not a root
    assert row["event"] == "I'm a server span"
    assert row["start"] == datetime(2018, 12, 13, 14, 51, 0, tzinfo=UTC)
    assert issues.failing == 0


@pytest.mark.parametrize("name", ["opentelemetry-proto_examples_logs.json", "opentelemetry-proto_examples_events.json"])
def test_proto_log_examples_are_skipped_not_lost(name: str) -> None:
    events, issues = read_events(OTLP / name)
    assert events.is_empty()
    assert issues.counts == {"skipped-record": 1}
    if "events" in name:
        assert issues.examples["skipped-record"][0].message.endswith("browser.page_view")


# -- numbers: nanoseconds as integers, int64 as strings, missing as unknown --------------------------------


def test_nanoseconds_are_parsed_as_integers(tmp_path: Path) -> None:
    start = T0 + 123_456_999  # as a float64 this rounds up to ...123457024 ns, i.e. the next microsecond
    child = span(TRACE, "00000000000000a1", parent="00000000000000a0", start_ns=start, end_ns=start + 1_000_001)
    events, _ = read_events(write(tmp_path / "t.jsonl", jsonl([traces_data([child])])))
    row = events.row(0, named=True)
    assert row["start"] == datetime(2024, 11, 29, 9, 0, 0, 123456, tzinfo=UTC)
    # Float64 spacing at 1.7e18 is 256 ns: a float subtraction could not give 1,000,001 ns.
    assert row["duration_ms"] == 1_000_001 / 1_000_000


def test_mixed_old_and_new_genai_names_in_one_file(tmp_path: Path) -> None:
    new = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-3-5-haiku",
    }
    old = {"gen_ai.operation.name": "chat", "gen_ai.system": "az.ai.openai", "gen_ai.request.model": "gpt-4o"}
    spans = [
        span(TRACE, "0000000000000001", name="root", start_ns=T0, end_ns=T0 + ms(5000), attrs={"http.route": "/chat"}),
        span(
            TRACE,
            "0000000000000002",
            parent="0000000000000001",
            start_ns=T0 + ms(1),
            end_ns=T0 + ms(1001),
            attrs={
                **new,
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 20,
                "gen_ai.usage.cache_read.input_tokens": 64,
                "gen_ai.usage.reasoning.output_tokens": 5,
            },
        ),
        span(
            TRACE,
            "0000000000000003",
            parent="0000000000000001",
            start_ns=T0 + ms(1100),
            end_ns=T0 + ms(2100),
            attrs={
                **old,
                "gen_ai.usage.prompt_tokens": 300,
                "gen_ai.usage.completion_tokens": 40,
            },
        ),
        # Both dialects on one span (an instrumentation in transition): the current name wins.
        span(
            TRACE,
            "0000000000000004",
            parent="0000000000000001",
            start_ns=T0 + ms(2200),
            end_ns=T0 + ms(2300),
            attrs={
                **new,
                "gen_ai.system": "openai",
                "gen_ai.usage.input_tokens": 7,
                "gen_ai.usage.prompt_tokens": 999,
            },
        ),
    ]
    events, issues = read_events(write(tmp_path / "mixed.jsonl", jsonl([traces_data(spans)])))
    assert issues.failing == 0
    root = one(events, event_id="0000000000000001")
    assert (root["stage"], root["is_root"], root["route"]) == ("gateway", True, "/chat")
    new_span = one(events, event_id="0000000000000002")
    assert (new_span["provider"], new_span["input_tokens"], new_span["output_tokens"]) == ("anthropic", 100, 20)
    assert (new_span["cached_tokens"], new_span["reasoning_tokens"]) == (64, 5)
    old_span = one(events, event_id="0000000000000003")
    assert (old_span["provider"], old_span["input_tokens"], old_span["output_tokens"]) == ("azure", 300, 40)
    both = one(events, event_id="0000000000000004")
    assert (both["provider"], both["input_tokens"], both["output_tokens"]) == ("anthropic", 7, None)


@pytest.mark.parametrize(
    ("attrs", "stage"),
    [
        ({"gen_ai.operation.name": "chat"}, "llm"),
        ({"gen_ai.operation.name": "text_completion"}, "llm"),
        ({"gen_ai.operation.name": "generate_content"}, "llm"),
        ({"gen_ai.operation.name": "embeddings"}, "embedding"),
        ({"gen_ai.operation.name": "retrieval"}, "retrieval"),
        ({"gen_ai.operation.name": "execute_tool"}, "tool"),
        ({"gen_ai.operation.name": "invoke_agent"}, "other"),
        ({"gen_ai.operation.name": "create_agent"}, "other"),
        ({"openinference.span.kind": "RETRIEVER"}, "retrieval"),
        ({"openinference.span.kind": "RERANKER"}, "rerank"),
        ({"openinference.span.kind": "EMBEDDING"}, "embedding"),
        ({"openinference.span.kind": "TOOL"}, "tool"),
        ({"openinference.span.kind": "CHAIN"}, "other"),
        ({"llm.request.type": "chat"}, "llm"),
        ({"http.route": "/x"}, "other"),
    ],
)
def test_stage_of_a_child_span(tmp_path: Path, attrs: dict[str, Any], stage: str) -> None:
    child = span(TRACE, "00000000000000b1", parent="00000000000000b0", start_ns=T0, end_ns=T0 + ms(10), attrs=attrs)
    events, _ = read_events(write(tmp_path / "s.jsonl", jsonl([traces_data([child])])))
    assert events.row(0, named=True)["stage"] == stage


@pytest.mark.parametrize(
    ("attrs", "stage"),
    [
        ({}, "gateway"),  # a root without a GenAI operation is the request's root
        ({"openinference.span.kind": "CHAIN"}, "gateway"),
        ({"gen_ai.operation.name": "invoke_workflow"}, "gateway"),
        ({"gen_ai.operation.name": "invoke_agent"}, "other"),
        ({"gen_ai.operation.name": "chat"}, "llm"),  # a lone LLM call is its own request
    ],
)
def test_stage_of_a_root_span(tmp_path: Path, attrs: dict[str, Any], stage: str) -> None:
    root = span(TRACE, "00000000000000c0", start_ns=T0, end_ns=T0 + ms(10), attrs=attrs)
    events, _ = read_events(write(tmp_path / "r.jsonl", jsonl([traces_data([root])])))
    assert (events.row(0, named=True)["stage"], events.row(0, named=True)["is_root"]) == (stage, True)


def test_status_error_spellings(tmp_path: Path) -> None:
    ok = span(TRACE, "00000000000000d1", start_ns=T0, end_ns=T0 + ms(5))
    line = jsonl([traces_data([ok])]).replace(b'"status":{}', b'"status":{"code":"STATUS_CODE_ERROR","message":"boom"}')
    events, _ = read_events(write(tmp_path / "e.jsonl", line))
    row = events.row(0, named=True)
    assert (row["is_error"], row["error_type"]) == (True, "boom")  # no error.type: the status message


# -- content: attributes, flattened lists, span events, log records ---------------------------------------


def _validated(messages: list[dict[str, Any]], schema: str) -> str:
    jsonschema.validate(messages, json.loads((SCHEMAS / schema).read_text()))
    return json.dumps(messages)


def test_messages_from_attributes_follow_the_genai_schema(tmp_path: Path) -> None:
    inputs = [
        {"role": "system", "parts": [{"type": "text", "content": "Answer in one word."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Capital of {France}?"}]},
    ]
    outputs = [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "thinking"}, {"type": "text", "content": "Paris."}],
            "finish_reason": "stop",
        }
    ]
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": _validated(inputs, "gen-ai-input-messages.json"),
        "gen_ai.output.messages": _validated(outputs, "gen-ai-output-messages.json"),
        "gen_ai.output.type": "json",
    }
    child = span(TRACE, "00000000000000e1", parent="00000000000000e0", start_ns=T0, end_ns=T0 + ms(5), attrs=attrs)
    events, _ = read_events(write(tmp_path / "m.jsonl", jsonl([traces_data([child])])))
    row = events.row(0, named=True)
    assert row["input_text"] == "Answer in one word.\nCapital of {France}?"
    assert row["output_text"] == "Paris."  # the reasoning part is not the answer
    assert row["finish_reason"] == "stop"  # from the output message when there is no finish_reasons
    assert row["response_format"] == "json_object"


def test_openinference_retrieval_documents_and_traceloop_prompts(tmp_path: Path) -> None:
    retriever = span(
        TRACE,
        "00000000000000f1",
        parent="00000000000000f0",
        start_ns=T0,
        end_ns=T0 + ms(40),
        attrs={
            "openinference.span.kind": "RETRIEVER",
            "input.value": "refund policy",
            "retrieval.documents.1.document.content": "Store credit otherwise.",
            "retrieval.documents.0.document.content": "Refunds within 30 days.",
            "retrieval.documents.0.document.score": 0.9,
        },
    )
    traceloop = span(
        TRACE,
        "00000000000000f2",
        parent="00000000000000f0",
        start_ns=T0,
        end_ns=T0 + ms(40),
        attrs={
            "llm.request.type": "chat",
            "gen_ai.system": "Anthropic",
            "gen_ai.request.model": "claude-3-5-haiku-latest",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "Hi",
            "gen_ai.prompt.1.content": "Again",
            "gen_ai.completion.0.content": "Hello",
            "llm.usage.prompt_tokens": 9,
            "llm.usage.completion_tokens": 2,
            "gen_ai.usage.cache_read_input_tokens": 4,
        },
    )
    events, _ = read_events(write(tmp_path / "oi.jsonl", jsonl([traces_data([retriever, traceloop])])))
    docs = one(events, event_id="00000000000000f1")
    assert docs["context_text"] == "Refunds within 30 days.\nStore credit otherwise."  # index order, not key order
    assert docs["input_text"] == "refund policy"
    tl = one(events, event_id="00000000000000f2")
    assert (tl["stage"], tl["provider"], tl["model"]) == ("llm", "anthropic", "claude-3-5-haiku-latest")
    assert (tl["input_text"], tl["output_text"]) == ("Hi\nAgain", "Hello")
    assert (tl["input_tokens"], tl["output_tokens"], tl["cached_tokens"]) == (9, 2, 4)


def test_exception_span_event_gives_the_error_type(tmp_path: Path) -> None:
    failed = span(
        TRACE,
        "0000000000000101",
        parent="0000000000000100",
        start_ns=T0,
        end_ns=T0 + ms(5),
        error="upstream failed",
        events=[span_event("exception", T0 + ms(4), {"exception.type": "openai.APITimeoutError"})],
        attrs={"openinference.span.kind": "LLM"},
    )
    events, _ = read_events(write(tmp_path / "x.jsonl", jsonl([traces_data([failed])])))
    assert events.row(0, named=True)["error_type"] == "openai.APITimeoutError"


def test_log_records_in_another_file_fill_their_spans(tmp_path: Path) -> None:
    s1, s2 = "0000000000000201", "0000000000000202"
    traces = jsonl(
        [
            traces_data(
                [
                    span(TRACE, "0000000000000200", start_ns=T0, end_ns=T0 + ms(900)),
                    span(
                        TRACE,
                        s1,
                        parent="0000000000000200",
                        start_ns=T0 + ms(1),
                        end_ns=T0 + ms(400),
                        attrs={"gen_ai.operation.name": "chat"},
                    ),
                    span(
                        TRACE,
                        s2,
                        parent="0000000000000200",
                        start_ns=T0 + ms(401),
                        end_ns=T0 + ms(800),
                        attrs={
                            "gen_ai.operation.name": "chat",
                            "gen_ai.input.messages": '[{"role":"user","content":"own"}]',
                        },
                    ),
                ]
            )
        ]
    )
    details = {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "structured in"}]}],
        "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "structured out"}]}],
        "gen_ai.response.finish_reasons": ["length"],
    }
    logs = jsonl(
        [
            logs_data(
                [
                    log_record(
                        TRACE,
                        s1,
                        event_name="gen_ai.choice",
                        time_ns=T0 + ms(399),
                        body={"index": 0, "finish_reason": "stop", "message": {"content": "Paris."}},
                    ),
                    log_record(
                        TRACE, s1, event_name="gen_ai.user.message", time_ns=T0 + ms(2), body={"content": "Capital?"}
                    ),
                    log_record(
                        TRACE,
                        s1,
                        event_name="gen_ai.system.message",
                        time_ns=T0 + ms(1),
                        body={"content": "Be brief."},
                        name_as_attribute=True,
                    ),
                ]
            ),
            logs_data(
                [
                    log_record(
                        TRACE,
                        s2,
                        event_name="gen_ai.client.inference.operation.details",
                        time_ns=T0 + ms(800),
                        attrs=details,
                    ),
                    log_record(
                        TRACE,
                        "00000000000002ff",
                        event_name="gen_ai.choice",
                        time_ns=T0,
                        body={"message": {"content": "?"}},
                    ),
                    log_record(TRACE, s1, event_name="app.audit", time_ns=T0, body="user clicked"),
                ]
            ),
        ]
    )
    events, issues = read_events(write(tmp_path / "traces.jsonl", traces), write(tmp_path / "logs.jsonl", logs))
    assert events.height == 3
    first = one(events, event_id=s1)
    assert first["input_text"] == "Be brief.\nCapital?"  # in time order, whatever the order of the records
    assert (first["output_text"], first["finish_reason"]) == ("Paris.", "stop")
    second = one(events, event_id=s2)
    assert second["input_text"] == "own"  # the span's own attribute wins
    assert (second["output_text"], second["finish_reason"]) == ("structured out", "length")
    assert issues.counts["skipped-record"] == 2  # the audit record, and the choice of a span not in the input
    messages = sorted(i.message for i in issues.examples["skipped-record"])
    assert messages[0].startswith("OTLP log record is not a GenAI event: app.audit")
    assert "span 00000000000002ff" in messages[1]


# -- robustness: malformed lines, other shapes, the lenient reader -----------------------------------------


def test_a_malformed_line_in_the_middle_is_counted_and_the_rest_kept(tmp_path: Path) -> None:
    def line(span_id: str) -> bytes:
        child = span(
            TRACE,
            span_id,
            parent="0000000000000300",
            start_ns=T0,
            end_ns=T0 + ms(10),
            attrs={"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10},
        )
        return orjson.dumps(traces_data([child]))

    data = (
        b"\n".join(
            [
                line("0000000000000301"),
                line("0000000000000302")[:80],  # cut off mid-write
                line("0000000000000303"),
                b"[1, 2]",
                b'{"resourceSpans": "oops"}',
                b'{"request_id": "r1", "event": "llm"}',
                b"",
                b'{"resourceMetrics": [{"scopeMetrics": []}]}',
                line("0000000000000304"),
            ]
        )
        + b"\n"
    )
    path = write(tmp_path / "broken.jsonl", data)
    events, issues = read_events(path)
    assert events.get_column("event_id").to_list() == ["0000000000000301", "0000000000000303", "0000000000000304"]
    assert events.get_column("line").to_list() == [1, 3, 9]
    found = {code: [(i.source, i.line) for i in issues.examples[code]] for code in issues.counts}
    assert found == {
        "invalid-json": [(str(path), 2)],
        "not-an-object": [(str(path), 4)],
        "wrong-type": [(str(path), 5)],
        "unknown-record": [(str(path), 6)],
        "blank-line": [(str(path), 7)],
        "skipped-record": [(str(path), 8)],
    }


def _random_span(draw: st.DrawFn, index: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {"gen_ai.usage.input_tokens": draw(st.integers(0, 2**40))}
    for key, values in (
        ("gen_ai.operation.name", st.sampled_from(["chat", "embeddings", "execute_tool", "invoke_agent"])),
        ("gen_ai.provider.name", st.sampled_from(["openai", "aws.bedrock", "gcp.vertex_ai"])),
        ("gen_ai.usage.output_tokens", st.integers(0, 10**6)),
        ("gen_ai.response.time_to_first_chunk", st.floats(0, 60, allow_nan=False)),
        ("gen_ai.response.finish_reasons", st.lists(st.sampled_from(["stop", "length"]), min_size=1, max_size=2)),
        ("user.id", st.text(min_size=1, max_size=8)),
        ("error.type", st.sampled_from(["timeout", "429"])),
    ):
        if draw(st.booleans()):
            attrs[key] = draw(values)
    start = T0 + draw(st.integers(0, 10**15))
    parent = draw(st.sampled_from([None, "00000000000000ff"]))
    return span(
        f"{index % 3:032x}",
        f"{index + 1:016x}",
        parent=parent,
        start_ns=start,
        end_ns=start + draw(st.integers(0, 10**13)),
        attrs=attrs,
        error=draw(st.sampled_from([None, "e"])),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_typed_and_lenient_readers_agree(data: st.DataObject) -> None:
    """pyarrow's typed reader (int64 as strings) and Polars' lenient one (int64 as numbers) give the same events."""
    spans = [_random_span(data.draw, i) for i in range(data.draw(st.integers(1, 6)))]
    as_strings = jsonl([traces_data(spans)])
    as_numbers = as_strings
    for s in spans:
        for attr in s["attributes"]:
            if "intValue" in attr["value"]:
                value = attr["value"]["intValue"]
                as_numbers = as_numbers.replace(f'"intValue":"{value}"'.encode(), f'"intValue":{value}'.encode())
    with pytest.raises(READ_ERRORS):  # so the second read below does take the lenient path
        OtlpAdapter().read(as_numbers, lenient=False)
    parser = AdapterParser(OtlpAdapter(), IssueLog())
    typed = parser.events(Chunk("a", as_strings, 1))
    lenient = parser.events(Chunk("a", as_numbers, 1))
    assert typed.equals(lenient)
    assert typed.height == len(spans)
