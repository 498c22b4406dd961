"""The report's charts: Altair (Vega-Lite) specs from small aggregate frames, rendered offline to SVG.

vl-convert runs Vega in an embedded engine inside this process: no browser, no network, no CDN. The
SVG it returns is then checked against an allow-list of elements and attributes before it may be
inlined (aiobs.render.svg_sanitise: no script, no event handler, no link, no style attribute, so the
report's strict Content-Security-Policy holds), given native tooltips, and its IDs prefixed.

Static SVG rather than the Vega runtime: the file stays small (a chart is 10-60 kB; the runtime is
about 1 MB of JavaScript), charts show in viewers that run no JavaScript, and no `unsafe-eval`
is needed (Vega compiles its expressions with `Function`).
"""

from __future__ import annotations

from typing import cast

import altair as alt
import polars as pl

from aiobs.outliers import UNATTRIBUTED
from aiobs.render.chart_base import (
    ERROR_COLOR,
    NO_DATA_COLOR,
    OK_COLOR,
    PERCENTILE_COLORS,
    ROUGH_COLOR,
    SET_COLORS,
    WIDTH,
    base_chart,
    model_colors,
    time_axis,
    to_svg,
)
from aiobs.render.trend_charts import trend_by_model, trend_cost, trend_latency, trend_rates
from aiobs.report.model import Report
from aiobs.schema import STAGES


def latency_box(report: Report) -> alt.LayerChart | None:
    frame = report.latency_box
    if frame.is_empty():
        return None
    order = frame.get_column("model_group").to_list()
    base = base_chart(frame).encode(y=alt.Y("model_group:N", sort=order, title=None))
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
        base_chart(frame)
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("lo_ms:Q", scale=alt.Scale(type="log", nice=False), title="latency (ms, log scale)"),
            x2="hi_ms:Q",
            y=alt.Y("sum(requests):Q", title="requests", stack="zero"),
            color=alt.Color(
                "model_group:N", title=None, scale=model_colors(labels), sort=labels, legend=alt.Legend(orient="right")
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
    # A bucket without requests keeps its row with no value: the line breaks there instead of bridging it.
    long = long.filter(pl.col("ms").is_null() | (pl.col("ms") > 0))
    names = list(PERCENTILE_COLORS)
    return (
        base_chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=2, invalid="break-paths-show-domains")
        .encode(
            x=time_axis(report.every),
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
        base_chart(long)
        .mark_bar()
        .encode(
            x=time_axis(report.every),
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
    if report.one_event_per_request:  # every stage share would be "other 100 %": nothing known to draw
        return None
    frame = report.tail.filter((pl.col("share_all").fill_null(0) > 0) | (pl.col("share_tail").fill_null(0) > 0))
    if frame.is_empty():
        return None
    tail_name = f"above p{report.p:g}"
    long = frame.select(
        "stage", pl.col("share_all").alias("all requests"), pl.col("share_tail").alias(tail_name)
    ).unpivot(index="stage", variable_name="requests", value_name="share")
    order = [s for s in [*STAGES, UNATTRIBUTED] if s in frame.get_column("stage").to_list()]
    return (
        base_chart(long)
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
    base = base_chart(frame).encode(y=alt.Y("model:N", sort=order, title=None))
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
        base_chart(frame)
        .mark_bar()
        .encode(
            x=time_axis(report.every),
            y=alt.Y("cost_usd:Q", stack="zero", title="cost (US$)"),
            color=alt.Color(
                "model_group:N", scale=model_colors(labels), sort=labels, title=None, legend=alt.Legend(orient="right")
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


def _flag_labels(frame: pl.DataFrame) -> list[str]:
    """A flag's name as a person says it, with what its rate is over: "Invalid JSON (2 of 31)"."""
    titles = frame.get_column("title").to_list()
    return [
        f"{title if titles.count(title) == 1 else f'{title} [{flag}]'} ({flagged:,} of {checked:,})"
        for title, flag, flagged, checked in frame.select("title", "flag", "flagged", "checked").iter_rows()
    ]


def flag_rates(report: Report) -> alt.LayerChart | None:
    """Each flag that flagged something: its rate with the 95 % interval, pale when rough (few checked)."""
    frame = report.flags_seen
    if frame is None:
        return None
    frame = frame.with_columns(label=pl.Series(_flag_labels(frame), dtype=pl.String))
    order = frame.get_column("label").to_list()
    base = base_chart(frame).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)))
    tooltip = [
        alt.Tooltip("title:N", title="flag"),
        alt.Tooltip("rate:Q", format=".2%"),
        alt.Tooltip("flagged:Q", format=","),
        alt.Tooltip("checked:Q", format=",", title="of (checked)"),
        alt.Tooltip("rate_low:Q", format=".1%", title="95% interval from"),
        alt.Tooltip("rate_high:Q", format=".1%", title="to"),
        alt.Tooltip("cost_usd:Q", format="$,.4f", title="cost of flagged"),
    ]
    bars = base.mark_bar(size=14).encode(
        x=alt.X("rate:Q", axis=alt.Axis(format="%"), title="share of checked requests flagged"),
        color=alt.condition(alt.datum.rough, alt.value(ROUGH_COLOR), alt.value(ERROR_COLOR)),
        tooltip=tooltip,
    )
    interval = base.mark_rule(color="#1d2530", strokeWidth=1.5).encode(x="rate_low:Q", x2="rate_high:Q")
    return alt.LayerChart(layer=[bars, interval]).properties(
        width=WIDTH - 120,
        height=alt.Step(22),
        title=alt.Title("Flag rates", subtitle="line: 95% interval; pale: rough, few requests checked (listed last)"),
    )


def flags_by_model(report: Report) -> alt.LayerChart | None:
    """A heat map of each flag's rate per model, sized by its data: a cell per flag and model, never stretched.

    Only flags that flagged something; a model none of whose requests the flag could check is a grey
    "–" cell (no data), and a rough rate (few checked) carries a `*`. The colour scale ends at the
    highest rate that is not rough, so one "1 of 1" cell does not wash out the rest.
    """
    frame, seen = report.flags_by_model, report.flags_seen
    if frame is None or frame.is_empty() or seen is None:
        return None
    labels = dict(zip(seen.get_column("flag").to_list(), seen.get_column("title").to_list(), strict=True))
    frame = frame.filter(pl.col("flag").is_in(list(labels))).with_columns(
        title=pl.col("flag").replace_strict(labels, return_dtype=pl.String),
        no_data=pl.col("checked").fill_null(0) == 0,
    )
    text = [
        "–" if rate is None else f"{rate * 100:.1f}%" + ("*" if rough else "")
        for rate, rough in frame.select("rate", "rough").iter_rows()
    ]
    # `shade` is never null: Vega-Lite drops a mark whose colour field is null, and a no-data cell is drawn grey.
    frame = frame.with_columns(cell=pl.Series(text, dtype=pl.String), shade=pl.col("rate").fill_null(0.0))
    models = [m for m in report.latency_box.get_column("model_group").to_list() if m in set(frame["model_group"])]
    solid = frame.filter(~pl.col("rough") & pl.col("rate").is_not_null()).get_column("rate")
    top = cast(float | None, (solid if not solid.is_empty() else frame.get_column("rate")).max())
    top = max(float(top or 0.0), 0.001)
    base = base_chart(frame).encode(
        x=alt.X("model_group:N", sort=models, title=None, axis=alt.Axis(labelAngle=-35, labelLimit=180, orient="top")),
        y=alt.Y("title:N", sort=list(labels.values()), title=None, axis=alt.Axis(labelLimit=220)),
    )
    tooltip = [
        alt.Tooltip("model_group:N", title="model"),
        alt.Tooltip("title:N", title="flag"),
        alt.Tooltip("cell:N", title="rate"),
        alt.Tooltip("flagged:Q", format=","),
        alt.Tooltip("checked:Q", format=",", title="of (checked)"),
    ]
    cells = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=alt.condition(
            alt.datum.no_data,
            alt.value(NO_DATA_COLOR),
            alt.Color(
                "shade:Q",
                scale=alt.Scale(scheme="orangered", domain=[0, top], clamp=True),
                title="rate",
                legend=alt.Legend(format="%", orient="bottom", gradientLength=160),
            ),
        ),
        tooltip=tooltip,
    )
    dark = alt.datum.shade > 0.6 * top
    label = base.mark_text(fontSize=11).encode(
        text="cell:N",
        color=alt.condition(dark, alt.value("white"), alt.value("#1d2530")),
        tooltip=tooltip,
    )
    return alt.LayerChart(layer=[cells, label]).properties(
        width=alt.Step(62),
        height=alt.Step(24),
        title=alt.Title(
            "Flag rate by model",
            subtitle="share of each model's checked requests flagged; * rough: few checked; – none checked",
        ),
    )


# -- history (aiobs report --history DIR) ------------------------------------------------------------------

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
