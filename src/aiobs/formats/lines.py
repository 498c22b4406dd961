"""Where a chunk's lines are and which can be JSON objects, found with vectorised byte checks.

A clean chunk pays a few milliseconds for this and no per-line Python. Blank lines are counted here
(`blank-line`) and never held one by one: a file of nothing but newlines costs what its line table
costs (a few bytes a line, one chunk at a time), not a Python object per line.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import polars as pl

from aiobs.issues import InputIssue, IssueLog

_NEWLINE, _CR, _SPACE, _TAB, _OPEN, _CLOSE = (ord(c) for c in "\n\r \t{}")
#: `kind` of a line in a line table.
OBJECT, BLANK, SUSPECT = 0, 1, 2


def _bytes_series(data: bytes) -> pl.Series:
    import pyarrow as pa  # here, not at the top: only for a zero-copy byte view, and it takes ~0.3 s to import

    return pl.Series(pa.Array.from_buffers(pa.uint8(), len(data), [None, pa.py_buffer(data)]))


def line_table(data: bytes) -> pl.DataFrame:
    """One row per line of `data`: `index` (0-based), `start` and `end` byte, and `kind`.

    `kind` is OBJECT when the line starts with `{` and ends with `}` (before an optional `\\r`), BLANK
    when it is empty or a single `\\r`, space or tab, and SUSPECT otherwise (to be checked one by one:
    a cut-off write, an array, text, spaces around an object).
    """
    if not data:
        return pl.DataFrame(schema={"index": pl.UInt32, "start": pl.Int64, "end": pl.Int64, "kind": pl.UInt8})
    size = len(data)
    buf = _bytes_series(data)
    ends = (buf == _NEWLINE).arg_true().cast(pl.Int64)
    if not data.endswith(b"\n"):
        ends = ends.append(pl.Series([size], dtype=pl.Int64))
    starts = pl.concat([pl.Series([0], dtype=pl.Int64), ends.head(-1) + 1])
    # Eager gathers: the byte view as a literal inside a lazy query was copied per expression (8x slower).
    frame = pl.DataFrame(
        {
            "start": starts,
            "end": ends,
            "first": buf.gather(starts.clip(upper_bound=size - 1)),
            "last": buf.gather((ends - 1).clip(lower_bound=0)),
            "before_last": buf.gather((ends - 2).clip(lower_bound=0)),
        }
    )
    length = pl.col("end") - pl.col("start")
    closing = pl.when(pl.col("last") == _CR).then(pl.col("before_last")).otherwise(pl.col("last"))
    blank = (length == 0) | ((length == 1) & pl.col("first").is_in([_CR, _SPACE, _TAB]))
    is_object = (length > 1) & (pl.col("first") == _OPEN) & (closing == _CLOSE)
    kind = pl.when(is_object).then(OBJECT).when(blank).then(BLANK).otherwise(SUSPECT).cast(pl.UInt8)
    return frame.with_row_index("index").select("index", "start", "end", kind=kind)


def sort_out_lines(
    data: bytes,
    table: pl.DataFrame,
    *,
    keep: Callable[[bytes, int], bool],
    issues: IssueLog | None,
    source: str,
    first_line: int,
) -> tuple[bytes, pl.Series]:
    """`data` with its suspect lines that `keep(text, index)` refuses blanked out, and the 1-based numbers
    of the lines left for a reader (which skips blank lines). Blank lines are counted as `blank-line`
    in `issues`, when given.

    Refused lines are overwritten with spaces rather than cut out, so nothing is copied line by line;
    readers skip a line of spaces as they skip an empty one.
    """
    blank = table.filter(pl.col("kind") == BLANK)["index"]
    spaces, refused = array("q"), array("q")  # suspects that are only spaces; suspects refused
    suspects = table.filter(pl.col("kind") == SUSPECT).select("index", "start", "end")
    for index, start, end in suspects.iter_rows():
        text = data[start:end]
        if not text.strip():
            spaces.append(index)
        elif not keep(text, index):
            refused.append(index)
    if issues is not None:
        _count_blank_lines(issues, source, first_line, blank, spaces)
    if refused:
        buffer = bytearray(data)
        for _, start, end in suspects.filter(
            pl.col("index").is_in(pl.Series(refused, dtype=pl.UInt32).implode())
        ).iter_rows():
            buffer[start:end] = b" " * (end - start)
        data = bytes(buffer)
    left_out = pl.Series([*spaces, *refused], dtype=pl.UInt32)
    numbers = table.filter((pl.col("kind") != BLANK) & ~pl.col("index").is_in(left_out.implode()))["index"]
    return data, numbers.cast(pl.Int64) + first_line


def _count_blank_lines(issues: IssueLog, source: str, first_line: int, blank: pl.Series, spaces: array[int]) -> None:
    count = len(blank) + len(spaces)
    if count:
        # The chunk's first few, as many as the log keeps: the smallest line numbers win across chunks, so
        # a file cut in parts (aiobs.engines) keeps the examples a read of the whole file keeps.
        first = sorted([*blank.head(issues.keep).to_list(), *spaces[: issues.keep]])[: issues.keep]
        examples = [InputIssue("blank-line", source, first_line + at, "blank line, skipped") for at in first]
        issues.add("blank-line", count, examples)
