"""`aiobs history` at 80, 100 and 120 columns and through a pipe: every table fits, and every value of
`--format json` is in it, or its column is named in a "left out" note."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.render import numbers as f
from text_tables import assert_complete, assert_fits, table_titled

ROOT = Path(__file__).resolve().parents[2]
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "COLUMNS": None}
MODELS = ("gpt-4o-mini-2024-07-18-eu-west-deployment", "claude-3-5-haiku-latest")
ROUTES = ("/v1/chat/completions/stream-with-tools", "/rag/answer")

runner = CliRunner()


def record(store: Path, logs: Path) -> Path:
    recorded = runner.invoke(app, ["summarize", str(logs), "--history", str(store)], env=ENV)
    assert recorded.exit_code == 0, recorded.output
    return store


def long_names_log(path: Path) -> Path:
    """Two days of requests whose model and route names are longer than a folded label column."""
    rng, t0, lines = random.Random(7), datetime(2026, 11, 20, tzinfo=UTC), []
    for i in range(1_200):
        ts = (t0 + timedelta(minutes=3 * i)).isoformat().replace("+00:00", "Z")
        common = {"request_id": f"r{i}", "route": ROUTES[i % 2], "ts": ts}
        lines.append({**common, "event": "gateway", "latency_ms": 900 + rng.random() * 4000, "status": 200})
        llm = {"event": "llm", "model": MODELS[i % 2], "latency_ms": 800 + rng.random() * 4000, "status": 200}
        lines.append({**common, **llm, "input_tokens": 500, "output_tokens": 200})
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("history-tables")
    return {
        "sample": record(folder / "sample", ROOT / "sample_logs"),
        "long names": record(folder / "long", long_names_log(folder / "long.jsonl")),
    }


def period(value: str, every: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d" if every.endswith(("d", "w")) else "%Y-%m-%d %H:%M")


def trend_values(rows: list[dict[str, Any]], every: str) -> dict[str, list[str]]:
    return {
        "period": [period(r["period"], every) for r in rows],
        "key": ["—" if r.get("key") is None else r["key"] for r in rows] if rows and "key" in rows[0] else [],
        "req": [f.count(r["requests"]) for r in rows],
        "err": [f.pct(r["error_rate"]) for r in rows],
        **{f"{p} ms": [f.ms(r[f"latency_{p}"]) for r in rows] for p in ("p50", "p95", "p99")},
        "$/1k req": [f.usd(r["cost_per_1k_requests"]) for r in rows],
        "accepted": [f.pct(r["acceptance_rate"]) for r in rows if r["acceptance_rate"] is not None],
    }


def flag_values(rows: list[dict[str, Any]], every: str) -> dict[str, list[str]]:
    latest = rows[-7:]
    flags = sorted({k for r in latest for k, v in r.items() if k.startswith("rate_") and v is not None})
    return {
        "flag": [name.removeprefix("rate_") for name in flags],
        **{period(r["period"], every): [f.pct(r[name]) for name in flags if r[name] is not None] for r in latest},
    }


@pytest.mark.parametrize("store_name", ["sample", "long names"])
@pytest.mark.parametrize("options", [["--by", "overall"], ["--by", "route"], ["--by", "model"], ["--every", "6h"]])
@pytest.mark.parametrize("width", [80, 100, 120, None])
def test_every_history_table_fits_and_keeps_every_value(
    stores: dict[str, Path], store_name: str, options: list[str], width: int | None
) -> None:
    store = str(stores[store_name])
    shown = runner.invoke(app, ["history", store, *options], env={**ENV, "COLUMNS": str(width) if width else None})
    assert shown.exit_code == 0, shown.output
    assert_fits(shown.output, width or 80)  # a pipe without COLUMNS is 80 columns wide
    document = json.loads(runner.invoke(app, ["history", store, *options, "-f", "json"], env=ENV).output)
    every, rows = document["trends"]["every"], document["trends"]["rows"]
    days = document["days"]
    assert_complete(
        table_titled(shown.output, "Days"),
        {"day": [d["day"] for d in days], "requests": [f.count(d["requests"]) for d in days]},
    )
    runs = document["runs"]
    assert_complete(
        table_titled(shown.output, "Runs"),
        {"run": [r["run_id"] for r in runs], "requests": [f.count(r["requests"]) for r in runs]},
    )
    assert_complete(table_titled(shown.output, "Trend per"), trend_values(rows, every))
    flags = flag_values(rows, every)
    if document["trends"]["by"] == "overall" and flags["flag"]:
        assert_complete(table_titled(shown.output, "Flag rates per"), flags)
