"""A large file cut in ranges at line ends: every line in exactly one range, numbered as in the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aiobs.issues import IssueLog
from aiobs.sources.base import Source
from aiobs.sources.ranges import ByteRange, byte_ranges, cut_points, measure_cuts, measure_range
from aiobs.sources.read import detect_compression, iter_chunks


def ranges_of(path: Path, range_bytes: int) -> list[ByteRange]:
    size = path.stat().st_size
    measured = measure_cuts(path, cut_points(size, range_bytes), size)
    return byte_ranges(Source(str(path), path, size), measured)


def numbered_lines(source: Source) -> list[tuple[int, bytes]]:
    """(line number, line) for every line the reader gives, from the chunks' first-line numbers."""
    found = []
    for chunk in iter_chunks(source, IssueLog()):
        for offset, line in enumerate(chunk.data.split(b"\n")[:-1]):
            found.append((chunk.first_line + offset, line))
    return found


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x")), max_size=40),
    trailing_newline=st.booleans(),
    range_bytes=st.integers(1, 200),
)
def test_ranges_give_every_line_once_with_its_number_in_the_file(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], trailing_newline: bool, range_bytes: int
) -> None:
    folder = tmp_path_factory.mktemp("ranges")
    path = folder / "log.jsonl"
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    assume(detect_compression(data) == "none")  # a compressed file is never cut (aiobs.engines.plan)
    path.write_bytes(data)
    whole = numbered_lines(Source(str(path), path, len(data)))
    parts = ranges_of(path, range_bytes)
    pieces = [line for part in parts for line in numbered_lines(part)]
    assert pieces == whole
    assert b"".join(path.read_bytes()[p.start : p.end] for p in parts) == data
    assert all(p.start < p.end for p in parts)


def test_a_cut_at_a_line_start_stays_there(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"aaaa\nbbbb\ncccc\n")
    size = path.stat().st_size
    assert measure_range(path, 5, 10, size).start == 5  # the byte before is a newline: a line starts here
    assert measure_range(path, 6, 10, size).start == 10  # mid-line: the line belongs to the range before
    first, second = ranges_of(path, 5)[:2]
    assert (first.start, first.end, first.first_line) == (0, 5, 1)
    assert (second.start, second.end, second.first_line) == (5, 10, 2)


def test_a_line_longer_than_a_range_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"short\n" + b"x" * 100 + b"\nend\n")
    parts = ranges_of(path, 10)
    assert [numbered_lines(p) for p in parts] == [[(1, b"short"), (2, b"x" * 100)], [(3, b"end")]]
