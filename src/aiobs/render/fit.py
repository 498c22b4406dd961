"""Rich tables that fit the terminal: nothing cut, cropped or shortened without a word.

A table is offered as layouts, widest first (one column per value, then stacked cells, notes as
footnotes, columns merged or moved to a second table). The first layout whose label columns reach
their minimum width is shown; if none fits, low-priority columns are dropped and a note names them
and where to see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rich.cells import cell_len
from rich.console import Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass(frozen=True)
class Col:
    """A column: numbers never wrap; a label or text column (`wrap`) folds between its (min, max) widths."""

    name: str
    wrap: tuple[int, int] | None = None
    right: bool = False
    header: str = ""  # shown instead of the name (a period stacked on two lines); notes use the name
    prose: bool = False  # sentences wrap at spaces: widened only once the labels are whole


@dataclass
class Layout:
    """One way to lay a table out; `after` is printed under it (footnotes, a legend, a second table)."""

    columns: list[Col]
    rows: list[list[Cell]]
    after: list[RenderableType] = field(default_factory=list)

    def without(self, name: str) -> Layout:
        i = next(i for i, c in enumerate(self.columns) if c.name == name)
        rows = [row[:i] + row[i + 1 :] for row in self.rows]
        return replace(self, columns=self.columns[:i] + self.columns[i + 1 :], rows=rows)


def _longest(cell: Cell) -> int:
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _natural(layout: Layout) -> list[int]:
    return [
        max([_longest(c.header or c.name), *(_longest(row[i]) for row in layout.rows)])
        for i, c in enumerate(layout.columns)
    ]


def _longest_words(layout: Layout) -> list[int]:
    def longest(cell: Cell) -> int:
        text = cell.plain if isinstance(cell, Text) else cell
        return max((cell_len(word) for word in text.split()), default=0)

    return [max((longest(row[i]) for row in layout.rows), default=0) for i in range(len(layout.columns))]


def _floors(layout: Layout, natural: list[int]) -> list[int]:
    return [n if c.wrap is None else min(n, c.wrap[0]) for c, n in zip(layout.columns, natural, strict=True)]


def _outside(n_columns: int) -> int:
    """Borders and padding: `│ a │ b │` is the cells, 3 characters per column, and 1."""
    return 3 * n_columns + 1


def needed_width(layout: Layout) -> int:
    """Columns at their natural width (label columns at their minimum), with borders and padding."""
    floors = _floors(layout, _natural(layout))
    return sum(floors) + _outside(len(floors))


def allot(layout: Layout, width: int) -> list[int] | None:
    """A width per column so the table fits `width`, or None when a label column would go below its minimum.

    Numbers keep their natural width. The label and prose columns share what is left: first so that no
    word of a label folds, then for the prose, then for whole labels (the narrowest widened first).
    """
    natural = _natural(layout)
    widths = _floors(layout, natural)
    spare = width - sum(widths) - _outside(len(widths))
    if spare < 0:
        return None
    words = _longest_words(layout)
    labels = [i for i, c in enumerate(layout.columns) if c.wrap is not None and not c.prose]
    prose = [i for i, c in enumerate(layout.columns) if c.prose]
    cap = {i: min(natural[i], c.wrap[1]) for i, c in enumerate(layout.columns) if c.wrap is not None}
    # No word folds while there is room; then sentences get room; then labels stop wrapping at spaces.
    spare = _widen(widths, {i: min(words[i], cap[i]) for i in labels}, spare)
    spare = _widen(widths, {i: cap[i] for i in prose}, spare)
    _widen(widths, {i: cap[i] for i in labels}, spare)
    return widths


def _widen(widths: list[int], wants: dict[int, int], spare: int) -> int:
    """Widen the columns in `wants`: whole ones first, cheapest first, then the narrowest a character at a
    time. Returns what is left of `spare`."""
    for i in sorted(wants, key=lambda i: wants[i] - widths[i]):
        need = wants[i] - widths[i]
        if need > spare:
            break
        if need > 0:
            widths[i], spare = wants[i], spare - need
    while spare > 0:
        growing = [i for i, want in wants.items() if widths[i] < want]
        if not growing:
            break
        widths[min(growing, key=lambda i: widths[i])] += 1
        spare -= 1
    return spare


def and_list(names: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def left_out_note(names: Sequence[str], width: int, elsewhere: str) -> Text:
    """`p50 ms and accepted left out at 80 columns; widen the terminal or use --format json.`"""
    return Text(f"{and_list(names)} left out at {width} columns; widen the terminal or {elsewhere}.", style="dim")


def footnotes(notes: Sequence[str]) -> tuple[list[str], list[RenderableType]]:
    """A marker per note (`[1]`; "" for no note, the same note the same marker) and the lines explaining them."""
    numbers: dict[str, int] = {}
    for note in notes:
        if note:
            numbers.setdefault(note, len(numbers) + 1)
    markers = [f"[{numbers[note]}]" if note else "" for note in notes]
    return markers, [Text(f"[{n}] {note}", style="dim") for note, n in numbers.items()]


def make_table(title: str, layout: Layout, widths: Sequence[int]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold cyan")
    for column, width in zip(layout.columns, widths, strict=True):
        justify: JustifyMethod = "right" if column.right else "left"
        if column.wrap is None:
            table.add_column(Text(column.header or column.name), justify=justify, no_wrap=True)
        else:
            table.add_column(Text(column.header or column.name), justify=justify, overflow="fold", width=width)
    for row in layout.rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    return table


def fit_table(
    title: str, layouts: Sequence[Layout], *, width: int, droppable: Sequence[str] = (), elsewhere: str
) -> Group:
    """The first layout that fits `width`; else the last one, without `droppable` columns (in order) as
    needed, and a note that names them and `elsewhere` (where to see them)."""
    for layout in layouts:
        widths = allot(layout, width)
        if widths is not None:
            return Group(make_table(title, layout, widths), *layout.after)
    narrowest, dropped = _dropping(layouts[-1], width, droppable)
    notes: list[RenderableType] = [left_out_note(dropped, width, elsewhere)] if dropped else []
    fitted = allot(narrowest, width)
    if fitted is None:  # narrower than the narrowest layout: say so rather than let the edge go unnoticed
        need = needed_width(narrowest)
        fitted = allot(narrowest, need) or []
        said = f"This table needs {need} columns, {width} are available: widen the terminal or {elsewhere}."
        notes.append(Text(said, style="dim"))
    return Group(make_table(title, narrowest, fitted), *narrowest.after, *notes)


def _dropping(layout: Layout, width: int, droppable: Sequence[str]) -> tuple[Layout, list[str]]:
    """`layout` without the first of `droppable` (in order) it takes to fit, and their names."""
    dropped: list[str] = []
    for name in droppable:
        if allot(layout, width) is not None:
            break
        if any(c.name == name for c in layout.columns):
            layout = layout.without(name)
            dropped.append(name)
    return layout, dropped


def table_width(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    columns: Sequence[int],
    *,
    n_labels: int,
    label_width: tuple[int, int],
) -> int:
    """Width of `columns` with numbers whole and labels between `label_width`, borders and padding included.

    A header may be stacked on lines (`tokens` over `in`): its widest line counts."""
    low, high = label_width
    total = 1
    for i in columns:
        longest = max(cell_len(line) for c in [header[i], *(row[i] for row in rows)] for line in c.split("\n"))
        total += (min(max(longest, low), high) if i < n_labels else longest) + 3
    return total


def fit_columns(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    n_labels: int,
    width: int,
    droppable: Sequence[str],
    omit: Sequence[str] = (),
    label_width: tuple[int, int] = (12, 30),
) -> list[int]:
    """Indexes of the columns to show so the table fits `width`, dropping `droppable` ones in order as needed.

    Numbers never wrap, and rich shortens a no-wrap cell to "13,5…" or crops the right-hand columns
    of a table wider than the terminal: dropping a low-priority column is better than a wrong number.
    The first `n_labels` columns are labels that fold between `label_width` characters.
    """
    shown = [i for i, name in enumerate(header) if name not in omit]
    for name in droppable:
        if table_width(header, rows, shown, n_labels=n_labels, label_width=label_width) <= width:
            break
        shown = [i for i in shown if header[i] != name]
    return shown
