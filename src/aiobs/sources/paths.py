"""Turn what the user typed (files, folders, globs, `-`) into a list of sources."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiobs.errors import InputError, UsageError

LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log")
COMPRESSED_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Source:
    """One stream of log lines. `path` is set for local files (eligible for the fast reader)."""

    name: str
    path: Path | None = None
    size: int | None = None

    def open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        return self.path.open("rb")


STDIN = Source("-")


def is_log_file(path: Path) -> bool:
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
        msg = f"no log files (.jsonl, .ndjson, .json, .log, optionally .gz or .zst) in folder {folder}"
        raise InputError(msg)
    return [_file_source(p) for p in files]


def expand_inputs(inputs: Iterable[str]) -> list[Source]:
    """Files as given, folders recursively (log files only), globs (with `**`), `-` for stdin.

    Each file appears once even when two arguments match it.
    """
    sources: list[Source] = []
    seen: set[str] = set()
    for spec in inputs:
        if spec == "-":
            found = [STDIN]
        elif spec.startswith("s3://"):
            msg = f"cannot read {spec}: s3:// inputs are not supported yet"
            raise UsageError(msg)
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
        msg = "no input given: pass log files, folders, globs, or - for stdin"
        raise UsageError(msg)
    return sources
