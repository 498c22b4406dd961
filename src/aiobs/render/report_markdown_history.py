"""The Markdown report's Trends and Anomalies sections (`aiobs report --history DIR`)."""

from __future__ import annotations

from datetime import datetime

from aiobs.escape import markdown_cell
from aiobs.render import numbers as f
from aiobs.render.markdown_blocks import bucket_label, table, xychart
from aiobs.render.tables import markdown_table
from aiobs.report.model import Report
from aiobs.report.trends import ReportHistory
from aiobs.views.trends import scoring_text, some_groups

#: Anomalies listed in Markdown (the strongest; the HTML report lists up to ANOMALY_ROWS).
MARKDOWN_ANOMALIES = 30


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "—"


def trends_section(report: Report) -> list[str]:
    h = report.history
    if h is None:
        return []
    out = ["## Trends", ""]
    window = f" ({_day(h.window_start)} → {_day(h.last_day)}, UTC)" if h.window_start else ""
    stored = f" (of {f.count(h.stored_days)} in the store)" if h.stored_days > h.days_of_data else ""
    lead = (
        f"The last {h.days} day(s) of the history store {markdown_cell(h.store, 200)}{window}: "
        f"{h.days_of_data} day(s) with data{stored}, from {f.count(h.runs)} recorded run(s)."
    )
    if h.recorded is not None:
        lead += f" This run is recorded as `{h.recorded.run_id}`, {f.count(h.recorded.buckets)} hour bucket(s)"
        if h.recorded.kept_earlier:
            lead += (
                f"; in {f.count(h.recorded.kept_earlier)} of them the store kept an earlier run that saw more requests"
            )
        lead += "."
    out += [lead, ""]
    if not h.enough_days:
        holds = "the store holds only this run, with" if h.first_run else "the window holds"
        return [
            *out,
            f"**Trends need more days**: {holds} {h.days_of_data} day of data. Record a run every day "
            "(`aiobs report LOGS --history DIR` from cron): a trend needs two days, and the seasonal anomaly "
            "baseline three earlier days of each hour.",
            "",
        ]
    if h.first_run:
        out += ["The store holds only this run: the trend is the days it covers.", ""]
    labels = [bucket_label(t, "1d", mermaid=True) for t in h.trend.get_column("period")]
    series = [("line", h.trend.get_column(f"latency_{p}").to_list()) for p in ("p50", "p95", "p99")]
    out += ["Latency per day (UTC), ms: the three lines are p50, p95 and p99, bottom to top.", ""]
    out += xychart("Latency p50 p95 p99 per day", labels, series, "ms")
    rates = [v * 100 if v is not None else None for v in h.trend.get_column("error_rate").to_list()]
    out += xychart("Error rate per day in percent", labels, [("line", rates)], "percent")
    out += markdown_table(h.trend_table, heading=None)  # its title is the HTML caption; the charts say it here
    periods, per_model = h.model_p95()
    if per_model:
        out += [
            f"<details><summary>p95 latency per model, ms (the {len(per_model)} busiest models)</summary>",
            "",
            *table(
                ["model", *(_day(p) for p in periods)],
                [[markdown_cell(model), *(f.ms(v) for v in values)] for model, values in per_model],
            ),
            "</details>",
            "",
        ]
    return out


def anomalies_section(report: Report) -> list[str]:
    h = report.history
    if h is None:
        return []
    out = ["## Anomalies", ""]
    if not h.anomalies_total:
        if h.judged:
            return [
                *out,
                f"No anomalies in the last {h.days} day(s): {f.count(h.judged)} bucket result(s) judged.",
                "",
                *_scoring(h),
            ]
        return [
            *out,
            "No hour could be judged yet: an hour is compared with the previous 24 hours once 12 of them hold "
            "data, and with the same hour on earlier days once there are 3 of those.",
            "",
            *_scoring(h),
        ]
    shown = (
        h.anomalies.sort("score", descending=True).head(MARKDOWN_ANOMALIES).sort(["bucket", "score"], descending=True)
    )
    listed = f"; the {shown.height} strongest are listed" if h.anomalies_total > shown.height else ""
    metrics = ", ".join(f"{markdown_cell(m)} {f.count(n)}" for m, n in h.anomalies_by_metric)
    out += [
        f"{f.count(h.anomalies_total)} anomal{'y' if h.anomalies_total == 1 else 'ies'} in the last {h.days} day(s): "
        f"an hour where one group's latency, error rate, cost or a flag rate is worse than its baseline by a "
        f"robust z-score of 3.5 or more{listed}. By metric: {metrics}. Newest first.",
        "",
    ]
    rows = [
        [
            a["bucket"].strftime("%Y-%m-%d %H:%M"),
            markdown_cell(a["group"], 80),
            markdown_cell(a["metric"]),
            f.metric_value(a["metric"], a["value"]),
            f.metric_value(a["metric"], a["baseline"]),
            f"{a['score']:.1f}",
            markdown_cell(a["reference"] or "—"),
            f.count(a["n"]),
        ]
        for a in shown.iter_rows(named=True)
    ]
    header = ["hour (UTC)", "group", "metric", "value", "baseline", "score", "baseline from", "requests"]
    out += _incidents(h)
    out += ["Per group and metric:", ""]
    out += table(header, rows, numeric_from=3, text_at=(6,))
    out += _scoring(h)
    out += [
        "Each hour of each group (or 3 h, 6 h or 1 d bucket, where hours have too few requests) is compared with "
        "the median of the same time of day over the previous 14 days "
        "(the previous 24 hours until there are 3 such days), with the MAD of the earlier hours' residuals as "
        "spread. Method: docs/ci.md.",
        "",
    ]
    return out


def _incidents(h: ReportHistory) -> list[str]:
    """The anomalies told once per incident (views.trends): one line per metric that moved."""
    rows = []
    for incident in h.incident_rows[:MARKDOWN_ANOMALIES]:
        for i, move in enumerate(incident.moves):
            value, baseline = f.metric_value(move.metric, move.value), f.metric_value(move.metric, move.baseline)
            groups = markdown_cell(some_groups(move.groups), 300)
            rows.append(
                [
                    "" if i else incident.when,
                    markdown_cell(move.metric),
                    value,
                    baseline,
                    move.size,
                    f"{move.score:.1f}",
                    groups,
                ]
            )
    n = h.incidents.height
    lead = (
        f"{f.count(n)} incident(s): anomalies whose buckets overlap or touch, told once, with each metric that moved "
        "(its strongest bucket, the bucket size it was scored on, and the groups where it moved)"
    )
    lead += f"; the {MARKDOWN_ANOMALIES} newest are listed." if n > MARKDOWN_ANOMALIES else "."
    header = ["incident (UTC)", "metric", "value", "baseline", "on", "score", "groups"]
    return [lead, "", *table(header, rows, numeric_from=2, text_at=(6,))]


def _scoring(h: ReportHistory) -> list[str]:
    """Metrics scored on coarser buckets than hours, or not (wholly) scored, and why: never left out unsaid."""
    rows = [
        [markdown_cell(r.note, 300), "; ".join(markdown_cell(scoring_text(p), 300) for p in r.parts)]
        for r in h.scoring_rows
    ]
    if not rows:
        return []
    return [
        "Scoring: metrics on coarser buckets, or not (wholly) scored:",
        "",
        *table(["how", "metrics: groups"], rows, numeric_from=2),
    ]
