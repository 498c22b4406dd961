"""Requests from a tree of runs: LangChain callbacks and LangSmith runs name their parent, not their request.

A run logs its `run_id` (the event_id) and its `parent_run_id`; only the root run knows it is the request.
So the request of every run is found once every line has been read, over the whole input: the edges
(run -> parent) are small, and each run's topmost ancestor is found by pointer doubling (each round looks up
the ancestor's ancestor, so a tree of depth d takes about log2(d) joins). The request's ID is the root's
own correlation ID when it logged one (LangSmith's `trace_id`), else the root run's ID. A run whose
ancestors stop at a parent that is not in the input is grouped under that parent's ID.
"""

from __future__ import annotations

import polars as pl

#: More rounds than any real tree needs (2^32 levels); a cycle in the parent links stops here.
MAX_ROUNDS = 32


def request_ids(events: pl.DataFrame) -> pl.DataFrame:
    """`event_id` -> `request_id` for every run of `events` (columns event_id, parent_id, correlation_id)."""
    nodes = (
        events.filter(pl.col("event_id").is_not_null())
        .group_by("event_id")
        .agg(parent=pl.col("parent_id").drop_nulls().first(), cid=pl.col("correlation_id").drop_nulls().first())
    )
    up = nodes.select("event_id", top=pl.coalesce("parent", "event_id"))
    for _ in range(MAX_ROUNDS):
        above = up.rename({"event_id": "top", "top": "_above"})
        nxt = up.join(above, on="top", how="left", maintain_order="left").select(
            "event_id", top=pl.coalesce("_above", "top")
        )
        done = nxt.get_column("top").equals(up.get_column("top"))
        up = nxt
        if done:
            break
    roots = nodes.select(top="event_id", root_cid="cid")
    return up.join(roots, on="top", how="left").select("event_id", request_id=pl.coalesce("root_cid", "top"))
