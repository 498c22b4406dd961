"""`aiobs trace --format otlp`: valid OTLP (parsed by opentelemetry-proto's own classes), read back by
aiobs to the same requests."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
COMPARED = ("latency_ms", "input_tokens", "output_tokens", "cached_tokens", "model", "is_error", "llm_ms")


def trace_id(correlation_id: str) -> str:
    """The trace ID the writer gives a correlation ID that is not one already (documented in otlp_out)."""
    return hashlib.sha256(correlation_id.encode()).hexdigest()[:32]


def protobuf_json(document: Any) -> Any:
    """OTLP/JSON writes IDs in hex where protobuf's JSON mapping has base64 (the OTLP spec's one exception);
    a receiver turns them back before parsing, as this does."""
    if isinstance(document, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId")
            else protobuf_json(v)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [protobuf_json(v) for v in document]
    return document


@pytest.fixture(scope="module")
def chosen() -> pl.DataFrame:
    """Requests of every kind: with a root and without, failed, the slowest."""
    requests = summarize(expand_inputs([str(SAMPLES)])).requests.collect()
    picks = [
        requests.filter(pl.col("has_root")).sort("latency_ms", descending=True).head(3),
        requests.filter(~pl.col("has_root")).head(2),
        requests.filter(pl.col("is_error") & pl.col("has_root")).head(1),
    ]
    return pl.concat(picks).unique("correlation_id", maintain_order=True)


def test_requests_written_as_otlp_read_back_the_same(tmp_path: Path, chosen: pl.DataFrame) -> None:
    out = tmp_path / "trace.json"
    ids = [arg for cid in chosen["correlation_id"] for arg in ("--id", cid)]
    result = CliRunner().invoke(app, ["trace", str(SAMPLES), *ids, "--format", "otlp", "-o", str(out)])
    assert result.exit_code == 0, result.output

    message = json_format.Parse(
        orjson.dumps(protobuf_json(orjson.loads(out.read_bytes()))), ExportTraceServiceRequest()
    )
    spans = message.resource_spans[0].scope_spans[0].spans
    assert len({span.trace_id for span in spans}) == chosen.height
    for span in spans:
        assert len(span.trace_id) == 16 and len(span.span_id) == 8

    back = summarize(expand_inputs([str(out)])).requests.collect()
    assert back.height == chosen.height
    expected = chosen.with_columns(correlation_id=pl.col("correlation_id").map_elements(trace_id, pl.String))
    joined = expected.select("correlation_id", *COMPARED).join(
        back.select("correlation_id", *COMPARED), on="correlation_id", suffix="_back"
    )
    assert joined.height == chosen.height
    for column in COMPARED:
        if joined[column].dtype == pl.Float64:
            assert joined[column].round(3).equals(joined[f"{column}_back"].round(3)), column
        else:
            assert joined[column].equals(joined[f"{column}_back"]), column
    assert chosen["is_error"].any() and not chosen["has_root"].all()  # the comparison covers both kinds
