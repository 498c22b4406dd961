"""Sources -> the request table, two ways: partial rows reduced where they are parsed, or every event.

Both are partial -> merge -> finalize (docs/architecture.md). `reduce_at_parse` turns each chunk's events
into partial request rows on the parse threads (aiobs.reducer), buckets those rows, merges each bucket
(aiobs.partials) and finalizes it; it gives up (None) on input that needs its events rebuilt together.
`rebuild_from_events` buckets the events themselves and rebuilds each bucket (aiobs.reconstruct); it is
also the way when the events are kept for timelines. Each bucket's requests are then flagged, made
private and kept (spilled with the buckets).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from aiobs.formats.details import merge_details, merge_phases
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import SPILL_BATCH_ROWS, BucketStore, CannotReduce, Ingested, ProgressCallback, ingest
from aiobs.issues import IssueLog
from aiobs.metrics import spend_by_model, spend_partial
from aiobs.partials import merge_partials
from aiobs.pricing import PriceBook, price_events, unpriced_models
from aiobs.quality import QualityConfig, add_flags
from aiobs.reconstruct import finalize_requests, rebuild_requests
from aiobs.redact import LABEL_COLUMNS, Privacy, private_labels
from aiobs.reducer import ChunkReducer
from aiobs.schema import REQUEST_SCHEMA
from aiobs.sources.base import Source

#: Label columns of the request table, made private as each bucket is rebuilt.
REQUEST_LABELS = (*LABEL_COLUMNS, "models")
#: Free-text request columns: every request has its own value, so a group per value says nothing (and is huge).
FREE_TEXT_COLUMNS = ("input_text", "output_text", "context_text")


@dataclass(frozen=True)
class IngestOptions:
    n_buckets: int | None
    progress: ProgressCallback | None
    input_format: str | None
    max_line_bytes: int

    def ingest(self, sources: list[Source], mapping: FieldMapping, issues: IssueLog, **extra: Any) -> Ingested:
        return ingest(
            sources,
            mapping,
            n_buckets=self.n_buckets,
            progress=self.progress,
            issues=issues,
            input_format=self.input_format,
            max_line_bytes=self.max_line_bytes,
            **extra,
        )


#: The request table (lazy: spilled for large inputs), its row count, unpriced models, spend by model.
RequestTables = tuple[pl.LazyFrame, int, pl.DataFrame, pl.DataFrame]


class Workspace(Protocol):
    """What a read leaves behind: its counts, the spilled tables (removed by `close`), the kept events."""

    events: int
    bytes_read: int
    kept_events: bool

    def close(self) -> None: ...

    def events_of(self, correlation_ids: list[str]) -> pl.DataFrame:
        """The events of these requests (when the events were kept)."""
        ...


@dataclass(frozen=True)
class Rebuild:
    """What both ways need besides the sources: how to read them, price, flag and make them private."""

    mapping: FieldMapping
    options: IngestOptions
    prices: PriceBook | None
    quality: QualityConfig | None
    privacy: Privacy
    keep_texts: bool


def rebuild_from_events(
    sources: list[Source], how: Rebuild, *, keep_events: bool
) -> tuple[Ingested, IssueLog, RequestTables]:
    """The event way: every event bucketed, each bucket's events rebuilt together."""
    issues = IssueLog()
    ingested = how.options.ingest(sources, how.mapping, issues)
    with _closed_on_error(ingested):
        rebuilt = _rebuild_buckets(
            ingested.store,
            how.prices,
            issues,
            how.quality,
            how.privacy,
            keep_events=keep_events,
            keep_texts=how.keep_texts,
        )
    return ingested, issues, rebuilt


def reduce_at_parse(sources: list[Source], how: Rebuild) -> tuple[Ingested, IssueLog, RequestTables] | None:
    """Partial rows made on the parse threads, merged per bucket and finalized (aiobs.reducer); None when
    the input needs the event way (CannotReduce), which then reads it again."""
    issues = IssueLog()
    reducer = ChunkReducer(how.prices, how.privacy, issues)
    reported = [0]
    progress = how.options.progress

    def counted(n: int) -> None:
        reported[0] += n
        if progress is not None:
            progress(n)

    try:
        ingested = replace(how.options, progress=counted).ingest(sources, how.mapping, issues, reduce=reducer)
        with _closed_on_error(ingested):
            rebuilt = _merge_buckets(
                ingested.store, reducer, issues, how.quality, how.privacy, keep_texts=how.keep_texts
            )
    except CannotReduce:
        if progress is not None:  # the event way reports the same bytes again: a bar starts over
            progress(-reported[0])
        return None
    return ingested, issues, rebuilt


@contextmanager
def _closed_on_error(ingested: Ingested) -> Iterator[None]:
    """Remove the workspace (spill folder) when what follows ingest fails, then let the error go on."""
    try:
        yield
    except BaseException:
        ingested.close()
        raise


def _merge_buckets(
    store: BucketStore,
    reducer: ChunkReducer,
    issues: IssueLog,
    quality: QualityConfig | None,
    privacy: Privacy,
    *,
    keep_texts: bool,
) -> RequestTables:
    """Merge (each bucket's partial rows, one row per request) and finalize (the requests, flagged)."""
    tables: list[pl.LazyFrame] = []
    n_requests = 0
    for b in range(store.n):
        if not store.parts(b):
            continue
        merged = merge_partials(store.bucket(b).collect())
        store.release(b)
        if merged.needs_events:
            msg = f"{len(merged.needs_events):,} request(s) repeat an event read in another chunk"
            raise CannotReduce(msg)
        rebuilt = finalize_requests(merged.partials)
        issues.merge(rebuilt.issues)
        requests = finish_requests(rebuilt.requests, quality, privacy, keep_texts=keep_texts)
        n_requests += keep_table(requests, b, store.spill_dir, tables)
    return concat_tables(tables, n_requests, reducer.unpriced, reducer.spend)


def finish_requests(
    requests: pl.DataFrame, quality: QualityConfig | None, privacy: Privacy, *, keep_texts: bool
) -> pl.DataFrame:
    """A bucket's requests flagged and made private, without their texts unless asked to keep them."""
    if quality is not None:
        requests = add_flags(requests, quality).collect()
    requests = private_labels(requests, privacy, REQUEST_LABELS)
    return requests if keep_texts else requests.drop(FREE_TEXT_COLUMNS, strict=False)


def keep_table(requests: pl.DataFrame, b: int, spill_dir: Path | None, tables: list[pl.LazyFrame]) -> int:
    """Keep bucket `b`'s finished requests: in memory, or in an IPC file of `spill_dir`; their count.

    Kept in memory as one chunk: float sums over a column depend on how it is chunked (in their last bits),
    and the table must be the same whoever built it (this process, or a worker that sent it over).
    """
    if spill_dir is not None:
        path = spill_dir / f"requests-{b:04d}.arrow"
        requests.write_ipc(path, compression="lz4", record_batch_size=SPILL_BATCH_ROWS)
        tables.append(pl.scan_ipc(path))
    else:
        tables.append(requests.rechunk().lazy())
    return requests.height


@dataclass
class RebuiltBucket:
    """One bucket's events rebuilt: its requests, flagged and private; its spend; what it found wrong."""

    requests: pl.DataFrame
    unpriced: pl.DataFrame
    spend: pl.DataFrame
    issues: IssueLog


def rebuild_bucket(
    bucket: pl.DataFrame,
    prices: PriceBook | None,
    quality: QualityConfig | None,
    privacy: Privacy,
    *,
    keep_texts: bool,
) -> RebuiltBucket:
    """Every event of some requests (a bucket) -> their requests: details and halves joined, priced,
    rebuilt, flagged and made private. A pure function of the bucket, run locally or on a worker."""
    issues = IssueLog()
    events = price_events(merge_phases(merge_details(bucket, issues)), prices=prices).collect()
    del bucket
    rebuilt = rebuild_requests(events)
    issues.merge(rebuilt.issues)
    # Priced and flagged from the logs as they are; everything kept from here on is private.
    unpriced = private_labels(unpriced_models(events), privacy, ("model", "provider"))
    spend = private_labels(spend_partial(events).collect(), privacy, ("model",))
    del events
    requests = finish_requests(rebuilt.requests, quality, privacy, keep_texts=keep_texts)
    return RebuiltBucket(requests, unpriced, spend, issues)


@dataclass
class KeptBuckets:
    """Rebuilt buckets kept in bucket order (spilled when there is a folder), with their spend and issues:
    the merge step of both engines."""

    spill_dir: Path | None
    issues: IssueLog
    tables: list[pl.LazyFrame] = field(default_factory=list)
    unpriced: list[pl.DataFrame] = field(default_factory=list)
    spend: list[pl.DataFrame] = field(default_factory=list)
    n_requests: int = 0

    def add(self, b: int, rebuilt: RebuiltBucket) -> None:
        self.issues.merge(rebuilt.issues)
        self.unpriced.append(rebuilt.unpriced)
        self.spend.append(rebuilt.spend)
        self.n_requests += keep_table(rebuilt.requests, b, self.spill_dir, self.tables)

    def tables_of_all(self) -> RequestTables:
        return concat_tables(self.tables, self.n_requests, self.unpriced, self.spend)


def _rebuild_buckets(
    store: BucketStore,
    prices: PriceBook | None,
    issues: IssueLog,
    quality: QualityConfig | None,
    privacy: Privacy,
    *,
    keep_events: bool,
    keep_texts: bool,
) -> RequestTables:
    """Partial (price, rebuild and flag each bucket on its own) and merge (concatenate the request tables;
    sum the per-call spend by model).

    With a spill folder, each bucket's requests go to an IPC file, so memory holds one bucket at a
    time and metrics later read only the columns they need. Buckets are concatenated in bucket order
    and each is sorted, so results never depend on thread scheduling.
    """
    kept = KeptBuckets(store.spill_dir, issues)
    for b in range(store.n):
        bucket = store.bucket(b).collect()
        if not keep_events:
            store.release(b)
        kept.add(b, rebuild_bucket(bucket, prices, quality, privacy, keep_texts=keep_texts))
        del bucket
    return kept.tables_of_all()


def concat_tables(
    tables: list[pl.LazyFrame], n_requests: int, unpriced: list[pl.DataFrame], spend: list[pl.DataFrame]
) -> RequestTables:
    """The buckets' request tables in bucket order, their unpriced models and their spend summed by model."""
    requests = pl.concat(tables) if tables else pl.LazyFrame(schema=REQUEST_SCHEMA)
    return requests, n_requests, pl.concat(unpriced) if unpriced else pl.DataFrame(), spend_by_model(spend)
