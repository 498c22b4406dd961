"""The report as GitHub-flavoured Markdown, for $GITHUB_STEP_SUMMARY and pull requests.

Bar and line charts are mermaid `xychart-beta` blocks, and the slowest requests' timelines are mermaid
`gantt` blocks: GitHub draws both in step summaries, where images beside the file cannot be reached.
The charts mermaid cannot draw (latency distribution per model, tail attribution, flags by model)
are SVG files written beside the report and linked by relative path; their numbers are in tables
too, so nothing is lost where the images do not load. Every cell from the logs goes through
`markdown_cell`; every mermaid label through `mermaid_label`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiobs.render import numbers as f
from aiobs.render.escape import markdown_cell
from aiobs.render.html import time_range
from aiobs.render.tables import markdown_table
from aiobs.report.model import Report, stage_records
from aiobs.report.trends import ReportHistory
from aiobs.views.trends import scoring_text, some_groups

#: Outliers listed in Markdown (the HTML report lists up to --outliers, each with its timeline).
MARKDOWN_OUTLIERS = 20
#: Anomalies listed in Markdown (the strongest; the HTML report lists up to ANOMALY_ROWS).
MARKDOWN_ANOMALIES = 30
#: Outliers whose timeline is drawn as a mermaid gantt chart.
MARKDOWN_TIMELINES = 3
#: Charts written as image files beside the Markdown (mermaid cannot draw them).
IMAGE_CHARTS = ("latency-by-model", "latency-histogram", "tail-attribution", "flags-by-model")
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/@+-]")


@dataclass(frozen=True)
class MarkdownReport:
    text: str
    #: file name (relative to the Markdown file) -> SVG text, to be written beside it
    images: dict[str, str]


def mermaid_label(value: object, limit: int = 28) -> str:
    """Inert inside a mermaid block: letters, digits and `._/@+-` only (no quotes, colons, `#`, `;`)."""
    text = _MERMAID_UNSAFE.sub("_", str(value)).strip() or "_"
    return text if len(text) <= limit else text[: limit - 1] + "_"


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1, text_at: tuple[int, ...] = ()) -> list[str]:
    """A GitHub table; columns from `numeric_from` on are right-aligned, except those in `text_at`."""
    align = [":--" if i < numeric_from or i in text_at else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _number(value: float | None) -> str:
    """Plain decimals (mermaid's grammar reads no exponents), at most 6 places."""
    if value is None:
        return "0"
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _xychart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], y_title: str) -> list[str]:
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{mermaid_label(title, 60)}"',
        "    x-axis [" + ", ".join(f'"{mermaid_label(x)}"' for x in labels) + "]",
        f'    y-axis "{mermaid_label(y_title, 40)}"',
    ]
    lines += [f"    {kind} [" + ", ".join(_number(v) for v in values) + "]" for kind, values in series]
    return [*lines, "```", ""]


def _bucket_label(value: datetime | None, every: str, *, mermaid: bool = False) -> str:
    if value is None:  # requests without a timestamp (counted as input problems) have no place in time
        return "no time"
    if every.endswith("d"):
        return value.strftime("%m-%d")
    return value.strftime("%m-%d %Hh%M" if mermaid else "%m-%d %H:%M")


def _headline(report: Report) -> list[str]:
    header = [markdown_cell(h.label) for h in report.headline]
    cells = []
    for h in report.headline:
        value = {"count": f.count, "pct": f.pct, "usd": f.usd, "ms": lambda v: f.ms(v) + " ms"}[h.kind](h.value)
        if h.kind == "ms" and h.value is None:
            value = "—"
        cells.append(value)
    return _table(header, [cells], numeric_from=0)


def _latency(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    out = ["## Latency", ""]
    out += _images(report, images, image_dir, ("latency-by-model", "latency-histogram"))
    return [*out, *markdown_table(report.models_table, heading=None)]


def _over_time(report: Report) -> list[str]:
    frame = report.over_time
    out = ["## Over time", ""]
    if frame.height < 2:
        return [*out, f"All requests fall in one {report.every} bucket: nothing to draw over time.", ""]
    labels = [_bucket_label(t, report.every, mermaid=True) for t in frame.get_column("time")]
    series = [("line", frame.get_column(f"latency_{p}").to_list()) for p in ("p50", "p95", "p99")]
    out += [f"Latency per {report.every} bucket (UTC), ms: the three lines are p50, p95 and p99, bottom to top.", ""]
    out += _xychart(f"Latency p50 p95 p99 per {report.every}", labels, series, "ms")
    out += [f"Requests per {report.every} bucket (bars) and failed requests (line).", ""]
    out += _xychart(
        f"Requests per {report.every}",
        labels,
        [("bar", frame.get_column("requests").to_list()), ("line", frame.get_column("errors").to_list())],
        "requests",
    )
    rows = [
        [
            markdown_cell(_bucket_label(r["time"], report.every)),
            f.count(r["requests"]),
            f.pct(r["error_rate"]),
            f.ms(r["latency_p50"]),
            f.ms(r["latency_p95"]),
            f.ms(r["latency_p99"]),
            f.usd(r["cost_usd"]),
        ]
        for r in frame.iter_rows(named=True)
    ]
    out += ["<details><summary>Per bucket</summary>", ""]
    out += _table(["bucket", "requests", "error rate", "p50 ms", "p95 ms", "p99 ms", "cost"], rows)
    return [*out, "</details>", ""]


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "—"


def _trends(report: Report) -> list[str]:
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
    labels = [_bucket_label(t, "1d", mermaid=True) for t in h.trend.get_column("period")]
    series = [("line", h.trend.get_column(f"latency_{p}").to_list()) for p in ("p50", "p95", "p99")]
    out += ["Latency per day (UTC), ms: the three lines are p50, p95 and p99, bottom to top.", ""]
    out += _xychart("Latency p50 p95 p99 per day", labels, series, "ms")
    rates = [v * 100 if v is not None else None for v in h.trend.get_column("error_rate").to_list()]
    out += _xychart("Error rate per day in percent", labels, [("line", rates)], "percent")
    out += markdown_table(h.trend_table, heading=None)  # its title is the HTML caption; the charts say it here
    periods, per_model = h.model_p95()
    if per_model:
        out += [
            f"<details><summary>p95 latency per model, ms (the {len(per_model)} busiest models)</summary>",
            "",
            *_table(
                ["model", *(_day(p) for p in periods)],
                [[markdown_cell(model), *(f.ms(v) for v in values)] for model, values in per_model],
            ),
            "</details>",
            "",
        ]
    return out


def _anomalies(report: Report) -> list[str]:
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
    out += _table(header, rows, numeric_from=3, text_at=(6,))
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
    return [lead, "", *_table(header, rows, numeric_from=2, text_at=(6,))]


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
        *_table(["how", "metrics: groups"], rows, numeric_from=2),
    ]


def _stages(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    out = ["## Stages and tail attribution", ""]
    if report.tail_sentence:
        out += [f"> {markdown_cell(report.tail_sentence, 300)}", ""]
    out += _images(report, images, image_dir, ("tail-attribution",))
    rows = []
    for s in stage_records(report):
        m = s["metrics"]
        cells = f.latency_cells(m["latency_ms"], ("p50", "p95", "p99")) if m else ["—", "—", "—"]
        share = [("—" if s.get(k) is None else f"{s[k] * 100:.1f}%") for k in ("share_all", "share_tail")]
        rows.append([s["stage"], f.count(m["requests"]) if m else "—", *cells, *share])
    tail = f"share above p{report.p:g}"
    out += _table(["stage", "requests", "p50 ms", "p95 ms", "p99 ms", "share of time", tail], rows)
    return out


def _cost(report: Report) -> list[str]:
    o = report.overall
    out = ["## Cost", ""]
    logged = (
        f"; the application logged {f.usd(o['logged_cost_usd'])} itself, on {f.count(o['logged_cost_requests'])} "
        "of the requests"
        if o["logged_cost_usd"] is not None
        else ""
    )
    out += [f"{f.usd(o['cost_usd'])} in all, {f.usd(o['cost_per_1k_requests'])} per 1,000 requests{logged}.", ""]
    priced = report.models.filter(report.models.get_column("cost_usd").fill_null(0) > 0).head(12)
    if not priced.is_empty():
        out += _xychart(
            "Cost by model in USD", priced.get_column("model").to_list(), [("bar", priced["cost_usd"].to_list())], "USD"
        )
    per_bucket = report.over_time
    if per_bucket.height >= 2:
        labels = [_bucket_label(t, report.every, mermaid=True) for t in per_bucket.get_column("time")]
        out += _xychart(f"Cost per {report.every} in USD", labels, [("bar", per_bucket["cost_usd"].to_list())], "USD")
    if report.spend:
        out += markdown_table(report.spend_table, heading="{}:")
    if report.unpriced:
        out += markdown_table(report.unpriced_table, heading="{}:")
    if report.cost_check:
        out += markdown_table(report.cost_check_table, heading="{}:")
    return out


def _flags(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    if not report.has_flags or report.flags is None:
        return []
    out = ["## Quality flags", ""]
    flags = report.flags
    out += _xychart(
        "Share of requests flagged in percent",
        flags.get_column("flag").to_list(),
        [("bar", [r * 100 for r in flags.get_column("rate").to_list()])],
        "percent",
    )
    rows = [
        [markdown_cell(r["flag"]), f.count(r["flagged"]), f.pct(r["rate"]), f.usd(r["cost_usd"])]
        for r in flags.iter_rows(named=True)
    ]
    out += _table(["flag", "requests flagged", "rate", "cost of flagged"], rows)
    out += _images(report, images, image_dir, ("flags-by-model",))
    if report.flags_by_model is not None:
        names = flags.get_column("flag").to_list()
        by_model: dict[str, dict[str, float]] = {}
        for r in report.flags_by_model.iter_rows(named=True):
            by_model.setdefault(r["model_group"], {})[r["flag"]] = r["rate"]
        order = report.latency_box.get_column("model_group").to_list()
        models = sorted(by_model, key=lambda m: order.index(m) if m in order else len(order))
        rows = [[markdown_cell(m), *(f.pct(by_model[m].get(n)) for n in names)] for m in models]
        out += ["Flag rate by model:", ""]
        out += _table(["model", *(markdown_cell(n) for n in names)], rows)
    return out


def _gantt(outlier: dict[str, Any]) -> list[str]:
    t = outlier["timeline"]
    lines = [
        "```mermaid",
        "gantt",
        "    title " + mermaid_label(f"request {outlier['id'][:13]} took {round(outlier['latency_ms'] or 0)} ms", 60),
        "    dateFormat x",
        "    axisFormat %M:%S",
    ]
    section = None
    for i, b in enumerate(t["bars"][:40]):
        if b["stage"] != section:
            section = b["stage"]
            lines.append(f"    section {mermaid_label(section)}")
        start = max(0, round(b["offset_ms"]))
        end = start + max(1, round(b["duration_ms"] or 0))
        state = "crit, " if b["is_error"] else ""
        name = mermaid_label(b["label"] + (" " + b["model"] if b["model"] else ""), 40)
        lines.append(f"    {name} :{state}e{i}, {start}, {end}")
    lines += ["```", ""]
    if t.get("annotations"):
        feedback = "; ".join(
            f"{markdown_cell(a['label'])} {a['feedback_score']:g} at +{f.ms(a['offset_ms'])} ms"
            for a in t["annotations"]
        )
        lines += [f"Feedback, not part of the timeline: {feedback}.", ""]
    return lines


def _above(report: Report) -> str:
    return f"{f.count(report.outliers_total)} request(s) took longer than the p{report.p:g} latency"


def _outliers(report: Report) -> list[str]:
    out = ["## Outliers", ""]
    if report.outlier_limit == 0:
        return [*out, f"Not listed (--outliers 0): {_above(report)}.", ""]
    if not report.outliers:
        return [*out, f"No request lies above the p{report.p:g} latency.", ""]
    shown = report.outliers[:MARKDOWN_OUTLIERS]
    out += [
        f"{f.count(report.outliers_total)} request(s) took longer than the p{report.p:g} latency of "
        f"{f.ms(report.outlier_threshold_ms)} ms; the {len(shown)} slowest:",
        "",
    ]
    rows = []
    for x in shown:
        slowest = f"{x['slowest_stage']} {x['slowest_share'] * 100:.0f}%" if x["slowest_stage"] else "—"
        rows.append(
            [
                str(x["rank"]),
                markdown_cell(x["start"].strftime("%Y-%m-%d %H:%M:%S") if x["start"] else "—"),
                markdown_cell(x["id"], 14),
                markdown_cell(x["model"]),
                markdown_cell(x["route"]),
                markdown_cell(x["user"]),
                f.ms(x["latency_ms"]),
                markdown_cell(slowest),
                f.count(x["output_tokens"]),
                f.usd(x["cost_usd"]),
                "error" if x["is_error"] else "ok",
                markdown_cell(", ".join(x["flags"])) if x["flags"] else "",
            ]
        )
    header = ["#", "start (UTC)", "request", "model", "route", "user", "latency ms", "slowest stage"]
    out += _table([*header, "tokens out", "cost", "status", "flags"], rows, numeric_from=6, text_at=(7, 10, 11))
    with_timeline = [x for x in shown if x["timeline"]][:MARKDOWN_TIMELINES]
    if with_timeline:
        out += ["<details><summary>Timelines of the slowest requests</summary>", ""]
        for x in with_timeline:
            out += _gantt(x)
        out += ["</details>", ""]
    return out


def _input_quality(report: Report) -> list[str]:
    out = ["## Input quality", ""]
    problems = [k for k in report.issues if not k["informational"]]
    notes = [k for k in report.issues if k["informational"]]
    out += _kinds("problem", problems) if problems else ["No problems found: every line was used.", ""]
    if notes:
        out += ["### What the logs do not say (not counted as problems)", "", *_kinds("note", notes)]
    return out


def _kinds(word: str, kinds: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            f"`{k['code']}`",
            f.count(k["count"]),
            markdown_cell(k["title"], 120),
            "<br>".join(markdown_cell(f"{e['location']} {e['message']}", 200) for e in k["examples"]),
        ]
        for k in kinds
    ]
    return [*_table([word, "count", "meaning", "first examples"], rows, numeric_from=1, text_at=(2, 3)), ""]


def _provenance(report: Report) -> list[str]:
    def iso(value: datetime | None) -> str:
        return value.isoformat().replace("+00:00", "Z") if value is not None else "…"

    rows = [
        ["inputs", markdown_cell(", ".join(report.inputs), 400)],
        ["read", f"{f.count(report.events)} events, {report.bytes_read / 1e6:,.1f} MB uncompressed"],
        ["requests start", markdown_cell(time_range(report), 120)],
        *([["window", f"{iso(report.since)} → {iso(report.until)}"]] if report.since or report.until else []),
        ["generated", f"{iso(report.generated_at)} by aiobs {markdown_cell(report.version)}"],
        ["price data", markdown_cell(report.price_data, 300)],
        ["command", markdown_cell(report.command_line, 400) if report.command_line else "—"],
        [
            "redaction",
            "on (emails, phone and card numbers, API keys and tokens replaced)" if report.redacted else "off",
        ],
    ]
    return ["## Provenance", "", *_table(["what", "value"], rows, numeric_from=2)]


def _images(report: Report, images: dict[str, str], image_dir: str | None, names: tuple[str, ...]) -> list[str]:
    if image_dir is None:
        return []
    out = []
    for name in names:
        if name in images:
            out.append(f"![{name.replace('-', ' ')}]({image_dir}/{name}.svg)")
    return [*out, ""] if out else []


def render_report_markdown(
    report: Report, *, charts: dict[str, str] | None = None, image_dir: str | None = None
) -> MarkdownReport:
    """The Markdown text, and the SVG images to write into `image_dir` beside it (none when image_dir is None)."""
    images = {name: svg for name, svg in (charts or {}).items() if name in IMAGE_CHARTS} if image_dir else {}
    o = report.overall
    out = [
        f"# {markdown_cell(report.title, 120)}",
        "",
        f"**{f.count(o['requests'])} requests** from {f.count(report.events)} events in {len(report.inputs)} input(s), "
        f"{markdown_cell(time_range(report), 120)}.",
        "",
        *_headline(report),
    ]
    if report.tail_sentence:
        out += [f"> {markdown_cell(report.tail_sentence, 300)}", ""]
    out += _latency(report, images, image_dir)
    out += _over_time(report)
    out += _trends(report)
    out += _anomalies(report)
    out += _stages(report, images, image_dir)
    out += _cost(report)
    out += _flags(report, images, image_dir)
    out += _outliers(report)
    out += _input_quality(report)
    out += _provenance(report)
    out += [f"\\{f.THIN_NOTE} Percentiles use linear interpolation.", ""]
    text = "\n".join(out)
    files = {f"{name}.svg": svg for name, svg in images.items() if f"]({image_dir}/{name}.svg)" in text}
    return MarkdownReport(text, files)
