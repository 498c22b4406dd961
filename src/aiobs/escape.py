"""Log content is attacker-controlled text: make it inert for each medium it is shown in."""

from __future__ import annotations

import re

import polars as pl

#: Characters that change what a reader sees without being seen: bidi marks, embeddings, overrides and
#: isolates (a label can read backwards), zero-width spaces and joiners, word joiner, BOM, line and
#: paragraph separators.
INVISIBLE = "\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# C0 controls (tab and newline included: a table cell is one line), DEL, C1 controls (0x9b is a CSI
# introducer on some terminals), and the invisible characters above.
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{INVISIBLE}]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!~|<>&])")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}"


def terminal_text(value: object, limit: int = 80) -> str:
    """No escape sequences or control characters reach the terminal; long values are cut."""
    text = _CONTROL.sub(_visible, str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CONTROL_NOT_NEWLINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}]")


def terminal_block(value: object, limit: int = 20_000) -> str:
    """Like `terminal_text`, but newlines and tabs stay: for full texts shown as blocks (traces)."""
    text = _CONTROL_NOT_NEWLINE.sub(_visible, str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_cell(value: object, limit: int = 80) -> str:
    """Safe inside a GitHub-flavoured Markdown table cell: no column breaks, links, HTML or emphasis."""
    return _MARKDOWN_SPECIAL.sub(_markdown_escape, terminal_text(value, limit))


def csv_cell(value: object) -> object:
    """A text cell that is inert in a terminal (`cat out.csv`) and in a spreadsheet.

    Control characters other than tab and newline (ESC, CR, BEL, C1 controls, bidi overrides) are
    shown as `\\x1b`-style escapes, as the terminal output shows them; a newline stays a newline
    (the csv writer quotes the cell). Spreadsheets run cells that start with = + - @ as formulas,
    so such cells get a leading `'` and stay text.
    """
    if not isinstance(value, str):
        return value
    text = _CONTROL_NOT_NEWLINE.sub(_visible, value)
    return "'" + text if text.startswith(_CSV_FORMULA) else text


def json_text(document: str) -> str:
    """A JSON document with every invisible character written as its `\\uXXXX` escape: the same data, but
    a reader of the raw file (a CI log, `cat`) sees it. Such characters can only be inside strings."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def visible(text: str) -> str:
    """`text` with invisible characters shown as `\\u202e`-style escapes (for XML, where they would act)."""
    return _INVISIBLE.sub(_visible, text)


_MARKDOWN_PROSE = re.compile(r"([\\`*_\[\]|<>&~])")


def markdown_text(value: object, limit: int = 400) -> str:
    """Safe as a Markdown heading or paragraph: no emphasis, code, links, HTML or table breaks.

    Lighter than `markdown_cell`: parentheses, `#`, `+` and `!` stay as they are (without `[` a
    parenthesis makes no link, and the line never starts with them), so a title reads as written.
    """
    return _MARKDOWN_PROSE.sub(_markdown_escape, terminal_text(value, limit))


def _markdown_escape(match: re.Match[str]) -> str:
    return {"<": "&lt;", ">": "&gt;", "&": "&amp;"}.get(match.group(), "\\" + match.group())


def _characters(klass: str) -> list[str]:
    """The characters of a regex character class made of single characters and `a-b` ranges."""
    found, i = [], 0
    while i < len(klass):
        if i + 2 < len(klass) and klass[i + 1] == "-":
            found += [chr(c) for c in range(ord(klass[i]), ord(klass[i + 2]) + 1)]
            i += 3
        else:
            found.append(klass[i])
            i += 1
    return found


#: `_CONTROL_NOT_NEWLINE`'s characters and what `_visible` writes for each.
_CONTROL_ESCAPES = {
    c: f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
    for c in _characters(f"\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}")
}


def csv_column(text: pl.Expr) -> pl.Expr:
    """`csv_cell` as a Polars expression, for whole columns (an exported request table)."""
    escaped = text.str.replace_many(list(_CONTROL_ESCAPES), list(_CONTROL_ESCAPES.values()))
    formula = escaped.str.starts_with(_CSV_FORMULA[0])
    for start in _CSV_FORMULA[1:]:
        formula = formula | escaped.str.starts_with(start)
    return pl.when(formula).then(pl.lit("'") + escaped).otherwise(escaped)
