"""Writers of a `TableSpec` (aiobs.views.tables): a rich table, a Markdown table, cells for the HTML template.

One writer per medium, each doing the two things a medium owns: formatting a typed cell (`cell_text`,
shared) and making log text inert (terminal: control characters shown as escapes; Markdown:
`markdown_cell`; HTML: the template's autoescape, through its `spec_table` macro). What a table holds
is decided once, in `aiobs.views`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from aiobs.escape import markdown_cell, markdown_text, terminal_text
from aiobs.render import numbers as f
from aiobs.render.fit import fit_columns, left_out_note, table_width
from aiobs.views.tables import Cell, ColumnSpec, Rough, TableSpec

#: A terminal label is cut at this many characters (the Markdown at 80, HTML at the report's cap).
TERMINAL_LABEL_CHARS = 40
#: Labels are never longer than this in a terminal, even when a shorter cut would make two look alike.
MAX_LABEL_CHARS = 1000
MARKDOWN_LABEL_CHARS = 80


def cell_text(cell: Cell, column: ColumnSpec, *, mark_rough: bool = True) -> str:
    """A cell as text, unescaped: a number formatted for its kind, a rough one with `*`, no value as `—`."""
    rough = isinstance(cell, Rough)
    value = cell.value if isinstance(cell, Rough) else cell
    if value is None:
        return "—"
    if not column.numeric or isinstance(value, str):
        return str(value)
    return _number(column, value) + ("*" if rough and mark_rough else "")


def _number(column: ColumnSpec, value: float) -> str:
    if column.kind in ("count", "alert"):
        return f.count(int(value))
    if column.kind == "percent":
        return f.pct(value)
    return f.ms(value) if column.kind == "ms" else f.usd(value)


def is_alert(cell: Cell, column: ColumnSpec) -> bool:
    """The HTML template shows a non-zero alert count as a pill."""
    return column.kind == "alert" and bool(cell)


def is_rough(cell: Cell) -> bool:
    """The HTML template marks a rough figure with its own element (a `*` with a tooltip)."""
    return isinstance(cell, Rough) and cell.value is not None


def _leading_labels(spec: TableSpec) -> int:
    return next((i for i, c in enumerate(spec.columns) if c.kind != "label"), len(spec.columns))


def _rich_table(spec: TableSpec, label_width: tuple[int, int], headers: Sequence[str]) -> Table:
    table = Table(title=spec.title, title_justify="left", title_style="bold", header_style="bold cyan")
    low, high = label_width
    for column, header in zip(spec.columns, headers, strict=True):
        if column.numeric:
            table.add_column(header, justify="right", no_wrap=True)
        elif column.kind == "label":  # labels from the logs may be long: fold them rather than squeeze the numbers
            table.add_column(header, justify="left", overflow="fold", min_width=low, max_width=high)
        else:
            table.add_column(header, justify="left", overflow="fold")
    return table


def terminal_table(
    spec: TableSpec,
    *,
    width: int,
    elsewhere: str = "use --format md or json",
    label_width: tuple[int, int] = (16, 30),
    label_chars: int = TERMINAL_LABEL_CHARS,
) -> RenderableType:
    """The compact columns of `spec` as a rich table that fits `width`.

    Columns in the spec's `drop_order` are left out as needed (render.fit: a cropped number would be
    wrong), and a note names them and `elsewhere`; the spec's notes follow, dim. Labels are cut at
    `label_chars` (TERMINAL_LABEL_CHARS unless a table's labels carry more, as a model with its stages
    does) and their control characters shown as escapes.
    """
    spec = spec.compact()
    limit = _label_limit(spec, label_chars)
    text = [
        [_terminal_cell(cell, column, limit) for cell, column in zip(row, spec.columns, strict=True)]
        for row in spec.rows
    ]
    plain = [[cell.plain if isinstance(cell, Text) else cell for cell in row] for row in text]
    n_labels = _leading_labels(spec)
    headers = _headers(spec, plain, n_labels=n_labels, width=width, label_width=label_width)
    droppable = [headers[i] for name in spec.drop_order for i, c in enumerate(spec.columns) if c.name == name]
    shown = fit_columns(headers, plain, n_labels=n_labels, width=width, droppable=droppable, label_width=label_width)
    table = _rich_table(spec.keep([spec.columns[i].name for i in shown]), label_width, [headers[i] for i in shown])
    for row in text:
        table.add_row(*(row[i] for i in shown))
    dropped = [spec.columns[i].header for i in range(len(headers)) if i not in shown]
    notes = [left_out_note(dropped, width, elsewhere)] if dropped else []
    notes += [Text(terminal_text(note, 400), style="dim") for note in spec.notes]
    return Group(table, *notes) if notes else table


def _headers(
    spec: TableSpec, plain: list[list[str]], *, n_labels: int, width: int, label_width: tuple[int, int]
) -> list[str]:
    """The column headers, a number's stacked on two lines when the table is too wide for them on one.

    `tokens in` over a column of 5-digit counts takes 9 columns, `tokens` / `in` 6: the labels get the
    room, so a model name folds less and fewer columns are left out."""
    headers = [c.header for c in spec.columns]
    every = list(range(len(headers)))
    if table_width(headers, plain, every, n_labels=n_labels, label_width=label_width) <= width:
        return headers
    return [_stacked(h, [row[i] for row in plain]) if spec.columns[i].numeric else h for i, h in enumerate(headers)]


def _stacked(header: str, cells: Sequence[str]) -> str:
    """`share in the tail` as `share in` over `the tail`, when its cells are narrower than it."""
    words = header.split(" ")
    if len(words) < 2 or max((cell_len(c) for c in cells), default=0) >= cell_len(header):
        return header
    halves = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    top, bottom = min(halves, key=lambda pair: max(cell_len(pair[0]), cell_len(pair[1])))
    return f"{top}\n{bottom}"


def _label_limit(spec: TableSpec, first: int = TERMINAL_LABEL_CHARS) -> int:
    """`first` (TERMINAL_LABEL_CHARS), or more when cutting there would make two different rows' labels look alike
    (`/api/v2/organizations/{org_id}/projects/…/alpha` and `…/beta`); they fold instead."""
    labels = [i for i, column in enumerate(spec.columns) if not column.numeric]
    for limit in sorted({first, max(first, 4 * TERMINAL_LABEL_CHARS), MAX_LABEL_CHARS}):
        keys = {tuple(terminal_text(cell_text(row[i], spec.columns[i]), limit) for i in labels) for row in spec.rows}
        if len(keys) == len({tuple(cell_text(row[i], spec.columns[i]) for i in labels) for row in spec.rows}):
            return limit
    return MAX_LABEL_CHARS


def _terminal_cell(cell: Cell, column: ColumnSpec, limit: int = TERMINAL_LABEL_CHARS) -> Text | str:
    """Labels as `Text` (never read as markup), numbers as plain strings, as rich prints them unstyled."""
    if column.numeric:
        return cell_text(cell, column)
    return Text(terminal_text(cell_text(cell, column), limit))


def markdown_table(spec: TableSpec, *, heading: str | None = "## {}") -> list[str]:
    """`spec` as GitHub-flavoured Markdown lines: the title (`heading`, a format such as `## {}` or `{}:`;
    None leaves it out), the table, its notes, each block followed by a blank line.

    Every cell goes through `markdown_cell` (pipes, backticks, HTML, links made inert); the title and
    notes through `markdown_text`.
    """
    out = [heading.format(markdown_text(spec.title)), ""] if heading is not None else []
    align = ["--:" if c.numeric else ":--" for c in spec.columns]
    out += ["| " + " | ".join(markdown_cell(c.name) for c in spec.columns) + " |", "| " + " | ".join(align) + " |"]
    for row in spec.rows:
        cells = [_markdown_cell(cell, column) for cell, column in zip(row, spec.columns, strict=True)]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for note in spec.notes:
        out += [markdown_text(note), ""]
    return out


def _markdown_cell(cell: Cell, column: ColumnSpec) -> str:
    if column.kind == "alert" and cell:
        return f"**{cell_text(cell, column)}**"
    if column.numeric:
        return cell_text(cell, column)  # digits, separators, `$`, `%`, `—` and `*`: nothing to escape
    return markdown_cell(cell_text(cell, column), MARKDOWN_LABEL_CHARS)


def html_cell(cell: Cell, column: ColumnSpec) -> str:
    """A cell's text for the HTML template (which escapes it); a rough figure's `*` is the template's."""
    return cell_text(cell, column, mark_rough=False)
