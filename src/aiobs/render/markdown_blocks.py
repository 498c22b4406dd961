"""Pieces the Markdown report is built from: GitHub tables and mermaid charts, every label made inert."""

from __future__ import annotations

import re
from datetime import datetime

_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/@+-]")


def mermaid_label(value: object, limit: int = 28) -> str:
    """Inert inside a mermaid block: letters, digits and `._/@+-` only (no quotes, colons, `#`, `;`)."""
    text = _MERMAID_UNSAFE.sub("_", str(value)).strip() or "_"
    return text if len(text) <= limit else text[: limit - 1] + "_"


def table(header: list[str], rows: list[list[str]], numeric_from: int = 1, text_at: tuple[int, ...] = ()) -> list[str]:
    """A GitHub table; columns from `numeric_from` on are right-aligned, except those in `text_at`."""
    align = [":--" if i < numeric_from or i in text_at else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def plain_number(value: float | None) -> str:
    """Plain decimals (mermaid's grammar reads no exponents), at most 6 places."""
    if value is None:
        return "0"
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def xychart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], y_title: str) -> list[str]:
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{mermaid_label(title, 60)}"',
        "    x-axis [" + ", ".join(f'"{mermaid_label(x)}"' for x in labels) + "]",
        f'    y-axis "{mermaid_label(y_title, 40)}"',
    ]
    lines += [f"    {kind} [" + ", ".join(plain_number(v) for v in values) + "]" for kind, values in series]
    return [*lines, "```", ""]


def bucket_label(value: datetime | None, every: str, *, mermaid: bool = False) -> str:
    if value is None:  # requests without a timestamp (counted as input problems) have no place in time
        return "no time"
    if every.endswith("d"):
        return value.strftime("%m-%d")
    return value.strftime("%m-%d %Hh%M" if mermaid else "%m-%d %H:%M")
