"""The input cut into parts, one per worker task: small sources grouped, large plain files cut in ranges.

A part is about `range_bytes` of input. Consecutive whole sources (files, S3 objects) are grouped up to
that size; a local plain file larger than it is cut at line ends (aiobs.sources.ranges), every range
read with the format detected from the file's first chunk, as a reader of the whole file would. A
compressed file or a file of multi-line JSON documents cannot be cut, and is one part.

Parts keep input order, which is what makes a distributed run give the local run's numbers exactly: a
bucket's events are concatenated part after part, as the local run appends them chunk after chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from aiobs.errors import UsageError
from aiobs.formats.detect import detect_format
from aiobs.formats.documents import looks_like_documents
from aiobs.formats.envelopes import envelope_of
from aiobs.formats.responses import response_of
from aiobs.issues import IssueLog
from aiobs.sources.base import Source
from aiobs.sources.ranges import ByteRange, MeasuredRange, byte_ranges, cut_points
from aiobs.sources.read import detect_compression, iter_chunks
from aiobs.sources.s3_objects import S3Source

#: A task's share of the input. Each holds its part's events in memory once, split by bucket.
RANGE_BYTES = 256 << 20


@dataclass(frozen=True)
class Part:
    """What one worker task reads: whole sources, or one range of a large file; the format to force."""

    sources: tuple[Source, ...]
    input_format: str | None
    size: int


@dataclass(frozen=True)
class Split:
    """A large plain file to cut into ranges, and the format its first chunk says it is in."""

    source: Source
    input_format: str
    cuts: tuple[int, ...]


#: Each split's ranges, or None for a split that could not be measured (it is read whole).
Measure = Callable[[list[Split]], list[list[MeasuredRange] | None]]


def plan_parts(
    sources: list[Source], input_format: str | None, measure: Measure, *, range_bytes: int, max_line_bytes: int
) -> list[Part]:
    """The parts of the input in input order. `measure` moves each split's cuts to line ends and counts
    the lines between (on the workers, so large files are counted side by side)."""
    check_sources(sources)
    planned: list[Source | Split] = [_cut_or_whole(s, input_format, range_bytes, max_line_bytes) for s in sources]
    splits = [p for p in planned if isinstance(p, Split)]
    ranges = dict(zip((s.source.name for s in splits), measure(splits), strict=True))
    parts: list[Part] = []
    group: list[Source] = []
    for item in planned:
        measured = ranges[item.source.name] if isinstance(item, Split) else None
        if isinstance(item, Split) and measured is not None:
            parts.extend(_group(group, input_format))
            group = []
            for part in byte_ranges(item.source, measured):
                parts.append(Part((part,), item.input_format, part.size or 0))
            continue
        if isinstance(item, Split):  # not measured: read whole, where the reader records why it fails
            item = item.source
        if group and sum(s.size or 0 for s in group) + (item.size or 0) > range_bytes:
            parts.extend(_group(group, input_format))
            group = []
        group.append(item)
    parts.extend(_group(group, input_format))
    return parts


def check_sources(sources: list[Source]) -> None:
    """Every source can be read by a worker: standard input and pipes are read once, by this process."""
    for source in sources:
        if source.size is None:
            msg = (
                f"--engine ray reads files and s3:// objects, not standard input or pipes ({source.name}): "
                "use --engine local for those"
            )
            raise UsageError(msg)


def _group(sources: list[Source], input_format: str | None) -> list[Part]:
    return [Part(tuple(sources), input_format, sum(s.size or 0 for s in sources))] if sources else []


def _cut_or_whole(source: Source, forced: str | None, range_bytes: int, max_line_bytes: int) -> Source | Split:
    """A split for a local plain file of JSON lines larger than a part; the source itself otherwise."""
    if source.path is None or isinstance(source, ByteRange) or (source.size or 0) <= range_bytes:
        return source
    try:
        with source.path.open("rb") as stream:
            if detect_compression(stream.read(4)) != "none":
                return source
        first = next(iter_chunks(source, IssueLog(), max_line_bytes=max_line_bytes), None)
    except OSError:
        return source  # read whole, where the read records why it fails
    if first is None or looks_like_documents(first.data) or response_of(first.data) or envelope_of(first.data):
        return source  # documents are read whole; an envelope's inner format is detected by its reader
    return Split(source, forced or detect_format(first.data), tuple(cut_points(source.size or 0, range_bytes)))


def portable(source: Source) -> Source:
    """The source as a worker can open it: an absolute path (a worker's folder is not the driver's), and
    no S3 reader (it holds a client, made again on the worker). Its name, shown to users, is kept."""
    if isinstance(source, S3Source):
        return dataclasses.replace(source, reader=None)
    if source.path is not None and not source.path.is_absolute():
        return dataclasses.replace(source, path=source.path.absolute())
    return source
