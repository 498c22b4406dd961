"""The report model: every figure, table and chart input of `aiobs report`, built from a Summary.

Everything here is an aggregate computed by Polars over the (lazy) request table, so the model's size
depends on the number of models, stages and time buckets, not on the number of requests. The only
per-request parts are the outliers, capped at `outlier_limit`. Every string that comes from the logs
passes through a `Cleaner` (redaction, length cap) before it is stored; escaping for HTML or
Markdown is the renderers' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import polars as pl

from aiobs.issues import INFORMATIONAL
from aiobs.metrics import STAGE_KEY, TIME_KEY, summarize_requests
from aiobs.outliers import UNATTRIBUTED, OutlierQuery, tail_attribution, tail_sentence
from aiobs.report.flag_rates import FLAG_PREFIX, flag_columns, flag_tables, ranked
from aiobs.report.headline import Figure, headline_figures
from aiobs.report.labels import Cleaner, relabel
from aiobs.report.outlier_list import outlier_list
from aiobs.report.trends import HistoryFrames, ReportHistory, history_section
from aiobs.schema import CHILD_STAGES
from aiobs.summary import Summary
from aiobs.views.cost import REPORT_SPEND_NOTE, cost_check_table, spend_table, unpriced_table
from aiobs.views.groups import group_table
from aiobs.views.record_types import MetricsRecord, SummaryRecord
from aiobs.views.records import group_records, metrics_record, summary_record
from aiobs.views.tables import TableSpec

#: Models drawn one by one in charts; the rest are summed as OTHER_MODELS.
CHART_MODELS = 8
#: Rows of the per-model table (the rest are counted in a note).
TABLE_MODELS = 30
OTHER_MODELS = "(other models)"
NO_MODEL = "(no model)"
#: Histogram bins per decade of latency (log scale).
BINS_PER_DECADE = 8
#: Candidate time buckets for "over time" charts, smallest first; the first giving at most MAX_BUCKETS wins.
BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("1m", timedelta(minutes=1)),
    ("5m", timedelta(minutes=5)),
    ("15m", timedelta(minutes=15)),
    ("30m", timedelta(minutes=30)),
    ("1h", timedelta(hours=1)),
    ("3h", timedelta(hours=3)),
    ("6h", timedelta(hours=6)),
    ("12h", timedelta(hours=12)),
    ("1d", timedelta(days=1)),
    ("7d", timedelta(days=7)),
)
MAX_BUCKETS = 60
#: What the headline says instead of the tail sentence when every request is one event.
ONE_EVENT_SENTENCE = (
    "Each request is a single event in these logs, so how its time splits between stages (retrieval, "
    "the model call, tools) is not known. To see it, log each step as its own event with the request's "
    "correlation ID."
)


def auto_every(first: datetime | None, last: datetime | None) -> str:
    """The smallest bucket that draws the time range in at most MAX_BUCKETS points."""
    if first is None or last is None:
        return "1h"
    span = last - first
    for name, width in BUCKETS:
        if span / width <= MAX_BUCKETS:
            return name
    return BUCKETS[-1][0]


@dataclass
class Report:
    """What both report renderers read."""

    title: str
    generated_at: datetime
    version: str
    price_data: str
    inputs: list[str]
    command_line: str
    events: int
    bytes_read: int
    since: datetime | None
    until: datetime | None
    every: str
    redacted: bool
    p: float
    first_start: datetime | None
    last_start: datetime | None
    overall: MetricsRecord
    headline: list[Figure]
    models: pl.DataFrame
    models_hidden: int
    latency_box: pl.DataFrame
    latency_hist: pl.DataFrame
    over_time: pl.DataFrame
    cost_over_time: pl.DataFrame
    stages: pl.DataFrame
    tail: pl.DataFrame
    tail_sentence: str
    flags: pl.DataFrame | None
    flags_by_model: pl.DataFrame | None
    #: Every request is one event: how its time splits between stages is not in the logs.
    one_event_per_request: bool
    outliers: list[dict[str, Any]]
    outliers_total: int
    outlier_threshold_ms: float | None
    outlier_limit: int
    timelines_kept: bool
    unpriced: list[dict[str, Any]]
    cost_check: list[dict[str, Any]]
    #: Per model, every call (embeddings and rerankers included): what `spend_by_model` computed.
    spend: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    problems: int
    record: SummaryRecord = field(repr=False, default_factory=lambda: cast(SummaryRecord, {}))
    #: The Trends and Anomalies sections (`--history DIR`); None leaves them out.
    history: ReportHistory | None = None

    @property
    def has_flags(self) -> bool:
        return self.flags is not None and not self.flags.is_empty()

    @property
    def flags_ranked(self) -> pl.DataFrame | None:
        """Every flag, highest rate first, the rough ones after the rest: "2 of 31" at 6.5 % is not the news
        that "118 of 2,143" at 5.5 % is."""
        return None if self.flags is None else ranked(self.flags)

    @property
    def flags_seen(self) -> pl.DataFrame | None:
        """The flags that flagged some request, ranked (the charts draw these; the table lists every flag)."""
        if self.flags_ranked is None:
            return None
        seen = self.flags_ranked.filter(pl.col("flagged") > 0)
        return None if seen.is_empty() else seen

    @property
    def models_table(self) -> TableSpec:
        """Latency, errors and cost by model: the summary's `--by model` table, of the busiest models."""
        return group_table("model", group_records(self.models), hidden=self.models_hidden)

    @property
    def spend_table(self) -> TableSpec:
        return spend_table(self.spend, note=REPORT_SPEND_NOTE)

    @property
    def unpriced_table(self) -> TableSpec:
        return unpriced_table(self.unpriced)

    @property
    def cost_check_table(self) -> TableSpec:
        o = self.overall
        return cost_check_table(self.cost_check, requests=o["requests"], logged_requests=o["logged_cost_requests"])


def _model_group(top: list[str]) -> pl.Expr:
    model = pl.col("model")
    return (
        pl.when(model.is_null())
        .then(pl.lit(NO_MODEL))
        .when(model.is_in(pl.Series(top, dtype=pl.String).implode()))
        .then(model)
        .otherwise(pl.lit(OTHER_MODELS))
        .alias("model_group")
    )


def _latency_box(requests: pl.LazyFrame, top: list[str]) -> pl.DataFrame:
    lat = pl.col("latency_ms")
    qs = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
    frame = (
        requests.filter(lat.is_not_null())
        .with_columns(_model_group(top))
        .group_by("model_group")
        .agg(pl.len().alias("requests"), *(lat.quantile(q, interpolation="linear").alias(k) for k, q in qs.items()))
        .collect()
    )
    order = {name: i for i, name in enumerate([*top, OTHER_MODELS, NO_MODEL])}
    return frame.sort(pl.col("model_group").replace_strict(order, default=len(order), return_dtype=pl.Int64))


def _latency_hist(requests: pl.LazyFrame, top: list[str]) -> pl.DataFrame:
    """Request counts in log-spaced latency bins, per model group (bins of 1/BINS_PER_DECADE decade)."""
    lat = pl.col("latency_ms")
    bin_index = (lat.clip(lower_bound=1.0).log10() * BINS_PER_DECADE).floor().cast(pl.Int64)
    return (
        requests.filter(lat.is_not_null())
        .with_columns(_model_group(top), _bin=bin_index)
        .group_by("_bin", "model_group")
        .agg(requests=pl.len())
        .with_columns(
            lo_ms=pl.lit(10.0).pow(pl.col("_bin") / BINS_PER_DECADE),
            hi_ms=pl.lit(10.0).pow((pl.col("_bin") + 1) / BINS_PER_DECADE),
        )
        .sort("_bin", "model_group")
        .drop("_bin")
        .collect()
    )


def _cost_over_time(requests: pl.LazyFrame, top: list[str], every: str) -> pl.DataFrame:
    return (
        requests.filter(pl.col("cost_usd").is_not_null())
        .with_columns(_model_group(top), pl.col("start").dt.truncate(every).alias(TIME_KEY))
        .group_by(TIME_KEY, "model_group")
        .agg(cost_usd=pl.col("cost_usd").sort().sum(), requests=pl.len())
        .sort(TIME_KEY, "model_group")
        .collect()
    )


def build_report(
    summary: Summary,
    *,
    p: float = 99.0,
    outlier_limit: int = 200,
    every: str | None = None,
    redact_pii: bool | None = None,
    command_line: str = "",
    title: str = "aiobs report",
    history: HistoryFrames | None = None,
) -> Report:
    """Aggregate the summary into everything the HTML and Markdown reports show (and `history`'s trends).

    Privacy is the summary's (`summarize(privacy=...)`): its labels are private already, and the texts
    shown are redacted as it says; `redact_pii=True` redacts them even so.
    """
    redact_pii = summary.privacy.redact if redact_pii is None else redact_pii or summary.privacy.redact
    clean = Cleaner(redact_pii=redact_pii)
    requests = summary.requests
    record = summary_record(summary)
    overall = record["overall"]
    first = summary.overall.get_column("first_start")[0]
    last = summary.overall.get_column("last_start")[0]
    every = every or summary.every or auto_every(first, last)

    per_model = summarize_requests(requests, ["model"])
    top = [m for m in per_model.get_column("model").head(CHART_MODELS).to_list() if m is not None]
    models = relabel(per_model.head(TABLE_MODELS), "model", clean)
    flags = flag_columns(requests)
    flag_frame, flags_by_model = flag_tables(requests, flags, _model_group(top)) if flags else (None, None)
    if flags_by_model is not None:
        flags_by_model = relabel(flags_by_model, "model_group", clean)

    def labelled(frame: pl.DataFrame) -> pl.DataFrame:
        return relabel(frame, "model_group", clean)

    tail = tail_attribution(requests, OutlierQuery(p=p))
    one_event = _one_event_per_request(requests)
    flag_names = [f.removeprefix(FLAG_PREFIX) for f in flags]
    outliers, outliers_total, cut = outlier_list(summary, p, outlier_limit, flag_names, clean)
    issues = [
        {
            "code": code,
            "title": kind_title,
            "count": count,
            "informational": code in INFORMATIONAL,
            "examples": [{"location": clean(e.location, 120), "message": clean(e.message, 240)} for e in examples],
        }
        for code, kind_title, count, examples in summary.issues.rows()
    ]
    return Report(
        title=title,
        generated_at=summary.generated_at,
        version=summary.version,
        price_data=summary.price_data,
        inputs=list(summary.inputs),
        command_line=command_line,
        events=summary.events,
        bytes_read=summary.bytes_read,
        since=summary.since,
        until=summary.until,
        every=every,
        redacted=redact_pii,
        p=p,
        first_start=first,
        last_start=last,
        overall=overall,
        headline=headline_figures(overall, flag_frame, summary.issues.failing),
        models=models,
        models_hidden=max(0, per_model.height - TABLE_MODELS),
        latency_box=labelled(_latency_box(requests, top)),
        latency_hist=labelled(_latency_hist(requests, top)),
        # Requests without a timestamp (each counted as an input problem) have no place on a time axis. Every
        # bucket from the first to the last is a row, the empty ones with 0 requests, so a gap shows as a gap.
        over_time=summarize_requests(
            requests.filter(pl.col("start").is_not_null()), [], every=every, empty_buckets=True
        ),
        cost_over_time=labelled(_cost_over_time(requests, top, every)),
        stages=summarize_requests(requests, [STAGE_KEY]),
        tail=tail,
        tail_sentence=ONE_EVENT_SENTENCE if one_event else tail_sentence(tail, p),
        flags=flag_frame,
        flags_by_model=flags_by_model,
        one_event_per_request=one_event,
        outliers=outliers,
        outliers_total=outliers_total,
        outlier_threshold_ms=cut,
        outlier_limit=outlier_limit,
        timelines_kept=summary.kept_events,
        unpriced=[
            {**r, "model": clean(r.get("model")), "provider": clean(r.get("provider"))}
            for r in summary.unpriced.to_dicts()
        ],
        cost_check=[{**r, "model": clean(r.get("model"))} for r in summary.cost_check.to_dicts()],
        spend=[{**r, "model": clean(r["model"])} for r in summary.spend.to_dicts()],
        issues=issues,
        problems=summary.issues.failing,
        record=record,
        history=history_section(history, clean) if history is not None else None,
    )


def _one_event_per_request(requests: pl.LazyFrame) -> bool:
    """Every request was logged as one event (one line per request): its stages are not in the logs."""
    most = requests.select(pl.col("n_events").max()).collect().item()
    return most is not None and most <= 1


def stage_records(report: Report) -> list[dict[str, Any]]:
    """Per-stage latency rows in pipeline order, each joined with its tail-attribution shares."""
    shares = {r["stage"]: r for r in report.tail.iter_rows(named=True)}
    by_stage = {r[STAGE_KEY]: r for r in report.stages.iter_rows(named=True)}
    out = []
    for stage in [*CHILD_STAGES, UNATTRIBUTED]:
        share = shares.get(stage, {})
        metrics = metrics_record(by_stage[stage]) if stage in by_stage else None
        if metrics is None and not share.get("share_all") and not share.get("share_tail"):
            continue
        out.append({"stage": stage, "metrics": metrics, **share})
    return out
