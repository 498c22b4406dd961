"""`--timezone`: timestamps written without a zone (Python's `asctime`) read as that zone's wall-clock time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from logger_writers import FIXTURES
from typer.testing import CliRunner

from aiobs.cli import app

runner = CliRunner()
PJL = FIXTURES / "python-json-logger" / "scenario.jsonl"


def summary(path: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["summarize", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_local_times_are_moved_by_the_zones_offset_and_the_note_says_how_they_were_read() -> None:
    as_utc, as_paris = summary(PJL), summary(PJL, "--timezone", "Europe/Paris")
    first = _utc(as_utc["overall"]["first_start"])
    offset = ZoneInfo("Europe/Paris").utcoffset(first.replace(tzinfo=None))
    assert offset is not None and offset.total_seconds() > 0
    assert _utc(as_paris["overall"]["first_start"]) == first - offset
    assert as_paris["overall"]["latency_ms"] == as_utc["overall"]["latency_ms"]  # durations are not times
    (note,) = [k for k in as_paris["input_quality"]["by_kind"] if k["code"] == "naive-timestamp"]
    assert note["examples"][0]["message"] == "timestamp has no time zone: read as Europe/Paris time (--timezone)"
    (before,) = [k for k in as_utc["input_quality"]["by_kind"] if k["code"] == "naive-timestamp"]
    assert "--timezone ZONE" in before["examples"][0]["message"]  # the fix, where it is needed


def test_a_skipped_wall_time_is_a_problem_and_a_repeated_one_its_first_instant(tmp_path: Path) -> None:
    rows = [
        {"request_id": "gap", "ts": "2026-03-29 02:30:00", "latency_ms": 10},  # Paris jumps 02:00 -> 03:00
        {"request_id": "twice", "ts": "2026-10-25 02:30:00", "latency_ms": 10},  # 02:00-03:00 happens twice
        {"request_id": "zoned", "ts": "2026-10-25T02:30:00Z", "latency_ms": 10},  # has a zone: left alone
    ]
    log = tmp_path / "x.jsonl"
    log.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    doc = summary(log, "--timezone", "Europe/Paris")
    kinds = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert kinds["invalid-timestamp"]["count"] == 1
    assert kinds["invalid-timestamp"]["examples"][0]["line"] == 1
    assert kinds["invalid-timestamp"]["examples"][0]["message"] == (
        "a wall time that Europe/Paris skips (its clocks jump forward over it): no such instant"
    )
    assert doc["overall"]["first_start"] == "2026-10-25T00:30:00Z"  # 02:30 CEST (+02:00), the first of the two
    assert _utc(doc["overall"]["last_start"]) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


def test_the_zone_comes_from_the_config_and_a_wrong_one_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "aiobs.toml").write_text('[input]\ntimezone = "Europe/Paris"\n')
    from_config = summary(PJL, "--config", str(tmp_path / "aiobs.toml"))
    assert from_config["overall"]["first_start"] == summary(PJL, "--timezone", "Europe/Paris")["overall"]["first_start"]
    wrong = runner.invoke(app, ["summarize", str(PJL), "--timezone", "Europe/Pari"])
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        "aiobs: --timezone 'Europe/Pari' is not an IANA time zone name (such as Europe/Paris or UTC); "
        "did you mean Europe/Paris?\n"
    )
    # zoneinfo knows `localtime` and `posix/...`, Polars does not: refused before reading, not an internal error.
    for name in ("localtime", "posix/Europe/Paris"):
        refused = runner.invoke(app, ["summarize", str(PJL), "--timezone", name])
        assert refused.exit_code == 2 and refused.stderr.startswith(f"aiobs: --timezone '{name}' is not an IANA")
    (tmp_path / "aiobs.toml").write_text('[input]\ntimezone = "Mars/Olympus"\n')
    bad = runner.invoke(app, ["summarize", str(PJL), "--config", str(tmp_path / "aiobs.toml")])
    assert bad.exit_code == 2 and "[input]: --timezone 'Mars/Olympus'" in bad.stderr
