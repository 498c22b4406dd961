"""Arguments at the edges of their range: one `aiobs:` sentence and exit 2, never an internal error (exit 3).

Found by an adversarial trial of every command's options (issue 11): each used to end in a traceback
class (ZeroDivisionError, OverflowError, TypeError) or unbounded memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs")
runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["summarize", SAMPLE, "--every", "0h"], "invalid --every '0h'"),
        (["summarize", SAMPLE, "--every", ""], "invalid --every ''"),
        (["report", SAMPLE, "-o", "{tmp}/r.md", "--every", "0m"], "invalid --every '0m'"),
        (["summarize", SAMPLE, "--since", "99999999d"], "cannot read time '99999999d'"),
        (["check", SAMPLE, "--until", "99999999d", "--slo", "error_rate < 5%"], "cannot read time '99999999d'"),
        (["history", "{tmp}", "--days", "999999"], "--days"),
        (["history", "{tmp}", "--keep-days", "99999999999"], "--keep-days"),
        (
            ["outliers", SAMPLE, "--limit", "99999999999999999999999", "-f", "json"],
            "--limit must be from 1 to 1,000,000",
        ),
        (["sample", "-"], "aiobs sample writes a file: give a name such as logs.jsonl (not -)"),
        (["sample", "{tmp}/x.jsonl", "--size", "99999999999999999999999GB"], "at most 1TB"),
        (["sample", "{tmp}/x.jsonl", "--requests", "99999999999999999999"], "--requests"),
        (["summarize", SAMPLE, "--prices", "/dev/zero"], "Cannot read price file /dev/zero: it is not a regular file."),
    ],
)
def test_an_argument_at_the_edge_is_one_sentence(tmp_path: Path, args: list[str], says: str) -> None:
    """Through the console script, which turns an option's range error into one sentence too."""
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    argv = [exe, *(a.format(tmp=tmp_path) for a in args)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("aiobs: ") and says in done.stderr
    assert done.stderr.count("\n") == 1
    assert "internal error" not in done.stderr


def test_sample_never_replaces_a_pipe_or_a_device(tmp_path: Path) -> None:
    pipe = tmp_path / "fifo"
    os.mkfifo(pipe)
    result = runner.invoke(app, ["sample", str(pipe), "--requests", "5"])
    assert result.exit_code == 2
    assert result.stderr == f"aiobs: cannot write {pipe}: it is not a regular file; give a file name\n"
    assert pipe.is_fifo()


def test_sample_writes_through_a_link(tmp_path: Path) -> None:
    target, link = tmp_path / "logs.jsonl", tmp_path / "latest.jsonl"
    link.symlink_to(target)
    result = runner.invoke(app, ["sample", str(link), "--requests", "5"])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert target.read_text().count("\n") > 5


@pytest.mark.parametrize(("value", "shown"), [("1", True), ("yes", True), ("0", False), ("", False), ("false", False)])
def test_aiobs_traceback_zero_means_off(monkeypatch: pytest.MonkeyPatch, value: str, shown: bool) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("aiobs.cli.summarize.read_logs", broken)
    monkeypatch.setenv("AIOBS_TRACEBACK", value)
    result = runner.invoke(app, ["summarize", "whatever.jsonl"])
    if shown:
        assert isinstance(result.exception, RuntimeError)
    else:
        assert result.exit_code == 3
        assert result.stderr.startswith("aiobs: internal error (RuntimeError: a bug)")
