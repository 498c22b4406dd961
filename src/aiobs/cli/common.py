"""What every command shares: exit codes, error handling, output writing, progress."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from aiobs.errors import AiobsError
from aiobs.sources.paths import Source


class ExitCode(IntEnum):
    """Every exit code aiobs uses (documented in README.md, "Exit codes")."""

    OK = 0
    INPUT_PROBLEMS = 1  # --strict and the input had problems (check: an SLO was breached)
    SLO_BREACHED = 1  # aiobs check: an SLO breached or a regression against the baseline
    USAGE = 2  # bad argument or configuration, unreadable input, no usable events
    INTERNAL = 3  # a bug in aiobs: please report it


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    typer.echo(f"aiobs: {message}", err=True)
    return typer.Exit(int(code))


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors the user can fix become one sentence on stderr and exit code 2; anything else a short bug note."""
    try:
        yield
    except AiobsError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.USAGE) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("AIOBS_TRACEBACK"):
            raise
        raise fail(
            f"internal error ({type(exc).__name__}: {exc}); set AIOBS_TRACEBACK=1 for details and please report it",
            ExitCode.INTERNAL,
        ) from None


def write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    path = path.expanduser()
    if not path.parent.is_dir():
        raise AiobsError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
