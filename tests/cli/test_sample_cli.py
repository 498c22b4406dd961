"""`aiobs sample` through the real app: what its help promises is what it writes."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.sample import iter_sample_lines

runner = CliRunner()


def test_the_help_states_the_rate_of_planted_bad_lines() -> None:
    # "a few bad lines" read as a promise that the default 1,000 requests hold some; they hold none.
    rate = inspect.signature(iter_sample_lines).parameters["malformed_every"].default
    result = runner.invoke(app, ["sample", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert re.search(rf"one bad line per {rate:,} lines \(default\)", result.output), result.output


def test_a_small_default_sample_reports_no_bad_lines(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", str(tmp_path / "s.jsonl"), "--requests", "50"])
    assert result.exit_code == 0
    assert "50 requests" in result.output
    assert ", 0 malformed lines," in result.output


def test_a_name_aiobs_would_not_read_from_a_folder_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sample", str(tmp_path / "logs.txt")])
    assert (result.exit_code, result.stderr) == (
        2,
        f"aiobs: cannot write {tmp_path / 'logs.txt'}: name it .jsonl, .jsonl.gz or .jsonl.zst, as logs aiobs reads\n",
    )
    assert list(tmp_path.iterdir()) == []
