"""Spend by model per call, errors by rule, and what the logs do not say: through `aiobs summarize`.

Hand-computed on a small log: request a runs an embedding (text-embedding-3-small, 1,000 tokens) then an
LLM call (gpt-4o, 100 in / 50 out); request b answers with gpt-4o-mini (2,000 in / 800 out) after a
failed gpt-4o attempt that logged 10 input tokens. List prices (USD per million tokens): embedding 0.02;
gpt-4o 2.50 in / 10 out; gpt-4o-mini 0.15 in / 0.60 out.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app

runner = CliRunner()
T = "2026-11-28T10:00:00.{:03d}Z"


def row(cid: str, event: str, ms: int, **extra: Any) -> dict[str, Any]:
    return {"ts": T.format(ms), "request_id": cid, "event": event, "status": "ok", **extra}


ROWS = [
    row("a", "gateway", 0, latency_ms=900, route="/rag", status=200),
    row("a", "embedding", 1, latency_ms=30, model="text-embedding-3-small", provider="openai", input_tokens=1000),
    row("a", "llm", 40, latency_ms=800, model="gpt-4o", input_tokens=100, output_tokens=50),
    row("b", "gateway", 0, latency_ms=950, route="/chat", status=200),
    row("b", "llm", 5, latency_ms=100, model="gpt-4o", input_tokens=10, attempt=1, status="error", error_type="429"),
    row("b", "llm", 200, latency_ms=700, model="gpt-4o-mini", input_tokens=2000, output_tokens=800, attempt=2),
    row("c", "gateway", 0, latency_ms=50, route="/chat", status=503),
]
EMBEDDING = 1000 * 0.02 / 1e6
GPT_4O = (100 * 2.50 + 50 * 10.0) / 1e6 + 10 * 2.50 / 1e6
MINI = (2000 * 0.15 + 800 * 0.60) / 1e6


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in ROWS))
    return path


def summarize(*args: str, width: int = 100) -> str:
    result = runner.invoke(app, ["summarize", *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_spend_per_call_counts_every_call_on_its_own_model(log: Path) -> None:
    doc = orjson.loads(summarize(str(log), "--format", "json"))
    spend = {r["model"]: r for r in doc["spend_by_model_per_call"]}
    assert list(spend) == ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]  # most costly first
    assert (spend["gpt-4o"]["calls"], spend["gpt-4o"]["tokens"]["input"], spend["gpt-4o"]["tokens"]["output"]) == (
        2,
        110,
        50,
    )
    assert spend["gpt-4o"]["cost_usd"] == pytest.approx(GPT_4O, rel=1e-12)
    assert spend["gpt-4o-mini"]["cost_usd"] == pytest.approx(MINI, rel=1e-12)
    assert spend["text-embedding-3-small"]["cost_usd"] == pytest.approx(EMBEDDING, rel=1e-12)
    assert spend["text-embedding-3-small"]["stages"] == ["embedding"]
    # Per request (--by model) the embedding is on request a's answering model, gpt-4o: the two views differ,
    # and both add up to the same total.
    by_model = {
        g["key"]["model"]: g
        for g in orjson.loads(summarize(str(log), "--by", "model", "-f", "json"))["groups"]["model"]
    }
    assert set(by_model) == {"gpt-4o", "gpt-4o-mini", None}
    assert by_model["gpt-4o"]["cost_usd"] == pytest.approx((100 * 2.50 + 50 * 10.0) / 1e6 + EMBEDDING, rel=1e-12)
    total = sum(r["cost_usd"] for r in spend.values())
    assert total == pytest.approx(doc["overall"]["cost_usd"], rel=1e-12) == pytest.approx(GPT_4O + MINI + EMBEDDING)


def test_errors_are_counted_by_the_rule_that_marked_them(log: Path) -> None:
    doc = orjson.loads(summarize(str(log), "--format", "json"))
    # b's failed attempt was retried successfully: not an error. c's 503 is.
    assert doc["overall"]["errors"] == 1
    assert doc["errors_by_rule"] == [{"error_rule": "http-status", "requests": 1}]
    assert "errors by rule: 1 an HTTP error status (http-status)" in summarize(str(log))
    with_4xx = orjson.loads(summarize(str(log), "--format", "json", "--http-error-from", "400"))
    assert with_4xx["overall"]["errors"] == 1  # nothing between 400 and 499 here


def test_a_4xx_counts_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    rows = [row("a", "gateway", 0, latency_ms=9, status=429), row("b", "gateway", 1, latency_ms=9, status=200)]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    assert orjson.loads(summarize(str(path), "-f", "json"))["overall"]["errors"] == 0
    assert orjson.loads(summarize(str(path), "-f", "json", "--http-error-from", "400"))["overall"]["errors"] == 1
    bad = runner.invoke(app, ["summarize", str(path), "--http-error-from", "42"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("aiobs: --http-error-from must be an HTTP status")


def test_spend_in_markdown_and_csv(log: Path) -> None:
    md = summarize(str(log), "--format", "md")
    assert "## Spend by model, per call" in md
    assert "| text-embedding-3-small \\(embedding\\) | 1 | 1,000 | — | $0.0000 | 0 |" in md
    rows = list(csv.DictReader(io.StringIO(summarize(str(log), "--format", "csv"))))
    per_call = {r["key"]: r for r in rows if r["grouping"] == "model, per call"}
    assert per_call["model=gpt-4o"]["calls"] == "2"
    assert float(per_call["model=gpt-4o"]["cost_usd"]) == pytest.approx(GPT_4O)


def test_notes_are_apart_from_problems(tmp_path: Path) -> None:
    """Point events give a latency from their lines, and say so; a file with no status says so too."""
    path = tmp_path / "points.jsonl"
    rows = [
        {"ts": "2026-11-28T10:00:00Z", "request_id": "p", "event": "request started"},
        {"ts": "2026-11-28T10:00:02.5Z", "request_id": "p", "event": "request finished"},
        {"ts": "2026-11-28T10:00:03Z", "request_id": "q", "event": "request finished"},
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    doc = orjson.loads(summarize(str(path), "-f", "json"))
    kinds = {k["code"]: (k["count"], k["informational"]) for k in doc["input_quality"]["by_kind"]}
    assert kinds == {
        "envelope-latency": (1, True),
        "unknown-latency": (1, True),
        "unknown-status": (3, True),
        "no-tokens": (1, True),
    }  # no missing-root on top of envelope-latency: one note per request says it
    assert doc["input_quality"]["problems"] == 0
    assert doc["overall"]["latency_ms"]["max"] == 2500.0  # p: first to last line; q: unknown, not 0
    assert doc["overall"]["latency_ms"]["n"] == 1
    text = summarize(str(path), width=250)
    assert "Input quality: no problems found." in text
    assert "What the logs do not say" in text
    assert "--map duration_ms=FIELD" in text
    strict = runner.invoke(app, ["summarize", str(path), "--strict"])
    assert strict.exit_code == 0  # notes are not problems
