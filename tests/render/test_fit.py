"""Fitting a table to the terminal: widths, the layout chosen, and what is said about what is left out."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from aiobs.render.fit import Col, Layout, allot, and_list, fit_table, footnotes, needed_width
from text_tables import assert_fits, printed_tables

LABEL = Col("label", wrap=(12, 40))
NOTE = Col("note", wrap=(20, 60), prose=True)


def layout(*, label: str = "model=claude-3-5-haiku-latest", note: str = "a note of a few words to wrap") -> Layout:
    columns = [Col("result"), LABEL, Col("value", right=True), NOTE]
    return Layout(columns, [["ok", label, "13,124 ms", note], ["BREACHED", "x", "1.0%", ""]])


def printed(renderable: object, width: int) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


def test_numbers_keep_their_width_and_labels_share_the_rest() -> None:
    widths = allot(layout(), 80)
    assert widths is not None and widths[0] == len("BREACHED") and widths[2] == len("13,124 ms")
    assert sum(widths) + 3 * 4 + 1 <= 80


def test_a_label_is_never_narrower_than_its_minimum_even_when_its_words_are_short() -> None:
    words = "error_rate < 2% by route"  # 24 characters, no word longer than 5
    widths = allot(layout(label=words), needed_width(layout(label=words)))
    assert widths is not None and widths[1] == 12  # the minimum: not shrunk to the longest word


def test_whole_words_first_then_sentences_then_whole_labels() -> None:
    # Room for the label's longest word but not for all of the note: the label stops folding first.
    base = needed_width(layout())
    widths = allot(layout(), base + len("model=claude-3-5-haiku-latest") - 12)
    assert widths is not None and widths[1] == len("model=claude-3-5-haiku-latest") and widths[3] == 20


def test_too_narrow_for_the_label_minimum_is_no_fit() -> None:
    assert allot(layout(), needed_width(layout()) - 1) is None


def test_footnotes_number_each_distinct_note_once() -> None:
    markers, lines = footnotes(["", "too few", "rough", "too few"])
    assert markers == ["", "[1]", "[2]", "[1]"]
    assert [printed(line, 80).strip() for line in lines] == ["[1] too few", "[2] rough"]


@pytest.mark.parametrize(("names", "said"), [(["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")])
def test_and_list(names: list[str], said: str) -> None:
    assert and_list(names) == said


def test_the_first_layout_that_fits_is_shown() -> None:
    narrow = Layout([Col("result"), LABEL], [["ok", "x"]], after=[])
    out = printed(fit_table("T", [layout(), narrow], width=40, elsewhere="use --format json"), 40)
    assert printed_tables(out)[0].headers == ["result", "label"]


def test_droppable_columns_go_in_order_and_are_named() -> None:
    out = printed(fit_table("T", [layout()], width=50, droppable=["note", "value"], elsewhere="use json"), 50)
    assert_fits(out, 50)
    table = printed_tables(out)[0]
    assert table.headers == ["result", "label", "value"]
    assert table.notes == "note left out at 50 columns; widen the terminal or use json."


def test_narrower_than_anything_says_so() -> None:
    out = printed(fit_table("T", [layout()], width=30, elsewhere="use json"), 200)
    need = needed_width(layout())
    assert f"This table needs {need} columns, 30 are available: widen the terminal or use json." in " ".join(
        out.split()
    )
