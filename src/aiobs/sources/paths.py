"""Turn what the user typed (files, folders, globs, `-`, `s3://` URLs) into a list of sources."""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiobs.errors import InputError, UsageError
from aiobs.sources.base import (
    GLOB_CHARS,
    LOG_FILES,
    STDIN,
    SkippedFile,
    Source,
    is_log_file,
)

if TYPE_CHECKING:
    from aiobs.sources.s3 import S3Inputs


def _file_source(path: Path) -> Source:
    if not os.access(path, os.R_OK):
        msg = f"cannot read {path}: permission denied"
        raise InputError(msg)
    return Source(str(path), path, path.stat().st_size)


def _stream_source(path: Path) -> Source:
    """A named pipe (`<(zcat logs.gz)`) or a character device (`/dev/stdin`): read as a stream, like `-`."""
    return Source(str(path), path, None)


def _special_file(path: Path) -> Source:
    """An existing path that is neither a file nor a folder: streams are read, anything else is refused."""
    mode = path.stat().st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return _stream_source(path)
    kind = "a socket" if stat.S_ISSOCK(mode) else "a block device" if stat.S_ISBLK(mode) else "not a regular file"
    msg = f"cannot read {path}: it is {kind}; pass log files, folders, named pipes or - for stdin"
    raise InputError(msg)


def _tree(folder: Path, *, hidden: bool = True) -> Iterator[tuple[Path, bool]]:
    """(path, is a folder) for everything under `folder`, following links to folders but never into one twice.

    Linked log folders are common (`logs/today -> /var/log/app/2026-12-03`), and so are links that
    loop (`current -> ..`): `glob(recursive=True)` follows those forever, and `rglob` skips links.
    """
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            info = here.stat()
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(here), key=lambda e: e.name, reverse=True)
        except OSError:
            continue  # a dangling link or an unreadable folder holds nothing we can read
        for entry in entries:
            if not hidden and entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir():
                stack.append(path)
                yield path, True
            elif entry.is_file():
                yield path, False


def _walk(folder: Path) -> Iterator[Path]:
    """Every file under `folder`."""
    return (path for path, is_folder in _tree(folder) if not is_folder)


def _glob(pattern: str) -> list[Path]:
    """Paths matching a glob, with `**` for any number of folders (walked by `_tree`: no loops)."""
    parts = [p for p in pattern.split("/") if p]
    found = set(_match(Path("/") if pattern.startswith("/") else Path(), parts))
    return sorted(p for p in found if p.is_dir()) if pattern.endswith("/") else sorted(found)  # `x/*/`: folders


def _match(base: Path, parts: list[str]) -> Iterator[Path]:
    """Paths under `base` matching the pattern `parts`; hidden names match only a pattern that starts with `.`."""
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        if not rest:  # a trailing `**` matches everything under `base`, files too, as glob's does
            yield base
            yield from (path for path, _ in _tree(base, hidden=False))
            return
        for folder in [base, *(path for path, is_folder in _tree(base, hidden=False) if is_folder)]:
            yield from _match(folder, rest)
    elif glob.has_magic(head):
        try:
            names = sorted(p.name for p in base.iterdir())
        except OSError:
            return
        for name in fnmatch.filter(names, head):
            if head.startswith(".") or not name.startswith("."):
                yield from _match(base / name, rest)
    elif (base / head).exists():
        yield from _match(base / head, rest)


def _folder_sources(folder: Path) -> list[Source]:
    files = sorted(_walk(folder))
    if not any(is_log_file(p) for p in files):
        msg = f"no log files ({LOG_FILES}) in folder {folder}"
        raise InputError(msg)
    return _log_files_and_skipped(files)


def _log_files_and_skipped(files: list[Path]) -> list[Source]:
    """A folder's log files, and its other files as `SkippedFile`s (hidden ones, `.DS_Store`, left out)."""
    return [
        _file_source(p) if is_log_file(p) else SkippedFile(str(p), p, 0)
        for p in files
        if is_log_file(p) or not p.name.startswith(".")
    ]


def expand_inputs(
    inputs: Iterable[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    endpoint_url: str | None = None,
) -> list[Source]:
    """Files as given, folders recursively (log files only), globs (with `**`), `-` for stdin, `s3://` URLs.

    Each file appears once even when two arguments match it. `since`/`until` prune the date-partitioned
    folders of S3 inputs (local files are all read); `endpoint_url` is an S3-compatible endpoint.
    """
    sources: list[Source] = []
    seen: dict[str, int] = {}  # identity -> index in `sources`
    s3: S3Inputs | None = None
    for spec in inputs:
        if not spec.strip():  # `aiobs summarize "$LOGS"` with LOGS unset: not the current folder
            raise UsageError("an input path is empty (an unset shell variable?): name a file, folder, glob or -")
        if spec == "-":
            found = [STDIN]
        elif spec[:5].lower() == "s3://":
            if s3 is None:
                # Imported here so that local runs do not pay for importing botocore.
                from aiobs.sources.partitions import TimeWindow
                from aiobs.sources.s3 import S3Inputs

                s3 = S3Inputs(endpoint_url=endpoint_url, window=TimeWindow(since, until))
            found = list(s3.expand("s3://" + spec[5:]))
        elif Path(spec).is_dir():
            found = _folder_sources(Path(spec))
        elif Path(spec).is_file():
            found = [_file_source(Path(spec))]
        elif Path(spec).exists():
            found = [_special_file(Path(spec))]
        elif GLOB_CHARS & set(spec):
            matches = _glob(spec)
            in_folders = _log_files_and_skipped([f for m in matches if m.is_dir() for f in sorted(_walk(m))])
            found = [_file_source(m) for m in matches if m.is_file()] + in_folders
            if not any(not isinstance(s, SkippedFile) for s in found):
                msg = f"no files match {spec}"
                raise InputError(msg)
        else:
            msg = f"no such file or directory: {spec}"
            raise InputError(msg)
        for source in found:
            identity = str(source.path.resolve()) if source.path is not None else source.name
            if identity not in seen:
                seen[identity] = len(sources)
                sources.append(source)
            elif isinstance(sources[seen[identity]], SkippedFile) and not isinstance(source, SkippedFile):
                sources[seen[identity]] = source  # named by itself after its folder: read it
    if not sources:
        msg = "no input given: pass log files, folders, globs, s3:// URLs, or - for stdin"
        raise UsageError(msg)
    if s3 is not None:
        s3.plan(sources)
    return sources
