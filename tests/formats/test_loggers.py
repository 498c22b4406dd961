"""Logger presets: the lines real loggers write give the numbers the native format gives for the same requests.

Hand-computed truth for `SCENARIO` (tests/formats/logger_writers.py): six requests whose end-to-end times are
1545, 9226, 812.5, 2300, 120 and 3100 ms; one 500 (r-3; r-5's 404 is a client error, not a failure by
default); 4,000 input and 1,400 output tokens; cost at list prices (USD per million tokens: gpt-4o 2.50 in /
10 out, gpt-4o-mini 0.15 / 0.60, claude-sonnet-4-5 3 / 15).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logger_writers import FIXTURES, GO_WRITERS, PYTHON_WRITERS, SCENARIO, Llm, Request, at, native
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.formats.loggers import PRESETS

runner = CliRunner()
TOTALS_MS = [1545.0, 9226.0, 812.5, 2300.0, 120.0, 3100.0]
COST_USD = (
    (100 * 2.50 + 50 * 10.0)  # r-1, gpt-4o
    + (2000 * 0.15 + 800 * 0.60)  # r-2, gpt-4o-mini
    + (1500 * 3.0 + 300 * 15.0)  # r-4, claude-sonnet-4-5
    + (400 * 2.50 + 250 * 10.0)  # r-6, gpt-4o
) / 1_000_000
SCENARIO_FILES = sorted((FIXTURES / p.name / "scenario.jsonl" for p in PRESETS), key=str)


def summary(path: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["summarize", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def failing(report: dict[str, Any]) -> dict[str, int]:
    informational = {"naive-timestamp", "envelope-latency", "unknown-latency", "missing-root", "partial-mapping"}
    return {k["code"]: k["count"] for k in report["input_quality"]["by_kind"] if k["code"] not in informational}


def test_every_preset_has_a_scenario_fixture() -> None:
    assert all(path.is_file() for path in SCENARIO_FILES)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.parent.name)
def test_scenario_gives_the_hand_computed_figures_with_no_flags(path: Path) -> None:
    report = summary(path)
    overall = report["overall"]
    assert (overall["requests"], overall["errors"]) == (6, 1)
    latency = overall["latency_ms"]
    for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert latency[name] == pytest.approx(np.percentile(TOTALS_MS, q), abs=1e-6)
    assert (latency["max"], overall["tokens"]["input"], overall["tokens"]["output"]) == (9226.0, 4000, 1400)
    assert overall["cost_usd"] == pytest.approx(COST_USD, rel=1e-9)
    assert failing(report) == {}


def test_python_json_logger_says_its_times_have_no_zone() -> None:
    kinds = {
        k["code"]: k["count"]
        for k in summary(FIXTURES / "python-json-logger" / "scenario.jsonl")["input_quality"]["by_kind"]
    }
    assert kinds == {"naive-timestamp": 17}


def test_a_real_fastify_log() -> None:
    """Fastify's own request lines: latency is `responseTime`, a 500 is an error (level 50 and the status)."""
    path = FIXTURES / "pino" / "fastify_inject.jsonl"
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    completed = [line for line in lines if line["msg"] == "request completed"]
    report = summary(path)
    assert report["overall"]["requests"] == len(completed) == 40
    assert report["overall"]["errors"] == sum(line["res"]["statusCode"] >= 500 for line in completed) == 4
    times = [line["responseTime"] for line in completed]
    for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert report["overall"]["latency_ms"][name] == pytest.approx(np.percentile(times, q), rel=1e-12)
    assert report["input_quality"]["problems"] == 0


def test_a_logger_timestamp_is_the_end_of_the_event_it_times(tmp_path: Path) -> None:
    """Without an access line to act as root, latency is the span of the lines: each line with a duration
    ends at its timestamp. Read as starts (`--time-is start`, what aiobs did before it knew), every request
    came out twice as long."""
    lines = [orjson.loads(line) for line in (FIXTURES / "structlog" / "scenario.jsonl").read_bytes().splitlines()]
    path = tmp_path / "no_status_codes.jsonl"
    path.write_bytes(
        b"".join(orjson.dumps({k: v for k, v in line.items() if k != "status_code"}) + b"\n" for line in lines)
    )
    as_end = summary(path)["overall"]["latency_ms"]
    as_start = summary(path, "--time-is", "start")["overall"]["latency_ms"]
    assert as_end["p50"] == pytest.approx(np.percentile(TOTALS_MS, 50))
    assert as_start["p50"] == pytest.approx(2 * np.percentile(TOTALS_MS, 50))


# -- the same random requests through every logger ----------------------------------------------------

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5")


@st.composite
def requests(draw: st.DrawFn) -> list[Request]:
    n = draw(st.integers(1, 12))
    out = []
    clock = 0.0
    for i in range(n):
        clock += draw(st.integers(0, 5000)) / 1000
        llm_ms = draw(st.integers(1, 60_000))
        total = llm_ms + 20 + draw(st.integers(1, 500))
        status = draw(st.sampled_from((200, 200, 200, 404, 500, 503)))
        error = "APITimeoutError" if status >= 500 and draw(st.booleans()) else None
        tokens = (None, None) if error else (draw(st.integers(0, 50_000)), draw(st.integers(0, 4_000)))
        llm = Llm(draw(st.sampled_from(MODELS)), float(llm_ms), *tokens, error=error) if draw(st.booleans()) else None
        out.append(Request(f"q-{i}", draw(st.sampled_from(("/chat", "/rag"))), at(clock), float(total), status, llm))
    return out


def figures(path: Path) -> tuple[Any, ...]:
    overall = summary(path)["overall"]
    latency, tokens = overall["latency_ms"], overall["tokens"]
    return (
        overall["requests"],
        overall["errors"],
        *(round(latency[k], 6) for k in ("p50", "p90", "p99", "max")),
        tokens["input"],
        tokens["output"],
        None if overall["cost_usd"] is None else round(overall["cost_usd"], 12),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reqs=requests())
def test_every_logger_gives_the_native_summary(tmp_path: Path, reqs: list[Request]) -> None:
    reference = tmp_path / "native.jsonl"
    reference.write_bytes(native(reqs))
    expected = figures(reference)
    for name, writer in {**PYTHON_WRITERS, **GO_WRITERS}.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(writer(reqs))
        assert figures(path) == expected, name


def test_scenario_fixture_is_what_the_writers_write_today() -> None:
    """The committed Python and Go fixtures are the writers' output (regenerate them if this fails)."""
    for name, writer in GO_WRITERS.items():
        assert (FIXTURES / name / "scenario.jsonl").read_bytes() == writer(list(SCENARIO)), name


def test_structlog_dict_tracebacks_name_the_raised_exception(tmp_path: Path) -> None:
    """structlog's `dict_tracebacks` logs the exception as a list of stacks (the raised one, then its causes):
    its error type is the raised exception's class, not the JSON text."""
    import io

    import structlog

    class ProviderError(Exception):
        pass

    out = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    try:
        try:
            raise KeyError("cause")
        except KeyError as cause:
            raise ProviderError("503 upstream overloaded") from cause
    except ProviderError:
        structlog.get_logger().exception("llm call failed", request_id="r1", model="gpt-4o", level="error")
    structlog.reset_defaults()
    log = tmp_path / "app.jsonl"
    log.write_text(out.getvalue(), encoding="utf-8")
    result = runner.invoke(app, ["trace", str(log), "--id", "r1", "--format", "json"])
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)["requests"][0]["events"]
    assert event["error_type"] == "ProviderError"
