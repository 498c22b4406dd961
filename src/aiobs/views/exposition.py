"""What `--format prometheus|openmetrics` exposes: the overall row and one row per (model, route), bounded.

A time series per label value costs a monitoring system memory for as long as it keeps it, and logs can
name thousands of routes or a model per customer. So the `top` (model, route) pairs with the most
requests get their own rows; every other request is counted under `model="other", route="other"`, with
its metrics computed over those requests together (percentiles included: nothing is averaged), so the
groups still add up to the overall row. Labels are already private (the summary's privacy).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from aiobs.metrics import OTHER_GROUP, summarize_requests, top_groups

#: (model, route) pairs exposed on their own; the rest are one `other` row.
DEFAULT_TOP = 20
OTHER = OTHER_GROUP
#: What a request without a model or a route is labelled with (a label value cannot be null).
UNKNOWN = "unknown"
KEYS = ("model", "route")


@dataclass(frozen=True)
class Exposition:
    """The overall row and the group rows (columns of `aiobs.metrics.summarize_requests`), and the flags."""

    overall: pl.DataFrame
    groups: pl.DataFrame
    flags: list[str]
    #: (model, route) pairs folded into `other`.
    folded: int


def exposition(
    requests: pl.LazyFrame, overall: pl.DataFrame, flags: list[str], *, top: int = DEFAULT_TOP
) -> Exposition:
    """The rows to expose from the summary's request table and overall row."""
    labelled = requests.with_columns(pl.col(k).fill_null(UNKNOWN) for k in KEYS)
    labelled, folded = top_groups(labelled, list(KEYS), top)
    groups = summarize_requests(labelled, list(KEYS), flags=flags)
    groups = groups.sort(["requests", *KEYS], descending=[True, False, False])
    return Exposition(overall, groups, flags, folded)
