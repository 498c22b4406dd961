"""Copying the strings of a few rows picked from a large frame.

Polars' string columns are views into shared buffers, and a filter keeps the views: the picked rows
of a spilled file still hold the buffers of every batch they were read from (for events and
requests, mostly texts). Copying the picked strings lets those buffers go as soon as the read ends.
"""

from __future__ import annotations

import polars as pl


def owned_strings(schema: pl.Schema) -> list[pl.Expr]:
    """Expressions that replace each string column by a copy of its values."""
    return [
        pl.concat_str(pl.col(name), pl.lit("")).alias(name) for name, dtype in schema.items() if dtype == pl.String()
    ]
