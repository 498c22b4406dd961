"""The TableSpec writers (aiobs.render.tables, aiobs/templates/tables.html.j2): hostile text stays inert in
every medium, numbers are formatted by kind, and the terminal says what it leaves out."""

from __future__ import annotations

import re

from markupsafe import Markup
from rich.console import Console

from aiobs.escape import markdown_text
from aiobs.render.html import environment
from aiobs.render.tables import cell_text, markdown_table, terminal_table
from aiobs.views.tables import ColumnSpec, Rough, TableSpec, table

HOSTILE = "a|b `c` <script>x</script> [x](javascript:1) **b** \x1b[31m\u202e"


def _spec(label: str = HOSTILE, note: str = "note <b>|</b> `x`") -> TableSpec:
    columns = [
        ColumnSpec("model", "label"),
        ColumnSpec("requests", "count", short="req"),
        ColumnSpec("error rate", "percent", short="err"),
        ColumnSpec("p95 ms", "ms"),
        ColumnSpec("max ms", "ms", compact=False),
        ColumnSpec("cost", "usd"),
    ]
    rows = [[label, 1234, 0.0125, Rough(15321.4), 99.5, 123.456], ["plain", None, None, None, None, -0.00005]]
    return table("Title", columns, rows, notes=[note], drop_order=["cost", "p95 ms"])


def test_cells_are_formatted_by_kind() -> None:
    spec = _spec()
    texts = [cell_text(cell, column) for cell, column in zip(spec.rows[0], spec.columns, strict=True)]
    assert texts[1:] == ["1,234", "1.25%", "15,321*", "99.5", "$123.46"]
    plain = [cell_text(cell, column) for cell, column in zip(spec.rows[1], spec.columns, strict=True)]
    assert plain[1:] == ["—", "—", "—", "—", "-$0.0001"]
    assert cell_text(Rough(15321.4), spec.columns[3], mark_rough=False) == "15,321"


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_keeps_hostile_text_inside_its_cell() -> None:
    lines = markdown_table(_spec())
    assert lines[:2] == ["## Title", ""]
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == 4 and len({_unescaped_pipes(r) for r in rows}) == 1  # no cell breaks out
    text = "\n".join(lines)
    for raw in ("<script", "<b>", "](javascript", "**b**", "\x1b", "\u202e", " `c` "):
        assert raw not in text, raw
    assert "\\`c\\`" in text and "\\x1b" in text and "\\u202e" in text
    assert "note &lt;b&gt;\\|&lt;/b&gt; \\`x\\`" in lines
    assert rows[1] == "| :-- | --: | --: | --: | --: | --: |"  # labels left, numbers right


def test_markdown_heading_styles() -> None:
    assert markdown_table(_spec(), heading="{}:")[:2] == ["Title:", ""]
    assert markdown_table(_spec(), heading=None)[0].startswith("| model |")
    assert markdown_text("By (model) #1 [x] *y*") == "By (model) #1 \\[x\\] \\*y\\*"


def _terminal(spec: TableSpec, width: int) -> str:
    console = Console(width=width, record=True, color_system=None, force_terminal=False)
    console.print(terminal_table(spec, width=width))
    return console.export_text()


def test_the_terminal_shows_control_characters_and_markup_as_text() -> None:
    out = _terminal(_spec(label="\x1b[31mr [b]m[/b]\u202e\x07"), 120)  # 28 characters shown: no fold
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[31mr [b]m[/b]\\u202e\\x07" in out


def test_the_terminal_uses_short_headers_compact_columns_and_the_notes() -> None:
    out = _terminal(_spec(label="gpt-4o"), 120)
    header = next(line for line in out.splitlines() if "model" in line)
    assert "req" in header and "err" in header and "requests" not in header and "max ms" not in header
    assert "note <b>|</b> `x`" in out  # a note is printed as text, never markup
    assert "left out" not in out


def test_a_narrow_terminal_drops_columns_in_order_and_names_them() -> None:
    out = _terminal(_spec(label="gpt-4o"), 40)
    assert "p95 ms and cost left out at 40 columns; widen the terminal or use --format md or json." in " ".join(
        out.split()
    )
    assert "15,321" not in out and "1,234" in out  # never a cropped number: the column goes, named


def test_a_narrow_terminal_stacks_number_headers_so_labels_stay_whole() -> None:
    columns = [
        ColumnSpec("model", "label"),
        *(ColumnSpec(h, "count") for h in ("tokens in", "tokens out", "unpriced calls")),
    ]
    spec = table("Spend", columns, [["claude-3-5-haiku-latest", 207581, 23865, 0]])
    wide = _terminal(spec, 120).splitlines()
    assert any("tokens in" in line and "unpriced calls" in line for line in wide)
    narrow = _terminal(spec, 60).splitlines()
    assert all(len(line) <= 60 for line in narrow)
    assert any("claude-3-5-haiku-latest" in line for line in narrow)  # whole, not folded
    assert any("unpriced" in line for line in narrow) and any("calls" in line and "out" in line for line in narrow)
    assert "207,581" in "".join(narrow) and "23,865" in "".join(narrow)


def _html(spec: TableSpec) -> str:
    macro = environment().get_template("tables.html.j2").module.spec_table  # type: ignore[attr-defined]
    out = macro(spec)
    assert isinstance(out, Markup)
    return str(out)


def test_html_escapes_every_cell_title_header_and_note() -> None:
    spec = table(
        "<i>t</i>",
        [ColumnSpec("<th>", "label"), ColumnSpec("n", "ms"), ColumnSpec("why", "text")],
        [['"><img src=x onerror=alert(1)>', Rough(12.0), "</td><script>x</script>"]],
        notes=["<svg onload=alert(1)>"],
    )
    html = _html(spec)
    for raw in ("<img", "<script", "<svg", "<i>", '"><'):
        assert raw not in html, raw
    assert "<th>&lt;th&gt;</th>" in html
    assert "<caption>&lt;i&gt;t&lt;/i&gt;</caption>" in html
    assert 'title="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html
    assert '<td class="n">12.0<span class="thin" title="fewer than 10 requests above it">*</span></td>' in html
    assert '<p class="note">&lt;svg onload=alert(1)&gt;</p>' in html
    assert "style=" not in html  # the report's CSP allows no inline style


def test_html_numbers_are_right_aligned_and_no_value_is_a_dash() -> None:
    html = _html(_spec(label="gpt-4o"))
    assert '<th class="n">requests</th>' in html and "<th>model</th>" in html
    assert '<td class="n">—</td>' in html and '<td class="n">1.25%</td>' in html
    assert html.count("<tr>") == 3  # header and two rows: full table, nothing compacted
