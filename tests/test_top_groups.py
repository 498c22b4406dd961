"""`--top N`: the busiest groups of a --by table, the rest as one `other` row computed over its requests."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.metrics import summarize_requests, top_groups
from aiobs.schema import REQUEST_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"


def requests_of(groups: dict[str, list[float]]) -> pl.LazyFrame:
    rows = [(user, ms) for user, values in groups.items() for ms in values]
    given = {"user": [u for u, _ in rows], "latency_ms": [ms for _, ms in rows], "is_error": [False] * len(rows)}
    columns = {name: given.get(name, [None] * len(rows)) for name in REQUEST_SCHEMA}
    return pl.LazyFrame(columns, schema=REQUEST_SCHEMA)


def test_other_is_computed_over_its_own_requests() -> None:
    rng = np.random.default_rng(5)
    groups = {f"u{i}": list(rng.lognormal(7, 1, 40 - i)) for i in range(12)}
    folded, count = top_groups(requests_of(groups), ["user"], 3)
    assert count == 9
    table = summarize_requests(folded, ["user"]).sort("user")
    assert table.get_column("user").to_list() == ["other", "u0", "u1", "u2"]
    other = table.row(0, named=True)
    rest = np.concatenate([groups[f"u{i}"] for i in range(3, 12)])
    assert other["requests"] == len(rest)
    assert other["latency_p95"] == pytest.approx(np.percentile(rest, 95), rel=1e-12)  # exact, not averaged
    assert table.get_column("requests").sum() == sum(len(v) for v in groups.values())


def test_few_groups_are_left_as_they_are() -> None:
    frame = requests_of({"a": [1.0], "b": [2.0]})
    folded, count = top_groups(frame, ["user"], 5)
    assert count == 0 and folded is frame


def test_the_cli_notes_what_it_folded_and_refuses_zero() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--by", "model", "--top", "3"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    models = runner.invoke(app, ["summarize", str(SAMPLES), "--by", "model", "-f", "json"])
    n_models = len(orjson.loads(models.stdout)["groups"]["model"])
    assert f"other: {n_models - 3:,} smaller groups counted together (--top)." in result.stdout
    zero = runner.invoke(app, ["summarize", str(SAMPLES), "--by", "model", "--top", "0"])
    assert (zero.exit_code, zero.stderr) == (2, "aiobs: --top must be 1 or more, got 0\n")


def test_other_comes_after_the_groups_it_is_not_in_each_time_bucket() -> None:
    result = CliRunner().invoke(
        app, ["summarize", str(SAMPLES), "--by", "model,time", "--every", "1d", "--top", "2", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)["groups"]["model × time"]
    days = sorted({row["key"]["time"] for row in rows})
    assert len(days) == 2
    for day in days:
        models = [row["key"]["model"] for row in rows if row["key"]["time"] == day]
        assert len(models) == 3 and models[-1] == "other", models
        busiest = [row["requests"] for row in rows if row["key"]["time"] == day][:2]
        assert busiest == sorted(busiest, reverse=True)


@pytest.mark.parametrize("fmt", ["terminal", "md"])
def test_a_long_group_table_shows_the_busiest_and_says_how_many_more(fmt: str) -> None:
    runner = CliRunner()
    every = orjson.loads(runner.invoke(app, ["summarize", str(SAMPLES), "--by", "user", "-f", "json"]).stdout)
    users = every["groups"]["user"]
    assert len(users) > 25  # JSON lists every group
    result = runner.invoke(app, ["summarize", str(SAMPLES), "--by", "user", "-f", fmt], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    names = [u["key"]["user"] for u in users]
    shown = [name for name in names if name is not None and re.search(rf"\b{re.escape(name)}\b", result.stdout)]
    assert shown == [name for name in names[:25] if name is not None]
    assert f"and {len(users) - 25:,} more users: --top N sums them as other" in result.stdout
    hourly = runner.invoke(app, ["summarize", str(SAMPLES), "--by", "time", "--every", "1h", "-f", fmt])
    assert "more groups" not in hourly.stdout  # a table over time is read whole, in time order


def test_top_over_the_reading_limit_shows_its_groups_and_other() -> None:
    result = CliRunner().invoke(app, ["summarize", str(SAMPLES), "--by", "user", "--top", "30", "-f", "md"])
    assert result.exit_code == 0, result.output
    table = result.stdout.split("## By user", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ")][2:]
    assert len(rows) == 31 and rows[-1].startswith("| other |")
    assert "more users: --top N" not in result.stdout


def test_daily_buckets_read_as_dates_in_tables_and_stay_times_in_json() -> None:
    args = ["summarize", str(SAMPLES), "--by", "model,time", "--every", "1d", "--top", "2"]
    md = CliRunner().invoke(app, [*args, "-f", "md"]).stdout
    assert "| gpt-4o | 2026-11-28 |" in md and "T00:00:00Z" not in md.split("## By model × time", 1)[1]
    doc = orjson.loads(CliRunner().invoke(app, [*args, "-f", "json"]).stdout)
    assert doc["groups"]["model × time"][0]["key"]["time"] == "2026-11-28T00:00:00Z"
    hourly = CliRunner().invoke(app, ["summarize", str(SAMPLES), "--by", "time", "--every", "1h", "-f", "md"]).stdout
    assert "| 2026-11-28T00:00:00Z |" in hourly  # hours keep their time
