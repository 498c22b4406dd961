"""Parts of one large plain file, cut at line ends, so several workers can read it side by side.

A file is cut every `range_bytes`; each cut moves forward to just after the next newline, so every line
belongs to exactly one part: the part where it starts. Counting a part's lines (`measure_range`) is a
plain read, much cheaper than parsing it, and gives each part the number of its first line, so the lines
a part reports (issues, events) are numbered as a read of the whole file numbers them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiobs.sources.base import Source

#: Bytes read at once while counting lines or looking for a line end.
_READ = 4 << 20


@dataclass(frozen=True)
class ByteRange(Source):
    """The lines of a local plain file from byte `start` (a line start) to `end` (just after a newline)."""

    start: int = 0
    end: int = 0
    lines_before: int = 0

    @property
    def first_line(self) -> int:
        return self.lines_before + 1

    @property
    def is_part(self) -> bool:
        return True

    def open(self) -> BinaryIO:
        assert self.path is not None
        stream = self.path.open("rb")
        stream.seek(self.start)
        return _Bounded(stream, self.end - self.start)  # type: ignore[return-value]


class _Bounded(io.RawIOBase):
    """A file read up to a number of bytes from where it stands."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(want) if want > 0 else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._stream.close()
        super().close()


def cut_points(size: int, range_bytes: int) -> list[int]:
    """Where a file of `size` bytes is cut before the cuts move to line ends: 0, then every `range_bytes`."""
    return list(range(0, size, max(1, range_bytes))) or [0]


def line_start_at_or_after(stream: BinaryIO, offset: int, size: int) -> int:
    """The first line start at or after `offset`: `offset` itself when a newline ends the byte before it."""
    if offset <= 0:
        return 0
    stream.seek(offset - 1)
    position = offset - 1
    while position < size:
        data = stream.read(_READ)
        if not data:
            break
        found = data.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(data)
    return size


@dataclass(frozen=True)
class MeasuredRange:
    """A part's bounds, moved to line starts, and the number of newlines in it."""

    start: int
    end: int
    newlines: int


def measure_range(path: Path, cut: int, next_cut: int | None, size: int) -> MeasuredRange:
    """Move the cuts `cut` and `next_cut` (None: the end of the file) to line starts, and count the lines
    between. Raises OSError when the file cannot be read."""
    with path.open("rb") as stream:
        start = line_start_at_or_after(stream, cut, size)
        end = size if next_cut is None else line_start_at_or_after(stream, next_cut, size)
        stream.seek(start)
        newlines, left = 0, end - start
        while left > 0 and (data := stream.read(min(_READ, left))):
            newlines += data.count(b"\n")
            left -= len(data)
    return MeasuredRange(start, max(start, end), newlines)


def measure_cuts(path: Path, cuts: Sequence[int], size: int) -> list[MeasuredRange]:
    """`measure_range` for every range between consecutive cuts (the last one to the end of the file)."""
    ends: list[int | None] = [*cuts[1:], None]
    return [measure_range(path, cut, end, size) for cut, end in zip(cuts, ends, strict=True)]


def byte_ranges(source: Source, measured: list[MeasuredRange]) -> list[ByteRange]:
    """The parts of `source` from its measured ranges (in file order), each numbered from its first line."""
    parts, lines = [], 0
    for part in measured:
        if part.end > part.start:
            parts.append(ByteRange(source.name, source.path, part.end - part.start, part.start, part.end, lines))
        lines += part.newlines
    return parts
