"""`aiobs summarize` end to end: formats, grouping, filters, exit codes, hostile log content.

Numbers are checked against a reference built here by parsing the sample logs with orjson.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from typer.testing import CliRunner, Result

from aiobs.cli import app
from aiobs.cli.common import ExitCode
from aiobs.escape import csv_cell

WriteJsonl = Callable[[Path, Iterable[Any]], Path]
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs"
CHATBOT = SAMPLE / "chatbot.jsonl"
PLANTED_KINDS = {"invalid-json", "not-an-object", "wrong-type", "missing-correlation-id", "invalid-duration"}
#: Rich picks its width from COLUMNS when it is not writing to a terminal; wide enough for every table.
ENV = {"COLUMNS": "200", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

runner = CliRunner()


def invoke(*args: str, input: bytes | str | None = None) -> Result:
    return runner.invoke(app, ["summarize", *args], input=input, env=ENV)


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


# -- an independent reading of the sample logs -----------------------------------------------------------


@dataclass
class Reference:
    starts: dict[str, datetime] = field(default_factory=dict)
    root_route: dict[str, str | None] = field(default_factory=dict)
    any_route: dict[str, str] = field(default_factory=dict)
    stages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bad_lines: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    events: int = 0

    @property
    def requests(self) -> int:
        return len(self.starts)

    def route_of(self, cid: str) -> str | None:
        return self.root_route.get(cid) or self.any_route.get(cid)


def sample_files() -> list[Path]:
    return [CHATBOT, *sorted((SAMPLE / "rag").iterdir())]


def decompressed(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def build_reference() -> Reference:
    ref = Reference()
    for path in sample_files():
        for number, line in enumerate(decompressed(path).split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                ref.bad_lines["invalid-json"].append((str(path), number))
                continue
            if not isinstance(obj, dict):
                ref.bad_lines["not-an-object"].append((str(path), number))
                continue
            cid = obj.get("request_id")
            latency = obj.get("latency_ms")
            valid_latency = isinstance(latency, int | float) and not isinstance(latency, bool) and latency >= 0
            if "latency_ms" in obj and not isinstance(latency, int | float):
                ref.bad_lines["wrong-type"].append((str(path), number))
            elif isinstance(latency, int | float) and latency < 0:
                ref.bad_lines["invalid-duration"].append((str(path), number))
            if not cid:
                ref.bad_lines["missing-correlation-id"].append((str(path), number))
                continue
            ref.events += 1
            start = datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
            ref.starts[cid] = min(start, ref.starts.get(cid, start))
            if obj["event"] == "gateway":
                ref.root_route[cid] = obj.get("route")
            elif obj.get("route"):
                ref.any_route.setdefault(cid, obj["route"])
            if valid_latency:
                ref.stages[cid].add(obj["event"])
    return ref


@pytest.fixture(scope="module")
def ref() -> Reference:
    return build_reference()


@pytest.fixture(scope="module")
def sample_json() -> dict[str, Any]:
    return summary_json(str(SAMPLE))


def summary_json(*args: str) -> dict[str, Any]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc


def assert_one_line_error(result: Result, code: int = ExitCode.USAGE) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert err.startswith("aiobs: "), err
    assert "\n" not in err, err
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return err


# -- formats on the committed sample logs ----------------------------------------------------------------


def test_reference_sees_the_planted_kinds(ref: Reference) -> None:
    assert set(ref.bad_lines) == PLANTED_KINDS  # the reference itself is sane
    assert ref.requests == 2600


def test_terminal_output(ref: Reference) -> None:
    result = invoke(str(SAMPLE))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "aiobs summary" in out
    assert f"{ref.requests:,} requests" in out
    assert f"{ref.events:,} events" in out
    for kind in PLANTED_KINDS:
        assert kind in out
    assert "\x1b" not in out


def test_json_document(sample_json: dict[str, Any], ref: Reference) -> None:
    doc = sample_json
    assert doc["schema"] == "aiobs.summary/1"
    for key in ("aiobs_version", "generated_at", "inputs", "filters", "events", "overall", "groups", "input_quality"):
        assert key in doc
    assert doc["inputs"] == [str(p) for p in sample_files()]
    assert doc["overall"]["requests"] > 0
    assert doc["overall"]["requests"] == ref.requests
    assert doc["events"] == ref.events
    assert doc["groups"] == {}
    assert doc["filters"] == {"since": None, "until": None, "every": None, "where": None}
    by_kind = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert set(by_kind) >= PLANTED_KINDS
    for kind in PLANTED_KINDS:
        assert by_kind[kind]["count"] == len(ref.bad_lines[kind]), kind
        examples = [(e["source"], e["line"]) for e in by_kind[kind]["examples"]]
        assert examples == sorted(ref.bad_lines[kind])[:5], kind  # the first five, in order
    assert doc["input_quality"]["problems"] >= sum(len(v) for v in ref.bad_lines.values())
    first = min(ref.starts.values())
    last = max(ref.starts.values())
    assert datetime.fromisoformat(doc["overall"]["first_start"]) == first
    assert datetime.fromisoformat(doc["overall"]["last_start"]) == last


def test_markdown_output(ref: Reference) -> None:
    result = invoke(str(SAMPLE), "--format", "md", "--by", "model")
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith("# aiobs summary")
    assert f"| requests | {ref.requests:,} |" in md
    assert "## By model" in md
    assert "## Input quality" in md
    for kind in PLANTED_KINDS:
        assert f"`{kind}`" in md


#: A number cell as the Markdown renderer writes it: 1,234 / 1.92% (50) / $0.1234 / 3,218* / — / 1 / 2 / 3.
NUMBER_CELL = re.compile(r"^[-—$\d.,%*/() ]*$")


def markdown_tables(md: str) -> list[tuple[list[str], list[str], list[list[str]]]]:
    """(header, alignments, rows) of every table in a Markdown document."""
    tables = []
    for block in re.findall(r"(?m)(?:^\|.*\n?)+", md):
        header, align, *rows = (
            [c.strip() for c in line.strip().strip("|").split(" | ")] for line in block.splitlines()
        )
        tables.append((header, align, rows))
    return tables


def test_markdown_right_aligns_only_number_columns() -> None:
    md = invoke(str(SAMPLE), "--format", "md", "--by", "model", "--every", "6h").stdout
    tables = markdown_tables(md)
    headers = {h for header, _, _ in tables for h in header}
    assert {"meaning", "first examples", "model", "p95 ms"} <= headers
    for header, align, rows in tables:
        for i, name in enumerate(header):
            cells = [row[i].strip() for row in rows]
            if align[i] == "--:":
                assert all(NUMBER_CELL.match(c) for c in cells), (name, cells)
            if name in {"meaning", "first examples", "model", "flag", "problem"}:
                assert align[i] == ":--", name


def test_csv_output(ref: Reference) -> None:
    result = invoke(str(SAMPLE), "--format", "csv", "--by", "route")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"grouping", "key", "requests", "latency_ms.p50", "latency_ms.p99", "tokens.input", "cost_usd"} <= set(
        rows[0]
    )
    assert rows[0]["grouping"] == "overall"
    assert int(rows[0]["requests"]) == ref.requests
    routes = Counter(ref.route_of(cid) for cid in ref.starts)
    got = {r["key"]: int(r["requests"]) for r in rows if r["grouping"] == "route"}
    assert got == {f"route={k}": v for k, v in routes.items()}


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".json", lambda text: orjson.loads(text)["schema"] == "aiobs.summary/1"),
        (".md", lambda text: text.startswith("# aiobs summary")),
        (".csv", lambda text: text.startswith("grouping,key,")),
        (".txt", lambda text: "aiobs summary" in text and "\x1b" not in text and "| metric" in text),
        (".JSON", lambda text: orjson.loads(text)["schema"] == "aiobs.summary/1"),
    ],
)
def test_output_file_format_from_suffix(tmp_path: Path, suffix: str, check: Callable[[str], bool]) -> None:
    out = tmp_path / f"report{suffix}"
    result = invoke(str(CHATBOT), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert check(out.read_text(encoding="utf-8"))
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


def test_explicit_format_wins_over_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = invoke(str(CHATBOT), "--output", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(out.read_bytes())["schema"] == "aiobs.summary/1"


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(str(CHATBOT), "--output", str(tmp_path / "nope" / "r.json"))
    assert_one_line_error(result)


# -- grouping and filters --------------------------------------------------------------------------------


def test_by_model_and_by_route_give_two_tables(ref: Reference) -> None:
    doc = summary_json(str(SAMPLE), "--by", "model", "--by", "route")
    assert set(doc["groups"]) == {"model", "route"}
    assert sum(r["requests"] for r in doc["groups"]["model"]) == ref.requests
    assert all(set(r["key"]) == {"model"} for r in doc["groups"]["model"])
    routes = Counter(ref.route_of(cid) for cid in ref.starts)
    assert {r["key"]["route"]: r["requests"] for r in doc["groups"]["route"]} == dict(routes)


def test_by_model_comma_route_gives_one_table(ref: Reference) -> None:
    doc = summary_json(str(SAMPLE), "--by", "model,route")
    [name] = doc["groups"]
    rows = doc["groups"][name]
    assert all(set(r["key"]) == {"model", "route"} for r in rows)
    assert sum(r["requests"] for r in rows) == ref.requests
    per_route: Counter[str | None] = Counter()
    for r in rows:
        per_route[r["key"]["route"]] += r["requests"]
    assert dict(per_route) == dict(Counter(ref.route_of(cid) for cid in ref.starts))
    keys = [(r["key"]["model"], r["key"]["route"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_by_stage(ref: Reference) -> None:
    doc = summary_json(str(SAMPLE), "--by", "stage")
    rows = {r["key"]["stage"]: r for r in doc["groups"]["stage"]}
    assert set(rows) <= {"embedding", "retrieval", "rerank", "llm", "tool", "other"}
    for stage in ("llm", "retrieval", "embedding", "rerank", "tool"):
        expected = sum(1 for stages in ref.stages.values() if stage in stages)
        assert rows[stage]["requests"] == expected, stage


def test_the_stage_table_in_the_terminal_leaves_out_the_request_only_columns() -> None:
    # Tokens and cost are the request's, null for each stage: columns of dashes only would read as "none".
    result = invoke(str(SAMPLE), "--by", "stage", "--no-flags")
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("By stage") :].split("\n\n")[0]
    header = next(line for line in table.splitlines() if line.startswith("|"))
    assert [c.strip() for c in header.strip("|").split("|")] == ["stage", "req", "err", "p50 ms", "p95 ms", "p99 ms"]
    by_model = invoke(str(SAMPLE), "--by", "model", "--no-flags")
    assert "$/1k req" in by_model.output[by_model.output.index("By model") :]


def test_every_one_hour(ref: Reference) -> None:
    doc = summary_json(str(SAMPLE), "--every", "1h")
    assert doc["filters"]["every"] == "1h"
    [name] = doc["groups"]
    rows = doc["groups"][name]
    hours = Counter(s.replace(minute=0, second=0, microsecond=0) for s in ref.starts.values())
    got = {datetime.fromisoformat(r["key"]["time"]): r["requests"] for r in rows}
    # Every hour from the first to the last is listed, the hours without a request with 0 requests.
    every_hour = [
        min(hours) + timedelta(hours=i) for i in range(int((max(hours) - min(hours)) / timedelta(hours=1)) + 1)
    ]
    assert list(got) == every_hour
    assert got == {hour: hours.get(hour, 0) for hour in every_hour}
    assert 0 in got.values()  # the sample logs have a night without traffic


def test_every_table_title_and_empty_buckets_in_terminal_and_markdown() -> None:
    terminal = invoke(str(SAMPLE), "--every", "6h")
    assert terminal.exit_code == 0, terminal.output
    assert "Per 6h bucket" in terminal.stdout and "By per" not in terminal.stdout
    assert re.search(r"2026-11-28T18:00:00Z\s*\|\s*0\s*\|", terminal.stdout), terminal.stdout
    markdown = invoke(str(SAMPLE), "--every", "6h", "--format", "md")
    assert "## Per 6h bucket" in markdown.stdout and "By per" not in markdown.stdout
    assert "| 2026-11-28T18:00:00Z | 0 | — |" in markdown.stdout


def test_too_many_time_buckets_is_a_usage_error() -> None:
    err = assert_one_line_error(invoke(str(SAMPLE), "--every", "1s"))
    assert "--every 1s makes" in err and "time buckets" in err


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-11-29T00:00:00Z", None),
        (None, "2026-11-29"),
        ("2026-11-28T06:30:00+01:00", "2026-11-29T12:00"),
    ],
)
def test_since_until_absolute(ref: Reference, since: str | None, until: str | None) -> None:
    args = [str(SAMPLE)]
    lo = hi = None
    if since:
        args += ["--since", since]
        lo = datetime.fromisoformat(since.replace("Z", "+00:00"))
    if until:
        args += ["--until", until]
        hi = datetime.fromisoformat(until).replace(tzinfo=UTC)
    doc = summary_json(*args)
    expected = sum(1 for s in ref.starts.values() if (lo is None or s >= lo) and (hi is None or s < hi))
    assert 0 < expected < ref.requests
    assert doc["overall"]["requests"] == expected


def test_since_until_relative(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    now = datetime.now(UTC)
    rows = []
    for cid, age in (("recent", timedelta(hours=2)), ("yesterday", timedelta(hours=30)), ("old", timedelta(days=10))):
        rows.append({"request_id": cid, "event": "gateway", "ts": iso(now - age), "latency_ms": 10})
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    assert summary_json(str(path), "--since", "24h")["overall"]["requests"] == 1
    assert summary_json(str(path), "--since", "2d")["overall"]["requests"] == 2
    assert summary_json(str(path), "--until", "1d")["overall"]["requests"] == 2
    assert summary_json(str(path), "--since", "1w", "--until", "90m")["overall"]["requests"] == 2
    empty = invoke(str(path), "--since", "30m")  # nothing in the window: an input error, not a summary of zeros
    assert empty.exit_code == ExitCode.USAGE
    assert "lie outside the window" in empty.output


def test_an_empty_window_says_when_the_requests_do_start() -> None:
    # `--since 24h` on last week's logs: the way out is to see where the data lies.
    err = assert_one_line_error(invoke(str(SAMPLE), "--since", "2030-01-01"))
    assert err.endswith(
        "all 2,600 requests in the input lie outside the window "
        "(they start between 2026-11-28T00:01:48Z and 2026-11-29T18:18:43Z)"
    )


def test_since_after_until_is_a_usage_error() -> None:
    result = invoke(str(CHATBOT), "--since", "2026-11-29", "--until", "2026-11-28")
    assert_one_line_error(result)


def test_by_time_without_every_is_not_an_internal_error() -> None:
    result = invoke(str(CHATBOT), "--by", "time")
    assert result.exit_code in (ExitCode.OK, ExitCode.USAGE), result.output
    assert "internal error" not in result.output


# -- exit codes ------------------------------------------------------------------------------------------


def clean_rows(n: int = 20) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        start = T0 + timedelta(seconds=i)
        rows.append(
            {
                "request_id": f"c{i}",
                "event_id": f"g{i}",
                "event": "gateway",
                "ts": iso(start),
                "latency_ms": 900,
                "status": 200,
            }
        )
        rows.append(
            {
                "request_id": f"c{i}",
                "event_id": f"l{i}",
                "parent_id": f"g{i}",
                "event": "llm",
                "ts": iso(start + timedelta(milliseconds=10)),
                "latency_ms": 500,
                "model": "gpt-4o",
                "input_tokens": 100,
                "output_tokens": 20,
            }
        )
    return rows


def test_strict_fails_on_the_sample_logs() -> None:
    result = invoke(str(SAMPLE), "--strict", "--format", "json")
    assert result.exit_code == ExitCode.FOUND_PROBLEMS
    assert orjson.loads(result.stdout)["schema"] == "aiobs.summary/1"  # the report is still written
    assert result.stderr.startswith("aiobs: ")
    assert "--strict" in result.stderr


def test_strict_passes_on_a_clean_file(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "clean.jsonl", clean_rows())
    result = invoke(str(path), "--strict")
    assert result.exit_code == ExitCode.OK, result.output
    assert "no problems found" in result.stdout


def test_strict_does_not_fail_on_missing_roots_alone(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [r for r in clean_rows() if r["event"] != "gateway"]
    path = write_jsonl(tmp_path / "rootless.jsonl", rows)
    assert invoke(str(path), "--strict").exit_code == ExitCode.OK


@pytest.mark.parametrize("name", ["does-not-exist.jsonl", "no/such/dir/", "nothing-*.jsonl"])
def test_wrong_path_is_exit_2_with_one_line(tmp_path: Path, name: str) -> None:
    result = invoke(str(tmp_path / name))
    err = assert_one_line_error(result)
    assert str(tmp_path) in err
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--by", "colour"],
        ["--by", "model,colour"],
        ["--by", "correlation_id"],
        ["--every", "fortnightly"],
        ["--every", "1x"],
        ["--since", "yesterday"],
        ["--until", "2026-13-01"],
        ["--map", "nonsense"],
        ["--map", "colour=x"],
        ["--map", "duration_ms=took:parsecs"],
        ["--map", "duration_ms=a..b"],
        ["--format", "xml"],
    ],
)
def test_bad_options_are_exit_2(args: list[str]) -> None:
    result = invoke(str(CHATBOT), *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Traceback" not in result.output
    if args[0] != "--format":  # typer reports its own choice errors
        assert_one_line_error(result)


@pytest.mark.parametrize("column", ["input_text", "output_text", "context_text"])
def test_free_text_columns_are_not_groupable(column: str) -> None:
    err = assert_one_line_error(invoke(str(CHATBOT), "--by", f"model,{column}"))
    assert f"cannot group by '{column}': it is free text" in err
    listed = err.split("group by ")[-1].split(", ")
    assert "model" in listed and "route" in listed
    assert not {"input_text", "output_text", "context_text"} & set(listed), err


def test_unknown_group_key_lists_no_free_text_columns() -> None:
    err = assert_one_line_error(invoke(str(CHATBOT), "--by", "colour"))
    assert "choose from" in err
    assert "_text" not in err, err


def test_only_malformed_lines_is_exit_2_no_usable_events(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        tmp_path / "junk.jsonl",
        [b"{oops", b"[1,2]", b"42", {"event": "llm", "ts": "2026-11-28T10:00:00Z"}, b""],
    )
    result = invoke(str(path))
    err = assert_one_line_error(result)
    assert "no usable events" in err
    assert str(path) in err


def test_no_usable_events_says_which_problems_most_frequent_first(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        tmp_path / "junk.jsonl", [b"[1,2]", b"42", b"{oops", {"event": "llm", "ts": "2026-11-28T10:00:00Z"}]
    )
    err = assert_one_line_error(invoke(str(path)))
    assert err.endswith("(4 input problem(s) found: 2 not-an-object, 1 invalid-json, 1 missing-correlation-id)")


def test_empty_stdin_is_named_as_such() -> None:
    assert assert_one_line_error(invoke("-", input=b"")) == "aiobs: no usable events in - (standard input)"


def test_empty_file_is_exit_2_and_said_to_be_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert assert_one_line_error(invoke(str(path))) == f"aiobs: nothing to read: {path} is empty (0 bytes)"
    (tmp_path / "blank.jsonl").write_bytes(b"\n")  # one blank line is not empty: no usable events, as before
    assert "no usable events" in assert_one_line_error(invoke(str(tmp_path / "blank.jsonl")))


def test_stdin(write_jsonl: WriteJsonl, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "x.jsonl", [*clean_rows(7), b"{bad"]).read_bytes()
    result = invoke("-", "--format", "json", input=data)
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["inputs"] == ["-"]
    assert doc["overall"]["requests"] == 7
    assert doc["overall"]["tokens"]["input"] == 700
    [bad] = doc["input_quality"]["by_kind"]
    assert (bad["code"], bad["examples"][0]["source"], bad["examples"][0]["line"]) == ("invalid-json", "-", 15)


def test_stdin_gzip(write_jsonl: WriteJsonl, tmp_path: Path) -> None:
    data = gzip.compress(write_jsonl(tmp_path / "x.jsonl", clean_rows(3)).read_bytes())
    result = invoke("-", "--format", "json", input=data)
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["overall"]["requests"] == 3


def test_map_option_end_to_end(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [
        {"meta": {"rid": f"m{i % 3}"}, "kind": "gateway", "at": iso(T0 + timedelta(seconds=i)), "took": 0.5 * (i + 1)}
        for i in range(3)
    ]
    path = write_jsonl(tmp_path / "custom.jsonl", rows)
    doc = summary_json(str(path), "--map", "correlation_id=meta.rid", "--map", "duration_ms=took:s", "-m", "start=at")
    assert doc["overall"]["requests"] == 3
    assert doc["overall"]["latency_ms"]["max"] == 1500.0
    assert doc["overall"]["latency_ms"]["p50"] == 1000.0


# -- hostile log content ---------------------------------------------------------------------------------

HOSTILE_MODELS = [
    "[bold red]x[/]",
    "\x1b[31mred",
    "\x1b]8;;http://evil\x07z",
    '=HYPERLINK("http://evil")',
    "a|b<script>alert(1)</script>",
]
HOSTILE_ROUTES = ["[link=http://evil]r[/link]", "/ok|<script>x</script>", "\x1b[2J\x1b[H/clear", "@SUM(A1)"]
HOSTILE_USERS = ["+cmd|' /C calc'!A0", "=1+1", "u\u202eevil"]


@pytest.fixture
def hostile_file(tmp_path: Path, write_jsonl: WriteJsonl) -> Path:
    rows: list[dict[str, Any]] = []
    for i in range(15):
        cid = f"h{i}"
        start = T0 + timedelta(seconds=i)
        rows.append(
            {
                "request_id": cid,
                "event": "gateway",
                "ts": iso(start),
                "latency_ms": 100 + i,
                "route": HOSTILE_ROUTES[i % len(HOSTILE_ROUTES)],
                "user_id": HOSTILE_USERS[i % len(HOSTILE_USERS)],
                "error_type": "[red]boom[/red]" if i == 0 else None,
                "status": 500 if i == 0 else 200,
            }
        )
        rows.append(
            {
                "request_id": cid,
                "event": "llm",
                "ts": iso(start + timedelta(milliseconds=1)),
                "latency_ms": 50,
                "model": HOSTILE_MODELS[i % len(HOSTILE_MODELS)],
                "provider": "[blink]p[/blink]",
                "input_tokens": 10,
                "output_tokens": 5,
            }
        )
    rows.append({"request_id": "\x1b[31m", "event": "llm", "ts": "\x1b]8;;http://evil\x07", "latency_ms": "\x1b[0m"})
    # a malformed line is quoted in the input-quality examples
    broken = b'{"request_id": "<script>alert(1)</script>|[bold]x[/]|\x1b[31m'
    return write_jsonl(tmp_path / "hostile.jsonl", [*rows, broken])


GROUPS = ["--by", "model", "--by", "route", "--by", "user"]


def test_hostile_content_terminal(hostile_file: Path) -> None:
    result = invoke(str(hostile_file), *GROUPS)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "[bold red]x[/]" in out
    assert "[link=http://evil]r[/link]" in out
    assert "[blink]p[/blink]" in out
    assert "\\x1b[31mred" in out  # shown, inert
    assert "<script>" in out  # plain text in a terminal


def test_hostile_content_terminal_to_file(tmp_path: Path, hostile_file: Path) -> None:
    out = tmp_path / "report.txt"
    result = invoke(str(hostile_file), *GROUPS, "--output", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    assert "[bold red]x[/]" in text


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_hostile_content_markdown(hostile_file: Path) -> None:
    result = invoke(str(hostile_file), *GROUPS, "--format", "md")
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert "<script>" not in md
    assert "&lt;script&gt;" in md
    assert "\x1b" not in md and "\x07" not in md
    assert "\\|" in md
    # every table row has exactly as many column separators as its header
    header_pipes: int | None = None
    for line in md.splitlines():
        if not line.startswith("|"):
            header_pipes = None
            continue
        if header_pipes is None:
            header_pipes = unescaped_pipes(line)
        assert unescaped_pipes(line) == header_pipes, line
    assert "[link=http://evil]" not in md  # brackets are escaped, so no link syntax survives
    assert "](http" not in md


def test_hostile_content_csv(hostile_file: Path) -> None:
    result = invoke(str(hostile_file), *GROUPS, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    width = len(rows[0])
    assert all(len(r) == width for r in rows)
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    keys = [r[1] for r in rows[1:]]
    assert any("HYPERLINK" in k for k in keys)
    # Nothing a terminal would act on when the file is printed: escapes are shown, not sent.
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", result.stdout)
    assert "\\x1b[31mred" in result.stdout


def test_hostile_content_json_round_trips(hostile_file: Path) -> None:
    doc = summary_json(str(hostile_file), *GROUPS)
    # None: the last line's request, whose every field is hostile or unusable
    assert {r["key"]["model"] for r in doc["groups"]["model"]} == {*HOSTILE_MODELS, None}
    assert {r["key"]["route"] for r in doc["groups"]["route"]} == {*HOSTILE_ROUTES, None}
    assert {r["key"]["user"] for r in doc["groups"]["user"]} == {*HOSTILE_USERS, None}
    by_kind = {k["code"]: k["count"] for k in doc["input_quality"]["by_kind"]}
    assert (by_kind["invalid-timestamp"], by_kind["wrong-type"], by_kind["invalid-json"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("model==x", "model==x"),
        ("plain", "plain"),
        ("a\x1b[31mred\x1b[0m", "a\\x1b[31mred\\x1b[0m"),
        ("\x1b]8;;http://evil\x07x", "\\x1b]8;;http://evil\\x07x"),
        ("ok\rHIDDEN", "ok\\x0dHIDDEN"),
        ("\r=1", "\\x0d=1"),
        ("a\u202eb\x9b", "a\\u202eb\\x9b"),
        ("line one\nline two\tcol", "line one\nline two\tcol"),
        ("-\x1b", "'-\\x1b"),
        (-1.5, -1.5),
        (3, 3),
        (None, None),
    ],
)
def test_csv_cell_prefixes_formula_text(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


# -- the real console script -----------------------------------------------------------------------------


def console_script() -> list[str]:
    found = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert found, f"no aiobs console script next to {sys.executable}"
    return [found]


def run_script(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*console_script(), *args], capture_output=True, cwd=ROOT, timeout=120, check=False)


def test_console_script_summarizes_the_sample_logs(ref: Reference) -> None:
    proc = run_script(["summarize", "sample_logs", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    doc = orjson.loads(proc.stdout)
    assert doc["overall"]["requests"] == ref.requests
    assert doc["inputs"][0] == "sample_logs/chatbot.jsonl"


def test_console_script_errors_and_hostile_terminal(hostile_file: Path) -> None:
    proc = run_script(["summarize", "no-such-file.jsonl"])
    assert proc.returncode == ExitCode.USAGE
    err = proc.stderr.decode().strip()
    assert err.startswith("aiobs: ") and "\n" not in err and "Traceback" not in err
    assert proc.stdout == b""
    proc = run_script(["summarize", str(hostile_file), *GROUPS])
    assert proc.returncode == 0, proc.stderr
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    assert b"[bold red]x[/]" in proc.stdout


# -- quality flags ----------------------------------------------------------------------------------------


def test_quality_section_in_every_format(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = []
    for i, answer in enumerate(["Sure, here it is.", "I'm sorry, but I can't help with that.", "Fine answer here."]):
        rid = f"q{i}"
        rows += [
            {"request_id": rid, "event": "gateway", "ts": f"2026-11-28T10:00:0{i}Z", "latency_ms": 900, "route": "/c"},
            {"request_id": rid, "event": "llm", "ts": f"2026-11-28T10:00:0{i}Z", "latency_ms": 800, "model": "m",
             "output": answer, "output_tokens": 12},
            {"request_id": rid, "event": "feedback", "ts": f"2026-11-28T10:05:0{i}Z",
             "feedback": "down" if i == 1 else "up"},
        ]  # fmt: skip
    log = write_jsonl(tmp_path / "q.jsonl", rows)
    doc = orjson.loads(invoke(str(log), "-f", "json").stdout)
    refusal = doc["overall"]["flags"]["refusal"]
    assert (refusal["applicable"], refusal["flagged"]) == (3, 1)
    assert refusal["rate"] == pytest.approx(1 / 3)
    assert doc["overall"]["feedback"] == {"requests": 3, "accepted": 2, "acceptance_rate": 2 / 3, "mean_score": 2 / 3}
    assert doc["quality"]["flags"][:3] == ["error", "retried", "empty"]
    assert [r["key"] for r in doc["quality"]["by"]["model"]] == [{"model": "m"}]
    assert doc["overall"]["latency_ms"]["max"] == 900.0  # the feedback 5 minutes later does not stretch anything
    terminal = invoke(str(log)).stdout
    assert "Quality flags" in terminal and "refusal" in terminal and "66.7% accepted" in terminal
    md = invoke(str(log), "-f", "md").stdout
    assert "## Quality flags" in md and "| `refusal` | 3 | 1 | 33.33% |" in md
    assert "refusal" not in invoke(str(log), "--no-flags").stdout
    assert orjson.loads(invoke(str(log), "-f", "json", "--no-flags").stdout)["overall"]["flags"] == {}


def test_user_keys_are_redacted_or_hashed(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [
        {"request_id": f"u{i}", "event": "llm", "ts": "2026-11-28T10:00:00Z", "latency_ms": 5, "user_id": user}
        for i, user in enumerate(["jo@example.com", "al@example.com", "plain-user"])
    ]
    log = write_jsonl(tmp_path / "users.jsonl", rows)

    def keys(*extra: str) -> list[str]:
        doc = orjson.loads(invoke(str(log), "--by", "user", "-f", "json", *extra).stdout)
        return [r["key"]["user"] for r in doc["groups"]["user"]]

    redacted = sorted(keys())
    # Redacted, and still two users: a stable short hash tells them apart (the same in every run).
    assert redacted[2] == "plain-user" and all(k.startswith("[email]#") for k in redacted[:2])
    assert len(set(redacted)) == 3 and sorted(keys()) == redacted
    assert sorted(keys("--no-redact")) == ["al@example.com", "jo@example.com", "plain-user"]
    hashed = keys("--hash-users")
    assert len(set(hashed)) == 3 and all(k.startswith("user-") for k in hashed)


def test_an_output_suffix_of_a_format_summarize_does_not_write_is_a_usage_error(tmp_path: Path) -> None:
    # Terminal text in report.html looks like a broken report: say which command writes HTML instead.
    target = tmp_path / "summary.html"
    err = assert_one_line_error(invoke(str(CHATBOT), "-o", str(target)))
    assert err.startswith("aiobs: summarize does not write HTML (for an HTML report, use aiobs report)")
    assert not target.exists()
    assert invoke(str(CHATBOT), "-o", str(target), "--format", "md").exit_code == 0  # asked for: written
    assert target.read_text(encoding="utf-8").startswith("# aiobs summary")
    assert invoke(str(CHATBOT), "-o", str(tmp_path / "summary.txt")).exit_code == 0  # any other suffix: terminal text
    assert (tmp_path / "summary.txt").read_text(encoding="utf-8").startswith("aiobs summary")


def test_problem_counts_in_errors_have_thousands_separators() -> None:
    # Every record of the sample logs is unknown to the OTLP adapter: 12,000 and more problems.
    err = assert_one_line_error(invoke(str(SAMPLE), "--input-format", "otlp"))
    assert re.search(r"\(12,\d{3} input problem\(s\) found: 12,\d{3} unknown-record, ", err), err


def test_a_window_says_how_many_of_the_requests_read_it_kept() -> None:
    # "36 requests from 12,194 events" read as if 12,194 events made 36 requests.
    for args, head in (
        (["--since", "2026-11-29T18:00"], "aiobs summary  36 of 2,600 requests (in the --since/--until window) from"),
        (["--since", "2026-11-29T18:00", "-f", "md"], "36 of 2,600 requests (in the --since/--until window) from"),
        (["--since", "2026-11-01"], "aiobs summary  2,600 requests from 12,194 events"),  # a window that keeps all
    ):
        result = invoke(str(SAMPLE), "--no-flags", *args)
        assert result.exit_code == 0, result.output
        assert head in result.stdout, result.stdout[:300]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_a_group_table_names_the_columns_it_leaves_out(width: int) -> None:
    """Nothing disappears without a word: a column that does not fit is named under the table."""
    env = {**ENV, "COLUMNS": str(width)}
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--by", "model"], env=env)
    assert result.exit_code == 0, result.output
    section = result.output[result.output.index("By model") :].split("\n\n")[0]
    header = next(line for line in section.splitlines() if line.startswith("|"))
    shown = {c.strip() for c in header.strip("|").split("|")}
    every = ["model", "req", "err", "p50 ms", "p95 ms", "p99 ms", "out tok", "cost", "$/1k req"]
    missing = [c for c in every if c not in shown]
    assert all(len(line) <= width for line in section.splitlines())
    if missing:
        note = " ".join(section.splitlines()[-2:])
        assert "left out at" in note
        assert all(name in note for name in missing), (missing, note)
    else:
        assert "left out" not in section


def test_labels_that_differ_only_past_the_cut_are_shown_whole(tmp_path: Path) -> None:
    """Cutting two long routes at the same place would show two rows that look alike: they fold instead."""
    path = tmp_path / "routes.jsonl"
    lines = []
    for i in range(3):
        for leaf, status in (("alpha", "ok"), ("beta", "error")):
            route = f"/api/v2/organizations/{{org_id}}/projects/{{project_id}}/chat/{leaf}"
            row = {"request_id": f"{leaf}{i}", "event": "gateway", "ts": iso(T0), "latency_ms": 5, "route": route}
            lines.append(orjson.dumps({**row, "status": status}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(app, ["summarize", str(path), "--by", "route"], env={**ENV, "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("By route") :].split("\n\n")[0]
    folded = "".join(line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| "))
    assert "chat/alpha" in folded and "chat/beta" in folded
