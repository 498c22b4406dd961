"""OTLP/JSON (the OpenTelemetry Collector `file` exporter) -> canonical events.

Each line is a TracesData (`{"resourceSpans": [...]}`) or LogsData (`{"resourceLogs": [...]}`) object
holding many spans or log records, often of many traces; a trace is split across lines and files, in
no order. Every span becomes one event: correlation by `traceId`, `event_id` = `spanId`, `parent_id`
= `parentSpanId`, a span without a parent is the request's root (its duration is the end-to-end
latency). GenAI semantic-convention attributes, current and deprecated names mixed, OpenInference
attributes (`openinference.span.kind`, `llm.token_count.*`, `llm.input_messages.N.message.content`)
and the Traceloop/OpenLLMetry dialect all map onto the same canonical fields (tables in docs/formats.md).

GenAI log records carry the messages of a span in another line or file; they become detail rows of
that span. Other log records and metrics are counted as `skipped-record`.

The parts: aiobs.formats.otlp_frames reads the lines and flattens their nested lists and attributes,
otlp_spans maps spans (and holds the tables of attribute names), otlp_logs maps GenAI log records.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.otlp_frames import LENIENT_SCHEMA, read_typed
from aiobs.formats.otlp_logs import log_details
from aiobs.formats.otlp_spans import span_events

NAME = "otlp"


class OtlpAdapter:
    name = NAME

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        if not lenient and b'"resourceLogs"' not in data:
            return read_typed(data)
        return pl.scan_ndjson(data, schema=LENIENT_SCHEMA).collect()

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        typed = raw.schema["resourceLogs"] == _marker_dtype()  # pyarrow read only the traces
        lines = raw.lazy().with_columns(source=pl.lit(source))
        parts = [_line_issues(lines), span_events(lines)]
        if not typed:
            parts.append(log_details(lines))
        return pl.concat(parts, how="diagonal_relaxed")


def _marker_dtype() -> pl.DataType:
    return pl.List(pl.Struct({"schemaUrl": pl.String()}))


def _line_issues(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Rows for lines that hold no traces or logs: metrics are skipped, anything else is not OTLP."""
    spans, logs, metrics = (pl.col(c).is_not_null() for c in ("resourceSpans", "resourceLogs", "resourceMetrics"))
    flagged = lines.filter(spans.not_() & logs.not_()).select(
        "source",
        "line",
        _drop=pl.when(metrics).then(pl.lit("skipped-record")).otherwise(pl.lit("unknown-record")),
        _drop_message=pl.when(metrics)
        .then(pl.lit("OTLP metrics are not read (aiobs reads traces and logs)"))
        .otherwise(pl.lit("not an OTLP TracesData or LogsData object (no resourceSpans or resourceLogs)")),
    )
    return flagged
