"""What every adapter shares: read a chunk of lines robustly, then count flags and drop non-events.

An adapter says how to read lines into a raw frame (`read`, one row per non-blank line) and how to turn
that frame into canonical events (`to_events`). `AdapterParser` does the rest, the same way for every
format: the whole chunk goes through the adapter's fast reader in one call; only when that fails are
the lines checked one by one with orjson (bad JSON, not an object, invalid UTF-8 are recorded with
file and line), and the good ones read again together, halving the set until a line the reader cannot
use is isolated and recorded. Clean input therefore never loops over lines in Python.

`to_events` may mark rows that are not events: `_drop` holds an issue code (`skipped-record`,
`unknown-record`) and `_drop_message` the example's text. Those rows, the `_bad_*` / `_absurd_*` flags
and events without a correlation ID are counted here and removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import orjson
import polars as pl
import pyarrow as pa

from aiobs.formats.adapter_exprs import ENGINE
from aiobs.formats.lines import OBJECT, line_table, sort_out_lines
from aiobs.issues import InputIssue, IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.read import Chunk

#: Errors a reader raises on input it cannot read as a whole (Polars' and pyarrow's).
READ_ERRORS: tuple[type[Exception], ...] = (pl.exceptions.PolarsError, pa.ArrowInvalid, pa.ArrowTypeError)

_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class Adapter(Protocol):
    #: The name users pass to `--input-format`.
    name: str

    def read(self, data: bytes, *, lenient: bool) -> pl.DataFrame:
        """One row per non-blank line of `data` (JSON objects, one a line). May raise one of READ_ERRORS.

        `lenient=False` is the fast path; `lenient=True` is asked for only after it failed, and should
        accept every shape the format allows (wider types, values read as JSON text).
        """
        ...

    def to_events(self, raw: pl.DataFrame, source: str) -> pl.LazyFrame:
        """The raw rows (with a `line` column) as canonical events plus flag columns."""
        ...


class _RowCountMismatch(Exception):
    """The reader returned a different number of rows than the chunk has lines (two objects on a line)."""


#: What sends a read on to the lenient read, then to reading the lines apart.
_RETRY_ERRORS: tuple[type[Exception], ...] = (*READ_ERRORS, _RowCountMismatch)


def line_numbers(data: bytes, first_line: int, issues: IssueLog | None = None, source: str = "") -> pl.Series:
    """1-based numbers of the non-blank lines of `data` (readers skip blank lines); blank ones are counted
    in `issues` when given."""
    table = line_table(data)
    if not table.filter(pl.col("kind") != OBJECT).height:
        return pl.int_range(first_line, first_line + table.height, dtype=pl.Int64, eager=True)
    _, numbers = sort_out_lines(
        data, table, keep=lambda text, index: True, issues=issues, source=source, first_line=first_line
    )
    return numbers


def preview(text: bytes, limit: int = 60) -> str:
    shown = text[:limit].decode("utf-8", errors="replace")
    return repr(shown + ("…" if len(text) > limit else ""))


def check_object_line(issues: IssueLog, source: str, text: bytes, line: int) -> bytes | None:
    """The line (repaired if its UTF-8 was invalid) when it is a JSON object; else record why not."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        issues.record(InputIssue("invalid-utf8", source, line, f"invalid UTF-8 at byte {exc.start}"))
        text = text.decode("utf-8", errors="replace").encode("utf-8")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        issues.record(InputIssue("invalid-json", source, line, f"{exc}; line starts {preview(text)}"))
        return None
    if not isinstance(value, dict):
        message = f"a JSON {_JSON_TYPES.get(type(value), 'value')}, not an object: {preview(text)}"
        issues.record(InputIssue("not-an-object", source, line, message))
        return None
    return text


class AdapterParser:
    """`events(chunk)` for one adapter, recording every line it cannot use. Safe to call from several threads."""

    def __init__(self, adapter: Adapter, issues: IssueLog) -> None:
        self.adapter = adapter
        self.issues = issues

    def events(self, chunk: Chunk) -> pl.DataFrame:
        raw = self.read(chunk)
        if raw.is_empty():
            return pl.DataFrame(schema=EVENT_SCHEMA)
        events = self.adapter.to_events(raw, chunk.source).collect(engine=ENGINE)
        return count_flags(events, self.issues, keep_runs=self.resolves_tree)

    def events_of_batch(self, chunks: Sequence[Chunk]) -> pl.DataFrame:
        """One chunk after another: an adapter's events carry one source name per call."""
        frames = [self.events(chunk) for chunk in chunks]
        return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=EVENT_SCHEMA)

    def finish(self) -> None:
        """Nothing to judge per file: an adapter's format says where everything is."""

    def file_tallies(self) -> dict[str, Counter[str]]:
        return {}

    def add_file_tallies(self, tallies: dict[str, Counter[str]]) -> None:
        """Nothing to add up: see `finish`."""

    @property
    def resolves_tree(self) -> bool:
        return bool(getattr(self.adapter, "resolves_tree", False))

    def read(self, chunk: Chunk) -> pl.DataFrame:
        """The chunk's rows with their line numbers; bad lines recorded and left out."""
        counted = self.issues if chunk.count_blank else None
        numbers = line_numbers(chunk.data, chunk.first_line, counted, chunk.source)
        if numbers.is_empty():
            return pl.DataFrame()
        for lenient in (False, True):
            try:
                return self._numbered(self.adapter.read(chunk.data, lenient=lenient), numbers)
            except _RETRY_ERRORS:
                continue
        return self._salvage(chunk)

    def _numbered(self, frame: pl.DataFrame, numbers: pl.Series | list[int]) -> pl.DataFrame:
        if frame.height != len(numbers):
            raise _RowCountMismatch
        return frame.with_columns(line=pl.Series(numbers, dtype=pl.Int64))

    def _salvage(self, chunk: Chunk) -> pl.DataFrame:
        """Check each line with orjson, then read the good ones, halving until each bad line is isolated."""
        good: list[tuple[bytes, int]] = []
        for index, text in enumerate(chunk.data.split(b"\n")):
            if text.strip():
                checked = check_object_line(self.issues, chunk.source, text, chunk.first_line + index)
                if checked is not None:
                    good.append((checked, chunk.first_line + index))
        frames = self._read_lines(chunk.source, good)
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def _read_lines(self, source: str, lines: list[tuple[bytes, int]]) -> list[pl.DataFrame]:
        if not lines:
            return []
        try:
            frame = self.adapter.read(b"\n".join(text for text, _ in lines) + b"\n", lenient=True)
            return [self._numbered(frame, [n for _, n in lines])]
        except _RETRY_ERRORS:
            if len(lines) > 1:
                half = len(lines) // 2
                return self._read_lines(source, lines[:half]) + self._read_lines(source, lines[half:])
        text, number = lines[0]
        message = f"a field has a JSON type the {self.adapter.name} format does not allow: {preview(text)}"
        self.issues.record(InputIssue("wrong-type", source, number, message))
        return []


#: flag column -> (issue code, message); `{field}` is replaced by the canonical field's name.
FLAG_ISSUES: dict[str, tuple[str, str]] = {
    "_bad_start": ("invalid-timestamp", "start time cannot be read as a timestamp, or is not in 1970-2099"),
    "_absurd_duration_ms": ("invalid-duration", "duration is negative or longer than a day"),
    "_absurd_ttft_ms": ("invalid-duration", "time to first token is negative or longer than a day"),
}
_INTEGER_FIELDS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens", "attempt")


def _flag_issue(column: str) -> tuple[str, str]:
    if column in FLAG_ISSUES:
        return FLAG_ISSUES[column]
    name = column.removeprefix("_bad_").removeprefix("_absurd_")
    kind = "a whole number >= 0" if name in _INTEGER_FIELDS else "a number >= 0"
    return "wrong-type", f"{name} is not {kind} (value ignored)"


def count_flags(events: pl.DataFrame, issues: IssueLog, *, keep_runs: bool = False) -> pl.DataFrame:
    """Record flags, non-event rows and orphans as issues; return the canonical events alone.

    With `keep_runs`, an event without a correlation ID but with an event ID is kept: its request is found
    from its parents once the whole input is read (aiobs.formats.run_tree).
    """
    keep = issues.keep
    if "_drop" in events.columns:
        dropped = events.filter(pl.col("_drop").is_not_null())
        if not dropped.is_empty():
            for (code,), rows in dropped.group_by("_drop", maintain_order=True):
                examples = rows.head(keep).select("source", "line", "_drop_message").iter_rows()
                issues.add(str(code), rows.height, [InputIssue(str(code), s, ln, m) for s, ln, m in examples])
            events = events.filter(pl.col("_drop").is_null())
        events = events.drop("_drop", "_drop_message")
    flag_columns = [c for c in events.columns if c.startswith(("_bad_", "_absurd_"))]
    orphan = pl.col("correlation_id").is_null() | (pl.col("correlation_id") == "")
    if keep_runs:
        orphan = orphan & pl.col("event_id").is_null()
    counts = events.select(*(pl.col(c).sum() for c in flag_columns), orphan.sum().alias("_orphan")).row(0, named=True)
    for column, count in counts.items():
        if not count:
            continue
        mask = orphan if column == "_orphan" else pl.col(column)
        if column == "_orphan":
            code, message = "missing-correlation-id", "no correlation ID (trace or request ID), not in any request"
        else:
            code, message = _flag_issue(column)
        examples = events.filter(mask).head(keep).select("source", "line").iter_rows()
        issues.add(code, count, [InputIssue(code, s, ln, message) for s, ln in examples])
    events = events.drop(flag_columns)
    return events.filter(orphan.not_()) if counts["_orphan"] else events
