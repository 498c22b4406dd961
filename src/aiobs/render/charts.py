"""The report's charts: Altair (Vega-Lite) specs from small aggregate frames, rendered offline to SVG.

vl-convert runs Vega in an embedded engine inside this process: no browser, no network, no CDN. The
SVG it returns is then checked against an allow-list of elements and attributes before it may be
inlined (no script, no event handler, no link, no style attribute, so the report's strict
Content-Security-Policy holds), given native tooltips (`<title>` from each mark's aria-label), and
its element IDs are prefixed so several charts can share one page.

Static SVG rather than the Vega runtime: the file stays small (a chart is 10-60 kB; the runtime is
about 1 MB of JavaScript), charts show in viewers that run no JavaScript, and no `unsafe-eval`
is needed (Vega compiles its expressions with `Function`).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, cast

import altair as alt
import polars as pl
import vl_convert

from aiobs.outliers import UNATTRIBUTED
from aiobs.report.model import Report
from aiobs.schema import STAGES

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
WIDTH = 500
STAGE_COLORS = {
    "gateway": "#5f6b7a",
    "embedding": "#8e6ccf",
    "retrieval": "#3b82c4",
    "rerank": "#22a39a",
    "llm": "#e0793a",
    "tool": "#c9a227",
    "other": "#9aa0a6",
    UNATTRIBUTED: "#c3c8cf",
}
PERCENTILE_COLORS = {"p50": "#3b82c4", "p95": "#e0793a", "p99": "#c2334d"}
SET_COLORS = {"all requests": "#9fb3c8", "tail": "#c2334d"}
ERROR_COLOR = "#c2334d"
OK_COLOR = "#9fb3c8"
PALETTE = ["#3b82c4", "#e0793a", "#22a39a", "#c2334d", "#8e6ccf", "#c9a227", "#5f6b7a", "#d16ba5", "#9aa0a6"]

_ALLOWED_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "path",
        "rect",
        "line",
        "text",
        "tspan",
        "title",
        "defs",
        "clipPath",
        "circle",
        "polygon",
        "polyline",
        "linearGradient",
        "stop",
    }
)
_ALLOWED_ATTRIBUTES = frozenset(
    {
        "xmlns",
        "version",
        "class",
        "width",
        "height",
        "viewBox",
        "x",
        "y",
        "x1",
        "x2",
        "y1",
        "y2",
        "dx",
        "dy",
        "cx",
        "cy",
        "r",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "opacity",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "clip-path",
        "id",
        "role",
        "aria-label",
        "aria-roledescription",
        "aria-hidden",
        "pointer-events",
        "display",
        "shape-rendering",
        "paint-order",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
    }
)
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_LONG_DECIMAL = re.compile(r"(-?\d+\.\d\d)\d+")
#: Attributes holding coordinates: Vega writes them with 15 digits; two decimals are a hundredth of a pixel.
_GEOMETRY = frozenset(
    {"d", "transform", "x", "y", "x1", "x2", "y1", "y2", "width", "height", "points", "cx", "cy", "r"}
)


class ChartError(RuntimeError):
    """vl-convert produced SVG that may not be inlined (a bug: the report is not written)."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def safe_svg(svg: str, *, prefix: str) -> str:
    """The SVG checked against the allow-list, with tooltips and IDs unique to this chart."""
    root = ET.fromstring(svg)  # from vl-convert, not from the logs: no DTD, no entities
    ids: dict[str, str] = {}
    for element in root.iter():
        tag = _local(element.tag)
        if tag not in _ALLOWED_ELEMENTS:
            msg = f"chart {prefix}: element <{tag}> is not allowed in an inlined chart"
            raise ChartError(msg)
        for name in list(element.attrib):
            if _local(name) not in _ALLOWED_ATTRIBUTES:
                msg = f"chart {prefix}: attribute {_local(name)!r} on <{tag}> is not allowed in an inlined chart"
                raise ChartError(msg)
        if "id" in element.attrib:
            ids[element.attrib["id"]] = f"{prefix}-{element.attrib['id']}"
    for element in root.iter():
        if "id" in element.attrib:
            element.attrib["id"] = ids[element.attrib["id"]]
        for name, value in element.attrib.items():
            if "url(#" in value:
                element.attrib[name] = _URL_REF.sub(lambda m: f"url(#{ids.get(m.group(1), m.group(1))})", value)
            elif name in _GEOMETRY:
                element.attrib[name] = _LONG_DECIMAL.sub(r"\1", value)
        label = element.attrib.get("aria-label")
        if label and element.attrib.get("role") == "graphics-symbol" and _local(element.tag) != "g":
            # A native tooltip, which also names the mark for screen readers (so the aria-label can go).
            title = ET.Element(f"{{{SVG_NS}}}title")
            title.text = label
            element.insert(0, title)
            del element.attrib["aria-label"]
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


def _values(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows for Vega-Lite: times as UTC ISO strings, NaN and infinities as null."""
    rows = []
    for row in frame.iter_rows(named=True):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, float) and not math.isfinite(value):
                value = None
            clean[key] = value
        rows.append(clean)
    return rows


def _base(frame: pl.DataFrame) -> alt.Chart:
    return alt.Chart(alt.Data(values=_values(frame)))


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelColor="#3c4450", titleColor="#3c4450", gridColor="#e8ebef", domainColor="#c3c8cf")
        .configure_legend(labelColor="#3c4450", titleColor="#3c4450", orient="bottom", titleOrient="left")
        .configure_title(anchor="start", color="#1d2530", fontSize=13, subtitleFont=FONT, subtitleColor="#6b7480")
    )


def to_svg(chart: alt.TopLevelMixin, *, name: str) -> str:
    spec = _config(chart).to_dict(validate=False)  # built from fixed code paths; validation costs ~50 ms a chart
    return safe_svg(vl_convert.vegalite_to_svg(spec), prefix=f"chart-{name}")


def _time_axis(every: str) -> alt.X:
    fmt = "%b %d" if every.endswith("d") else "%b %d %H:%M"
    axis = alt.Axis(format=fmt, labelAngle=0, tickCount=5, labelOverlap=True)
    return alt.X("time:T", title=None, scale=alt.Scale(type="utc"), axis=axis)


def _model_colors(labels: list[str]) -> alt.Scale:
    return alt.Scale(domain=labels, range=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])


def latency_box(report: Report) -> alt.LayerChart | None:
    frame = report.latency_box
    if frame.is_empty():
        return None
    order = frame.get_column("model_group").to_list()
    base = _base(frame).encode(y=alt.Y("model_group:N", sort=order, title=None))
    x_scale = alt.Scale(type="log")
    whisker = base.mark_rule(color="#7b8794").encode(
        x=alt.X("p5:Q", scale=x_scale, title="latency (ms, log scale)"), x2="p99:Q"
    )
    box = base.mark_bar(size=14, color="#9fb3c8").encode(x="p25:Q", x2="p75:Q")
    median = base.mark_tick(color="#1d2530", thickness=2, size=14).encode(x="p50:Q")
    p95 = base.mark_point(shape="diamond", color="#e0793a", filled=True, size=40).encode(x="p95:Q")
    p99 = base.mark_point(shape="circle", color="#c2334d", filled=True, size=40).encode(
        x="p99:Q",
        tooltip=[
            alt.Tooltip("model_group:N", title="model"),
            alt.Tooltip("requests:Q", format=","),
            *(alt.Tooltip(f"{p}:Q", format=",.0f") for p in ("p5", "p25", "p50", "p75", "p95", "p99")),
        ],
    )
    return alt.LayerChart(layer=[whisker, box, median, p95, p99]).properties(
        width=WIDTH,
        height=alt.Step(24),
        title=alt.Title("Latency per model", subtitle="whisker p5–p99, box p25–p75, bar p50, ◆ p95, ● p99"),
    )


def latency_histogram(report: Report) -> alt.Chart | None:
    frame = report.latency_hist
    if frame.is_empty():
        return None
    labels = report.latency_box.get_column("model_group").to_list()
    return (
        _base(frame)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("lo_ms:Q", scale=alt.Scale(type="log", nice=False), title="latency (ms, log scale)"),
            x2="hi_ms:Q",
            y=alt.Y("sum(requests):Q", title="requests", stack="zero"),
            color=alt.Color(
                "model_group:N", title=None, scale=_model_colors(labels), sort=labels, legend=alt.Legend(orient="right")
            ),
            order=alt.Order("model_group:N"),
            tooltip=[
                alt.Tooltip("model_group:N", title="model"),
                alt.Tooltip("lo_ms:Q", title="from ms", format=",.0f"),
                alt.Tooltip("hi_ms:Q", title="to ms", format=",.0f"),
                alt.Tooltip("requests:Q", format=","),
            ],
        )
        .properties(width=WIDTH - 120, height=220, title="How latency is distributed")
    )


def percentiles_over_time(report: Report) -> alt.Chart | None:
    frame = report.over_time
    if frame.height < 2:
        return None
    long = frame.select(
        "time",
        pl.col("latency_p50").alias("p50"),
        pl.col("latency_p95").alias("p95"),
        pl.col("latency_p99").alias("p99"),
    ).unpivot(index="time", variable_name="percentile", value_name="ms")
    long = long.filter(pl.col("ms").is_not_null() & (pl.col("ms") > 0))
    names = list(PERCENTILE_COLORS)
    return (
        _base(long)
        .mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2)
        .encode(
            x=_time_axis(report.every),
            y=alt.Y("ms:Q", scale=alt.Scale(type="log"), title="latency (ms, log scale)"),
            color=alt.Color(
                "percentile:N", scale=alt.Scale(domain=names, range=list(PERCENTILE_COLORS.values())), title=None
            ),
            tooltip=[
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="bucket start (UTC)"),
                "percentile:N",
                alt.Tooltip("ms:Q", format=",.0f"),
            ],
        )
        .properties(width=WIDTH, height=220, title=f"Latency percentiles per {report.every}")
    )


def traffic_over_time(report: Report) -> alt.Chart | None:
    frame = report.over_time
    if frame.height < 2:
        return None
    long = frame.select(
        "time", (pl.col("requests") - pl.col("errors")).alias("succeeded"), pl.col("errors").alias("failed")
    ).unpivot(index="time", variable_name="outcome", value_name="requests")
    return (
        _base(long)
        .mark_bar()
        .encode(
            x=_time_axis(report.every),
            y=alt.Y("requests:Q", stack="zero", title="requests"),
            color=alt.Color(
                "outcome:N", scale=alt.Scale(domain=["succeeded", "failed"], range=[OK_COLOR, ERROR_COLOR]), title=None
            ),
            order=alt.Order("outcome:N", sort="descending"),
            tooltip=[
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="bucket start (UTC)"),
                "outcome:N",
                alt.Tooltip("requests:Q", format=","),
            ],
        )
        .properties(width=WIDTH, height=220, title=f"Requests and errors per {report.every}")
    )


def tail_attribution(report: Report) -> alt.Chart | None:
    frame = report.tail.filter((pl.col("share_all").fill_null(0) > 0) | (pl.col("share_tail").fill_null(0) > 0))
    if frame.is_empty():
        return None
    tail_name = f"above p{report.p:g}"
    long = frame.select(
        "stage", pl.col("share_all").alias("all requests"), pl.col("share_tail").alias(tail_name)
    ).unpivot(index="stage", variable_name="requests", value_name="share")
    order = [s for s in [*STAGES, UNATTRIBUTED] if s in frame.get_column("stage").to_list()]
    return (
        _base(long)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=order, title=None),
            yOffset=alt.YOffset("requests:N", sort=["all requests", tail_name]),
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of end-to-end time"),
            color=alt.Color(
                "requests:N",
                scale=alt.Scale(domain=["all requests", tail_name], range=list(SET_COLORS.values())),
                title=None,
            ),
            tooltip=["stage:N", "requests:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(width=WIDTH, height=alt.Step(11), title="Where the time goes: all requests vs the tail")
    )


def cost_by_model(report: Report) -> alt.LayerChart | None:
    frame = report.models.filter(pl.col("cost_usd").is_not_null() & (pl.col("cost_usd") > 0)).head(12)
    if frame.is_empty():
        return None
    frame = frame.select("model", "cost_usd", "requests", "cost_per_1k_requests").sort("cost_usd", descending=True)
    order = frame.get_column("model").to_list()
    base = _base(frame).encode(y=alt.Y("model:N", sort=order, title=None))
    bars = base.mark_bar(color="#3b82c4").encode(
        x=alt.X("cost_usd:Q", title="cost (US$)"),
        tooltip=[
            "model:N",
            alt.Tooltip("cost_usd:Q", format="$,.4f", title="cost"),
            alt.Tooltip("requests:Q", format=","),
            alt.Tooltip("cost_per_1k_requests:Q", format="$,.4f", title="per 1,000 requests"),
        ],
    )
    labels = base.mark_text(align="left", dx=4, color="#3c4450", fontSize=10).encode(
        x="cost_usd:Q", text=alt.Text("cost_usd:Q", format="$,.2f")
    )
    return alt.LayerChart(layer=[bars, labels]).properties(width=WIDTH - 60, height=alt.Step(20), title="Cost by model")


def cost_over_time(report: Report) -> alt.Chart | None:
    frame = report.cost_over_time
    if frame.get_column("time").n_unique() < 2 if not frame.is_empty() else True:
        return None
    labels = report.latency_box.get_column("model_group").to_list()
    return (
        _base(frame)
        .mark_bar()
        .encode(
            x=_time_axis(report.every),
            y=alt.Y("cost_usd:Q", stack="zero", title="cost (US$)"),
            color=alt.Color(
                "model_group:N", scale=_model_colors(labels), sort=labels, title=None, legend=alt.Legend(orient="right")
            ),
            order=alt.Order("model_group:N"),
            tooltip=[
                alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="bucket start (UTC)"),
                alt.Tooltip("model_group:N", title="model"),
                alt.Tooltip("cost_usd:Q", format="$,.4f"),
            ],
        )
        .properties(width=WIDTH - 120, height=220, title=f"Cost per {report.every}")
    )


def flag_rates(report: Report) -> alt.Chart | None:
    if not report.has_flags:
        return None
    assert report.flags is not None
    frame = report.flags
    order = frame.get_column("flag").to_list()
    return (
        _base(frame)
        .mark_bar(color="#c2334d")
        .encode(
            y=alt.Y("flag:N", sort=order, title=None),
            x=alt.X("rate:Q", axis=alt.Axis(format="%"), title="share of requests flagged"),
            tooltip=[
                "flag:N",
                alt.Tooltip("rate:Q", format=".2%"),
                alt.Tooltip("flagged:Q", format=","),
                alt.Tooltip("cost_usd:Q", format="$,.4f", title="cost of flagged"),
            ],
        )
        .properties(width=WIDTH - 60, height=alt.Step(20), title="Quality flags")
    )


def flags_by_model(report: Report) -> alt.LayerChart | None:
    frame = report.flags_by_model
    if frame is None or frame.is_empty():
        return None
    models = report.latency_box.get_column("model_group").to_list()
    flags = report.flags.get_column("flag").to_list() if report.flags is not None else None
    base = _base(frame).encode(
        x=alt.X("flag:N", sort=flags, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("model_group:N", sort=models, title=None),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "rate:Q", scale=alt.Scale(scheme="orangered", domainMin=0), title="rate", legend=alt.Legend(format="%")
        ),
        tooltip=[
            alt.Tooltip("model_group:N", title="model"),
            "flag:N",
            alt.Tooltip("rate:Q", format=".2%"),
            alt.Tooltip("flagged:Q", format=","),
            alt.Tooltip("requests:Q", format=","),
        ],
    )
    top_rate = cast(float | None, frame.get_column("rate").max())  # a Float64 column: its max is a float or None
    dark = alt.datum.rate > 0.6 * float(top_rate or 0.0)
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("rate:Q", format=".1%"), color=alt.condition(dark, alt.value("white"), alt.value("#1d2530"))
    )
    return alt.LayerChart(layer=[cells, text]).properties(
        width=alt.Step(64), height=alt.Step(22), title="Flag rate by model"
    )


# -- history (aiobs report --history DIR) ------------------------------------------------------------------

ANOMALY_MARK = "▼ anomalous hour (any group; listed under Anomalies)"


def _anomaly_marks(report: Report, wanted: pl.Expr) -> list[alt.Chart]:
    """A dashed red rule at each anomalous hour of the wanted metrics, and a ▼ at its top carrying the details."""
    h = report.history
    if h is None:
        return []
    found = h.anomalies.filter(wanted)
    if found.is_empty():
        return []
    # One mark per hour, however many groups and metrics jumped in it: the table lists each one.
    per_hour = (
        found.sort("score", descending=True)
        .group_by("bucket", maintain_order=True)
        .agg(
            pl.len().alias("anomalies"),
            pl.col("score").max().round(1).alias("worst score"),
            pl.format("{} {}", "group", "metric").unique(maintain_order=True).head(4).str.join("; ").alias("what"),
        )
        .rename({"bucket": "time"})
    )
    tooltip = [
        alt.Tooltip("time:T", format="%Y-%m-%d %H:%M", title="hour (UTC)"),
        "anomalies:Q",
        alt.Tooltip("what:N", title="worst"),
        "worst score:Q",
    ]
    base = _base(per_hour).encode(x=alt.X("time:T"))
    rule = base.mark_rule(color=ERROR_COLOR, strokeDash=[4, 3], strokeWidth=1.5, opacity=0.8)
    marker = base.mark_point(shape="triangle-down", filled=True, color=ERROR_COLOR, size=70, opacity=1).encode(
        y=alt.value(4), tooltip=tooltip
    )
    return [rule, marker]


def _trend_axis() -> alt.X:
    axis = alt.Axis(format="%b %d", labelAngle=0, tickCount="day", labelOverlap=True)
    return alt.X("time:T", title=None, scale=alt.Scale(type="utc"), axis=axis)


def _trend_title(report: Report, text: str, marks: list[alt.Chart]) -> alt.Title:
    assert report.history is not None
    days = f"per day, last {report.history.days} day(s) of history (UTC)"
    return alt.Title(text, subtitle=f"{days}; {ANOMALY_MARK}" if marks else days)


def trend_latency(report: Report) -> alt.LayerChart | None:
    h = report.history
    if h is None or not h.enough_days:
        return None
    long = h.trend.select(
        "time",
        "period",
        pl.col("latency_p50").alias("p50"),
        pl.col("latency_p95").alias("p95"),
        pl.col("latency_p99").alias("p99"),
    ).unpivot(index=["time", "period"], variable_name="percentile", value_name="ms")
    long = long.filter(pl.col("ms").is_not_null() & (pl.col("ms") > 0))
    names = list(PERCENTILE_COLORS)
    lines = (
        _base(long)
        .mark_line(point=alt.OverlayMarkDef(size=24), strokeWidth=2)
        .encode(
            x=_trend_axis(),
            y=alt.Y("ms:Q", scale=alt.Scale(type="log"), title="latency (ms, log scale)"),
            color=alt.Color(
                "percentile:N", scale=alt.Scale(domain=names, range=list(PERCENTILE_COLORS.values())), title=None
            ),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title="day (UTC)"),
                "percentile:N",
                alt.Tooltip("ms:Q", format=",.0f"),
            ],
        )
    )
    marks = _anomaly_marks(report, pl.col("metric").str.starts_with("p") & pl.col("metric").str.contains("latency"))
    title = _trend_title(report, "Latency trend: p50, p95, p99", marks)
    return alt.LayerChart(layer=[lines, *marks]).properties(width=WIDTH, height=220, title=title)


def trend_rates(report: Report) -> alt.LayerChart | None:
    h = report.history
    if h is None or not h.enough_days:
        return None
    series = {"error rate": pl.col("error_rate"), **{f: pl.col(f"rate_{f}") for f in h.flags}}
    long = h.trend.select("time", "period", *(expr.alias(name) for name, expr in series.items())).unpivot(
        index=["time", "period"], variable_name="rate of", value_name="rate"
    )
    long = long.filter(pl.col("rate").is_not_null())
    names = list(series)
    lines = (
        _base(long)
        .mark_line(point=alt.OverlayMarkDef(size=24), strokeWidth=2)
        .encode(
            x=_trend_axis(),
            y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title="share of requests"),
            color=alt.Color("rate of:N", scale=_model_colors(names), sort=names, title=None),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title="day (UTC)"),
                "rate of:N",
                alt.Tooltip("rate:Q", format=".2%"),
            ],
        )
    )
    marks = _anomaly_marks(
        report,
        (pl.col("metric") == "error_rate")
        | pl.col("metric").str.starts_with("rate(")
        | (pl.col("metric") == "acceptance_rate"),
    )
    title = _trend_title(report, "Error and flag rates" if h.flags else "Error rate", marks)
    return alt.LayerChart(layer=[lines, *marks]).properties(width=WIDTH, height=220, title=title)


def trend_cost(report: Report) -> alt.LayerChart | None:
    h = report.history
    if h is None or not h.enough_days:
        return None
    frame = h.trend.filter(pl.col("cost_per_1k_requests").is_not_null())
    if frame.is_empty():
        return None
    lines = (
        _base(frame.select("time", "period", "cost_per_1k_requests", "requests"))
        .mark_line(point=alt.OverlayMarkDef(size=24), strokeWidth=2, color="#3b82c4")
        .encode(
            x=_trend_axis(),
            y=alt.Y("cost_per_1k_requests:Q", title="US$ per 1,000 requests"),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title="day (UTC)"),
                alt.Tooltip("cost_per_1k_requests:Q", format="$,.4f", title="per 1,000 requests"),
                alt.Tooltip("requests:Q", format=","),
            ],
        )
    )
    marks = _anomaly_marks(report, pl.col("metric") == "cost_per_1k")
    title = _trend_title(report, "Cost per 1,000 requests", marks)
    return alt.LayerChart(layer=[lines, *marks]).properties(width=WIDTH, height=220, title=title)


def trend_by_model(report: Report) -> alt.Chart | None:
    h = report.history
    if h is None or not h.enough_days:
        return None
    frame = h.by_model.filter(pl.col("latency_p95").is_not_null() & (pl.col("latency_p95") > 0))
    if frame.is_empty():
        return None
    return (
        _base(frame)
        .mark_line(point=alt.OverlayMarkDef(size=20), strokeWidth=1.5)
        .encode(
            x=_trend_axis(),
            y=alt.Y("latency_p95:Q", scale=alt.Scale(type="log"), title="p95 latency (ms, log scale)"),
            color=alt.Color(
                "key:N", scale=_model_colors(h.models), sort=h.models, title=None, legend=alt.Legend(orient="right")
            ),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d", title="day (UTC)"),
                alt.Tooltip("key:N", title="model"),
                alt.Tooltip("latency_p95:Q", format=",.0f", title="p95 ms"),
                alt.Tooltip("requests:Q", format=","),
            ],
        )
        .properties(
            width=WIDTH - 120,
            height=220,
            title=alt.Title("p95 latency per model", subtitle=f"per day, the {len(h.models)} busiest model(s)"),
        )
    )


CHARTS = {
    "latency-by-model": latency_box,
    "latency-histogram": latency_histogram,
    "percentiles-over-time": percentiles_over_time,
    "traffic-over-time": traffic_over_time,
    "tail-attribution": tail_attribution,
    "cost-by-model": cost_by_model,
    "cost-over-time": cost_over_time,
    "flag-rates": flag_rates,
    "flags-by-model": flags_by_model,
    "trend-latency": trend_latency,
    "trend-rates": trend_rates,
    "trend-cost": trend_cost,
    "trend-by-model": trend_by_model,
}


def render_charts(report: Report, *, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """Every chart the report has data for (or those named in `only`), by name, as inline-safe SVG."""
    out = {}
    for name, build in CHARTS.items():
        if only is not None and name not in only:
            continue
        chart = build(report)
        if chart is not None:
            out[name] = to_svg(chart, name=name)
    return out
