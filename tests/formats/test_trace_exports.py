"""Jaeger and Tempo exports of the same spans give the requests their OTLP file gives.

The spans are aiobs's own OTLP output for requests of the sample logs (`trace --format otlp`), written
again as Jaeger's query API answers (`{"data": [trace]}`, jaeger model/json: `traceID`, `spanID`,
`references`, microsecond `startTime`/`duration`, typed `tags`, `processes`) and as Tempo's trace-by-ID
responses (v1 `batches` with `instrumentationLibrarySpans`, v2 `trace.resourceSpans`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.formats.detect import detect_format
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
COMPARED = ("correlation_id", "input_tokens", "output_tokens", "model", "is_error", "n_events", "has_root")


@pytest.fixture(scope="module")
def otlp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    requests = summarize(expand_inputs([str(SAMPLES)])).requests.collect()
    ids = pl.concat([requests.filter(pl.col("is_error")).head(2), requests.filter(~pl.col("is_error")).head(3)])
    out = tmp_path_factory.mktemp("otlp") / "trace.json"
    args = [arg for cid in ids["correlation_id"] for arg in ("--id", cid)]
    result = CliRunner().invoke(app, ["trace", str(SAMPLES), *args, "--format", "otlp", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def jaeger_tag(attribute: dict[str, Any]) -> dict[str, Any]:
    ((kind, value),) = attribute["value"].items()
    if kind == "intValue":
        return {"key": attribute["key"], "type": "int64", "value": int(value)}
    if kind == "doubleValue":
        return {"key": attribute["key"], "type": "float64", "value": value}
    if kind == "arrayValue":
        return {
            "key": attribute["key"],
            "type": "string",
            "value": json.dumps([v["stringValue"] for v in value["values"]]),
        }
    return {"key": attribute["key"], "type": "string", "value": value}


def as_jaeger(otlp: dict[str, Any]) -> dict[str, Any]:
    traces: dict[str, list[dict[str, Any]]] = {}
    for resource in otlp["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
                tags = [jaeger_tag(a) for a in span["attributes"]]
                if span.get("status", {}).get("code") == 2:
                    tags.append({"key": "error", "type": "bool", "value": True})
                parent = span.get("parentSpanId")
                references = [{"refType": "CHILD_OF", "traceID": span["traceId"], "spanID": parent}] if parent else []
                traces.setdefault(span["traceId"], []).append(
                    {
                        "traceID": span["traceId"],
                        "spanID": span["spanId"],
                        "operationName": span["name"],
                        "references": references,
                        "startTime": start // 1000,
                        "duration": (end - start) // 1000,
                        "tags": tags,
                        "logs": [],
                        "processID": "p1",
                        "warnings": None,
                    }
                )
    processes = {"p1": {"serviceName": "rag-api", "tags": [{"key": "hostname", "type": "string", "value": "web-1"}]}}
    data = [{"traceID": t, "spans": spans, "processes": processes, "warnings": None} for t, spans in traces.items()]
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def requests_of(path: Path) -> pl.DataFrame:
    table = summarize(expand_inputs([str(path)])).requests.collect()
    return table.select(*COMPARED, pl.col("latency_ms").round(2)).sort("correlation_id")


@pytest.mark.parametrize("shape", ["jaeger", "tempo-v1", "tempo-v2"])
def test_an_export_gives_the_requests_of_its_spans(tmp_path: Path, otlp: dict[str, Any], shape: str) -> None:
    if shape == "jaeger":
        document = as_jaeger(otlp)
    elif shape == "tempo-v1":
        batches = [
            {"resource": r["resource"], "instrumentationLibrarySpans": r["scopeSpans"]} for r in otlp["resourceSpans"]
        ]
        document = {"batches": batches}
    else:
        document = {"trace": otlp}
    exported = tmp_path / f"{shape}.json"
    exported.write_text(json.dumps(document, indent=2))  # as the UI and the APIs give them: pretty-printed
    original = tmp_path / "otlp.jsonl"
    original.write_text(json.dumps(otlp) + "\n")
    assert detect_format(json.dumps(document).encode() + b"\n") == shape.split("-")[0]
    expected, found = requests_of(original), requests_of(exported)
    assert found.height == expected.height == 5
    assert found.equals(expected)
    assert found["is_error"].sum() == 2
