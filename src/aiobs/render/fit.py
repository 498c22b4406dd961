"""Which columns of a rich table to show so that it fits the terminal without cutting a number."""

from __future__ import annotations

from collections.abc import Sequence


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
    low, high = label_width

    def needed(cols: list[int]) -> int:
        total = 1
        for i in cols:
            longest = max(len(c) for c in [header[i], *(row[i] for row in rows)])
            total += (min(max(longest, low), high) if i < n_labels else longest) + 3
        return total

    shown = [i for i, name in enumerate(header) if name not in omit]
    for name in droppable:
        if needed(shown) <= width:
            break
        shown = [i for i in shown if header[i] != name]
    return shown
