"""Turn what the user typed (files, folders, globs, `-`, `s3://` URLs) into a list of sources."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, BinaryIO

from aiobs.errors import InputError, UsageError

if TYPE_CHECKING:
    from aiobs.sources.s3 import S3Inputs

LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log")
COMPRESSED_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
LOG_FILES = ".jsonl, .ndjson, .json, .log, optionally .gz or .zst"
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Source:
    """One stream of log lines. `path` is set for local files; S3 objects are `S3Source`s (sources/s3.py)."""

    name: str
    path: Path | None = None
    size: int | None = None

    def open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        return self.path.open("rb")


STDIN = Source("-")


class SourceUnavailable(Exception):
    """Raised by `Source.open()` when a listed input cannot be read at all: an input issue, not an error."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def is_log_file(path: PurePath) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in LOG_SUFFIXES


def _file_source(path: Path) -> Source:
    if not os.access(path, os.R_OK):
        msg = f"cannot read {path}: permission denied"
        raise InputError(msg)
    return Source(str(path), path, path.stat().st_size)


def _folder_sources(folder: Path) -> list[Source]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and is_log_file(p))
    if not files:
        msg = f"no log files ({LOG_FILES}) in folder {folder}"
        raise InputError(msg)
    return [_file_source(p) for p in files]


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
    seen: set[str] = set()
    s3: S3Inputs | None = None
    for spec in inputs:
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
        elif GLOB_CHARS & set(spec):
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))  # noqa: PTH207 (absolute patterns too)
            files = [m for m in matches if m.is_file()] + [
                f for m in matches if m.is_dir() for f in sorted(m.rglob("*")) if f.is_file() and is_log_file(f)
            ]
            if not files:
                msg = f"no files match {spec}"
                raise InputError(msg)
            found = [_file_source(p) for p in files]
        else:
            msg = f"no such file or directory: {spec}"
            raise InputError(msg)
        for source in found:
            identity = str(source.path.resolve()) if source.path is not None else source.name
            if identity not in seen:
                seen.add(identity)
                sources.append(source)
    if not sources:
        msg = "no input given: pass log files, folders, globs, s3:// URLs, or - for stdin"
        raise UsageError(msg)
    if s3 is not None:
        s3.plan(sources)
    return sources
