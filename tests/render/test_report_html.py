"""The HTML report: one file, escaped everywhere, a strict CSP that matches its own script and stylesheet."""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from aiobs.render.html import TEMPLATE, content_security_policy, render_html, template_dir
from aiobs.report.model import build_report
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize
from conftest import PAYLOADS

ROOT = Path(__file__).resolve().parents[2]


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of script and style elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.inline:
            self._open = tag
            self.inline[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.inline[self._open][-1] += data


class Texts(HTMLParser):
    """The text nodes of a page, decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: set[str] = set()

    def handle_data(self, data: str) -> None:
        self.seen.add(data.strip())


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    from conftest import _hostile_rows, _write_jsonl

    path = _write_jsonl(tmp_path_factory.mktemp("hostile") / "h.jsonl", _hostile_rows())
    summary = summarize(expand_inputs([str(path)]), keep_events=True)
    summary.requests = summary.requests.with_columns(flag_refusal=pl.col("latency_ms") > 10_000)
    return render_html(build_report(summary, p=90, command_line="aiobs report h.jsonl -o <b>x</b>.html"))


def test_csp_allows_exactly_the_page_script_and_stylesheet(hostile_html: str) -> None:
    parsed = Elements()
    parsed.feed(hostile_html)
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(metas) == 1
    csp = metas[0]["content"] or ""
    assert len(parsed.inline["script"]) == 1 and len(parsed.inline["style"]) == 1
    script, style = parsed.inline["script"][0], parsed.inline["style"][0]
    assert f"script-src {_sha(script)};" in csp
    assert f"style-src {_sha(style)};" in csp
    assert csp.startswith("default-src 'none';")
    assert "unsafe" not in csp and "http" not in csp and "*" not in csp
    assert content_security_policy(script, style) == csp


def test_no_markup_from_the_logs_survives(hostile_html: str) -> None:
    parsed = Elements()
    parsed.feed(hostile_html)
    tags = {t for t, _ in parsed.tags}
    assert not tags & {"img", "iframe", "object", "embed", "form", "base", "link", "foreignobject", "image", "use"}
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs and "src" not in attrs, (tag, attrs)
        if "href" in attrs:  # only the page's own section links
            assert tag == "a" and re.fullmatch(r"#[a-z-]+", attrs["href"] or ""), (tag, attrs)
    for raw in ("<script>window", "<img src=x", "<svg onload", "<iframe", "</td></tr></table><svg"):
        assert raw not in hostile_html, raw
    assert hostile_html.count("<script") == 1 and hostile_html.count("</script>") == 1
    # a `</td>` in the logs must not end a cell: every outlier row keeps its 15 cells
    table = hostile_html.split('id="outlier-table"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr data-error=")[1:]
    assert len(rows) == 7
    assert all(row.count("<td") == 15 and row.count("</td>") == 15 for row in rows)
    # and the payloads are there, as text: the parser decodes them back to what was logged
    texts = Texts()
    texts.feed(hostile_html)
    for name in ("model", "route", "user"):
        assert PAYLOADS[name] in texts.seen, name
    assert "&lt;script&gt;window.__pwned=&#39;model&#39;&lt;/script&gt;" in hostile_html
    assert "&lt;b&gt;x&lt;/b&gt;.html" in hostile_html  # the command line is escaped too
    assert "alice@example.com" not in hostile_html  # redacted by default
    assert "window.__pwned" not in parsed.inline["script"][0]


def test_the_script_holds_no_data(hostile_html: str) -> None:
    script = (template_dir() / "report.js").read_text(encoding="utf-8")
    assert f"<script>{script}</script>" in hostile_html


def test_sections_and_timelines_are_all_there(hostile_html: str) -> None:
    for section in ("headline", "latency", "over-time", "stages", "cost", "flags", "outliers", "input-quality"):
        assert f'<section id="{section}"' in hostile_html
    assert hostile_html.count("<template id=") == 7
    assert hostile_html.count('class="open-timeline"') == 7
    assert hostile_html.count('<figure class="chart"') >= 6


def test_templates_come_from_the_source_tree_in_an_editable_install() -> None:
    import aiobs

    if not Path(aiobs.__file__).resolve().is_relative_to(ROOT / "src"):
        pytest.skip("aiobs is not installed from this source tree")
    assert template_dir() == ROOT / "src" / "aiobs" / "templates"
    assert (template_dir() / TEMPLATE).is_file()


def test_templates_ship_inside_the_wheel_and_load_from_it(tmp_path: Path) -> None:
    """Build the wheel, install it apart, and render a report with it: templates found inside the package."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("aiobs_cli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("report.html.j2", "tables.html.j2", "report.css", "report.js"):
        assert f"aiobs/templates/{name}" in names
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)]
    assert subprocess.run(install, capture_output=True, text=True).returncode == 0
    code = (
        "import sys, aiobs.render.html as h; from aiobs.cli import main; print(h.template_dir()); "
        "sys.argv = ['aiobs', 'report', sys.argv[1], '-o', sys.argv[2]]; main()"
    )
    out = tmp_path / "r.html"
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "sample_logs" / "chatbot.jsonl"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert Path(run.stdout.splitlines()[0]) == site / "aiobs" / "templates"
    assert "Content-Security-Policy" in out.read_text(encoding="utf-8")


# -- the Trends and Anomalies sections (aiobs report --history DIR) -------------------------------------------


def _store(frame: pl.DataFrame, path: Path) -> Path:
    from aiobs import history
    from aiobs.profiles import profile_requests

    history.append(path, profile_requests(frame.lazy(), every="1h"), run_id=path.name, inputs=[path.name])
    return path


@pytest.fixture(scope="module")
def history_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    from aiobs.report.trends import read_history
    from synthetic import two_days_with_a_spike

    store = _store(two_days_with_a_spike(), tmp_path_factory.mktemp("history") / "store")
    summary = summarize(expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]), keep_events=True)
    return render_html(build_report(summary, outlier_limit=5, history=read_history(store, days=7)))


@pytest.fixture(scope="module")
def hostile_history_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    from aiobs.report.trends import read_history
    from conftest import _hostile_rows, _write_jsonl
    from synthetic import two_days_with_a_spike

    folder = tmp_path_factory.mktemp("hostile-history")
    hostile = two_days_with_a_spike(models=(PAYLOADS["model"], "alice@example.com"), routes=(PAYLOADS["route"],))
    store = _store(hostile, folder / "store")
    summary = summarize(expand_inputs([str(_write_jsonl(folder / "h.jsonl", _hostile_rows()))]), keep_events=True)
    return render_html(build_report(summary, p=90, history=read_history(store, days=7)))


def _between(html: str, start: str, end: str = "</section>") -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_without_history_there_are_no_history_sections(hostile_html: str) -> None:
    for absent in ('id="trends"', 'id="anomalies"', 'href="#trends"', 'data-chart="trend-'):
        assert absent not in hostile_html


def test_trend_charts_tables_and_the_planted_anomaly(history_html: str) -> None:
    from synthetic import SPIKE

    trends = _between(history_html, '<section id="trends">')
    for name in ("trend-latency", "trend-rates", "trend-cost", "trend-by-model"):
        assert f'<figure class="chart" data-chart="{name}"><svg' in trends, name
    table = _between(trends, 'id="trend-table"', "</table>")
    assert table.count("<tr><td>") == 2 and "2026-11-01" in table and "2026-11-02" in table
    assert '<span class="pill bad">3</span>' in table  # the spike day: overall, stage=llm, stage=retrieval
    assert table.count('<th class="n">') == 7 + 4 + 1  # the numbers, four flags, anomalies
    # The anomalous hour is marked on the latency chart (a ▼ with its tooltip) and listed below.
    latency = _between(trends, 'data-chart="trend-latency">', "</figure>")
    hour = f"{SPIKE:%Y-%m-%d %H:%M}"
    assert re.search(rf"<title>[^<]*{hour}[^<]*anomalies: 3", latency)
    anomalies = _between(history_html, '<section id="anomalies">')
    table = _between(anomalies, 'id="anomaly-table"', "</table>")
    rows = _between(table, "<tbody>", "</tbody>").split("<tr>")[1:]
    assert len(rows) == 3
    assert all(hour in row and "p95(latency_ms)" in row for row in rows)
    assert any('<td class="label-cell">overall</td>' in row for row in rows)
    assert 'href="#anomalies">Anomalies (1 incident)</a>' in history_html  # three rows, one incident
    # The three are one incident, told once: the metric that moved, where it moved.
    incidents = _between(_between(anomalies, 'id="incident-table"', "</table>"), "<tbody>", "</tbody>")
    (incident,) = incidents.split("<tr>")[1:]
    assert incident.startswith(f"<td>{hour} → ") and "p95(latency_ms)" in incident
    assert ">overall, stage=llm, stage=retrieval</td>" in incident
    # What was judged on coarser buckets, or not at all, is said with why (two days are not a baseline).
    scoring = _between(anomalies, 'id="scoring-table"', "</table>")
    assert "<td>not scored yet: no baseline until the 3 h buckets have about 4 earlier days</td>" in scoring


def test_hostile_group_names_stay_text_in_the_history_sections(hostile_history_html: str) -> None:
    parsed = Elements()
    parsed.feed(hostile_history_html)
    assert not {t for t, _ in parsed.tags} & {"img", "iframe", "object", "embed", "foreignobject", "image", "use"}
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs and "src" not in attrs, (tag, attrs)
    assert hostile_history_html.count("<script") == 1
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert metas[0]["content"] == content_security_policy(parsed.inline["script"][0], parsed.inline["style"][0])
    assert "window.__pwned" not in parsed.inline["script"][0]
    texts = Texts()
    texts.feed(hostile_history_html)
    assert PAYLOADS["model"] in texts.seen  # in the per-model table, as text
    assert f"route={PAYLOADS['route']}" in texts.seen  # in the anomaly table, as text
    assert "[email]" in texts.seen and "alice@example.com" not in hostile_history_html
    trends = _between(hostile_history_html, '<section id="trends">')
    assert "&lt;script&gt;window.__pwned=&#39;model&#39;&lt;/script&gt;" in trends
    # the trend table keeps its cells: no `</td>` from a key can end one early
    table = _between(trends, 'id="trend-model-table"', "</table>")
    body = _between(table, "<tbody>", "</tbody>")
    assert all(row.count("<td") == 3 for row in body.split("<tr>")[1:])


def test_a_store_with_one_day_says_trends_need_more_days(tmp_path: Path) -> None:
    from aiobs.report.trends import read_history
    from synthetic import make_requests

    store = _store(make_requests(400, seed=3, span=timedelta(hours=20)), tmp_path / "store")
    summary = summarize(expand_inputs([str(ROOT / "sample_logs" / "chatbot.jsonl")]), keep_events=False)
    html = render_html(build_report(summary, outlier_limit=1, history=read_history(store, days=7)))
    trends = _between(html, '<section id="trends">')
    assert 'id="trends-need-days"' in trends
    assert "Trends need more days: the store holds only this run, with 1 day of data." in trends
    assert "<figure" not in trends and 'data-chart="trend-' not in html
    assert 'id="anomalies"' in html


# -- read the way a person reads it: headline, denominators, the flag heat map, the outlier table, ticks ------


@pytest.fixture(scope="module")
def sample_html() -> str:
    summary = summarize(expand_inputs([str(ROOT / "sample_logs")]), keep_events=True)
    return render_html(build_report(summary, outlier_limit=30))


class Cards(HTMLParser):
    """The headline cards: label, value, detail and rough note of each, as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: list[dict[str, str]] = []
        self._part: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if "card" in classes:
            self.cards.append({"class": " ".join(classes), "label": "", "value": "", "detail": "", "rough-note": ""})
        elif self.cards and classes and classes[0] in ("label", "value", "detail", "rough-note"):
            self._part = classes[0]

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._part = None

    def handle_data(self, data: str) -> None:
        if self._part:
            self.cards[-1][self._part] += data


def _cards(html: str) -> list[dict[str, str]]:
    parsed = Cards()
    parsed.feed(_between(html, '<section id="headline"'))
    return parsed.cards


def test_headline_cards_say_what_matters_once_with_what_each_rate_is_over(sample_html: str) -> None:
    cards = _cards(sample_html)
    labels = [c["label"] for c in cards]
    assert labels.count("Error rate") == 1 and len(labels) == len(set(labels))
    assert not [label for label in labels if "_" in label or (label.endswith(" rate") and label != "Error rate")]
    assert "0.00%" not in [c["value"] for c in cards]
    for card in cards:
        if card["value"].endswith("%"):  # every rate says what it is over: "50 of 2,600 requests failed"
            assert re.fullmatch(r"[\d,]+ of [\d,]+ [a-z ]+", card["detail"]), card
    assert [c["label"] for c in cards if c["class"] == "card"][-4:] == [
        "Context unused",
        "Truncated answers",
        "Retried",
        "Personal data in input",
    ]
    headline = _between(sample_html, '<section id="headline"')
    assert '<div class="cards-heading">Most frequent quality flags' in headline


def test_a_rough_rate_is_visibly_rough(sample_html: str) -> None:
    flags = _between(sample_html, '<section id="flags">')
    row = re.search(r'<tr class="rough"><td title="invalid_json">Invalid JSON</td>(.*?)</tr>', flags)
    assert row is not None
    assert "2 of 31" in row.group(1) and 'class="thin" title="rough: few requests checked">*' in row.group(1)
    assert "1.8%–20.7%" in row.group(1)  # the 95 % interval says how rough
    chart = _between(flags, 'data-chart="flag-rates">', "</figure>")
    assert ">Invalid JSON (2 of 31)</text>" in chart and ">Context unused (118 of 2,143)</text>" in chart


def test_the_flag_heat_map_is_drawn_at_its_own_size_with_no_null_cells(sample_html: str) -> None:
    figure = re.search(r'<figure class="chart natural" data-chart="flags-by-model">(.*?)</figure>', sample_html, re.S)
    assert figure is not None
    root = ET.fromstring(figure.group(1))
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert not [t for t in texts if "null" in t.lower()]
    assert "–" in texts  # a model none of whose requests a flag could check: no data, said so
    assert "Invalid JSON" in texts and "invalid_json" not in texts
    assert "Too-long answers" not in texts  # flagged nothing: not a row of zeros
    cells = re.findall(r'aria-roledescription="rect mark" d="M[\d.]+,[\d.]+h62v24h-62Z"', figure.group(1))
    assert len(cells) == 12 * 9  # 12 flags that flagged something, 9 model groups: one 62 × 24 cell each
    css = (template_dir() / "report.css").read_text(encoding="utf-8")
    assert "figure.chart.natural svg { width: auto; max-width: none; }" in css  # never stretched to the column


def test_outlier_labels_stay_on_one_line_cut_with_their_full_text_as_title(sample_html: str) -> None:
    assert '<div class="scroll" id="outlier-scroll">\n  <table class="data sortable compact" id="outlier-table">' in (
        sample_html
    )
    table = _between(sample_html, 'id="outlier-table"', "</table>")
    cells = re.findall(r'<td class="label-cell" title="([^"]*)">([^<]*)</td>', table)
    assert len(cells) == 3 * 26 and all(title == text for title, text in cells)
    assert "/rag/answer" in {text for _, text in cells}
    css = (template_dir() / "report.css").read_text(encoding="utf-8")
    rule = re.search(r"td\.label-cell\[title\] \{([^}]*)\}", css)
    assert rule is not None
    assert all(p in rule.group(1) for p in ("white-space: nowrap", "overflow: hidden", "text-overflow: ellipsis"))
    assert "overflow-wrap: anywhere" not in css.split("td.label-cell", 1)[1].split("}", 1)[0]


def test_timeline_axes_have_round_ticks(sample_html: str) -> None:
    waterfalls = re.findall(r'<svg class="waterfall".*?</svg>', sample_html, re.S)
    assert len(waterfalls) == 26
    for svg in waterfalls:
        ticks = [float(t.replace(",", "")) for t in re.findall(r'class="tick">([\d,.]+)(?: ms)?</text>', svg)]
        steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
        assert ticks[0] == 0 and len(steps) == 1, ticks
        step = steps.pop()
        assert step / 10 ** math.floor(math.log10(step)) in (1, 2, 5), ticks
    assert "30,010" not in sample_html and "60,021" not in sample_html


def test_docs_show_the_report_at_800_1400_and_1920_px() -> None:
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    for width in (800, 1400, 1920):
        name = f"report-{width}.png"
        assert f"({name})" in doc, name
        png = (ROOT / "docs" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == width
        assert len(png) < 1_000_000, name  # modest: cropped and optimised
