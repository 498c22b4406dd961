"""`aiobs report` through the real typer app: formats, files beside the Markdown, exit codes, atomic writes."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from conftest import WriteJsonl

ROOT = Path(__file__).resolve().parents[2]
CHATBOT = str(ROOT / "sample_logs" / "chatbot.jsonl")


def run(*args: str) -> object:
    return CliRunner().invoke(app, ["report", *args])


def test_html_report_from_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "nightly.html"
    result = run(CHATBOT, "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in html and "<svg" in html
    assert "wrote" in result.output
    assert out.stat().st_mode & 0o777 != 0o600  # not left private by the temporary file
    assert [p.name for p in tmp_path.iterdir()] == ["nightly.html"]  # no temporary file left


def test_markdown_report_writes_its_chart_images_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = run(str(ROOT / "sample_logs"), "-o", str(out))
    assert result.exit_code == 0, result.output
    md = out.read_text(encoding="utf-8")
    images = sorted(p.name for p in (tmp_path / "report-charts").iterdir())
    assert images == ["flags-by-model.svg", "latency-by-model.svg", "latency-histogram.svg", "tail-attribution.svg"]
    for name in images:
        assert f"](report-charts/{name})" in md
        assert (tmp_path / "report-charts" / name).read_text(encoding="utf-8").startswith("<svg")
    assert "```mermaid" in md
    assert f"and 4 chart image(s) in {tmp_path / 'report-charts'}/" in result.stderr  # said, not a surprise


def test_markdown_to_stdout_for_the_step_summary() -> None:
    result = run(CHATBOT, "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# aiobs report")
    assert "![" not in result.stdout


def test_format_option_beats_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    assert run(CHATBOT, "-o", str(out), "--format", "md").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# aiobs report")


def test_options_reach_the_report(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = [CHATBOT, "-o", str(out), "--p", "95", "--outliers", "7", "--title", "Nightly <chat>", "--every", "3h"]
    assert run(*args).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert html.count('class="open-timeline"') == 7
    assert "Nightly &lt;chat&gt;" in html
    assert "above p95" in html and "per 3h" in html


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_outliers_zero_lists_none_but_counts_them(tmp_path: Path, fmt: str) -> None:
    listed = run(CHATBOT, "-o", "-", "--outliers", "3")
    above = re.search(r"([\d,]+) request\(s\) took longer than the p99 latency", listed.stdout)
    assert above is not None, listed.stdout
    out = tmp_path / f"r.{fmt}"
    result = run(CHATBOT, "-o", str(out), "--outliers", "0")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert f"Not listed (--outliers 0): {above.group(1)} request(s) took longer than the p99 latency." in text
    assert 'class="open-timeline"' not in text and "slowest" not in text.split("Outliers")[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "report.pdf"], "cannot tell the report format"),
        (["-o", "no/such/folder/r.html"], "does not exist"),
        (["-o", "r.html", "--every", "soon"], "invalid --every"),
        (["-o", "r.html", "--since", "2026-12-01", "--until", "2026-11-01"], "--since must be before --until"),
        (["-o", "r.html", "--p", "20"], "greater than or equal to 50"),
    ],
)
def test_bad_arguments_exit_2_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(CHATBOT, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_no_usable_events_exit_2(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [b"not json", b"[1]"])
    result = run(str(path), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "no usable events" in result.output


def test_strict_exits_1_and_still_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run(CHATBOT, "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert "--strict" in result.output
    assert out.exists()


def test_a_failure_leaves_the_previous_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r.html"
    out.write_text("yesterday's report", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("aiobs.render.html.render_html", broken)
    result = run(CHATBOT, "-o", str(out))
    assert result.exit_code == 3
    assert "internal error" in result.output
    assert out.read_text(encoding="utf-8") == "yesterday's report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_no_redact_shows_texts_as_logged(tmp_path: Path, hostile_logs: Path) -> None:
    redacted, raw = tmp_path / "a.html", tmp_path / "b.html"
    assert run(str(hostile_logs), "-o", str(redacted), "--p", "90").exit_code == 0
    assert run(str(hostile_logs), "-o", str(raw), "--p", "90", "--no-redact").exit_code == 0
    assert "alice@example.com" not in redacted.read_text(encoding="utf-8")
    assert "[email]" in redacted.read_text(encoding="utf-8")
    assert "alice@example.com" in raw.read_text(encoding="utf-8")


def test_help_names_the_formats() -> None:
    result = CliRunner().invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "--output" in result.output and "--no-redact" in result.output


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_control_characters_in_labels_do_not_break_the_charts(
    tmp_path: Path, write_jsonl: WriteJsonl, suffix: str
) -> None:
    """XML (so SVG) cannot hold ESC, BEL or NUL: the chart renderer aborted the process on them."""
    rows = [
        {
            "request_id": f"r{i}",
            "event": "llm",
            "ts": f"2026-11-28T10:00:{i:02d}Z",
            "latency_ms": 100 + 10 * i,
            "model": "evil\x1b[31m\x07\x00model" if i % 2 else "plain-model",
            "route": "/x\x1b",
        }
        for i in range(30)
    ]
    out = tmp_path / f"r{suffix}"
    result = run(str(write_jsonl(tmp_path / "esc.jsonl", rows)), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    assert "evil\\x1b[31m" in text or "evil\\\\x1b" in text


# -- --history DIR: record the run, then Trends and Anomalies -------------------------------------------------


def _day_files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((store / "days").iterdir())}


def test_history_twice_on_the_same_logs_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    from aiobs import history

    store = tmp_path / "nightly"
    first = run(CHATBOT, "-o", str(tmp_path / "a.html"), "--history", str(store))
    assert first.exit_code == 0, first.output
    files = _day_files(store)
    assert set(files) == {"2026-11-28.parquet"}
    second = run(CHATBOT, "-o", str(tmp_path / "b.md"), "--history", str(store))
    assert second.exit_code == 0, second.output
    assert _day_files(store) == files  # not doubled: the same rows, byte for byte
    runs = history.runs(store)
    assert runs.height == 1  # the run's second recording replaced its first (only `recorded_at` moved)
    overall = history.read_store(store).filter(pl.col("dimension") == "overall")
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    requests = int(re.search(r"<title>aiobs report · ([\d,]+) requests", html).group(1).replace(",", ""))
    assert overall["requests"].sum() == runs["requests"][0] == requests
    for output in (first.output, second.output):
        assert f"recorded run {runs['run_id'][0]} in {store}" in output
    assert '<section id="trends">' in html and '<section id="anomalies">' in html
    assert "1 day(s) with data, from 1 recorded run(s)" in html
    assert "Trends need more days: the store holds only this run, with 1 day of data." in html
    md = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "## Trends" in md and "**Trends need more days**: the store holds only this run" in md


def test_summarize_and_report_over_the_same_night_record_it_once(tmp_path: Path) -> None:
    from aiobs import history

    store = tmp_path / "nightly"
    summarized = CliRunner().invoke(app, ["summarize", CHATBOT, "--history", str(store), "-f", "json"])
    assert summarized.exit_code == 0, summarized.output
    files = _day_files(store)
    assert run(CHATBOT, "-o", str(tmp_path / "r.html"), "--history", str(store)).exit_code == 0
    assert _day_files(store) == files
    assert history.runs(store).height == 1


def test_a_planted_anomaly_in_the_store_shows_in_the_report(tmp_path: Path) -> None:
    from aiobs import history
    from aiobs.profiles import profile_requests
    from synthetic import SPIKE, two_days_with_a_spike

    store = tmp_path / "nightly"
    history.append(store, profile_requests(two_days_with_a_spike().lazy(), every="1h"), run_id="old", inputs=["old"])
    result = CliRunner().invoke(
        app, ["report", CHATBOT, "-o", "-", "--history", str(store), "--days", "30"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert "The last 30 day(s) of the history store" in md and "from 2 recorded run(s)" in md
    anomalies = md.split("\n## Anomalies\n", 1)[1].split("\n## ", 1)[0]
    assert f"| {SPIKE:%Y-%m-%d %H:%M} | overall | p95\\(latency\\_ms\\) |" in anomalies
    # --days 7 ends with the newest day (the chat logs): the spike a month earlier is out of the window.
    week = CliRunner().invoke(app, ["report", CHATBOT, "-o", "-", "--history", str(store)])
    assert week.exit_code == 0
    assert f"| {SPIKE:%Y-%m-%d %H:%M} |" not in week.stdout
    assert "The last 7 day(s) of the history store" in week.stdout
    assert "1 day(s) with data (of 3 in the store), from 2 recorded run(s)." in week.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "3"], "--days needs --history DIR"),
        (
            ["--history", "store", "--days", "0"],
            "'--days': Input should be greater than or equal to 1",
        ),
        (["--history", "busy"], "busy exists and is not an aiobs history store"),
    ],
)
def test_bad_history_arguments_exit_2_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    result = run(CHATBOT, "-o", "r.html", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "store").exists()
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
