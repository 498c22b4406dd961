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
from collections.abc import Callable, Sequence

import polars as pl

from aiobs.formats.lines import OBJECT, line_table, sort_out_lines
from aiobs.formats.loggers import NATIVE, Preset
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.native import NUMERIC, finish_errors, finish_timestamps, to_events
from aiobs.formats.native_paths import Reading, flat_schema, raw_schema
from aiobs.formats.reader import check_object_line, preview
from aiobs.formats.timestamps import in_zone
from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.read import Chunk

#: Up to this many lines, a failing range is checked line by line with orjson (about 2 µs a line),
#: which is cheaper than more rounds of splitting.
BISECT_LINES = 2048
#: A failing range is cut into this many pieces, each parsed again.
SPLIT_WAYS = 64

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

    def events_of_batch(self, chunks: Sequence[Chunk]) -> pl.DataFrame:
        """Canonical events of several small chunks (of different sources), parsed in one query.

        A query costs Polars about 10 ms to plan whatever its size, so a folder of 5,000 files of a few KB
        would spend its time planning. The batch is one query when every line of every chunk is an object
        line and Polars reads them all; otherwise it is halved until each chunk with a bad line takes the
        careful path on its own, so bad lines are recorded exactly as they would be file by file.
        """
        if len(chunks) == 1:
            return self.events(chunks[0])
        parsed = self._parse_batch(chunks)
        if parsed is None:
            half = len(chunks) // 2
            halves = [self.events_of_batch(part) for part in (chunks[:half], chunks[half:])]
            return pl.concat([h.select(_EVENT_COLUMNS) for h in halves if not h.is_empty()] or [halves[0]])
        return self.count_flags(parsed) if not parsed.is_empty() else parsed

    def _parse_batch(self, chunks: Sequence[Chunk]) -> pl.DataFrame | None:
        """The batch's events with flag columns, or None when a chunk has a line that is not an object or
        Polars rejects the batch."""
        data = b"".join(c.data if c.data.endswith(b"\n") else c.data + b"\n" for c in chunks)
        counts = [c.data.count(b"\n") + (not c.data.endswith(b"\n")) for c in chunks]
        lines = line_table(data)
        if lines.height != sum(counts) or lines.filter(pl.col("kind") != OBJECT).height:
            return None
        del lines
        where = pl.DataFrame(
            {"source": [c.source for c in chunks], "first": [c.first_line for c in chunks], "n": counts}
        ).select(
            pl.col("source").repeat_by("n").explode(),
            pl.int_ranges("first", pl.col("first") + pl.col("n"), dtype=pl.Int64).explode().alias("line"),
        )
        row = pl.col("line")
        return self._convert(
            data,
            self._widen_for(data),
            source=pl.lit(where.get_column("source")).gather(row),
            line=pl.lit(where.get_column("line")).gather(row),
        )

    def _convert(self, data: bytes, schema: pl.Schema, *, source: pl.Expr, line: pl.Expr) -> pl.DataFrame | None:
        """The lines of `data` (object lines only) as canonical events with flag columns; None when Polars
        rejects them as a whole. `source` and `line` are computed from `line`, the 0-based row index."""
        scan = pl.scan_ndjson(data, schema=schema, row_index_name="line", row_index_offset=0)
        raw = scan.with_columns(source=source, line=line)
        try:
            events = finish_timestamps(to_events(raw, self.reading, schema).collect(engine="streaming"))
            return finish_errors(in_zone(events, self.reading.timezone))
        except pl.exceptions.PolarsError:
            return None

    def parse(self, chunk: Chunk) -> pl.DataFrame:
        """Canonical events of the chunk, with the `_bad_*` flag columns that `count_flags` consumes.

        The fast path parses and converts in one query. Lines that cannot be objects (they do not start
        with `{` and end with `}`: cut-off writes, arrays, blank lines) are found first with vectorised
        byte checks (aiobs.formats.lines) and blanked out, so one truncated line does not cost a failed
        parse of the chunk; only
        a chunk Polars still rejects is bisected. Safe to call from several threads: Polars releases the
        GIL, so chunks parse side by side.
        """
        schema = self._widen_for(chunk.data)
        data, numbers = chunk.data, None
        lines = line_table(data)
        if lines.filter(pl.col("kind") != OBJECT).height:
            data, numbers = sort_out_lines(
                data,
                lines,
                keep=self._checker(chunk),
                issues=self.issues if chunk.count_blank else None,
                source=chunk.source,
                first_line=chunk.first_line,
            )
            if numbers.is_empty():
                return pl.DataFrame(schema=EVENT_SCHEMA)
        del lines
        if numbers is None:
            line = pl.col("line").cast(pl.Int64) + chunk.first_line
        else:
            line = pl.lit(numbers).gather(pl.col("line"))
        converted = self._convert(data, schema, source=pl.lit(chunk.source), line=line)
        if converted is None:
            # Every line, blank ones too (the bisection skips them), so a line's number is its position.
            texts = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
            parsed = self._bisect(chunk.source, texts, range(chunk.first_line, chunk.first_line + len(texts)), schema)
            if parsed.is_empty():
                return pl.DataFrame(schema=EVENT_SCHEMA)  # nothing usable; no flag columns to count
            events = finish_timestamps(to_events(parsed.lazy(), self.reading, schema).collect())
            return finish_errors(in_zone(events, self.reading.timezone))
        return converted

    def _checker(self, chunk: Chunk) -> Callable[[bytes, int], bool]:
        """Whether a suspect line (0-based `index` in the chunk) is a JSON object; if not, why is recorded."""

        def keep(text: bytes, index: int) -> bool:
            return check_object_line(self.issues, chunk.source, text, chunk.first_line + index) is not None

        return keep

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
        counts = events.select(*(pl.col(c).sum() for c in flag_columns), orphan.sum().alias("_orphan")).row(
            0, named=True
        )
        # Per source: a batch of small files is one frame (events_of_batch).
        tallies = events.group_by("source").agg(pl.len().alias("_events"), *(pl.col(c).sum() for c in stat_columns))
        with self._lock:
            for tally in tallies.iter_rows(named=True):
                seen = self.per_source.setdefault(tally.pop("source"), Counter())
                seen.update(tally)
        for column, count in counts.items():
            if not count:
                continue
            mask = orphan if column == "_orphan" else pl.col(column)
            examples = events.lazy().filter(mask).head(self.issues.keep).select("source", "line").collect()
            code, message = _flag_issue(column, self.reading.timezone)
            self.issues.add(code, count, [InputIssue(code, s, ln, message) for s, ln in examples.iter_rows()])
        events = events.select(_EVENT_COLUMNS)
        return events.filter(orphan.not_()) if counts["_orphan"] else events  # filtering copies every column

    def file_tallies(self) -> dict[str, Counter[str]]:
        with self._lock:
            return {source: Counter(seen) for source, seen in self.per_source.items()}

    def add_file_tallies(self, tallies: dict[str, Counter[str]]) -> None:
        with self._lock:
            for source, seen in tallies.items():
                self.per_source.setdefault(source, Counter()).update(seen)

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
                    _, canonical, field, scale = stat.split(":")
                    unit = {"1000": "seconds", "0.001": "microseconds", "1e-06": "nanoseconds"}.get(scale, "ms")
                    message = (
                        f"{canonical} read from `{field}` as {unit} on {hits:,} of {events:,} events (its name does "
                        f"not say its unit); if it is milliseconds: --map {canonical}={field}:ms"
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
                if not hits:  # a misspelt key, most often: the file's own keys are one command away
                    message += f"; aiobs inspect {source} lists the keys it has"
                self.issues.add(code, 1, [InputIssue(code, source, None, message)])


def _flag_issue(column: str, timezone: str | None = None) -> tuple[str, str]:
    if column == "_orphan":
        return "missing-correlation-id", "no correlation ID (request_id, trace_id, ...); map one with --map"
    if column == "_no_time":
        return "no-timestamp", "no timestamp: the event is not placed in time; map one with --map start=FIELD"
    if column.startswith("_naive_"):
        if timezone is not None:
            return "naive-timestamp", f"timestamp has no time zone: read as {timezone} time (--timezone)"
        return "naive-timestamp", "timestamp has no time zone: read as UTC (--timezone ZONE if it is local time)"
    if column == "_bad_zone_start":
        return (
            "invalid-timestamp",
            f"a wall time that {timezone} skips (its clocks jump forward over it): no such instant",
        )
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
