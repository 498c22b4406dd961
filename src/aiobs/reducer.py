"""Reduce where we parse: each chunk's events become partial request rows on the parse thread.

`ChunkReducer` is what `aiobs.ingest` calls on each chunk's events (the `reduce` hook): it prices them,
maps them to one partial row per request (`aiobs.reconstruct.request_partials`) and keeps the chunk's
per-call spend and unpriced models, so the events themselves are never split, spilled or read back. The
partial rows are bucketed like events were, and each bucket is merged (`aiobs.partials`) and finalized.

What a chunk's events alone cannot give exactly raises `CannotReduce`, and the caller reads the input
again the event way: start and end halves of one span or detail records (which are joined per event,
and a pair may straddle two chunks), and run trees (whose request is known only at the end).
"""

from __future__ import annotations

import threading

import polars as pl

from aiobs.ingest import CannotReduce
from aiobs.issues import IssueLog
from aiobs.metrics import spend_partial
from aiobs.pricing import PriceBook, price_events, unpriced_models
from aiobs.reconstruct import request_partials
from aiobs.redact import Privacy, private_labels


class ChunkReducer:
    """Events of a chunk -> partial request rows. Called from several parse threads at once."""

    def __init__(self, prices: PriceBook | None, privacy: Privacy, issues: IssueLog) -> None:
        self.prices = prices
        self.privacy = privacy
        self.issues = issues
        self.spend: list[pl.DataFrame] = []
        self.unpriced: list[pl.DataFrame] = []
        self._lock = threading.Lock()

    def __call__(self, events: pl.DataFrame) -> pl.DataFrame:
        if events.is_empty():
            return events
        for column in ("phase", "detail_of"):
            if events.get_column(column).null_count() < events.height:
                msg = f"events with a {column}: they are joined per event, across chunks"
                raise CannotReduce(msg)
        priced = price_events(events, prices=self.prices).collect()
        mapped = request_partials(priced, mergeable=True)
        self.issues.merge(mapped.issues)
        # Priced from the logs as they are; everything kept from here on is private (as per bucket).
        unpriced = private_labels(unpriced_models(priced), self.privacy, ("model", "provider"))
        spend = private_labels(spend_partial(priced).collect(), self.privacy, ("model",))
        with self._lock:
            self.unpriced.append(unpriced)
            self.spend.append(spend)
        return mapped.partials
