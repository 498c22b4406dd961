"""What every command shares: exit codes, error handling, output writing, progress."""

from __future__ import annotations

import errno
import glob
import io
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import IntEnum, unique
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from aiobs.api import summarize
from aiobs.errors import AiobsError, UsageError
from aiobs.sources.base import Source
from aiobs.summary import Summary

if TYPE_CHECKING:
    from aiobs.history import RunRecord


@unique
class ExitCode(IntEnum):
    """Every exit code aiobs uses (documented in README.md, "Exit codes"). One name per code: 1 is
    FOUND_PROBLEMS, what the run was asked to fail on (--strict: input problems; `aiobs check`: a
    breached SLO or a regression against the baseline)."""

    OK = 0
    FOUND_PROBLEMS = 1
    USAGE = 2  # bad argument or configuration, unreadable input, no usable events, output not writable
    INTERNAL = 3  # a bug in aiobs: please report it
    INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it
    PIPE_CLOSED = 141  # stdout closed before the output was written (`| head`), as a Unix tool killed by SIGPIPE


class TextConsole(Console):
    """A console that draws tables and rules in ASCII (`+-|`, rich's own fallback) unless it writes to a
    terminal: piped, redirected or written with -o, a byte is a column for `cut`, `awk` and `wc`, and a
    box-drawing character is three."""

    @property
    def encoding(self) -> str:
        return super().encoding if self.is_terminal else "ascii"


class StdoutConsole(TextConsole):
    """The terminal: a reader that stops early (`aiobs summarize ... | head`) ends the run quietly with 141,
    as Unix tools do, not with rich's exit code 1, which aiobs uses for --strict and breached SLOs."""

    def on_broken_pipe(self) -> None:
        _drop_stdout()
        raise SystemExit(int(ExitCode.PIPE_CLOSED))


def stdout_console(**options: Any) -> Console:
    return StdoutConsole(highlight=False, **options)


def terminal_text_for_file(draw: Callable[[Console], object]) -> str:
    """What `draw` prints, as a text file written with -o: 160 columns, no colour, ASCII tables."""
    buffer = io.StringIO()
    draw(TextConsole(file=buffer, width=160, color_system=None, force_terminal=False))
    return buffer.getvalue()


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    typer.echo(f"aiobs: {message}", err=True)
    return typer.Exit(int(code))


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors the user can fix become one sentence on stderr and exit code 2; anything else a short bug note."""
    try:
        yield
        sys.stdout.flush()  # here, where a full disk can still be one sentence, not at interpreter exit
    except AiobsError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        code = output_failed(exc)
        if code is None:
            raise _bug(exc) from None
        raise typer.Exit(code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.INTERRUPTED) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        raise _bug(exc) from None


#: errno values of a write that failed for want of room or a working device (`> /dev/full`, a full disk).
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def output_failed(exc: OSError) -> int | None:
    """The exit code for a write to stdout that failed (said on stderr), or None when `exc` is something else."""
    if exc.errno == errno.EPIPE:
        _drop_stdout()
        return int(ExitCode.PIPE_CLOSED)
    if exc.errno in _WRITE_ERRORS:
        _drop_stdout()
        typer.echo(f"aiobs: cannot write the output: {exc.strerror}", err=True)
        return int(ExitCode.USAGE)
    return None


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail on what is left in its buffer."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _bug(exc: Exception) -> typer.Exit:
    if os.environ.get("AIOBS_TRACEBACK", "").lower() not in ("", "0", "false", "no", "off"):
        raise exc
    # One line, as every aiobs error: some messages (Polars' query plans) go on for many.
    first, *rest = str(exc).strip().splitlines() or [""]
    message = first + (" …" if any(line.strip() for line in rest) else "")
    return fail(
        f"internal error ({type(exc).__name__}: {message}); set AIOBS_TRACEBACK=1 for details and please report it",
        ExitCode.INTERNAL,
    )


def check_output_target(path: Path) -> None:
    """The checks `write_atomically` makes, made early: a run that would fail to write should not run first."""
    path = path.expanduser()
    if not path.parent.is_dir():
        raise AiobsError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise AiobsError(f"cannot write {path}: it is a folder; give a file name")


def write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it.

    A target that exists and is not a regular file (/dev/null, a FIFO, a terminal) is written to
    directly: renaming over it would replace the device with a file.
    """
    path = path.expanduser()
    check_output_target(path)
    try:
        _write(path, text)
    except OSError as exc:
        raise AiobsError(f"cannot write {path}: {exc.strerror or exc}") from None


#: Output suffixes of formats some aiobs command writes, and which command to ask for them.
_FORMAT_OF_SUFFIX = {
    ".html": "HTML",
    ".htm": "HTML",
    ".md": "Markdown",
    ".csv": "CSV",
    ".json": "JSON",
    ".prom": "Prometheus metrics",
    ".om": "OpenMetrics",
}


def refuse_unwritten_suffix(output: Path | None, command: str, writes: dict[str, str]) -> None:
    """`summarize -o x.html` must not write terminal text into x.html: name the command that writes it.

    `writes` maps the suffixes this command picks a format from to that format. A known suffix missing
    from it is a usage error; any other suffix (`.txt`, `.log`) gets the terminal text as before.
    """
    if output is None or str(output) == "-":
        return
    suffix = output.suffix.lower()
    kind = _FORMAT_OF_SUFFIX.get(suffix)
    if kind is None or suffix in writes:
        return
    *others, last = dict.fromkeys(["terminal text", *writes.values()])
    formats = f"{', '.join(others)} or {last}" if others else last
    hint = " (for an HTML report, use aiobs report)" if kind == "HTML" else ""
    msg = f"{command} does not write {kind}{hint}: it writes {formats}; pass --format to write one of them to {output}"
    raise UsageError(msg)


def write_output(output: Path | None, text: str) -> None:
    """The command's text to `--output FILE` (atomically), or to stdout without one or with `-o -`."""
    if output is None or str(output) == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(int(ExitCode.PIPE_CLOSED)) from None
    else:
        write_atomically(output, text)


def _write(path: Path, text: str) -> None:
    if path.is_symlink():  # write where the link points: renaming over it would replace the link with a file
        path = path.resolve()
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private (0600); give it the mode a plain open() would (or the old file's).
        Path(tmp).chmod(path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: A temporary file older than this beside an output was left by a run that was killed (SIGKILL, power cut).
STALE_TEMPORARY_SECONDS = 3600


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the `.NAME.xxxxxxxx` files `_write` makes, when an hour old: their run was killed mid-write."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}")
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*"):
        with suppress(OSError):  # another run's, or gone already: not ours to worry about
            if pattern.fullmatch(candidate.name) and candidate.lstat().st_mtime < cutoff:
                candidate.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def progress_bar(sources: list[Source]) -> Iterator[Callable[[int], None] | None]:
    """Progress on stderr, only when stderr is a terminal (never in pipes, cron or CI logs)."""
    if not sys.stderr.isatty():
        yield None
        return
    total = sum(s.size or 0 for s in sources) or None
    console = Console(stderr=True)
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("read", total=total)
        yield lambda n: progress.advance(task, n)


def read_logs(
    paths: list[str],
    *,
    field_map: list[str],
    prices: Path | None,
    config: Path | None,
    **options: Any,
) -> Summary:
    """What every command that reads logs does with its shared options: the library's `aiobs.api.summarize`,
    with the command line's progress bar."""
    return summarize(paths, mapping=field_map, prices=prices, config=config, progress=progress_bar, **options)


def fail_if_strict(summary: Summary, strict: bool) -> None:
    """`--strict`: input problems make the run fail (exit 1) after its output was written."""
    if strict and summary.issues.failing:
        typer.echo(f"aiobs: {summary.issues.failing:,} input problem(s) found (--strict)", err=True)
        raise typer.Exit(int(ExitCode.FOUND_PROBLEMS))


def store_warnings() -> Callable[[str], None]:
    """Where a history store's warnings go (a damaged file skipped or kept aside): stderr, each once.

    One command reads the store several times (days, runs, trends, anomalies): a damaged file is named once.
    """
    seen: set[str] = set()

    def warn(message: str) -> None:
        if message not in seen:
            seen.add(message)
            typer.echo(f"aiobs: warning: {message}", err=True)

    return warn


def record_in_history(store: Path, summary: Summary, *, warn: Callable[[str], None] | None = None) -> RunRecord:
    """`--history DIR`: append this run's hourly aggregates to the store (aiobs.history)."""
    from aiobs.history import record_run  # only when asked: it needs numpy

    run = record_run(store, summary, warn=warn or store_warnings())
    typer.echo(f"aiobs: recorded run {run.run_id} in {store} ({run.buckets} hour bucket(s))", err=True)
    return run
