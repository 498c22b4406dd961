"""What every source is: one stream of log lines with a name, and which file names hold logs.

Local paths (sources/paths.py) and S3 objects (sources/s3.py) both build on this module, so neither
needs the other.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

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

    @property
    def first_line(self) -> int:
        """The number of the source's first line in its file: 1, unless it is a part of a larger file."""
        return 1

    @property
    def is_part(self) -> bool:
        """A range of a larger plain file (aiobs.sources.ranges), whose bytes are never compressed data
        even when a line happens to start with a compression format's magic bytes."""
        return False


STDIN = Source("-")


class SourceUnavailable(Exception):
    """Raised by `Source.open()` when a listed input cannot be read at all: an input issue, not an error."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile(Source):
    """A file in a folder given as input whose name is not a log's (`notes.txt`): listed but never read,
    so the input-quality section names it (`skipped-file`) rather than leaving it out without a word."""

    def open(self) -> BinaryIO:
        reason = f"not read: its name does not end in {LOG_FILES}; pass it by name to read it"
        raise SourceUnavailable("skipped-file", reason)


def is_log_file(path: PurePath) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in LOG_SUFFIXES
