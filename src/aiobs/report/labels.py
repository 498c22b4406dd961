"""Names as the report shows them: log text redacted (unless turned off) and cut to a length, and the
quality flags under the names a person would use.

Every string from the logs (model names, routes, users, texts, history group keys) passes through a
`Cleaner` before a report model stores it; escaping for HTML or Markdown is the renderers' job.
"""

from __future__ import annotations

import polars as pl

from aiobs.escape import terminal_block
from aiobs.redact import redact_value

#: Longest label (model, route, user) shown anywhere; the rest is cut with an ellipsis.
LABEL_CHARS = 60
#: The flag that is the request's own failed status: the error rate and the status column show it already.
ERROR_FLAG = "error"
#: The built-in quality flags (aiobs.quality) as a reader names them; a custom rule's name is spelt out.
FLAG_TITLES = {
    "error": "Failed requests",
    "retried": "Retried",
    "empty": "Empty answers",
    "too_short": "Too-short answers",
    "too_long": "Too-long answers",
    "refusal": "Refusals",
    "truncated": "Truncated answers",
    "invalid_json": "Invalid JSON",
    "repetition": "Repetitive answers",
    "pii_in_input": "Personal data in input",
    "pii_in_output": "Personal data in output",
    "context_unused": "Context unused",
    "ungrounded_url": "Ungrounded URLs",
    "slow_generation": "Slow generation",
}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Cleaner:
    """Log text as the report may show it: control characters made visible (`\\x1b`: XML, hence the SVG
    charts, cannot hold them, and they hide text), redacted (unless turned off), and cut to a length."""

    def __init__(self, *, redact_pii: bool) -> None:
        self.redact_pii = redact_pii

    def __call__(self, value: object, limit: int = LABEL_CHARS) -> str:
        if value is None:
            return "—"
        text = terminal_block(str(value), limit=len(str(value)) + 1)
        if self.redact_pii:
            text = redact_value(text) or ""
        return clip(text, limit)


def flag_title(name: str) -> str:
    """`invalid_json` -> "Invalid JSON"; a custom rule `no_sources` -> "No sources"."""
    return FLAG_TITLES.get(name) or name.replace("_", " ").strip().capitalize() or name


def relabel(frame: pl.DataFrame, column: str, clean: Cleaner) -> pl.DataFrame:
    """Clean a label column of a small aggregate frame (one Python call per distinct label, never per request)."""
    labels = frame.get_column(column).drop_nulls().unique().to_list()
    mapping = {label: clean(label) for label in labels}
    cleaned = pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String).fill_null(clean(None))
    return frame.with_columns(cleaned)
