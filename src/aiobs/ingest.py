"""Sources -> canonical events, robustly, in hash buckets of the correlation ID.

Each chunk of whole lines is parsed by Polars in one call (the fast path). Only
when Polars rejects a chunk (one malformed line fails the whole call) is the
chunk bisected until the bad lines are isolated and classified; the good lines
around them still go through Polars. Clean input therefore never touches a
per-line Python loop.

Events are split into `n_buckets` buckets by a hash of the correlation ID, so
every request lives in exactly one bucket and buckets can be reconstructed one
at a time (bounded memory) or on different machines. Large inputs spill the
buckets to Arrow IPC files in a temporary folder.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl

from aiobs.compact import owned_strings
from aiobs.formats import DEFAULT_FORMAT, EventParser, check_input_format, frame_source, make_parser
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.native import NUMERIC, finish_timestamps, flat_schema, raw_schema, to_events
from aiobs.formats.reader import check_object_line, preview
from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.paths import Source
from aiobs.sources.read import Chunk, iter_chunks

#: Up to this many lines, a failing range is checked line by line with orjson (about 2 µs a line),
#: which is cheaper than more rounds of splitting.
BISECT_LINES = 2048
#: A failing range is cut into this many pieces, each parsed again.
SPLIT_WAYS = 64
#: One bucket per this many input bytes (compressed input counts 5x); 1 bucket stays in memory.
BYTES_PER_BUCKET = 128 << 20
#: Buffered events (all buckets together) before they are written to the spill folder.
SPILL_ROWS = 200_000
#: Rows per record batch in spilled files: a streaming read holds a few batches, not whole files,
#: which matters when a query reads the texts (outliers, timelines).
SPILL_BATCH_ROWS = 8_192
#: Chunks parsed at once. Polars parses each on its own pool; one more than the cores keeps both busy.
PARSE_THREADS = 3
HASH_SEED = 0xA10B5  # fixed, so buckets are stable across runs of one Polars version

_NEWLINE, _CR, _OPEN, _CLOSE = b"\n"[0], b"\r"[0], b"{"[0], b"}"[0]

ProgressCallback = Callable[[int], None]
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
        return {int(b): part for (b,), part in parts.items()}  # type: ignore[call-overload]

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

    def bucket(self, b: int) -> pl.LazyFrame:
        parts = [pl.scan_ipc(p) for p in self._files[b]] + [f.lazy() for f in self._frames[b]]
        return pl.concat(parts) if parts else pl.LazyFrame(schema=EVENT_SCHEMA)

    def release(self, b: int) -> None:
        self._frames[b] = []
        for path in self._files[b]:
            path.unlink(missing_ok=True)
        self._files[b] = []


class ChunkParser:
    """Parses chunks of lines into canonical events, recording every line it cannot use.

    The reader's schema holds every spelling the mapping knows (~70 fields), but a given log uses
    few of them, and Polars parses a narrow schema about twice as fast. So the parser reads with
    the fields it has *seen*, and before each chunk asks one Aho-Corasick pass whether any unseen
    key (`"trace_id"`, ...) occurs in it; if so, the schema widens before that chunk is parsed.
    A key is therefore never skipped, whatever chunk it first appears in.
    """

    def __init__(self, mapping: FieldMapping, issues: IssueLog) -> None:
        self.mapping = mapping
        self.issues = issues
        self.full = raw_schema(mapping)
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({name: dtype for name, dtype in self.full.items() if name in self.seen})

    def _unseen_patterns(self) -> dict[str, str]:
        # `"key"` without the colon: JSON allows whitespace before it. A string value that happens to
        # equal a key name only widens the schema, which costs a little speed and never loses data.
        return {f'"{name}"': name for name in self.full if name not in self.seen}

    def _widen_for(self, data: bytes) -> pl.Schema:
        """The seen fields plus any unseen one this chunk mentions; the full schema if it cannot tell.

        The search runs outside the lock, so parser threads search their chunks side by side. A thread
        that searched with an older (larger) set of unseen keys only did more work than needed.
        """
        with self._lock:
            patterns = self._unseen_patterns()
        if not patterns:
            return self.full
        try:
            text = pl.Series([data], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.ComputeError:  # invalid UTF-8 somewhere: read with every field, bisect later
            return self.full
        found: set[str] = set()
        if text.str.contains_any(list(patterns)).item():
            hits = text.str.extract_many(list(patterns)).explode().drop_nulls().unique()
            found = {patterns[p] for p in hits}
        with self._lock:
            self.seen.update(found)
            return pl.Schema({name: dtype for name, dtype in self.full.items() if name in self.seen or name in found})

    def events(self, chunk: Chunk) -> pl.DataFrame:
        """Canonical events of the chunk; unusable values and orphans recorded as issues."""
        parsed = self.parse(chunk)
        return self.count_flags(parsed) if not parsed.is_empty() else parsed

    def parse(self, chunk: Chunk) -> pl.DataFrame:
        """Canonical events of the chunk, with the `_bad_*` flag columns that `count_flags` consumes.

        The fast path parses and converts in one query. Lines that cannot be objects (they do not start
        with `{` and end with `}`: cut-off writes, arrays, blank lines) are found first with vectorised
        byte checks and set aside, so one truncated line does not cost a failed parse of the chunk; only
        a chunk Polars still rejects is bisected. Safe to call from several threads: Polars releases the
        GIL, so chunks parse side by side.
        """
        schema = self._widen_for(chunk.data)
        data, numbers = chunk.data, None
        suspects = _suspect_lines(data)
        if suspects:
            data, numbers = self._set_aside(chunk, suspects)
            if not data:
                return pl.DataFrame(schema=EVENT_SCHEMA)
        scan = pl.scan_ndjson(data, schema=schema, row_index_name="line", row_index_offset=0)
        if numbers is None:
            line = pl.col("line").cast(pl.Int64) + chunk.first_line
        else:
            line = pl.lit(pl.Series(numbers, dtype=pl.Int64)).gather(pl.col("line"))
        raw = scan.with_columns(source=pl.lit(chunk.source), line=line)
        try:
            return finish_timestamps(to_events(raw, self.mapping, schema).collect(engine="streaming"))
        except pl.exceptions.PolarsError:
            lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
            first = range(chunk.first_line, chunk.first_line + len(lines)) if numbers is None else numbers
            parsed = self._bisect(chunk.source, lines, first, schema)
            if parsed.is_empty():
                return pl.DataFrame(schema=EVENT_SCHEMA)  # nothing usable; no flag columns to count
            return finish_timestamps(to_events(parsed.lazy(), self.mapping, schema).collect())

    def _set_aside(self, chunk: Chunk, suspects: list[tuple[int, int, int]]) -> tuple[bytes, list[int]]:
        """The chunk without its blank and broken lines (each recorded), and the line numbers of the rest.

        Suspects are few, so checking each with orjson and cutting them out by byte range is cheap.
        """
        data = chunk.data
        dropped: list[tuple[int, int, int]] = []
        for index, start, end in suspects:
            text = data[start:end]
            if not text.strip() or check_object_line(self.issues, chunk.source, text, chunk.first_line + index) is None:
                dropped.append((index, start, end))
        if not dropped:
            return data, list(range(chunk.first_line, chunk.first_line + chunk.line_count))
        pieces, numbers, at, line = [], [], 0, 0
        for index, start, end in dropped:
            pieces.append(data[at:start])
            numbers.extend(range(chunk.first_line + line, chunk.first_line + index))
            at, line = end + 1, index + 1
        pieces.append(data[at:])
        total = data.count(b"\n", at) + (0 if data.endswith(b"\n") or at >= len(data) else 1)
        numbers.extend(range(chunk.first_line + line, chunk.first_line + line + total))
        return b"".join(pieces), numbers

    # -- parsing -----------------------------------------------------------------------------------------

    def _bisect(self, source: str, lines: list[bytes], numbers: Sequence[int], schema: pl.Schema) -> pl.DataFrame:
        """`lines` failed as a whole: parse it in pieces, then split only the pieces that fail again.

        `numbers` are the lines' numbers in the source. Cutting into `SPLIT_WAYS` pieces (rather than
        halves) costs one extra parse of the chunk per level instead of one per bad line, which matters
        when bad lines are scattered through a file.
        """
        if len(lines) <= BISECT_LINES:
            return self._line_by_line(source, lines, numbers, schema)
        step = max(BISECT_LINES, -(-len(lines) // SPLIT_WAYS))
        pieces = []
        for offset in range(0, len(lines), step):
            part = lines[offset : offset + step]
            part_numbers = numbers[offset : offset + step]
            try:
                frame = _read(b"\n".join(part) + b"\n", schema)
            except pl.exceptions.PolarsError:
                pieces.append(self._bisect(source, part, part_numbers, schema))
                continue
            kept = [n for n, ln in zip(part_numbers, part, strict=True) if ln.strip()]
            pieces.append(frame.with_columns(source=pl.lit(source), line=pl.Series(kept, dtype=pl.Int64)))
        pieces = [p for p in pieces if not p.is_empty()]
        return pl.concat(pieces, how="diagonal_relaxed") if pieces else pl.DataFrame()

    def _line_by_line(self, source: str, lines: list[bytes], numbers: Sequence[int], schema: pl.Schema) -> pl.DataFrame:
        """Classify each line with orjson, then let Polars parse the good ones together."""
        good: list[tuple[bytes, int]] = []
        for text, number in zip(lines, numbers, strict=True):
            if text.strip():
                checked = check_object_line(self.issues, source, text, number)
                if checked is not None:
                    good.append((checked, number))
        if not good:
            return pl.DataFrame()
        try:
            frame = _read(b"\n".join(t for t, _ in good) + b"\n", schema)
            return frame.with_columns(source=pl.lit(source), line=pl.Series([n for _, n in good], dtype=pl.Int64))
        except pl.exceptions.PolarsError:
            frames = [self._one_line(source, text, line, schema) for text, line in good]
            kept = [f for f in frames if f is not None]
            return pl.concat(kept, how="diagonal_relaxed") if kept else pl.DataFrame()

    def _one_line(self, source: str, text: bytes, line: int, schema: pl.Schema) -> pl.DataFrame | None:
        """A line orjson accepts but Polars rejected with the nested schema (e.g. `usage` is a string)."""
        flat = flat_schema(schema)
        for attempt in (schema, flat):
            try:
                frame = _read(text + b"\n", attempt)
            except pl.exceptions.PolarsError:
                continue
            if attempt is flat:
                message = "a nested field (such as usage) is not an object; its values were ignored"
                self.issues.record(InputIssue("wrong-type", source, line, message))
            return frame.with_columns(source=pl.lit(source), line=pl.lit(line, dtype=pl.Int64))
        message = f"JSON the reader cannot use (numbers out of range?): {preview(text)}"
        self.issues.record(InputIssue("invalid-json", source, line, message))
        return None

    # -- flags -------------------------------------------------------------------------------------------

    def count_flags(self, events: pl.DataFrame) -> pl.DataFrame:
        """Record the flagged values and orphans as issues; return the events without flags and orphans."""
        flag_columns = [c for c in events.columns if c.startswith(("_bad_", "_absurd_"))]
        orphan = pl.col("correlation_id").is_null() | (pl.col("correlation_id") == "")
        counts = events.select(*(pl.col(c).sum() for c in flag_columns), orphan.sum().alias("_orphan")).row(
            0, named=True
        )
        for column, count in counts.items():
            if not count:
                continue
            mask = orphan if column == "_orphan" else pl.col(column)
            examples = events.lazy().filter(mask).head(self.issues.keep).select("source", "line").collect()
            code, message = _flag_issue(column)
            self.issues.add(code, count, [InputIssue(code, s, ln, message) for s, ln in examples.iter_rows()])
        events = events.drop(flag_columns)
        return events.filter(orphan.not_()) if counts["_orphan"] else events  # filtering copies every column


def _suspect_lines(data: bytes) -> list[tuple[int, int, int]]:
    """(0-based index, start, end byte) of the lines that cannot be a JSON object on their own, blank ones included.

    A line is a suspect unless its first byte is `{` and its last (before an optional `\\r`) is `}`.
    Vectorised over the bytes (a few ms for 16 MB), so clean chunks pay almost nothing for it.
    """
    if not data:
        return []
    import pyarrow as pa  # here, not at the top: only for a zero-copy byte view, and it takes ~0.3 s to import

    size = len(data)
    buf = pl.Series(pa.Array.from_buffers(pa.uint8(), size, [None, pa.py_buffer(data)]))
    ends = (buf == _NEWLINE).arg_true().cast(pl.Int64)
    if not data.endswith(b"\n"):
        ends = ends.append(pl.Series([size], dtype=pl.Int64))
    starts = pl.concat([pl.Series([0], dtype=pl.Int64), ends.head(-1) + 1])
    frame = pl.DataFrame({"start": starts, "end": ends}).with_columns(
        first=pl.lit(buf).gather(pl.col("start").clip(upper_bound=size - 1)),
        last=pl.lit(buf).gather((pl.col("end") - 1).clip(lower_bound=0)),
        before_last=pl.lit(buf).gather((pl.col("end") - 2).clip(lower_bound=0)),
    )
    closing = pl.when(pl.col("last") == _CR).then(pl.col("before_last")).otherwise(pl.col("last"))
    ok = (pl.col("end") > pl.col("start")) & (pl.col("first") == _OPEN) & (closing == _CLOSE)
    suspects = frame.with_row_index("index").filter(ok.not_()).select("index", "start", "end")
    return [(int(i), int(a), int(b)) for i, a, b in suspects.iter_rows()]


def _flag_issue(column: str) -> tuple[str, str]:
    if column == "_orphan":
        return "missing-correlation-id", "no correlation ID (request_id, trace_id, ...); map one with --map"
    name = column.removeprefix("_bad_").removeprefix("_absurd_")
    if column.startswith("_absurd_"):
        return "invalid-duration", f"{name} is negative or longer than a day"
    if name == "start":
        return "invalid-timestamp", "timestamp is neither ISO-8601 nor epoch seconds/ms/us/ns"
    if name == "feedback_score":
        return "wrong-type", "feedback is neither a score from 0 to 1 nor a thumbs word (up/down, true/false)"
    kind = "a whole number >= 0" if NUMERIC[name] == pl.Int64() else "a number >= 0"
    return "wrong-type", f"{name} is not {kind}"


def _read(data: bytes, schema: pl.Schema) -> pl.DataFrame:
    return pl.scan_ndjson(data, schema=schema).collect()


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


def _in_parallel(parse: Callable[[Chunk], T], chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, T]]:
    """Parse chunks on a few threads, yielding results in input order with a bounded number in flight."""
    with ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="aiobs-parse") as pool:
        pending: deque[tuple[Chunk, Future[T]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(parse, chunk)))
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
) -> Ingested:
    """Read every source into a bucketed event store; never raises on bad lines.

    Each source's format is `input_format` when given, else detected from its first lines
    (`aiobs.formats.frame_source`); one parser per format serves every source in it.
    """
    issues = issues if issues is not None else IssueLog()
    forced = check_input_format(input_format)
    n = n_buckets if n_buckets is not None else bucket_count(sources)
    store = BucketStore(n, Path(tempfile.mkdtemp(prefix="aiobs-")) if n > 1 else None)
    parsers: dict[str, EventParser] = {DEFAULT_FORMAT: ChunkParser(mapping, issues)}
    events = 0
    read = 0
    for source in sources:
        name, chunks = frame_source(_chunks(source, issues), issues, forced)
        if name not in parsers:
            parsers[name] = make_parser(name, mapping, issues)
        parser = parsers[name]

        def parse_and_split(chunk: Chunk, parser: EventParser = parser) -> dict[int, pl.DataFrame]:
            return store.split(parser.events(chunk))

        for chunk, parts in _in_parallel(parse_and_split, chunks):
            events += sum(part.height for part in parts.values())
            read += len(chunk.data)
            store.add_split(parts)
            if progress is not None:
                progress(len(chunk.data))
    return Ingested(store, issues, events, read, [s.name for s in sources])


def _chunks(source: Source, issues: IssueLog) -> Iterator[Chunk]:
    try:
        yield from iter_chunks(source, issues)
    except OSError as exc:
        issues.record(InputIssue("unreadable-chunk", source.name, None, f"read failed: {exc.strerror or exc}"))
