"""The report's outlier list: the slowest requests, their labels and texts cleaned, each with its timeline.

Each row comes from one `OutlierRow` (aiobs.views.outliers), the same row `aiobs outliers` writes; what
is the report's own is the cleaning (redaction, length caps) and the waterfall of the request's events.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from aiobs.outliers import OutlierQuery, select_outliers, tail_attribution
from aiobs.pricing import price_events
from aiobs.report.labels import ERROR_FLAG, Cleaner, flag_title
from aiobs.summary import Summary
from aiobs.trace import is_annotation
from aiobs.views.outliers import OutlierRow, outlier_rows

#: Events drawn in one outlier's timeline.
TIMELINE_EVENTS = 120
#: Characters of input or output text shown for one outlier.
SNIPPET_CHARS = 1500
#: Intervals on a timeline's time axis, at most: eight labels of "140,000 ms" fit the waterfall's width.
AXIS_STEPS = 7


def round_ticks(span: float, *, steps: int = AXIS_STEPS) -> list[float]:
    """Ticks from 0 in round steps (1, 2 or 5 times a power of ten) up to the first at or past `span`.

    The axis ends at the last tick, so it reads 0, 20,000 ... 140,000 ms for a 120,042 ms request, rather
    than quarters of the span (30,010, 60,021 ...). At most `steps` intervals.
    """
    if not span > 0 or not math.isfinite(span):
        return [0.0, 1.0]
    power = 10.0 ** math.floor(math.log10(span / steps))
    step = next(m * power for m in (1, 2, 5, 10) if math.ceil(span / (m * power) - 1e-9) <= steps)
    return [float(f"{i * step:.12g}") for i in range(max(1, math.ceil(span / step - 1e-9)) + 1)]  # 0.6, not 0.6000…1


def _timeline(events: pl.DataFrame, outlier: dict[str, Any], clean: Cleaner) -> dict[str, Any]:
    """One outlier's events as waterfall rows (offset and duration in ms from the request's start)."""
    ordered = events.sort(["start", "duration_ms"], descending=[False, True], nulls_last=True)
    shown = ordered.head(TIMELINE_EVENTS)
    start = outlier["start"]
    rows = shown.to_dicts()
    depth: dict[str | None, int] = {}
    for r in rows:  # parents come before children in start order; at most TIMELINE_EVENTS rows, once per outlier
        depth[r.get("event_id")] = depth.get(r.get("parent_id"), -1) + 1 if r.get("parent_id") in depth else 0
    bars: list[dict[str, Any]] = []
    annotations = []
    for r in rows:
        offset = (r["start"] - start).total_seconds() * 1000.0 if r["start"] is not None and start is not None else 0.0
        if is_annotation(r):  # feedback, often minutes later: listed, not drawn (it would squash the bars)
            label = clean(r.get("event") or r.get("stage"), 32)
            annotations.append({"label": label, "offset_ms": offset, "feedback_score": r["feedback_score"]})
            continue
        bars.append(
            {
                "label": clean(r.get("event") or r.get("stage"), 32),
                "stage": str(r.get("stage") or "other"),
                "model": clean(r.get("model")) if r.get("model") else "",
                "offset_ms": offset,
                "duration_ms": r.get("duration_ms"),
                "ttft_ms": r.get("ttft_ms"),
                "is_error": bool(r.get("is_error")),
                "error_type": clean(r.get("error_type")) if r.get("error_type") else "",
                "attempt": r.get("attempt"),
                "input_tokens": r.get("input_tokens"),
                "output_tokens": r.get("output_tokens"),
                "finish_reason": clean(r.get("finish_reason"), 24) if r.get("finish_reason") else "",
                "depth": min(depth.get(r.get("event_id"), 0), 6),
            }
        )
    span = max([outlier.get("latency_ms") or 0.0, *((b["offset_ms"] + (b["duration_ms"] or 0.0)) for b in bars)])
    llm = ordered.filter(pl.col("stage") == "llm") if "stage" in ordered.columns else ordered.head(0)
    texts = llm if not llm.is_empty() else ordered

    def text_of(column: str, last: bool) -> str:
        if column not in texts.columns:
            return ""
        values = texts.get_column(column).drop_nulls()
        if values.is_empty():
            return ""
        return clean(values[-1] if last else values[0], SNIPPET_CHARS)

    ticks = round_ticks(span)
    return {
        "bars": bars,
        "annotations": annotations,
        "span_ms": span or 1.0,
        "ticks": ticks,
        "axis_ms": ticks[-1],
        "hidden": max(0, ordered.height - len(bars)),
        "input_text": outlier.get("input_text_clean") or text_of("input_text", last=False),
        "output_text": outlier.get("output_text_clean") or text_of("output_text", last=True),
    }


def outlier_list(
    summary: Summary, p: float, limit: int, flags: list[str], clean: Cleaner
) -> tuple[list[dict[str, Any]], int, float | None]:
    """The report's outliers (at most `limit`, cleaned, each with its timeline when events were kept), how
    many requests lie above the p-th percentile, and that percentile. `flags`: the names to report.

    --outliers 0 lists none: the section only counts the requests above the percentile.
    """
    query = OutlierQuery(p=p, limit=limit or None)
    total = int(tail_attribution(summary.requests, query).get_column("requests_tail")[0])
    if limit == 0:
        return [], total, None
    picked = select_outliers(summary.requests, query, flags=flags)
    cut = picked.get_column("threshold")[0] if not picked.is_empty() else None
    by_id: dict[str, pl.DataFrame] = {}
    if summary.kept_events and not picked.is_empty():
        mine = price_events(summary.events_of(picked.get_column("correlation_id").to_list())).collect()
        by_id = {str(k[0]): g for k, g in mine.partition_by("correlation_id", as_dict=True).items()}
    rows = []
    for o in outlier_rows(picked):
        row = _outlier(o, clean)
        events = by_id.get(str(o.correlation_id))
        row["timeline"] = _timeline(events, row, clean) if events is not None else None
        rows.append(row)
    return rows, total, cut


def _outlier(o: OutlierRow, clean: Cleaner) -> dict[str, Any]:
    """An outlier as the report shows it: its labels and texts cleaned (redacted, cut)."""
    return {
        "rank": o.rank,
        "id": clean(o.correlation_id, 80),
        "start": o.start,
        "latency_ms": o.latency_ms,
        "ttft_ms": o.ttft_ms,
        "model": clean(o.model),
        "route": clean(o.route),
        "user": clean(o.user),
        "is_error": o.is_error,
        "retries": o.retries,
        "input_tokens": o.tokens["input"],
        "output_tokens": o.tokens["output"],
        "cost_usd": o.cost_usd,
        "n_events": o.n_events,
        "slowest_stage": o.slowest_stage,
        "slowest_share": o.slowest_share,
        "stage_ms": o.stages_ms,
        "flags": [flag_title(f) for f in o.flags if f != ERROR_FLAG],  # the status says it already
        "input_text_clean": clean(o.input_text, SNIPPET_CHARS) if o.input_text else "",
        "output_text_clean": clean(o.output_text, SNIPPET_CHARS) if o.output_text else "",
    }
