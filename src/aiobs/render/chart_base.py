"""What every chart of the report shares: fonts, colours, width, the data and config of an Altair spec, and
the rendering to inert SVG (vl-convert, then aiobs.render.svg_sanitise)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import altair as alt
import polars as pl
import vl_convert

from aiobs.outliers import UNATTRIBUTED
from aiobs.render.svg_sanitise import safe_svg

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
#: A rough rate's bar: the error colour, paled.
ROUGH_COLOR = "#eab3be"
#: A heat-map cell with nothing to show (no request of that model could be checked).
NO_DATA_COLOR = "#eef0f3"
OK_COLOR = "#9fb3c8"
PALETTE = ["#3b82c4", "#e0793a", "#22a39a", "#c2334d", "#8e6ccf", "#c9a227", "#5f6b7a", "#d16ba5", "#9aa0a6"]


def chart_values(frame: pl.DataFrame) -> list[dict[str, Any]]:
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


def base_chart(frame: pl.DataFrame) -> alt.Chart:
    return alt.Chart(alt.Data(values=chart_values(frame)))


def configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelColor="#3c4450", titleColor="#3c4450", gridColor="#e8ebef", domainColor="#c3c8cf")
        .configure_legend(labelColor="#3c4450", titleColor="#3c4450", orient="bottom", titleOrient="left")
        .configure_title(anchor="start", color="#1d2530", fontSize=13, subtitleFont=FONT, subtitleColor="#6b7480")
    )


def to_svg(chart: alt.TopLevelMixin, *, name: str) -> str:
    spec = configured(chart).to_dict(validate=False)  # built from fixed code paths; validation costs ~50 ms a chart
    return safe_svg(vl_convert.vegalite_to_svg(spec), prefix=f"chart-{name}")


def time_axis(every: str) -> alt.X:
    fmt = "%b %d" if every.endswith("d") else "%b %d %H:%M"
    axis = alt.Axis(format=fmt, labelAngle=0, tickCount=5, labelOverlap=True)
    return alt.X("time:T", title=None, scale=alt.Scale(type="utc"), axis=axis)


def model_colors(labels: list[str]) -> alt.Scale:
    return alt.Scale(domain=labels, range=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])
