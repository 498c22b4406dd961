"""Merging partial request rows: the merge step of partial -> merge -> finalize, at the event level.

`aiobs.reconstruct.request_partials` turns the events of some requests (a chunk of lines, a file, a
bucket) into one partial row per request; `finalize_requests` turns one row per request into the request
table. When a request's events were read in several chunks, its partial rows are merged here first:
sums add, minimums and maximums combine, and each value picked from the first (or last) event of a kind
is taken from the row whose event comes first (or last) in time order: start, then the longer duration,
then the input position, with missing times last, as `rebuild_requests` orders events.

Clock skew (children outside their root's span) is counted again from every row's child spans against
the merged root's span. One thing cannot be merged from rows and is reported instead
(`Merged.needs_events`), so the caller rebuilds from events: an event repeated in another chunk (two rows
list the same identity hash), since which copy is dropped is decided over the events.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from aiobs.reconstruct import PICKS, SKEW_TOLERANCE_MS, sum_or_null
from aiobs.schema import CHILD_STAGES

_MIN = ("start", "_any_start", "_root_start", "_child_start")
_MAX = ("end", "_longest", "_last_attempt", "_last_failed_attempt", "_root_end", "_child_end")
_SUM_OR_NULL = (
    *(f"{s}_ms" for s in CHILD_STAGES),
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "llm_output_ms",
    "cost_usd",
    "logged_cost_usd",
)
_SUM = ("_feedback_sum", "_feedback_n", "retries", "n_events")
_ANY = ("_any_root", "_root_error", "_has_duration")


@dataclass(frozen=True)
class Merged:
    #: One row per request.
    partials: pl.DataFrame
    #: Requests whose rows cannot be merged exactly (an event repeated across chunks).
    needs_events: list[str]


def merge_partials(partials: pl.DataFrame) -> Merged:
    """One row per request from any number of partial rows per request (with `_fingerprints`)."""
    repeated = partials.get_column("correlation_id").is_duplicated()
    if not repeated.any():
        return Merged(partials, [])
    merged = partials.filter(repeated).group_by("correlation_id").agg(_merge_exprs()).with_columns(_unpicked())
    repeat = pl.col("_fingerprints").list.n_unique() < pl.col("_fingerprints").list.len()
    needs = merged.filter(repeat).get_column("correlation_id").to_list()
    merged = _count_skew(merged)
    together = pl.concat([partials.filter(repeated.not_()), merged.select(partials.columns)])
    return Merged(together, sorted(needs))


def _count_skew(merged: pl.DataFrame) -> pl.DataFrame:
    """Children outside the merged root's span, counted from every row's child spans, as
    `rebuild_requests` counts them; only rows whose children's envelope sticks out are looked at."""
    tolerance = pl.duration(microseconds=int(SKEW_TOLERANCE_MS * 1000))
    suspect = (
        (pl.col("_child_start") < pl.col("_root_start") - tolerance)
        | (pl.col("_child_end") > pl.col("_root_end") + tolerance)
    ).fill_null(False)
    outside = (pl.col("_child_starts") < pl.col("_root_start") - tolerance) | (
        pl.col("_child_ends") > pl.col("_root_end") + tolerance
    )
    counts = (
        merged.filter(suspect)
        .select("correlation_id", "_root_start", "_root_end", "_child_starts", "_child_ends")
        .explode("_child_starts", "_child_ends")
        .group_by("correlation_id")
        .agg(_skewed=outside.fill_null(False).sum().cast(pl.Int64))
    )
    return (
        merged.join(counts, on="correlation_id", how="left", maintain_order="left")
        .with_columns(skewed_events=pl.col("_skewed").fill_null(0))
        .drop("_skewed")
    )


def _merge_exprs() -> list[pl.Expr]:
    exprs = [pl.col(c).min() for c in _MIN]
    exprs += [pl.col(c).max() for c in _MAX]
    exprs += [sum_or_null(pl.col(c)) for c in _SUM_OR_NULL]
    exprs += [pl.col(c).sum() for c in _SUM]
    exprs += [pl.col(c).any() for c in _ANY]
    exprs += [
        pl.col("models").explode().drop_nulls().unique(),
        pl.col("_fingerprints").explode().drop_nulls(),
        pl.col("_child_starts").explode().drop_nulls(),
        pl.col("_child_ends").explode().drop_nulls(),
    ]
    for name, (_, _, last) in PICKS.items():
        keys = [f"_t_{name}", f"_d_{name}", f"_i_{name}"]
        # Rows that picked nothing go to the end the pick does not read from.
        picked = pl.col(f"_i_{name}").is_not_null() if last else pl.col(f"_i_{name}").is_null()
        ordered = pl.struct(name, *keys).sort_by(
            [picked, *keys], descending=[False, False, True, False], nulls_last=True
        )
        exprs.append((ordered.last() if last else ordered.first()).alias(f"_pick_{name}"))
    return exprs


def _unpicked() -> list[pl.Expr]:
    return [
        pl.col(f"_pick_{name}").struct.field(field).alias(field)
        for name in PICKS
        for field in (name, f"_t_{name}", f"_d_{name}", f"_i_{name}")
    ]
