"""A table as a medium-neutral spec: title, typed columns, rows of typed values, notes.

Cells keep their values (an int, a float, a string from the logs, None for "no value"): each writer
formats a number for its medium and escapes a label for its medium, so neither formatting nor
escaping happens twice, or not at all, on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

#: What a column holds, which decides how each medium formats and aligns it: `label` (a value from the
#: logs that names a row: model, route; folds when long), `count` (an integer), `percent` (a ratio,
#: 0.25 is 25%), `ms` (milliseconds), `usd` (US dollars), `text` (a sentence, left-aligned), `alert` (a
#: count that writers stress when it is not zero: anomalies on a day).
Kind = Literal["label", "count", "percent", "ms", "usd", "text", "alert"]
NUMERIC_KINDS: frozenset[str] = frozenset({"count", "percent", "ms", "usd", "alert"})


@dataclass(frozen=True)
class Rough:
    """A percentile from too few requests above it: writers mark it (`*`) and the thin-note explains it.

    A wrapper rather than a flag on the row, because the roughness belongs to one cell (p99 may be
    rough where p50 of the same row is not)."""

    value: float | None


#: One cell: None is "no value" (shown as a dash), never zero.
Cell = str | int | float | Rough | None


@dataclass(frozen=True)
class ColumnSpec:
    """One column. `short` is the header where room is short (the terminal's `req` for `requests`);
    `compact=False` columns are left out of a compact table (the terminal's) and kept in full ones."""

    name: str
    kind: Kind
    short: str = ""
    compact: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def header(self) -> str:
        """The compact header: `short` when there is one."""
        return self.short or self.name


@dataclass(frozen=True)
class TableSpec:
    """A table to show. `notes` are aiobs's own sentences printed under it (coverage, what is hidden);
    `drop_order` names the columns a narrow medium leaves out first, in order, naming them in a note."""

    title: str
    columns: tuple[ColumnSpec, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    drop_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                msg = f"a row of {self.title!r} has {len(row)} cells for {len(self.columns)} columns"
                raise ValueError(msg)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> list[Cell]:
        """The cells of the column called `name`, top to bottom."""
        i = self.names.index(name)
        return [row[i] for row in self.rows]

    def keep(self, names: Sequence[str]) -> TableSpec:
        """The same table with only the columns in `names` (in the table's order)."""
        kept = [i for i, c in enumerate(self.columns) if c.name in names]
        return replace(
            self,
            columns=tuple(self.columns[i] for i in kept),
            rows=tuple(tuple(row[i] for i in kept) for row in self.rows),
            drop_order=tuple(n for n in self.drop_order if n in names),
        )

    def compact(self) -> TableSpec:
        """The columns a compact medium shows (the terminal): those not marked `compact=False`."""
        return self.keep([c.name for c in self.columns if c.compact])


def table(
    title: str,
    columns: Sequence[ColumnSpec],
    rows: Sequence[Sequence[Cell]],
    *,
    notes: Sequence[str] = (),
    drop_order: Sequence[str] = (),
) -> TableSpec:
    """A TableSpec from lists (the views build rows as lists; the spec stores tuples, so it is immutable)."""
    return TableSpec(title, tuple(columns), tuple(tuple(r) for r in rows), tuple(notes), tuple(drop_order))
