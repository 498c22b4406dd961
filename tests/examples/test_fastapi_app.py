"""examples/fastapi-app: a real FastAPI service logging with structlog; aiobs counts what it was sent."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import orjson
import pytest
import structlog
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from aiobs.cli import app as cli

APP = Path(__file__).resolve().parents[2] / "examples" / "fastapi-app" / "app.py"


@pytest.fixture
def example() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("aiobs_fastapi_example", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
    structlog.reset_defaults()


def test_aiobs_counts_exactly_the_requests_errors_and_tokens_sent(example: ModuleType, tmp_path: Path) -> None:
    out = io.StringIO()
    example.configure_logging(out)
    sent = {"requests": 0, "errors": 0, "input": 0, "output": 0}
    questions = ["when are invoices sent?", "can I rotate API keys?", "billing account for a workspace", "overload"]
    with TestClient(example.app) as client:
        for i in range(300):
            question = questions[i % len(questions)] if i % 10 else "overload please"
            response = client.post("/rag/answer", json={"question": question, "user": f"u-{i % 7}"})
            sent["requests"] += 1
            if response.status_code == 502:
                sent["errors"] += 1
                continue
            assert response.status_code == 200, response.text
            sent["input"] += response.json()["usage"]["input"]
            sent["output"] += response.json()["usage"]["output"]
    log = tmp_path / "app.jsonl"
    log.write_text(out.getvalue(), encoding="utf-8")
    assert sent["errors"] == 30 + 75  # every tenth question (30), and the 75 "overload" among the others

    result = CliRunner().invoke(cli, ["summarize", str(log), "--format", "json", "--strict", "--by", "route"])
    assert result.exit_code == 0, result.output  # --strict: not one input problem
    doc = orjson.loads(result.stdout)
    overall = doc["overall"]
    assert (overall["requests"], overall["errors"]) == (sent["requests"], sent["errors"])
    assert (overall["tokens"]["input"], overall["tokens"]["output"]) == (sent["input"], sent["output"])
    assert [g["key"]["route"] for g in doc["groups"]["route"]] == ["/rag/answer"]
    assert overall["latency_ms"]["n"] == sent["requests"]  # every request timed by its gateway event
    assert {k["code"] for k in doc["input_quality"]["by_kind"]} <= {"blank-line"}
