"""Rich tables read back from terminal output: is every column and value there, or said to be left out?

Piped output (the CLI runner's too) draws them in ASCII, rich's `box.ASCII`: a top border `+---+`, the
header rows, a rule `|---+---|`, the body rows, a bottom border `+---+`; a terminal's box-drawing tables
(a plain `Console` in render tests) are read as their ASCII equivalent. Its title is the line above,
its notes the lines under it up to a blank line. A cell that folds or stacks over several lines is read
down its column, so values are compared without spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def squeeze(text: str) -> str:
    return "".join(text.split())


@dataclass
class PrintedTable:
    title: str
    lines: list[str]  # from the top border to the bottom one
    headers: list[str]  # each column's header, its lines joined by a space
    columns: list[str]  # each column's cells from top to bottom, without spaces
    notes: str  # the lines under the table, joined by a space

    @property
    def widths(self) -> list[int]:
        """Each column's width inside its padding."""
        rule = next(line for line in self.lines if line.startswith("|-"))
        return [len(part) - 2 for part in rule[1:-1].split("+")]

    def left_out(self, name: str) -> bool:
        said = re.search(r"(.*) left out at \d+ columns", self.notes)
        return bool(said) and name in said.group(1)  # type: ignore[union-attr]

    def column_of(self, name: str) -> list[str]:
        """The text of the columns whose header is `name` or has it as a part (`SLO / group`)."""
        return [text for header, text in zip(self.headers, self.columns, strict=True) if name in header.split(" / ")]


def _cells(line: str, separator: str) -> list[str]:
    return line.split(separator)[1:-1]


#: rich's heavy-head box as the ASCII box it falls back to, character for character.
AS_ASCII = str.maketrans("┏┓━┳┃┡╇┩│└┘─┴", "++--||+||++--")


def printed_tables(output: str) -> list[PrintedTable]:
    lines = output.translate(AS_ASCII).splitlines()
    found = []
    top = 0
    while top < len(lines):
        if not (_is_border(lines[top]) and top + 1 < len(lines) and lines[top + 1].startswith("|")):
            top += 1
            continue
        rule = next(i for i in range(top, len(lines)) if lines[i].startswith("|-"))
        bottom = next(i for i in range(rule, len(lines)) if _is_border(lines[i]))
        end = next((i for i in range(bottom + 1, len(lines)) if not lines[i].strip()), len(lines))
        header_rows = [_cells(row, "|") for row in lines[top + 1 : rule]]
        body_rows = [_cells(row, "|") for row in lines[rule + 1 : bottom]]
        headers = [
            " ".join(" ".join(row[i].split()) for row in header_rows).strip() for i in range(len(header_rows[0]))
        ]
        columns = ["".join(squeeze(row[i]) for row in body_rows) for i in range(len(headers))]
        notes = " ".join(" ".join(row.split()) for row in lines[bottom + 1 : end])
        start = next((i + 1 for i in range(top - 1, -1, -1) if not lines[i].strip()), 0)
        title = " ".join(line.strip() for line in lines[start:top])
        found.append(PrintedTable(title, lines[top : bottom + 1], headers, columns, notes))
        top = bottom + 1
    return found


def _is_border(line: str) -> bool:
    return len(line) > 2 and line.startswith("+-") and line.endswith("-+") and set(line[1:-1]) == {"-"}


def table_titled(output: str, start: str) -> PrintedTable:
    return next(t for t in printed_tables(output) if t.title.startswith(start))


def assert_fits(output: str, width: int) -> None:
    """No line wider than the terminal, and every table's borders whole (nothing cropped at the right)."""
    too_wide = [line for line in output.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    for table in printed_tables(output):
        assert _is_border(table.lines[0]) and _is_border(table.lines[-1]), table.title
        assert len({len(line) for line in table.lines}) == 1, table.title  # every row as wide as the border


def assert_complete(table: PrintedTable, values: Mapping[str, Iterable[str]]) -> None:
    """Every column with something in it is shown (on its own or merged: `SLO / group`) or named in a
    "left out" note; every value of a shown column is in it, or in the notes under the table (footnotes)."""
    for name, column_values in values.items():
        wanted = [squeeze(value) for value in column_values if squeeze(value)]
        if not wanted or table.left_out(name):
            continue
        where = "".join(table.column_of(name)) + squeeze(table.notes)
        for value in wanted:
            assert value in where, f"{table.title}: {name} {value!r} neither shown nor said to be left out"
