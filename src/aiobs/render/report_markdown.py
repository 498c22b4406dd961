"""The report as GitHub-flavoured Markdown, for $GITHUB_STEP_SUMMARY and pull requests.

Bar and line charts are mermaid `xychart-beta` blocks, and the slowest requests' timelines are mermaid
`gantt` blocks: GitHub draws both in step summaries, where images beside the file cannot be reached.
The charts mermaid cannot draw (latency distribution per model, tail attribution, flags by model)
are SVG files written beside the report and linked by relative path; their numbers are in tables
too, so nothing is lost where the images do not load. Every cell from the logs goes through
`markdown_cell`; every mermaid label through `mermaid_label`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiobs.escape import markdown_cell
from aiobs.render import numbers as f
from aiobs.render.html import time_range
from aiobs.render.markdown_blocks import bucket_label, mermaid_label, table, xychart
from aiobs.render.report_markdown_history import anomalies_section, trends_section
from aiobs.render.tables import markdown_table
from aiobs.report.model import Report, stage_records

#: Outliers listed in Markdown (the HTML report lists up to --outliers, each with its timeline).
MARKDOWN_OUTLIERS = 20
#: Outliers whose timeline is drawn as a mermaid gantt chart.
MARKDOWN_TIMELINES = 3
#: Charts written as image files beside the Markdown (mermaid cannot draw them).
IMAGE_CHARTS = ("latency-by-model", "latency-histogram", "tail-attribution", "flags-by-model")


@dataclass(frozen=True)
class MarkdownReport:
    text: str
    #: file name (relative to the Markdown file) -> SVG text, to be written beside it
    images: dict[str, str]


def _headline(report: Report) -> list[str]:
    header = [markdown_cell(h.label) for h in report.headline]
    cells = []
    for h in report.headline:
        value = {"count": f.count, "pct": f.pct, "usd": f.usd, "ms": lambda v: f.ms(v) + " ms"}[h.kind](h.value)
        if h.kind == "ms" and h.value is None:
            value = "—"
        cells.append(value)
    return table(header, [cells], numeric_from=0)


def _latency(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    out = ["## Latency", ""]
    out += _images(report, images, image_dir, ("latency-by-model", "latency-histogram"))
    return [*out, *markdown_table(report.models_table, heading=None)]


def _over_time(report: Report) -> list[str]:
    frame = report.over_time
    out = ["## Over time", ""]
    if frame.height < 2:
        return [*out, f"All requests fall in one {report.every} bucket: nothing to draw over time.", ""]
    labels = [bucket_label(t, report.every, mermaid=True) for t in frame.get_column("time")]
    series = [("line", frame.get_column(f"latency_{p}").to_list()) for p in ("p50", "p95", "p99")]
    empty = int((frame.get_column("requests") == 0).sum())
    gaps = f" {empty} bucket(s) without a request are drawn at 0 ms (no latency to show)." if empty else ""
    out += [
        f"Latency per {report.every} bucket (UTC), ms: the three lines are p50, p95 and p99, bottom to top.{gaps}",
        "",
    ]
    out += xychart(f"Latency p50 p95 p99 per {report.every}", labels, series, "ms")
    out += [f"Requests per {report.every} bucket (bars) and failed requests (line).", ""]
    out += xychart(
        f"Requests per {report.every}",
        labels,
        [("bar", frame.get_column("requests").to_list()), ("line", frame.get_column("errors").to_list())],
        "requests",
    )
    rows = [
        [
            markdown_cell(bucket_label(r["time"], report.every)),
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
    out += table(["bucket", "requests", "error rate", "p50 ms", "p95 ms", "p99 ms", "cost"], rows)
    return [*out, "</details>", ""]


def _stages(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    out = ["## Stages and tail attribution", ""]
    if report.tail_sentence:
        out += [f"> {markdown_cell(report.tail_sentence, 300)}", ""]
    if report.one_event_per_request:  # the stage table would be one `other` row of 100 %: not knowledge
        return out
    out += _images(report, images, image_dir, ("tail-attribution",))
    rows = []
    for s in stage_records(report):
        m = s["metrics"]
        cells = f.latency_cells(m["latency_ms"], ("p50", "p95", "p99")) if m else ["—", "—", "—"]
        share = [("—" if s.get(k) is None else f"{s[k] * 100:.1f}%") for k in ("share_all", "share_tail")]
        rows.append([s["stage"], f.count(m["requests"]) if m else "—", *cells, *share])
    tail = f"share above p{report.p:g}"
    out += table(["stage", "requests", "p50 ms", "p95 ms", "p99 ms", "share of time", tail], rows)
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
        out += xychart(
            "Cost by model in USD", priced.get_column("model").to_list(), [("bar", priced["cost_usd"].to_list())], "USD"
        )
    per_bucket = report.over_time
    if per_bucket.height >= 2:
        labels = [bucket_label(t, report.every, mermaid=True) for t in per_bucket.get_column("time")]
        out += xychart(f"Cost per {report.every} in USD", labels, [("bar", per_bucket["cost_usd"].to_list())], "USD")
    if report.spend:
        out += markdown_table(report.spend_table, heading="{}:")
    if report.unpriced:
        out += markdown_table(report.unpriced_table, heading="{}:")
    if report.cost_check:
        out += markdown_table(report.cost_check_table, heading="{}:")
    return out


def _flags(report: Report, images: dict[str, str], image_dir: str | None) -> list[str]:
    if not report.has_flags or report.flags_ranked is None:
        return []
    out = ["## Quality flags", ""]
    flags, seen = report.flags_ranked, report.flags_seen
    if seen is not None:
        labels = [f"{r['title']} ({r['flagged']} of {r['checked']})" for r in seen.iter_rows(named=True)]
        rates = [r * 100 for r in seen.get_column("rate").to_list()]
        out += xychart("Share of checked requests flagged in percent", labels, [("bar", rates)], "percent")
    rows = [
        [
            markdown_cell(r["title"]),
            f"{f.count(r['flagged'])} of {f.count(r['checked'])}",
            f.pct(r["rate"]) + ("*" if r["rough"] else ""),
            f"{f.pct(r['rate_low'])} – {f.pct(r['rate_high'])}",
            f.usd(r["cost_usd"]),
        ]
        for r in flags.iter_rows(named=True)
    ]
    out += table(["flag", "flagged", "rate", "95% interval", "cost of flagged"], rows)
    out += [
        "Each rate is over the requests the flag could check. \\* rough: the 95% interval is wider than ±5 "
        "points (few requests checked); rough flags are listed after the others. Definitions: docs/quality.md.",
        "",
    ]
    out += _images(report, images, image_dir, ("flags-by-model",))
    if report.flags_by_model is not None:
        out += _flags_by_model(report, flags.get_column("flag").to_list())
    return out


def _flags_by_model(report: Report, names: list[str]) -> list[str]:
    by_model: dict[str, dict[str, str]] = {}
    assert report.flags_by_model is not None
    for r in report.flags_by_model.iter_rows(named=True):
        cell = "–" if not r["checked"] else f.pct(r["rate"]) + ("*" if r["rough"] else "")
        by_model.setdefault(r["model_group"], {})[r["flag"]] = cell
    order = report.latency_box.get_column("model_group").to_list()
    models = sorted(by_model, key=lambda m: order.index(m) if m in order else len(order))
    rows = [[markdown_cell(m), *(by_model[m].get(n, "–") for n in names)] for m in models]
    titles = (
        dict(zip(report.flags_ranked["flag"], report.flags_ranked["title"], strict=True))
        if report.flags_ranked is not None
        else {}
    )
    return [
        "Flag rate by model (– where the flag could check no request of the model):",
        "",
        *table(["model", *(markdown_cell(titles.get(n, n)) for n in names)], rows),
        "",
    ]


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
    out += table([*header, "tokens out", "cost", "status", "flags"], rows, numeric_from=6, text_at=(7, 10, 11))
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
    return [*table([word, "count", "meaning", "first examples"], rows, numeric_from=1, text_at=(2, 3)), ""]


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
    return ["## Provenance", "", *table(["what", "value"], rows, numeric_from=2)]


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
    out += trends_section(report)
    out += anomalies_section(report)
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
