"""`aiobs history` in a terminal: the trend table fits the width without shortening or cropping a number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "store"
    recorded = runner.invoke(app, ["summarize", str(ROOT / "sample_logs"), "--history", str(path)], env=ENV)
    assert recorded.exit_code == 0, recorded.output
    return path


def trend_table(output: str) -> list[str]:
    start = output.index("Trend per")
    return output[start : output.index("Percentiles come from", start)].splitlines()


@pytest.mark.parametrize(("width", "by"), [(80, "overall"), (100, "overall"), (80, "model"), (100, "model")])
def test_the_trend_table_fits_and_keeps_its_numbers_whole(store: Path, width: int, by: str) -> None:
    shown = runner.invoke(app, ["history", str(store), "--by", by], env={**ENV, "COLUMNS": str(width)})
    assert shown.exit_code == 0, shown.output
    table = trend_table(shown.output)
    assert all(len(line) <= width for line in table)
    assert not any("…" in line for line in table)
    border = table[1]
    assert border.startswith("+-") and border.rstrip().endswith("-+")  # not cropped at the right edge
    as_json = json.loads(runner.invoke(app, ["history", str(store), "--by", by, "-f", "json"], env=ENV).output)
    body = "\n".join(table)
    for row in as_json["trends"]["rows"]:
        assert f"{row['latency_p95']:,.0f}" in body  # every p95 in full
