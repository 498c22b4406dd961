"""`aiobs outliers` and `aiobs trace` through the real app: formats, options, errors, hostile log content."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner, Result

from aiobs.cli import app

WriteJsonl = Callable[[Path, Iterable[Any]], Path]
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs"
ENV = {"COLUMNS": "200", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env=ENV)


def request_lines(i: int, latency: float, **llm: Any) -> list[dict[str, Any]]:
    rid = f"req-{i:03d}"
    ts = f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}Z"
    return [
        {"request_id": rid, "event": "gateway", "event_id": f"g{i}", "ts": ts, "latency_ms": latency, "route": "/chat"},
        {
            "request_id": rid,
            "event": "llm",
            "event_id": f"l{i}",
            "parent_id": f"g{i}",
            "ts": ts,
            "latency_ms": latency * 0.9,
            "model": "gpt-4o-mini",
            "input_tokens": 100 + i,
            "output_tokens": 50,
            "input": f"question {i}",
            "output": f"answer number {i}, all good.",
            **llm,
        },
    ]


@pytest.fixture
def small_log(tmp_path: Path, write_jsonl: WriteJsonl) -> Path:
    rows = [line for i in range(100) for line in request_lines(i, 100.0 + i * 10)]
    return write_jsonl(tmp_path / "app.jsonl", rows)


def test_json_outliers_match_numpy(small_log: Path) -> None:
    result = invoke("outliers", str(small_log), "--p", "95", "-f", "json", "--limit", "100")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    latencies = np.array([100.0 + i * 10 for i in range(100)])
    threshold = np.percentile(latencies, 95)
    assert doc["schema"] == "aiobs.outliers/1"
    assert [o["value"] for o in doc["outliers"]] == sorted(latencies[latencies > threshold].tolist(), reverse=True)
    assert doc["outliers"][0]["correlation_id"] == "req-099"
    assert doc["outliers"][0]["stages_ms"] == {"llm": pytest.approx(0.9 * 1090.0)}
    assert doc["outliers"][0]["input_snippet"] == "question 99"
    assert doc["tail_requests"] == 5
    assert doc["population"] == 100


@pytest.mark.parametrize("fmt", ["terminal", "md", "csv"])
def test_other_formats(small_log: Path, fmt: str) -> None:
    result = invoke("outliers", str(small_log), "--p", "90", "-f", fmt, "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "req-099" in result.stdout
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["correlation_id"] for r in rows] == ["req-099", "req-098", "req-097"]
    if fmt == "md":
        assert result.stdout.startswith("# Requests above p90 of latency")
    if fmt == "terminal":
        assert "Where the time went" in result.stdout


def test_per_model_and_metrics_on_sample_logs() -> None:
    result = invoke("outliers", str(SAMPLE), "--per", "model", "--by", "cost", "--p", "90", "-n", "2", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)["outliers"]
    per_model: dict[str, int] = {}
    for r in rows:
        per_model[r["model"]] = per_model.get(r["model"], 0) + 1
        assert r["value"] > r["threshold"]
    assert max(per_model.values()) <= 2
    assert len(per_model) >= 5


def test_flag_filter_and_unknown_flag(small_log: Path, tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [line for i in range(20) for line in request_lines(i, 100.0 + i)]
    rows += request_lines(50, 999.0, output="I'm sorry, but I can't help with that.")
    log = write_jsonl(tmp_path / "refusals.jsonl", rows)
    result = invoke("outliers", str(log), "--flag", "refusal", "--p", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    assert [o["correlation_id"] for o in orjson.loads(result.stdout)["outliers"]] == []  # one value: none above
    bad = invoke("outliers", str(log), "--flag", "nonsense")
    assert bad.exit_code == 2
    assert "unknown flag 'nonsense'" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--p", "100"], "--p must be"),
        (["--per", "color"], "cannot take outliers per 'color'"),
        (["--by", "speed"], "Invalid value"),
        (["--limit", "0"], "--limit must be from 1 to 1,000,000"),
    ],
)
def test_bad_arguments(small_log: Path, args: list[str], message: str) -> None:
    result = invoke("outliers", str(small_log), *args)
    assert result.exit_code == 2
    assert message in result.output


HOSTILE = "[bold red]pwn[/] \x1b[31mred\x1b[0m | <script>alert(1)</script> jo@example.com"


def test_hostile_text_is_inert_and_redacted(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [line for i in range(10) for line in request_lines(i, 100.0 + i)]
    rows += request_lines(60, 5000.0, output=HOSTILE, model="m|x\x1b[2J<b>", input=HOSTILE)
    log = write_jsonl(tmp_path / "evil.jsonl", rows)
    term = invoke("outliers", str(log), "--p", "50")
    assert term.exit_code == 0, term.output
    assert "\x1b" not in term.stdout
    assert "[bold red]pwn[/]" in term.stdout  # printed literally, not as markup
    assert "jo@example.com" not in term.stdout and "[email]" in term.stdout
    md = invoke("outliers", str(log), "--p", "50", "-f", "md").stdout
    assert "m\\|x" in md and "&lt;b&gt;" in md and "\x1b" not in md
    raw = invoke("outliers", str(log), "--p", "50", "-f", "json", "--no-redact").stdout
    assert "jo@example.com" in raw


@pytest.mark.parametrize("per", ["model", "provider", "user"])
def test_per_group_terminal_output_has_a_heading_per_group(tmp_path: Path, write_jsonl: WriteJsonl, per: str) -> None:
    evil = "\x1b[31mm|x[/]"
    names = {"a": "team-a", "b": evil}
    rows = []
    for i in range(40):
        name = names["a" if i % 2 else "b"]
        lines = request_lines(i, 100.0 + i * 10, **{per if per != "user" else "user_id": name})
        rows += lines
    log = write_jsonl(tmp_path / "two.jsonl", rows)
    result = invoke("outliers", str(log), "--per", per, "--p", "80", "--limit", "2", "--hash-users")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b" not in out
    headings = [line for line in out.splitlines() if line.startswith(f"{per} ")]
    assert len(headings) == 2, out
    if per == "user":  # hashed, like every other user ID shown
        assert all("user-" in h for h in headings) and "team-a" not in out
    else:
        assert any(h.startswith(f"{per} \\x1b[31mm|x[/]") for h in headings), headings
        assert any(h.startswith(f"{per} team-a") for h in headings), headings
    assert all("p80 = " in h and h.endswith(" ms") for h in headings)
    # Each heading is followed by its group's outliers, ranked from 1.
    blocks = out.split(f"\n{per} ")[1:]
    assert [b.count("\n  1. ") + b.count("\n  2. ") for b in blocks] == [2, 2]


def test_trace_by_id_and_from_outliers(small_log: Path) -> None:
    result = invoke("trace", str(small_log), "--id", "req-007")
    assert result.exit_code == 0, result.output
    assert "Request req-007" in result.stdout
    assert "llm (gpt-4o-mini)" in result.stdout
    assert "question 7" in result.stdout
    doc = orjson.loads(
        invoke("trace", str(small_log), "--from-outliers", "--p", "90", "--limit", "2", "-f", "json").stdout
    )
    assert [r["request"]["correlation_id"] for r in doc["requests"]] == ["req-099", "req-098"]
    events = doc["requests"][0]["events"]
    assert [(e["depth"], e["stage"]) for e in events] == [(0, "gateway"), (1, "llm")]
    assert events[1]["source"].endswith("app.jsonl") and events[1]["line"] == 200


def test_trace_format_option_like_the_other_commands(small_log: Path, tmp_path: Path) -> None:
    as_json = invoke("trace", str(small_log), "--id", "req-007", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert orjson.loads(as_json.stdout)["schema"] == "aiobs.trace/1"
    terminal = invoke("trace", str(small_log), "--id", "req-007", "-f", "terminal")
    assert terminal.exit_code == 0 and "Request req-007" in terminal.stdout
    # --json still works (hidden, deprecated), and gives the same document
    legacy = invoke("trace", str(small_log), "--id", "req-007", "--json")
    assert orjson.loads(legacy.stdout)["requests"] == orjson.loads(as_json.stdout)["requests"]
    assert "--json" not in invoke("trace", "--help").output
    out = tmp_path / "trace.json"
    assert invoke("trace", str(small_log), "--id", "req-007", "-o", str(out)).exit_code == 0
    assert orjson.loads(out.read_bytes())["schema"] == "aiobs.trace/1"  # the format from the suffix
    text = tmp_path / "trace.txt"
    assert invoke("trace", str(small_log), "--id", "req-007", "-o", str(text)).exit_code == 0
    assert "Request req-007" in text.read_text(encoding="utf-8")
    clash = invoke("trace", str(small_log), "--id", "req-007", "--json", "-f", "terminal")
    assert clash.exit_code == 2 and "pass only --format" in clash.output


def test_trace_errors(small_log: Path) -> None:
    none = invoke("trace", str(small_log))
    assert none.exit_code == 2 and "--id ID" in none.output
    missing = invoke("trace", str(small_log), "--id", "nope")
    assert missing.exit_code == 2 and "no request with ID 'nope'" in missing.output


def test_snippets_are_cut_to_an_80_column_terminal() -> None:
    result = runner.invoke(app, ["outliers", str(SAMPLE), "--p", "99", "--limit", "5"], env={**ENV, "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    snippets = [line for line in result.stdout.splitlines() if line.startswith(("     in ", "     out "))]
    assert snippets and all(len(line) <= 80 for line in snippets)
    assert any(line.endswith("…") for line in snippets)  # cut, with a mark, rather than wrapped


def test_a_wide_character_snippet_is_cut_to_the_terminals_columns(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    from rich.cells import cell_len

    answer = "申し訳ありませんが、その質問にはお答えできません。" * 4  # two columns a character
    rows = [*request_lines(1, 500.0), *request_lines(2, 900.0, output=answer), *request_lines(3, 700.0)]
    log = write_jsonl(tmp_path / "ja.jsonl", rows)
    result = runner.invoke(app, ["outliers", str(log), "--p", "50"], env={**ENV, "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    (out,) = [line for line in result.stdout.splitlines() if line.startswith("     out ")]
    assert cell_len(out) <= 80 and out.endswith("…")
