"""The HTML report in a real browser (headless Chromium): it renders offline, charts drawn, the outlier
table sorts and filters, timelines open, and no payload from the logs runs.

Needs Debian's `chromium` (.ci/run installs it) and Playwright for Python, which drives that
binary: Playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.render.html import render_html
from aiobs.report.model import build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(), reason="chromium is not installed (apt-get install chromium; .ci/run does it)"
    ),
]


@dataclass
class Loaded:
    page: Any
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, path: Path) -> Loaded:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    loaded = Loaded(page, path.resolve().as_uri())
    page.on("console", lambda m: loaded.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: loaded.console.append(("pageerror", str(e))))
    page.on("request", lambda r: loaded.requests.append(r.url))

    def on_dialog(dialog: Any) -> None:
        loaded.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(loaded.url)
    page.wait_for_selector("html[data-ready=yes]", timeout=10_000)  # our script ran: its CSP hash is right
    return loaded


@pytest.fixture(scope="module")
def sample_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    out = tmp_path_factory.mktemp("browser") / "report.html"
    result = CliRunner().invoke(app, ["report", str(ROOT / "sample_logs"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = _open(browser, out)
    yield loaded
    loaded.page.close()


@pytest.fixture(scope="module")
def hostile_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    from conftest import _hostile_rows, _write_jsonl

    folder = tmp_path_factory.mktemp("hostile")
    logs = _write_jsonl(folder / "h.jsonl", _hostile_rows())
    summary = summarize(expand_inputs([str(logs)]), keep_events=True)
    summary.requests = summary.requests.with_columns(flag_refusal=pl.col("latency_ms") > 10_000)
    out = folder / "h.html"
    out.write_text(render_html(build_report(summary, p=90)), encoding="utf-8")
    loaded = _open(browser, out)
    yield loaded
    loaded.page.close()


@pytest.fixture(scope="module")
def history_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """`aiobs report --history` over hostile logs, on a store that already holds two days with a latency spike
    and hostile model and route names."""
    from aiobs import history
    from aiobs.profiles import profile_requests
    from conftest import PAYLOADS, _hostile_rows, _write_jsonl
    from synthetic import two_days_with_a_spike

    folder = tmp_path_factory.mktemp("history")
    store = folder / "store"
    earlier = two_days_with_a_spike(models=(PAYLOADS["model"], "gpt-4o"), routes=(PAYLOADS["route"],))
    history.append(store, profile_requests(earlier.lazy(), every="1h"), run_id="earlier", inputs=["earlier"])
    logs = _write_jsonl(folder / "h.jsonl", _hostile_rows())
    out = folder / "h.html"
    result = CliRunner().invoke(
        app, ["report", str(logs), "-o", str(out), "--p", "90", "--history", str(store), "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    loaded = _open(browser, out)
    yield loaded
    loaded.page.close()


#: Columns of the outlier table (1-based, as nth-child counts): the timeline button comes second.
MODEL, LATENCY, STATUS = 5, 8, 14


def _column(page: Any, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#outlier-table tbody tr:not([hidden]) td:nth-child({index})",
        "cells => cells.map(c => c.getAttribute('data-v') ?? c.textContent.trim())",
    )


@pytest.mark.parametrize("which", ["sample_page", "hostile_page", "history_page"])
def test_renders_offline_without_errors(which: str, request: pytest.FixtureRequest) -> None:
    loaded: Loaded = request.getfixturevalue(which)
    errors = [(kind, text) for kind, text in loaded.console if kind in ("error", "pageerror", "warning")]
    assert errors == []
    assert loaded.requests == [loaded.url]  # the file itself, and nothing else: no CDN, no font, no image
    assert loaded.dialogs == []


def test_charts_are_drawn(sample_page: Loaded) -> None:
    page = sample_page.page
    figures = page.query_selector_all("figure.chart")
    assert len(figures) >= 7
    for figure in figures:
        box = figure.query_selector("svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80
        assert len(figure.query_selector_all("path, rect, line")) > 10


def test_trend_charts_are_drawn_with_the_anomalies_marked(history_page: Loaded) -> None:
    page = history_page.page
    names = page.eval_on_selector_all("#trends figure.chart", "fs => fs.map(f => f.getAttribute('data-chart'))")
    assert names == ["trend-latency", "trend-rates", "trend-cost", "trend-by-model"]
    for name in names:
        figure = page.query_selector(f'figure[data-chart="{name}"]')
        box = figure.query_selector("svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, name
        assert len(figure.query_selector_all("path, line")) > 10, name
    # the spike hour: a ▼ on the latency trend whose tooltip names it, and rows in the anomaly table
    markers = page.eval_on_selector_all(
        'figure[data-chart="trend-latency"] title',
        "ts => ts.map(t => t.textContent).filter(t => t.includes('anomalies:'))",
    )
    assert any("2026-11-02 14:00" in m for m in markers)
    rows = page.eval_on_selector_all("#anomaly-table tbody tr", "rs => rs.map(r => r.cells[0].textContent)")
    assert "2026-11-02 14:00" in rows
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    # the table of p95 per model opens, and shows the hostile model name as text
    page.click("#trends details summary")
    assert page.is_visible("#trend-model-table")
    assert "<script>window.__pwned='model'</script>" in page.text_content("#trend-model-table")


def test_outlier_table_sorts_on_header_click(sample_page: Loaded) -> None:
    page = sample_page.page
    latency = [float(v) for v in _column(page, LATENCY)]
    assert latency == sorted(latency, reverse=True)  # worst first as written
    page.click(f"#outlier-table th:nth-child({LATENCY}) button")  # latency: first click sorts descending
    page.click(f"#outlier-table th:nth-child({LATENCY}) button")  # second click: ascending
    assert [float(v) for v in _column(page, LATENCY)] == sorted(latency)
    assert page.get_attribute(f"#outlier-table th:nth-child({LATENCY})", "aria-sort") == "ascending"
    page.click(f"#outlier-table th:nth-child({MODEL}) button")  # model, text: ascending
    models = _column(page, MODEL)
    assert models == sorted(models, key=str.lower)
    page.click("#outlier-table th:nth-child(1) button")  # back to rank order
    page.click("#outlier-table th:nth-child(1) button")
    assert [int(v) for v in _column(page, 1)] == sorted(int(v) for v in _column(page, 1))


def test_outlier_table_filters(sample_page: Loaded) -> None:
    page = sample_page.page
    total = len(_column(page, 1))
    models = _column(page, MODEL)
    rare = min(set(models), key=lambda m: (models.count(m), m))  # a model some, not all, outliers use
    assert len(set(models)) > 1
    page.fill("#outlier-filter", rare)
    shown = _column(page, MODEL)
    assert 0 < len(shown) < total and set(shown) == {rare}
    assert page.text_content("#outlier-count") == f"{len(shown)} of {total}"
    page.fill("#outlier-filter", "")
    page.check("#outlier-errors")
    statuses = _column(page, STATUS)
    assert statuses and all(s.startswith("error") for s in statuses)
    page.uncheck("#outlier-errors")
    assert len(_column(page, 1)) == total


def test_a_timeline_opens_in_the_page(sample_page: Loaded) -> None:
    page = sample_page.page
    row = page.query_selector("#outlier-table tbody tr")
    events_in_row = row.query_selector("td:nth-child(1)").text_content().strip()
    row.query_selector("button.open-timeline").click()
    assert page.eval_on_selector("#timeline-dialog", "d => d.open")
    assert events_in_row in page.text_content("#timeline-title")
    bars = page.query_selector_all("#timeline-body svg.waterfall rect.bar")
    assert len(bars) >= 2
    assert all((b.bounding_box() or {"width": 0})["width"] > 0 for b in bars)
    assert page.query_selector("#timeline-body pre.text") is not None
    page.click("#timeline-close")
    assert not page.eval_on_selector("#timeline-dialog", "d => d.open")


def test_no_payload_runs_even_when_every_timeline_is_opened(hostile_page: Loaded) -> None:
    page = hostile_page.page
    shown_as_text = 0
    for button in page.query_selector_all("button.open-timeline"):
        button.click()
        shown_as_text += "window.__pwned='output'" in page.text_content("#timeline-body")  # shown as text...
        page.click("#timeline-close")
    assert shown_as_text == 6
    page.fill("#outlier-filter", "pwned")
    page.click(f"#outlier-table th:nth-child({MODEL}) button")
    assert page.evaluate("typeof window.__pwned") == "undefined"  # ...never run
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed, a[href^=javascript]').length") == 0
    assert page.evaluate("document.scripts.length") == 1
    assert hostile_page.dialogs == []
    assert hostile_page.requests == [hostile_page.url]
    assert [e for e in hostile_page.console if e[0] in ("error", "pageerror")] == []
    assert page.query_selector("#flags") is not None


def test_screenshot_at_1280_px(sample_page: Loaded, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    sample_page.page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("width", [800, 1400, 1920])
def test_readable_from_800_px_up(browser: Any, sample_page: Loaded, width: int) -> None:
    """No label wraps a character at a time, nothing is clipped: a table wider than the page scrolls in its box."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(sample_page.url)
        page.wait_for_selector("html[data-ready=yes]", timeout=10_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page itself never scrolls sideways
        line = page.eval_on_selector("#outlier-table tbody td", "c => parseFloat(getComputedStyle(c).lineHeight)")
        heights = page.eval_on_selector_all(
            "#outlier-table tbody td.label-cell", "cs => cs.map(c => c.getBoundingClientRect().height)"
        )
        assert len(heights) == 3 * 26 and max(heights) < 2.5 * line  # one line of text plus padding, never a column
        clipped = page.eval_on_selector_all(
            "#outlier-table tbody td.label-cell",
            "cs => cs.filter(c => c.scrollWidth > c.clientWidth).map(c => c.getAttribute('title') === c.textContent)",
        )
        assert all(clipped)  # a label cut with an ellipsis has its whole text as its title
        box = page.eval_on_selector(
            "#outlier-scroll",
            "s => ({scroll: s.scrollWidth, client: s.clientWidth, right: s.getBoundingClientRect().right,"
            " section: s.closest('section').getBoundingClientRect().right, overflow: getComputedStyle(s).overflowX})",
        )
        assert box["overflow"] == "auto" and box["right"] <= box["section"]
        if width == 800:
            assert box["scroll"] > box["client"]  # wider than the page: it scrolls, inside its box
        # The first thing in a row is its timeline button, in view at any width.
        button = page.query_selector("#outlier-table tbody tr button.open-timeline").bounding_box()
        assert button is not None and button["x"] + button["width"] <= width
        # The flag heat map is drawn at its own size: neither squeezed into the column nor stretched.
        svg = page.query_selector('figure[data-chart="flags-by-model"] svg')
        assert svg.bounding_box()["width"] == pytest.approx(float(svg.get_attribute("width")), abs=1)
    finally:
        page.close()
