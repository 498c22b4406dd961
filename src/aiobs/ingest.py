"""Sources -> canonical events, in hash buckets of the correlation ID.

Each source's format is detected (or forced), and its parser turns each chunk of lines into canonical
events (aiobs.formats; the native reader and the adapters never lose a line silently). Chunks are
parsed on a few threads.

Events are split into `n_buckets` buckets by a hash of the correlation ID, so
every request lives in exactly one bucket and buckets can be reconstructed one
at a time (bounded memory) or on different machines. Large inputs spill the
buckets to Arrow IPC files in a temporary folder.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl

from aiobs.compact import owned_strings
from aiobs.formats import EventParser, check_input_format, frame_source, make_parser
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.run_tree import request_ids
from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.base import Source
from aiobs.sources.read import CHUNK_LINES, MAX_LINE_BYTES, Chunk, iter_chunks

#: One bucket per this many input bytes (compressed input counts 5x); 1 bucket stays in memory.
BYTES_PER_BUCKET = 128 << 20
#: Buffered events (all buckets together) before they are written to the spill folder.
SPILL_ROWS = 200_000
#: Rows per record batch in spilled files: a streaming read holds a few batches, not whole files,
#: which matters when a query reads the texts (outliers, timelines).
SPILL_BATCH_ROWS = 8_192
#: Chunks parsed at once. Polars parses each on its own pool; one more than the cores keeps both busy.
PARSE_THREADS = 3
#: Consecutive chunks smaller than this (small files) are parsed together, up to this many bytes...
BATCH_BYTES = 4 << 20
#: ... this many lines (a batch's line table is held while it is parsed; blank lines are cheap bytes) ...
BATCH_LINES = CHUNK_LINES
#: ... and this many chunks.
BATCH_CHUNKS = 2_000
HASH_SEED = 0xA10B5  # fixed, so buckets are stable across runs of one Polars version

ProgressCallback = Callable[[int], None]
#: Events of a chunk -> what is bucketed in their place (partial request rows: aiobs.reducer).
Reduce = Callable[[pl.DataFrame], pl.DataFrame]


class CannotReduce(Exception):
    """A reducer met events it cannot turn into partial rows alone: the input is read the event way."""


T = TypeVar("T")


def bucket_count(sources: list[Source]) -> int:
    total = 0
    for source in sources:
        if source.size is None:
            return 8  # stdin: size unknown, so plan for a large input
        compressed = source.name.endswith((".gz", ".gzip", ".zst", ".zstd"))
        total += source.size * (5 if compressed else 1)
    return max(1, math.ceil(total / BYTES_PER_BUCKET))


@dataclass
class BucketStore:
    """Events split by `hash(correlation_id) % n`: in memory, or spilled to IPC files."""

    n: int
    spill_dir: Path | None = None
    _frames: list[list[pl.DataFrame]] = field(default_factory=list)
    _rows: list[int] = field(default_factory=list)
    _files: list[list[Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._frames = [[] for _ in range(self.n)]
        self._rows = [0] * self.n
        self._files = [[] for _ in range(self.n)]

    def bucket_of(self, correlation_ids: pl.Series) -> pl.Series:
        if self.n == 1:
            return pl.repeat(0, len(correlation_ids), eager=True)
        return correlation_ids.hash(seed=HASH_SEED) % self.n

    def split(self, events: pl.DataFrame) -> dict[int, pl.DataFrame]:
        """Events by bucket. Pure, so parser threads can do it in parallel before `add_split`."""
        if events.is_empty():
            return {}
        if self.n == 1:
            return {0: events}
        bucket = self.bucket_of(events["correlation_id"]).alias("_bucket")
        parts = events.with_columns(bucket).partition_by("_bucket", as_dict=True, include_key=False)
        return {int(b): part for (b,), part in parts.items()}

    def add(self, events: pl.DataFrame) -> None:
        self.add_split(self.split(events))

    def add_split(self, parts: dict[int, pl.DataFrame]) -> None:
        for b, part in parts.items():
            self._append(b, part)

    def _append(self, b: int, frame: pl.DataFrame) -> None:
        self._frames[b].append(frame)
        self._rows[b] += frame.height
        # The budget is for all buckets together, so memory does not grow with the number of buckets.
        if self.spill_dir is not None and sum(self._rows) >= SPILL_ROWS:
            for bucket in range(self.n):
                if self._frames[bucket]:
                    self._spill(bucket)

    def _spill(self, b: int) -> None:
        assert self.spill_dir is not None
        path = self.spill_dir / f"bucket-{b:04d}-{len(self._files[b]):05d}.arrow"
        pl.concat(self._frames[b]).write_ipc(path, compression="lz4", record_batch_size=SPILL_BATCH_ROWS)
        self._files[b].append(path)
        self._frames[b], self._rows[b] = [], 0

    def parts(self, b: int) -> list[pl.LazyFrame]:
        """The bucket's spilled files and buffered frames, each a bounded piece of it."""
        return [pl.scan_ipc(p) for p in self._files[b]] + [f.lazy() for f in self._frames[b]]

    def bucket(self, b: int) -> pl.LazyFrame:
        parts = self.parts(b)
        return pl.concat(parts) if parts else pl.LazyFrame(schema=EVENT_SCHEMA)

    def release(self, b: int) -> None:
        self._frames[b] = []
        for path in self._files[b]:
            path.unlink(missing_ok=True)
        self._files[b] = []


@dataclass
class Ingested:
    """The bucketed events. Owns the spill folder, removed by `close()` or when this object is collected."""

    store: BucketStore
    issues: IssueLog
    events: int
    bytes_read: int
    sources: list[str]
    #: Set by callers that keep the buckets after rebuilding them, so `events_of` can read them.
    kept_events: bool = False
    #: With `ingest(..., whole_input=False)`: the parsers, not finished, and the runs, not placed, for
    #: whoever sees the whole input (a distributed engine's driver) to finish and place.
    parsers: dict[str, EventParser] = field(default_factory=dict)
    runs: BucketStore | None = None

    def __post_init__(self) -> None:
        spill = self.store.spill_dir
        self._cleanup = weakref.finalize(self, shutil.rmtree, spill, True) if spill is not None else None

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()

    def events_of(self, correlation_ids: list[str]) -> pl.DataFrame:
        """The events of these requests, read only from the buckets that hold them."""
        ids = pl.Series("correlation_id", correlation_ids, dtype=pl.String)
        buckets = sorted(set(self.store.bucket_of(ids).to_list()))
        parts = []
        for b in buckets:  # one bucket at a time, so one bucket's texts are decoded at once
            events = self.store.bucket(b)
            wanted = events.filter(pl.col("correlation_id").is_in(ids.implode()))
            parts.append(wanted.with_columns(owned_strings(events.collect_schema())).collect())
        return pl.concat(parts) if parts else pl.DataFrame(schema=EVENT_SCHEMA)


@dataclass
class Batch:
    """What one parse call reads: one chunk, or consecutive small chunks of several sources that share a
    parser (a Polars query costs ~10 ms to plan whatever its size, so small files are read together)."""

    parser: EventParser
    target: BucketStore
    chunks: list[Chunk]
    size: int
    lines: int
    #: Events the batch gave, set once it is parsed.
    n_events: int = 0

    def events(self) -> pl.DataFrame:
        return self.parser.events(self.chunks[0]) if len(self.chunks) == 1 else self.parser.events_of_batch(self.chunks)


@dataclass
class _Reading:
    """What `_batches` needs to read every source: the mapping, the forced format, where events go."""

    mapping: FieldMapping
    issues: IssueLog
    forced: str | None
    max_line_bytes: int
    store: BucketStore
    runs: BucketStore
    parsers: dict[str, EventParser] = field(default_factory=dict)

    def parser(self, name: str) -> EventParser:
        if name not in self.parsers:
            self.parsers[name] = make_parser(name, self.mapping, self.issues)
        return self.parsers[name]


def _batches(sources: list[Source], reading: _Reading) -> Iterator[Batch]:
    """Every source's chunks in input order, small consecutive ones of one parser joined into a batch."""
    pending: Batch | None = None
    for source in sources:
        name, chunks = frame_source(
            _chunks(source, reading.issues, reading.max_line_bytes),
            reading.issues,
            reading.forced,
            file_start=source.first_line == 1,
        )
        parser = reading.parser(name)
        target = reading.runs if parser.resolves_tree else reading.store
        for chunk in chunks:
            size = len(chunk.data)
            lines = chunk.line_count if size <= BATCH_BYTES else CHUNK_LINES
            if (
                pending is not None
                and pending.parser is parser
                and pending.size + size <= BATCH_BYTES
                and pending.lines + lines <= BATCH_LINES
                and len(pending.chunks) < BATCH_CHUNKS
            ):
                pending.chunks.append(chunk)
                pending.size += size
                pending.lines += lines
                continue
            if pending is not None:
                yield pending
            pending = Batch(parser, target, [chunk], size, lines)
    if pending is not None:
        yield pending


def _in_parallel(parse: Callable[[Batch], T], batches: Iterator[Batch]) -> Iterator[tuple[Batch, T]]:
    """Parse batches on a few threads, yielding results in input order with a bounded number in flight."""
    with ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="aiobs-parse") as pool:
        pending: deque[tuple[Batch, Future[T]]] = deque()
        for batch in batches:
            pending.append((batch, pool.submit(parse, batch)))
            if len(pending) > PARSE_THREADS:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def ingest(
    sources: list[Source],
    mapping: FieldMapping,
    *,
    n_buckets: int | None = None,
    progress: ProgressCallback | None = None,
    issues: IssueLog | None = None,
    input_format: str | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    reduce: Reduce | None = None,
    whole_input: bool = True,
    spill: bool = True,
) -> Ingested:
    """Read every source into a bucketed event store; never raises on bad lines.

    With `reduce`, each chunk's events (with `_pos`, their position in the whole input) are reduced on
    the parse thread and the store holds what it returns; a reducer raises CannotReduce to give up, and
    so does a format whose events wait for their run tree.

    Each source's format is `input_format` when given, else detected from its first lines
    (`aiobs.formats.frame_source`); one parser per format serves every source in it. A line longer than
    `max_line_bytes` is left out and recorded (`line-too-long`).

    `whole_input=False` says the sources are a part of the input (one worker's share): what is judged
    per whole file (`EventParser.finish`) and the runs of tree formats (placed once every run is read) are
    left in `Ingested.parsers` and `Ingested.runs`. `spill=False` keeps every bucket in memory (a worker's
    share of a larger input, sent on as it is).
    """
    issues = issues if issues is not None else IssueLog()
    forced = check_input_format(input_format)
    n = n_buckets if n_buckets is not None else bucket_count(sources)
    store = BucketStore(n, Path(tempfile.mkdtemp(prefix="aiobs-")) if n > 1 and spill else None)
    # Runs of a tree format wait here, unbucketed, until every line is read (their request is their root's).
    runs = BucketStore(1, store.spill_dir / "runs" if store.spill_dir is not None else None)
    if runs.spill_dir is not None:
        runs.spill_dir.mkdir()
    reading = _Reading(mapping, issues, forced, max_line_bytes, store, runs)
    events = 0
    read = 0

    ordinals = {source.name: index for index, source in enumerate(sources)}

    def parse_and_split(batch: Batch) -> dict[int, pl.DataFrame]:
        events = batch.events()
        batch.n_events = events.height
        if reduce is not None:
            if batch.target is not store:
                msg = "runs wait for their tree"
                raise CannotReduce(msg)
            position = pl.col("source").replace_strict(ordinals, return_dtype=pl.Int64) * (1 << 40) + pl.col("line")
            events = reduce(events.with_columns(_pos=position))
        return batch.target.split(events)

    try:
        for batch, parts in _in_parallel(parse_and_split, _batches(sources, reading)):
            events += batch.n_events
            read += batch.size
            batch.target.add_split(parts)
            if progress is not None:
                progress(batch.size)
    except BaseException:
        if store.spill_dir is not None:
            shutil.rmtree(store.spill_dir, ignore_errors=True)
        raise
    names = [s.name for s in sources]
    if not whole_input:
        return Ingested(store, issues, events, read, names, parsers=reading.parsers, runs=runs)
    for parser in reading.parsers.values():
        parser.finish()
    events -= place_runs(runs, store, issues)
    return Ingested(store, issues, events, read, names)


def place_runs(runs: BucketStore, store: BucketStore, issues: IssueLog) -> int:
    """Give each waiting run its request (its tree's root), then bucket it; returns the runs left out.

    Only the (run, parent, correlation) edges are held at once; the runs themselves are read back one
    spilled piece at a time.
    """
    parts = runs.parts(0)
    if not parts:
        return 0
    edges = pl.concat([p.select("event_id", "parent_id", "correlation_id") for p in parts]).collect()
    ids = request_ids(edges).lazy()
    orphans = 0
    for part in parts:
        placed = (
            part.join(ids, on="event_id", how="left", maintain_order="left")
            .with_columns(correlation_id=pl.coalesce("correlation_id", "request_id"))
            .drop("request_id")
            .collect()
        )
        lost = placed.filter(pl.col("correlation_id").is_null())
        if not lost.is_empty():
            orphans += lost.height
            message = "a run without a run ID or a correlation ID: it belongs to no request"
            examples = [
                InputIssue("missing-correlation-id", s, ln, message)
                for s, ln in lost.head(5).select("source", "line").iter_rows()
            ]
            issues.add("missing-correlation-id", lost.height, examples)
            placed = placed.filter(pl.col("correlation_id").is_not_null())
        store.add(placed)
    runs.release(0)
    return orphans


def _chunks(source: Source, issues: IssueLog, max_line_bytes: int) -> Iterator[Chunk]:
    try:
        yield from iter_chunks(source, issues, max_line_bytes=max_line_bytes)
    except OSError as exc:
        issues.record(InputIssue("unreadable-chunk", source.name, None, f"read failed: {exc.strerror or exc}"))
