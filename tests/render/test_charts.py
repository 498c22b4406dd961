"""Charts: drawn offline from aggregates, and only SVG that passes the allow-list is ever inlined."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aiobs.render.charts import CHARTS, render_charts
from aiobs.render.svg_sanitise import ChartError, safe_svg
from aiobs.report.model import build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

SVG = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.mark.parametrize(
    "svg",
    [
        f"<svg {SVG}><script>alert(1)</script></svg>",
        f'<svg {SVG}><g onload="alert(1)"/></svg>',
        f'<svg {SVG} xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        f'<svg {SVG}><image href="http://evil.example/x.png"/></svg>',
        f'<svg {SVG}><rect style="background:url(http://evil.example)"/></svg>',
        f"<svg {SVG}><foreignObject><div>x</div></foreignObject></svg>",
        f'<svg {SVG}><use href="#a"/></svg>',
    ],
)
def test_svg_outside_the_allow_list_is_refused(svg: str) -> None:
    with pytest.raises(ChartError):
        safe_svg(svg, prefix="t")


def test_ids_are_prefixed_tooltips_added_numbers_shortened() -> None:
    svg = (
        f'<svg {SVG} width="10" height="10"><defs><clipPath id="clip1"><rect width="3.14159265"/></clipPath></defs>'
        '<g clip-path="url(#clip1)">'
        '<path role="graphics-symbol" aria-label="model: a&lt;b" d="M0.123456,1L2,3"/></g></svg>'
    )
    out = safe_svg(svg, prefix="chart-x")
    root = ET.fromstring(out)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.find(".//s:clipPath", ns).get("id") == "chart-x-clip1"
    assert root.find(".//s:g", ns).get("clip-path") == "url(#chart-x-clip1)"
    path = root.find(".//s:path", ns)
    assert path.find("s:title", ns).text == "model: a<b"
    assert path.get("aria-label") is None
    assert path.get("d") == "M0.12,1L2,3"
    assert "a&lt;b" in out


def test_every_chart_renders_with_hostile_labels(hostile_logs: Path) -> None:
    summary = summarize(expand_inputs([str(hostile_logs)]), keep_events=True)
    report = build_report(summary, p=90)
    charts = render_charts(report)
    assert {"latency-by-model", "latency-histogram", "percentiles-over-time", "tail-attribution"} <= set(charts)
    for name, svg in charts.items():
        root = ET.fromstring(svg)  # well-formed
        assert root.tag.endswith("svg"), name
        assert "<script" not in svg and "<img" not in svg, name
        assert all(not k.startswith("on") for e in root.iter() for k in e.attrib), name
        assert {e.tag.rsplit("}", 1)[-1] for e in root.iter()} <= {
            "svg",
            "g",
            "path",
            "rect",
            "line",
            "text",
            "title",
            "defs",
            "clipPath",
            "linearGradient",
            "stop",
            "circle",
        }, name
    assert "&lt;script&gt;window.__pwned" in charts["latency-by-model"]


def test_chart_names_are_stable() -> None:
    # The Markdown report links images by these names; renaming one breaks old links in CI artifacts.
    assert list(CHARTS) == [
        "latency-by-model",
        "latency-histogram",
        "percentiles-over-time",
        "traffic-over-time",
        "tail-attribution",
        "cost-by-model",
        "cost-over-time",
        "flag-rates",
        "flags-by-model",
        "trend-latency",
        "trend-rates",
        "trend-cost",
        "trend-by-model",
    ]


def test_latency_lines_break_at_hours_without_requests() -> None:
    """The sample logs have no request from 18:00 to 23:59 on their first day: the percentile lines stop
    there and start again, as the request bars leave the hours empty, rather than drawing across them."""
    import re

    ROOT = Path(__file__).resolve().parents[2]
    report = build_report(summarize(expand_inputs([str(ROOT / "sample_logs")])))
    assert (report.over_time.get_column("requests") == 0).sum() == 6
    svg = render_charts(report, only=("percentiles-over-time",))["percentiles-over-time"]
    paths = re.findall(r'aria-roledescription="line mark" d="([^"]+)"', svg)
    assert len(paths) == 3 and all(path.count("M") == 2 for path in paths)
