"""The native reader: chunks of JSON lines -> canonical events, robustly, for the native format and every
logger preset.

Each chunk of whole lines is parsed by Polars in one call (the fast path). Only when Polars rejects a chunk
(one malformed line fails the whole call) is the chunk bisected until the bad lines are isolated and
classified; the good lines around them still go through Polars. Clean input therefore never touches a
per-line Python loop.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

import polars as pl

from aiobs.formats.loggers import NATIVE, Preset
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.native import NUMERIC, Reading, finish_errors, finish_timestamps, flat_schema, raw_schema, to_events
from aiobs.formats.reader import check_object_line, preview
from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.read import Chunk

#: Up to this many lines, a failing range is checked line by line with orjson (about 2 µs a line),
#: which is cheaper than more rounds of splitting.
BISECT_LINES = 2048
#: A failing range is cut into this many pieces, each parsed again.
SPLIT_WAYS = 64

_NEWLINE, _CR, _OPEN, _CLOSE = b"\n"[0], b"\r"[0], b"{"[0], b"}"[0]
_EVENT_COLUMNS = list(EVENT_SCHEMA.names())
#: Mapped fields every line of a log should fill: a path that fills only part of them is reported.
EVERY_LINE = ("correlation_id", "start", "end")


class ChunkParser:
    """Parses chunks of lines into canonical events, recording every line it cannot use.

    The reader's schema holds every spelling the mapping knows (~70 fields), but a given log uses
    few of them, and Polars parses a narrow schema about twice as fast. So the parser reads with
    the fields it has *seen*, and before each chunk asks one Aho-Corasick pass whether any unseen
    key (`"trace_id"`, ...) occurs in it; if so, the schema widens before that chunk is parsed.
    A key is therefore never skipped, whatever chunk it first appears in.
    """

    #: Native lines carry their request's ID: nothing waits for a run tree.
    resolves_tree = False

    def __init__(self, mapping: FieldMapping, issues: IssueLog, preset: Preset = NATIVE) -> None:
        self.reading = Reading.of(mapping, preset)
        self.issues = issues
        self.full = raw_schema(self.reading.all_paths())
        self.seen: set[str] = set()
        #: source -> events read, events with a status, and hits of each mapped path (`_stat_*` columns)
        self.per_source: dict[str, Counter[str]] = {}
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
            return finish_errors(finish_timestamps(to_events(raw, self.reading, schema).collect(engine="streaming")))
        except pl.exceptions.PolarsError:
            lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
            first = range(chunk.first_line, chunk.first_line + len(lines)) if numbers is None else numbers
            parsed = self._bisect(chunk.source, lines, first, schema)
            if parsed.is_empty():
                return pl.DataFrame(schema=EVENT_SCHEMA)  # nothing usable; no flag columns to count
            return finish_errors(finish_timestamps(to_events(parsed.lazy(), self.reading, schema).collect()))

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
        """Record the flagged values and orphans as issues; return the canonical events without flags and orphans."""
        flag_columns = [c for c in events.columns if c.startswith(("_bad_", "_absurd_", "_naive_", "_no_"))]
        stat_columns = [c for c in events.columns if c.startswith("_stat_")]
        orphan = pl.col("correlation_id").is_null() | (pl.col("correlation_id") == "")
        counts = events.select(
            *(pl.col(c).sum() for c in (*flag_columns, *stat_columns)), orphan.sum().alias("_orphan")
        ).row(0, named=True)
        source = events.get_column("source")[0]
        with self._lock:
            seen = self.per_source.setdefault(source, Counter())
            seen["_events"] += events.height
            seen.update({c: counts.pop(c) for c in stat_columns})
        for column, count in counts.items():
            if not count:
                continue
            mask = orphan if column == "_orphan" else pl.col(column)
            examples = events.lazy().filter(mask).head(self.issues.keep).select("source", "line").collect()
            code, message = _flag_issue(column)
            self.issues.add(code, count, [InputIssue(code, s, ln, message) for s, ln in examples.iter_rows()])
        events = events.select(_EVENT_COLUMNS)
        return events.filter(orphan.not_()) if counts["_orphan"] else events  # filtering copies every column

    def finish(self) -> None:
        """File-level issues, once every chunk was read: files with no status at all, mapped paths that
        matched nothing (or only part) of a file."""
        user: dict[str, list[str]] = {}
        for name, path in self.reading.user_paths():
            user.setdefault(name, []).append(path.path)
        for source, seen in self.per_source.items():
            events = seen["_events"]
            if events and not seen["_stat_status"]:
                message = (
                    f"none of its {events:,} events has a status, level, HTTP status or error field, so none can "
                    "count as failed: map one with --map status=FIELD (or level, http_status, error; see aiobs inspect)"
                )
                self.issues.add("unknown-status", events, [InputIssue("unknown-status", source, None, message)])
            for stat, hits in seen.items():
                if stat.startswith("_stat_assumed:") and hits:
                    _, canonical, path, scale = stat.split(":")
                    unit = {"1000": "seconds", "0.001": "microseconds", "1e-06": "nanoseconds"}.get(scale, "ms")
                    message = (
                        f"{canonical} read from `{path}` as {unit} on {hits:,} of {events:,} events (its name does "
                        f"not say its unit); if it is milliseconds: --map {canonical}={path}:ms"
                    )
                    self.issues.add("assumed-unit", hits, [InputIssue("assumed-unit", source, None, message)])
            for canonical, paths in user.items():
                hits = seen[f"_stat_path_{canonical}"]
                # Only the fields every line should have say "partial": a duration or a model is on some lines.
                if hits == events or (hits and canonical not in EVERY_LINE):
                    continue
                code = "unmatched-mapping" if hits == 0 else "partial-mapping"
                share = f"{hits / events:.1%}" if hits else "0%"
                message = f"{canonical} = {' | '.join(paths)} matched {hits:,} of {events:,} events ({share})"
                self.issues.add(code, 1, [InputIssue(code, source, None, message)])


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
    if column == "_no_time":
        return "no-timestamp", "no timestamp: the event is not placed in time; map one with --map start=FIELD"
    if column.startswith("_naive_"):
        return "naive-timestamp", "timestamp has no time zone: read as UTC"
    name = column.removeprefix("_bad_").removeprefix("_absurd_")
    if column.startswith("_absurd_"):
        return "invalid-duration", f"{name} is negative or longer than a day"
    if name in ("start", "end"):
        return (
            "invalid-timestamp",
            "timestamp is not ISO-8601 or epoch s/ms/us/ns (see --time-format), or not in 1970-2099",
        )
    if name in ("status", "level", "http_status", "event"):
        return (
            "wrong-type",
            f"{name} is an object or array, not a word or code (the event's status is not read from it)",
        )
    if name == "feedback_score":
        return "wrong-type", "feedback is neither a score from 0 to 1 nor a thumbs word (up/down, true/false)"
    kind = "a whole number >= 0" if NUMERIC[name] == pl.Int64() else "a number >= 0"
    return "wrong-type", f"{name} is not {kind}"


def _read(data: bytes, schema: pl.Schema) -> pl.DataFrame:
    return pl.scan_ndjson(data, schema=schema).collect()
