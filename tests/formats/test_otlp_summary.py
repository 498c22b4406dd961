"""A summary over OTLP traces split across lines and files, checked against numbers worked out by hand.

Four requests (times in ms from T0; every span's numbers are in `_scenario`):

| trace | root span | latency | input tokens | output tokens | error |
|---|---|---|---|---|---|
| A | POST /chat, 0-3000 (in traces-2.jsonl) | 3000 | 1000 + 1300 = 2300 | 200 + 150 = 350 | no |
| B | POST /chat, 10000-11500 | 1500 | 500 | 50 | no |
| C | POST /rag, 20000-22500, status error | 2500 | 20 (embedding) | none logged | yes |
| D | a lone chat span, 30000-30800 | 800 | 100 | 20 | no |

Latencies sorted: 800, 1500, 2500, 3000. p50 = (1500 + 2500) / 2 = 2000; mean = 7800 / 4 = 1950;
max 3000. Input tokens 2300 + 500 + 20 + 100 = 2920; output 350 + 50 + 20 = 420 (C logged none, so it
adds nothing rather than a zero); cached 400 (A's first call). LLM time per request: A 1800 + 800 = 2600,
B 1300, C 2200, D 800.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from otlp_builder import jsonl, log_record, logs_data, span, traces_data
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

T0 = 1_764_324_000_000_000_000  # 2025-11-28T10:00:00Z in ns
A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)
LATENCIES = [3000.0, 1500.0, 2500.0, 800.0]


def at(ms: float) -> int:
    return T0 + int(ms * 1_000_000)


def _scenario(folder: Path) -> Path:
    chat_new = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    chat_old = {"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini"}
    a_root = span(
        A,
        "a000000000000000",
        name="POST /chat",
        start_ns=at(0),
        end_ns=at(3000),
        attrs={"http.route": "/chat", "user.id": "u1"},
    )
    a1 = span(
        A,
        "a000000000000001",
        parent="a000000000000000",
        name="chat gpt-4o-mini",
        start_ns=at(100),
        end_ns=at(1900),
        attrs={
            **chat_new,
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 200,
            "gen_ai.usage.cache_read.input_tokens": 400,
        },
    )
    a2 = span(
        A,
        "a000000000000002",
        parent="a000000000000000",
        name="execute_tool get_weather",
        start_ns=at(1950),
        end_ns=at(2100),
        attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"},
    )
    a3 = span(
        A,
        "a000000000000003",
        parent="a000000000000000",
        name="chat gpt-4o-mini",
        start_ns=at(2150),
        end_ns=at(2950),
        attrs={**chat_old, "gen_ai.usage.prompt_tokens": 1300, "gen_ai.usage.completion_tokens": 150},
    )
    b_root = span(
        B,
        "b000000000000000",
        name="POST /chat",
        start_ns=at(10000),
        end_ns=at(11500),
        attrs={"http.route": "/chat", "user.id": "u2"},
    )
    b1 = span(
        B,
        "b000000000000001",
        parent="b000000000000000",
        start_ns=at(10100),
        end_ns=at(11400),
        attrs={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-3-5-haiku-latest",
            "gen_ai.usage.input_tokens": 500,
            "gen_ai.usage.output_tokens": 50,
        },
    )
    c_root = span(
        C,
        "c000000000000000",
        name="POST /rag",
        start_ns=at(20000),
        end_ns=at(22500),
        attrs={"http.route": "/rag", "error.type": "UpstreamTimeout"},
        error="upstream timed out",
    )
    c1 = span(
        C,
        "c000000000000001",
        parent="c000000000000000",
        start_ns=at(20010),
        end_ns=at(20060),
        attrs={
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": 20,
        },
    )
    c2 = span(
        C,
        "c000000000000002",
        parent="c000000000000000",
        start_ns=at(20060),
        end_ns=at(20200),
        attrs={"gen_ai.operation.name": "retrieval"},
    )
    c3 = span(
        C,
        "c000000000000003",
        parent="c000000000000000",
        start_ns=at(20200),
        end_ns=at(22400),
        attrs={**chat_new, "gen_ai.request.model": "gpt-4o", "error.type": "timeout"},
        error="timeout",
    )
    d = span(
        D,
        "d000000000000000",
        name="chat gpt-4o-mini",
        start_ns=at(30000),
        end_ns=at(30800),
        attrs={
            **chat_new,
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 20,
        },
    )
    folder.mkdir()
    # Trace A is split across two files and three lines; lines mix traces, in no time order.
    (folder / "traces-1.jsonl").write_bytes(jsonl([traces_data([a1, c2, d]), traces_data([a2, b1, b_root])]))
    (folder / "traces-2.jsonl").write_bytes(jsonl([traces_data([c3, a_root, c1]), traces_data([a3, c_root])]))
    (folder / "logs.jsonl").write_bytes(
        jsonl(
            [
                logs_data(
                    [
                        log_record(
                            A,
                            "a000000000000001",
                            event_name="gen_ai.user.message",
                            time_ns=at(100),
                            body={"content": "Weather in Paris?"},
                        ),
                    ]
                )
            ]
        )
    )
    return folder


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return _scenario(tmp_path / "otlp")


def test_requests_rebuilt_from_split_traces(scenario: Path) -> None:
    summary = summarize(expand_inputs([str(scenario)]))
    requests = summary.requests.collect().sort("start")
    assert requests.get_column("correlation_id").to_list() == [A, B, C, D]
    assert requests.get_column("latency_ms").to_list() == LATENCIES
    assert requests.get_column("n_events").to_list() == [4, 2, 4, 1]
    assert requests.get_column("has_root").to_list() == [True, True, True, True]
    assert requests.get_column("input_tokens").to_list() == [2300, 500, 20, 100]
    assert requests.get_column("output_tokens").to_list() == [350, 50, None, 20]
    assert requests.get_column("cached_tokens").to_list() == [400, None, None, None]
    assert requests.get_column("llm_ms").to_list() == [2600.0, 1300.0, 2200.0, 800.0]
    assert requests.get_column("tool_ms").to_list() == [150.0, None, None, None]
    assert requests.get_column("is_error").to_list() == [False, False, True, False]
    assert requests.get_column("route").to_list() == ["/chat", "/chat", "/rag", None]
    assert requests.get_column("skewed_events").to_list() == [0, 0, 0, 0]


def test_overall_numbers(scenario: Path) -> None:
    summary = summarize(expand_inputs([str(scenario)]), by=["route"])
    overall = summary.overall.row(0, named=True)
    assert (overall["requests"], overall["errors"]) == (4, 1)
    assert overall["latency_p50"] == 2000.0 == np.percentile(LATENCIES, 50)
    assert overall["latency_p95"] == pytest.approx(np.percentile(LATENCIES, 95))
    assert (overall["latency_mean"], overall["latency_max"]) == (1950.0, 3000.0)
    assert (overall["input_tokens"], overall["output_tokens"], overall["cached_tokens"]) == (2920, 420, 400)
    by_route = {r["route"]: r for r in summary.groups["route"].iter_rows(named=True)}
    assert by_route["/chat"]["requests"] == 2
    assert by_route["/chat"]["latency_p50"] == 2250.0  # (1500 + 3000) / 2
    assert summary.issues.failing == 0


def test_overall_numbers_through_the_cli(scenario: Path) -> None:
    result = CliRunner().invoke(app, ["summarize", str(scenario), "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)["overall"]
    assert (overall["requests"], overall["errors"]) == (4, 1)
    assert overall["latency_ms"]["p50"] == 2000.0
    assert (overall["latency_ms"]["mean"], overall["latency_ms"]["max"]) == (1950.0, 3000.0)
    assert overall["tokens"] == {"input": 2920, "output": 420, "cached": 400, "reasoning": None}
    assert overall["cost_usd"] > 0


def test_logs_and_traces_in_one_run_attach_messages(scenario: Path) -> None:
    from format_helpers import one, read_events

    events, _ = read_events(scenario)
    assert events.filter(pl.col("detail_of").is_not_null()).is_empty()
    assert one(events, event_id="a000000000000001")["input_text"] == "Weather in Paris?"


def test_a_span_exported_twice_is_counted_once(scenario: Path) -> None:
    """Exporters retry: the same TracesData line written again must not double a request's tokens."""
    first = (scenario / "traces-1.jsonl").read_bytes().splitlines(keepends=True)[0]
    (scenario / "retried.jsonl").write_bytes(first)
    summary = summarize(expand_inputs([str(scenario)]))
    assert summary.overall.row(0, named=True)["input_tokens"] == 2920
    assert summary.issues.counts["duplicate-event"] == 3  # the line held three spans
