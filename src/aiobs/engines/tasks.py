"""What a worker runs: plain functions of their arguments, with no Ray in them (aiobs.engines.ray_engine
makes them remote). Each is a step of partial -> merge -> finalize (docs/architecture.md).

- `measure_ranges`: a large file's cuts moved to line ends, and the lines between counted.
- `read_part`: a part of the input -> its events split by bucket, with what only the driver can judge
  (per-file tallies, tree runs) sent back unjudged.
- `rebuild_part`: every event of one bucket -> its requests, flagged and private (aiobs.rebuild).
- `events_in`: the events of some requests, for the few that outliers and timelines show.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl

from aiobs.engines.plan import Part, Split
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ingest
from aiobs.issues import IssueLog
from aiobs.pricing import PriceBook
from aiobs.quality import QualityConfig
from aiobs.rebuild import RebuiltBucket, rebuild_bucket
from aiobs.redact import Privacy
from aiobs.sources.base import Source
from aiobs.sources.ranges import MeasuredRange, measure_cuts
from aiobs.sources.s3_objects import ObjectReader, S3Source, connect


def measure_ranges(split: Split) -> list[MeasuredRange] | None:
    """One split's cuts moved to line ends, and the lines of each range counted; None when the file cannot
    be read here (then it is read whole, by a reader that records why it fails)."""
    assert split.source.path is not None and split.source.size is not None
    try:
        return measure_cuts(split.source.path, split.cuts, split.source.size)
    except OSError:
        return None


@dataclass(frozen=True)
class ReadSettings:
    """How every part is read: the mapping, the line cap, the bucket count, where S3 objects are."""

    mapping: FieldMapping
    max_line_bytes: int
    n_buckets: int
    endpoint_url: str | None


@dataclass
class PartRead:
    """What a part gave besides its events: counts, issues, and what the driver judges over all parts."""

    issues: IssueLog
    events: int
    bytes_read: int
    #: format name -> source -> what its parser's `finish` judges from (`EventParser.file_tallies`).
    tallies: dict[str, dict[str, Counter[str]]]
    #: Runs of tree formats, placed in their requests once every part is read.
    runs: pl.DataFrame | None


def read_part(part: Part, settings: ReadSettings) -> list[PartRead | pl.DataFrame]:
    """A part's events: `[PartRead, bucket 0's events, bucket 1's, ...]` (one Ray return each)."""
    sources = _with_readers(part.sources, settings.endpoint_url)
    issues = IssueLog()
    ingested = ingest(
        sources,
        settings.mapping,
        n_buckets=settings.n_buckets,
        issues=issues,
        input_format=part.input_format,
        max_line_bytes=settings.max_line_bytes,
        whole_input=False,
        spill=False,
    )
    store, runs = ingested.store, ingested.runs
    buckets = [store.bucket(b).collect() for b in range(store.n)]
    waiting = runs.bucket(0).collect() if runs is not None and runs.parts(0) else None
    tallies = {name: parser.file_tallies() for name, parser in ingested.parsers.items()}
    return [PartRead(issues, ingested.events, ingested.bytes_read, tallies, waiting), *buckets]


def _with_readers(sources: tuple[Source, ...], endpoint_url: str | None) -> list[Source]:
    """S3 objects get a reader of this process (one client, fetching the next objects ahead)."""
    if not any(isinstance(s, S3Source) for s in sources):
        return list(sources)
    reader = ObjectReader(connect(endpoint_url=endpoint_url))
    attached = [
        S3Source(s.name, None, s.size, s.bucket, s.key, reader) if isinstance(s, S3Source) else s for s in sources
    ]
    reader.plan(s for s in attached if isinstance(s, S3Source))
    return attached


@dataclass(frozen=True)
class BucketRecipe:
    """How a bucket's events become requests: prices, quality flags, privacy, whether texts are kept."""

    prices: PriceBook | None
    quality: QualityConfig | None
    privacy: Privacy
    keep_texts: bool
    keep_events: bool


def rebuild_part(recipe: BucketRecipe, *parts: pl.DataFrame) -> tuple[RebuiltBucket, pl.DataFrame | None]:
    """One bucket: its events from every part, in input order (the placed runs last, as locally), rebuilt;
    and those events, when they are kept for timelines."""
    events = pl.concat(parts, how="vertical")
    rebuilt = rebuild_bucket(events, recipe.prices, recipe.quality, recipe.privacy, keep_texts=recipe.keep_texts)
    return rebuilt, events if recipe.keep_events else None


def events_in(events: pl.DataFrame, correlation_ids: list[str]) -> pl.DataFrame:
    """The events of these requests among one bucket's."""
    return events.filter(pl.col("correlation_id").is_in(pl.Series(correlation_ids, dtype=pl.String).implode()))
