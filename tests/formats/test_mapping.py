"""--map and [mapping]: array indexes, keys with dots, fallbacks in order, and every bad path one sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app as app_
from aiobs.config import load_config
from aiobs.errors import UsageError
from aiobs.formats.mapping import FieldMapping, parse_map_options, parse_path, parse_source_path

runner = CliRunner()
COMPLETION = {
    "id": "c1",
    "event": "llm",
    "ts": "2026-11-20T09:00:00Z",
    "status": "ok",
    "latency_ms": 812,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
}


def write(tmp_path: Path, rows: list[dict[str, Any]], name: str = "x.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def summarize(*args: str) -> dict[str, Any]:
    result = runner.invoke(app_, ["summarize", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a.b.c", ("a", "b", "c")),
        ("choices.0.message.content", ("choices", 0, "message", "content")),
        ("choices[0].message.content", ("choices", 0, "message", "content")),
        ('["log.level"]', ("log.level",)),
        ("http['response.status'].code", ("http", "response.status", "code")),
        ("a[2][0]", ("a", 2, 0)),
    ],
)
def test_path_grammar(text: str, parts: tuple[object, ...]) -> None:
    assert parse_path(text) == parts


@pytest.mark.parametrize("text", ["", "a..b", ".a", "a.", "[0]", "0.a", "a[", "a[x]", 'a["b]', ".".join(["a"] * 500)])
def test_bad_paths_are_one_sentence(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_source_path("output_text", text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("path", ["choices.0.message.content", "choices[0].message.content"])
def test_an_array_index_reads_the_answer(tmp_path: Path, path: str) -> None:
    """Both spellings read the first choice (before: an internal error, and the bracket form silently nothing)."""
    log = write(tmp_path, [COMPLETION])
    doc = summarize(str(log), "--map", "correlation_id=id", "--map", f"output_text={path}")
    assert doc["overall"]["requests"] == 1
    assert [k["code"] for k in doc["input_quality"]["by_kind"]] == ["no-tokens"]  # the log has no usage field
    trace = runner.invoke(
        app_,
        ["trace", str(log), "--id", "c1", "--map", "correlation_id=id", "--map", f"output_text={path}", "-f", "json"],
    )
    assert json.loads(trace.stdout)["requests"][0]["request"]["output_text"] == "Paris."


def test_a_repeated_map_gives_fallbacks_in_order(tmp_path: Path) -> None:
    rows = [
        {"ctx": {"rid": "a"}, "alt": "ignored", "ts": "2026-11-20T09:00:00Z", "latency_ms": 5, "status": "ok"},
        {"alt": "b", "ts": "2026-11-20T09:00:01Z", "latency_ms": 6, "status": "ok"},
    ]
    log = write(tmp_path, rows)
    doc = summarize(str(log), "--map", "correlation_id=ctx.rid", "--map", "correlation_id=alt")
    assert doc["overall"]["requests"] == 2  # the last --map did not replace the first
    groups = summarize(str(log), "--map", "correlation_id=ctx.rid", "--map", "correlation_id=alt", "--by", "route")
    assert groups["overall"]["requests"] == 2


def test_a_list_of_paths_in_aiobs_toml(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text('[mapping]\ncorrelation_id = ["ctx.rid", "alt"]\nduration_ms = "took:s"\n')
    settings = load_config(cwd=tmp_path)
    assert settings.mapping == {"correlation_id": ["ctx.rid", "alt"], "duration_ms": ["took:s"]}
    mapping = FieldMapping().with_overrides(settings.mapping, origin="config")
    assert [p.path for p in mapping.resolved()["correlation_id"][:2]] == ["ctx.rid", "alt"]
    (tmp_path / "aiobs.toml").write_text("[mapping]\ncorrelation_id = [1, 2]\n")
    with pytest.raises(UsageError, match="must be a path or a list of paths"):
        load_config(cwd=tmp_path)
    (tmp_path / "aiobs.toml").write_text('[mapping]\ncorrelation_id = ["a..b"]\n')
    with pytest.raises(UsageError, match=r"mapping\.correlation_id"):
        load_config(cwd=tmp_path)


def test_a_mapped_path_that_matches_nothing_is_a_problem(tmp_path: Path) -> None:
    log = write(tmp_path, [{"request_id": "a", "ts": "2026-11-20T09:00:00Z", "latency_ms": 5, "status": "ok"}])
    doc = summarize(str(log), "--map", "model=llm.name")
    by_code = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert {code: k["informational"] for code, k in by_code.items()} == {"unmatched-mapping": False, "no-tokens": True}
    kind = by_code["unmatched-mapping"]
    assert (
        kind["examples"][0]["message"]
        == f"model = llm.name matched 0 of 1 events (0%); aiobs inspect {log} lists the keys it has"
    )
    strict = runner.invoke(app_, ["summarize", str(log), "--map", "model=llm.name", "--strict"])
    assert strict.exit_code == 1


def test_asctime_with_a_mapped_start(tmp_path: Path) -> None:
    """python-json-logger's asctime, mapped by hand on a file aiobs reads as native (before: rejected)."""
    rows = [{"rid": "a", "asctime": "2026-11-20 09:00:00,123", "latency_ms": 5, "status": "ok"}]
    doc = summarize(str(write(tmp_path, rows)), "--map", "start=asctime", "--map", "correlation_id=rid")
    assert doc["overall"]["first_start"] == "2026-11-20T09:00:00.123000Z"
    assert [k["code"] for k in doc["input_quality"]["by_kind"]] == ["naive-timestamp", "no-tokens"]


def test_time_format_reads_what_nothing_else_does(tmp_path: Path) -> None:
    rows = [{"request_id": "a", "ts": "20/Nov/2026:09:00:00 +0100", "latency_ms": 5, "status": "ok"}]
    log = write(tmp_path, rows)
    bad = summarize(str(log))
    assert [k["code"] for k in bad["input_quality"]["by_kind"]] == ["invalid-timestamp", "no-tokens"]
    good = summarize(str(log), "--time-format", "%d/%b/%Y:%H:%M:%S %z")
    assert good["overall"]["first_start"] == "2026-11-20T08:00:00Z"
    assert [k["code"] for k in good["input_quality"]["by_kind"]] == ["no-tokens"]
    wrong = runner.invoke(app_, ["summarize", str(log), "--time-format", "%Q"])
    assert wrong.exit_code == 2 and wrong.stderr.startswith("aiobs: --time-format")


def test_one_line_per_request_needs_no_root(tmp_path: Path) -> None:
    rows = [
        {"request_id": f"r{i}", "ts": "2026-11-20T09:00:00Z", "latency_ms": 10 + i, "status": 200} for i in range(5)
    ]
    doc = summarize(str(write(tmp_path, rows)))
    assert [k["code"] for k in doc["input_quality"]["by_kind"]] == ["no-tokens"]  # no missing-root at 100 %
    assert doc["overall"]["latency_ms"]["max"] == 14.0


def test_map_options_parse_fallbacks() -> None:
    assert parse_map_options(["correlation_id=a", "correlation_id=b.c[0]"]) == {"correlation_id": ["a", "b.c[0]"]}
