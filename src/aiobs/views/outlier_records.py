"""`aiobs outliers` as one record: the `aiobs.outliers/1` document, which every writer reads.

The worst requests (`select_outliers`) and the tail attribution, with privacy applied once, here
(texts, routes and users redacted, user IDs hashed as asked), so the terminal, Markdown, CSV and JSON
cannot show one thing each. Typed in record_types.py (`OutliersRecord`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from aiobs.outliers import OutlierQuery, raised_flags, tail_sentence
from aiobs.redact import private_requests
from aiobs.summary import Summary
from aiobs.views.outliers import OutlierRow, outlier_rows
from aiobs.views.record_types import OutlierRecord, OutliersRecord, TailStageRecord, TokensRecord
from aiobs.views.records import iso_time, summary_record

SCHEMA = "aiobs.outliers/1"
SNIPPET_CHARS = 100


@dataclass
class OutlierReport:
    """What `aiobs outliers` found: the query, its outliers (`select_outliers`), the tail attribution
    (`tail_attribution`) and the summary they come from (its inputs, input quality and privacy)."""

    query: OutlierQuery
    outliers: pl.DataFrame
    attribution: pl.DataFrame
    summary: Summary


def eval_requests(report: OutlierReport) -> pl.DataFrame:
    """The outlier requests whole (texts and retrieved context, not snippets), with the flags they raised
    listed and privacy applied: what an eval dataset (`--format deepeval|ragas|langsmith`) holds."""
    flagged = report.outliers.with_columns(flags=raised_flags(report.summary.flags))
    return private_requests(flagged, report.summary.privacy)


def outliers_record(report: OutlierReport) -> OutliersRecord:
    q = report.query
    shown = private_requests(report.outliers, report.summary.privacy)
    summary = summary_record(report.summary)
    attribution = report.attribution
    return {
        "schema": SCHEMA,
        "aiobs_version": summary["aiobs_version"],
        "inputs": summary["inputs"],
        "query": {"p": q.p, "metric": q.metric, "per": q.per, "flag": q.flag, "limit": q.limit},
        "population": int(attribution["requests_all"][0]) if attribution.height else 0,
        "outliers": [outlier_record(r) for r in outlier_rows(shown)],
        "tail_attribution": [_tail_stage(a) for a in attribution.iter_rows(named=True)],
        "tail_requests": int(attribution["requests_tail"][0]) if attribution.height else 0,
        "tail_sentence": tail_sentence(attribution, q.p),
        "input_quality": summary["input_quality"],
        "redacted": report.summary.privacy.redact,
    }


def outlier_record(r: OutlierRow) -> OutlierRecord:
    """One outlier in the `aiobs.outliers/1` document (docs/json-output.md)."""
    return {
        "rank": r.rank,
        "correlation_id": r.correlation_id,
        "value": r.value,
        "threshold": r.threshold,
        "start": iso_time(r.start),
        "latency_ms": r.latency_ms,
        "stages_ms": r.stages_ms,
        "slowest_stage": r.slowest_stage,
        "ttft_ms": r.ttft_ms,
        "tokens": TokensRecord(
            input=r.tokens["input"],
            output=r.tokens["output"],
            cached=r.tokens["cached"],
            reasoning=r.tokens["reasoning"],
        ),
        "cost_usd": r.cost_usd,
        "model": r.model,
        "provider": r.provider,
        "route": r.route,
        "user": r.user,
        "is_error": r.is_error,
        "flags": r.flags,
        "input_snippet": snippet(r.input_text),
        "output_snippet": snippet(r.output_text),
    }


def _tail_stage(row: dict[str, Any]) -> TailStageRecord:
    """One row of `tail_attribution` (it has the request counts too, which the document gives once)."""
    return {
        "stage": row["stage"],
        "share_all": row["share_all"],
        "share_tail": row["share_tail"],
        "ms_all": row["ms_all"],
        "ms_tail": row["ms_tail"],
    }


def snippet(text: str | None) -> str | None:
    """The text on one line (runs of white space as one space), cut to `SNIPPET_CHARS` with an ellipsis."""
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"
