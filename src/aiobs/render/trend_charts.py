"""The report's Trends charts (`aiobs report --history DIR`): days from the history store, anomalies marked."""

from __future__ import annotations

import altair as alt
import polars as pl

from aiobs.render.chart_base import ERROR_COLOR, PERCENTILE_COLORS, WIDTH, base_chart, model_colors
from aiobs.report.labels import flag_title
from aiobs.report.model import Report

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
    base = base_chart(per_hour).encode(x=alt.X("time:T"))
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
        base_chart(long)
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
    series = {"Error rate": pl.col("error_rate"), **{flag_title(f): pl.col(f"rate_{f}") for f in h.flags}}
    long = h.trend.select("time", "period", *(expr.alias(name) for name, expr in series.items())).unpivot(
        index=["time", "period"], variable_name="rate of", value_name="rate"
    )
    long = long.filter(pl.col("rate").is_not_null())
    names = list(series)
    lines = (
        base_chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=24), strokeWidth=2)
        .encode(
            x=_trend_axis(),
            y=alt.Y("rate:Q", axis=alt.Axis(format="%"), title="share of requests"),
            color=alt.Color("rate of:N", scale=model_colors(names), sort=names, title=None),
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
        base_chart(frame.select("time", "period", "cost_per_1k_requests", "requests"))
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
        base_chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=20), strokeWidth=1.5)
        .encode(
            x=_trend_axis(),
            y=alt.Y("latency_p95:Q", scale=alt.Scale(type="log"), title="p95 latency (ms, log scale)"),
            color=alt.Color(
                "key:N", scale=model_colors(h.models), sort=h.models, title=None, legend=alt.Legend(orient="right")
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
