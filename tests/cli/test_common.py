"""What every command shares: atomic writes, outputs checked before the logs are read."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiobs.cli import app
from aiobs.cli.common import ExitCode, write_atomically
from aiobs.errors import AiobsError


def test_writes_replace_a_file_whole_and_keep_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left behind


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.md", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644


def test_a_device_is_written_to_not_replaced() -> None:
    write_atomically(Path(os.devnull), "into the void")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)  # renaming over /dev/null would make it a file


def test_a_link_is_written_through_not_replaced(tmp_path: Path) -> None:
    """`-o latest.md` where latest.md links to today's report: the report is written, the link stays."""
    target = tmp_path / "reports" / "2026-12-03.md"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    write_atomically(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"
    dangling = tmp_path / "next.md"
    dangling.symlink_to(tmp_path / "reports" / "2026-12-04.md")
    write_atomically(dangling, "next")
    assert dangling.is_symlink()
    assert (tmp_path / "reports" / "2026-12-04.md").read_text() == "next"


def test_temporary_files_a_killed_run_left_are_removed_by_the_next(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".out.json.ab12cd34", tmp_path / ".out.json.zz99yy88"
    other = tmp_path / ".out.json.keep-me"
    for path in (stale, fresh, other):
        path.write_text("half")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    write_atomically(tmp_path / "out.json", "{}")
    assert not stale.exists()
    assert fresh.exists()  # may be another run's, writing now
    assert other.exists()  # not a name aiobs makes
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.json.keep-me", ".out.json.zz99yy88", "out.json"]


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AiobsError, match="does not exist"):
        write_atomically(tmp_path / "nope" / "out.json", "x")


@pytest.mark.parametrize(
    "command",
    [["summarize"], ["outliers"], ["trace", "--from-outliers"], ["check", "--slo", "error_rate < 1%", "--junit"]],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_log_is_read(tmp_path: Path, command: list[str]) -> None:
    # The input does not exist either: the output's error comes first, so nothing was read for a run that must fail.
    target = tmp_path / "missing" / "out.json"
    name, *options = command
    args = [name, str(tmp_path / "no-such-logs"), *options] + ([] if name == "check" else ["-o"]) + [str(target)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == f"aiobs: cannot write {target}: folder {target.parent} does not exist"


def test_a_bug_with_a_multi_line_message_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Polars errors carry the failing query plan over many lines after the first.
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("projections contained duplicate output name 'start'\n\nResolved plan until failure:\n  DF")

    monkeypatch.setattr("aiobs.cli.summarize.read_logs", broken)
    monkeypatch.delenv("AIOBS_TRACEBACK", raising=False)
    result = CliRunner().invoke(app, ["summarize", "whatever.jsonl"])
    assert result.exit_code == ExitCode.INTERNAL
    assert result.stderr == (
        "aiobs: internal error (RuntimeError: projections contained duplicate output name 'start' …); "
        "set AIOBS_TRACEBACK=1 for details and please report it\n"
    )


@pytest.mark.parametrize(
    "args", [["summarize", "sample_logs/"], ["outliers", "sample_logs/", "-f", "json", "--limit", "200"]]
)
def test_a_reader_that_stops_early_ends_the_run_quietly(args: list[str]) -> None:
    """`aiobs ... | head -1`: exit 141 as a Unix tool (or 0 when all was written first), never 1 or a traceback."""
    root = Path(__file__).resolve().parents[2]
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    command = f"{shlex.quote(exe)} {shlex.join(args)} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", command], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() in ("141", "0"), (done.stdout, done.stderr)
    assert done.stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["summarize", "sample_logs/"],
        ["summarize", "sample_logs/", "--format", "json"],
        ["outliers", "sample_logs/"],
        ["check", "sample_logs/", "--slo", "p95(latency_ms) < 1ms"],
        ["inspect", "sample_logs/"],
        ["--help"],
        ["summarize", "--help"],
    ],
)
def test_a_full_disk_on_stdout_is_one_sentence_and_exit_2(args: list[str]) -> None:
    """`aiobs ... > /dev/full`: the write fails; say so in one line, not 'internal error' or a traceback."""
    root = Path(__file__).resolve().parents[2]
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    with Path("/dev/full").open("wb") as full:
        done = subprocess.run([exe, *args], cwd=root, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert done.stderr == "aiobs: cannot write the output: No space left on device\n"


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """SIGINT during a run: one line and the shell's code for it, not a traceback."""
    root = Path(__file__).resolve().parents[2]
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    reader = subprocess.Popen(
        [exe, "summarize", "-"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)  # imports done, waiting on stdin
    reader.send_signal(signal.SIGINT)
    _, err = reader.communicate(timeout=60)
    assert reader.returncode == 130, err
    assert err.decode().strip() == "aiobs: interrupted"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["summarize", "x", "--strickt"], "aiobs: no such option --strickt; did you mean --strict?"),
        (["outliers", "x", "--timezon", "UTC"], "aiobs: no such option --timezon; did you mean --timezone?"),
        (["summarize", "x", "--bogus"], "aiobs: no such option --bogus"),  # no loose guess (click offered --push)
    ],
)
def test_a_mistyped_option_is_one_sentence_with_one_close_match_or_none(args: list[str], said: str) -> None:
    exe = shutil.which("aiobs", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == f"{said} (see aiobs {args[0]} --help)\n"
