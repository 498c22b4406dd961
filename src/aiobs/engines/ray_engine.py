"""`--engine ray`: the local run's partial -> merge -> finalize, on the tasks of a Ray cluster.

The driver (this process) plans the input into parts (aiobs.engines.plan); Ray tasks read each part into
events split by bucket of the correlation ID (map), rebuild each bucket from every part's share of it
(shuffle and reduce), and send back the bucket's finished requests, which the driver keeps in bucket
order, spilled to a temporary folder as locally. The metrics are then computed once, here, by the same
code as a local run. Every step is a function of aiobs.engines.tasks, the functions the local run calls.

Why the numbers are identical, not close: the bucket count and hash are the local run's; a bucket's
events arrive in input order (part after part, the tree runs last), so each bucket is rebuilt from the
same rows in the same order; and buckets are kept in bucket order, so every sum adds in the same order.

Faults: a task whose worker dies is run again by Ray (`max_retries`), and objects lost with a worker are
rebuilt from their lineage; the tasks are pure, so a retry gives the same result. What a task finds wrong
with the input (an unreadable file, a bad line) is an input issue it sends back, never a failed task.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl

from aiobs.engines import Read
from aiobs.engines import tasks as work
from aiobs.engines.plan import RANGE_BYTES, Part, Split, check_sources, plan_parts, portable
from aiobs.errors import AiobsError, UsageError
from aiobs.formats import check_input_format, make_parser
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import BucketStore, bucket_count, place_runs
from aiobs.issues import IssueLog
from aiobs.rebuild import KeptBuckets, Rebuild, RequestTables
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.base import Source
from aiobs.sources.ranges import MeasuredRange
from aiobs.sources.s3_objects import S3Source

try:
    import ray
    from ray.exceptions import RayTaskError
except ImportError:  # pragma: no cover - the message below is tested without Ray in a subprocess
    ray = None  # type: ignore[assignment]

#: A task whose worker dies (killed, out of memory) is run again this many times.
MAX_RETRIES = 3


def _missing_ray() -> UsageError:
    return UsageError("--engine ray needs Ray: pip install 'aiobs-cli[ray]'")


@dataclass
class RayEngine:
    """Runs on the Ray cluster at `address` (default: RAY_ADDRESS, else a local Ray started for the run)."""

    address: str | None = None
    #: A part's size: a large plain file is cut into ranges of about this many bytes.
    range_bytes: int = RANGE_BYTES

    def __post_init__(self) -> None:
        if ray is None:
            raise _missing_ray()

    def read(self, sources: list[Source], how: Rebuild, *, keep_events: bool) -> Read:
        check_sources(sources)  # before Ray starts: a refusal takes no time
        self._connect()
        options = how.options
        forced = check_input_format(options.input_format)
        parts = plan_parts(
            sources, forced, _measure, range_bytes=self.range_bytes, max_line_bytes=options.max_line_bytes
        )
        n = options.n_buckets if options.n_buckets is not None else bucket_count(sources)
        endpoint = next((s.reader.endpoint_url for s in sources if isinstance(s, S3Source) and s.reader), None)
        settings = work.ReadSettings(how.mapping, options.max_line_bytes, n, endpoint)
        issues = IssueLog()
        shares, read = _read_parts(parts, settings, issues, options.progress)
        placed = _finish_reading(read, how.mapping, issues, n)
        recipe = work.BucketRecipe(how.prices, how.quality, how.privacy, how.keep_texts, keep_events)
        workspace = RayWorkspace(read.events - placed.orphans, read.bytes_read, n)
        try:
            tables = _rebuild_buckets(recipe, shares, placed.runs, issues, workspace)
        except BaseException:
            workspace.close()
            raise
        return workspace, issues, tables

    def _connect(self) -> None:
        if ray.is_initialized():
            return
        # Not Ray's default (the newest cluster started on this machine, which may be someone else's):
        # the address given, else RAY_ADDRESS, else a new local Ray for this run.
        address = self.address or os.environ.get("RAY_ADDRESS") or "local"
        if address not in ("local", "auto"):
            _check_reachable(address)  # Ray itself retries an address where nothing listens for minutes
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = f"cannot use the Ray cluster at {address}: {reason}"
            raise UsageError(msg) from None


#: How long the driver waits for a cluster's port to answer before it says it cannot reach it.
CONNECT_TIMEOUT_S = 10


def _check_reachable(address: str) -> None:
    """HOST:PORT or ray://HOST:PORT answers on TCP, or one sentence saying why not."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or "/" in host:
        msg = f"--ray-address must be HOST:PORT or ray://HOST:PORT (Ray Client), not '{address}'"
        raise UsageError(msg)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        msg = f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
        raise UsageError(msg) from None


def _get(refs: Any) -> Any:
    """`ray.get`, with an aiobs error raised in a task raised here as itself (one sentence, its exit code)."""
    try:
        return ray.get(refs)
    except RayTaskError as exc:
        if isinstance(exc.cause, AiobsError):
            raise exc.cause from None
        raise


def _measure(splits: list[Split]) -> list[list[MeasuredRange] | None]:
    measure = ray.remote(max_retries=MAX_RETRIES)(work.measure_ranges)
    moved = [dataclasses.replace(split, source=portable(split.source)) for split in splits]
    return list(_get([measure.remote(split) for split in moved])) if splits else []


@dataclass
class _Totals:
    events: int = 0
    bytes_read: int = 0
    tallies: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    runs: list[pl.DataFrame] = field(default_factory=list)


def _read_parts(
    parts: list[Part], settings: work.ReadSettings, issues: IssueLog, progress: Callable[[int], None] | None
) -> tuple[list[list[Any]], _Totals]:
    """Map: every part read on a task; each part's refs to its buckets' events, and what the parts found."""
    read_part = ray.remote(max_retries=MAX_RETRIES)(work.read_part)
    # With num_returns, a call gives one ref per return (Ray's types do not say so).
    shares: list[list[Any]] = [
        cast(
            list[Any],
            read_part.options(num_returns=settings.n_buckets + 1).remote(
                Part(tuple(map(portable, p.sources)), p.input_format, p.size), settings
            ),
        )
        for p in parts
    ]
    metas = [refs[0] for refs in shares]
    sizes = {ref: part.size for ref, part in zip(metas, parts, strict=True)}
    pending = list(metas)
    while pending and progress is not None:  # progress as parts finish; results are taken in order below
        done, pending = ray.wait(pending, num_returns=1)
        progress(sizes[done[0]])
    totals = _Totals()
    for meta in _get(metas):
        issues.merge(meta.issues)
        totals.events += meta.events
        totals.bytes_read += meta.bytes_read
        totals.tallies.append(meta.tallies)
        if meta.runs is not None:
            totals.runs.append(meta.runs)
    return [refs[1:] for refs in shares], totals


@dataclass
class _Placed:
    runs: list[pl.DataFrame | None]
    orphans: int


def _finish_reading(read: _Totals, mapping: FieldMapping, issues: IssueLog, n: int) -> _Placed:
    """What only the whole input tells: per-file judgements over every part's tallies, and the tree runs
    placed in their requests, split by bucket."""
    parsers: dict[str, Any] = {}
    for tallies in read.tallies:
        for name, per_source in tallies.items():
            if name not in parsers:
                parsers[name] = make_parser(name, mapping, issues)
            parsers[name].add_file_tallies(per_source)
    for parser in parsers.values():
        parser.finish()
    if not read.runs:
        return _Placed([None] * n, 0)
    runs, store = BucketStore(1), BucketStore(n)
    for frame in read.runs:
        runs.add(frame)
    orphans = place_runs(runs, store, issues)
    return _Placed([store.bucket(b).collect() if store.parts(b) else None for b in range(n)], orphans)


def _rebuild_buckets(
    recipe: work.BucketRecipe,
    shares: list[list[Any]],
    runs: list[pl.DataFrame | None],
    issues: IssueLog,
    workspace: RayWorkspace,
) -> RequestTables:
    """Shuffle and reduce: bucket b rebuilt from every part's share of it; requests kept in bucket order."""
    rebuild_part = ray.remote(max_retries=MAX_RETRIES)(work.rebuild_part)
    results: list[tuple[Any, Any]] = []
    for b, placed in enumerate(runs):
        events = [share[b] for share in shares] + ([placed] if placed is not None else [])
        results.append(cast(tuple[Any, Any], rebuild_part.options(num_returns=2).remote(recipe, *events)))
    for share in shares:  # Ray holds a running task's arguments: the driver's refs would only pin them
        share.clear()
    kept = KeptBuckets(workspace.spill_dir, issues)
    for b in range(len(results)):
        # One bucket at a time, its ref dropped once read, so Ray can free the object it names.
        rebuilt_ref, events_ref = results[b]
        results[b] = (None, None)
        kept.add(b, _get(rebuilt_ref))
        del rebuilt_ref
        workspace.event_refs.append(events_ref if recipe.keep_events else None)
    workspace.kept_events = recipe.keep_events
    return kept.tables_of_all()


@dataclass
class RayWorkspace:
    """The driver's side of a Ray run: its counts, the spilled request tables, the kept events' refs."""

    events: int
    bytes_read: int
    n_buckets: int
    kept_events: bool = False
    event_refs: list[Any] = field(default_factory=list)
    spill_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.n_buckets > 1:
            self.spill_dir = Path(tempfile.mkdtemp(prefix="aiobs-ray-"))
        spill = self.spill_dir
        self._cleanup = weakref.finalize(self, shutil.rmtree, spill, True) if spill is not None else None

    def close(self) -> None:
        self.event_refs = []
        if self._cleanup is not None:
            self._cleanup()

    def events_of(self, correlation_ids: list[str]) -> pl.DataFrame:
        """The events of these requests, filtered on the workers from the buckets that hold them."""
        ids = pl.Series("correlation_id", correlation_ids, dtype=pl.String)
        buckets = sorted(set(BucketStore(self.n_buckets).bucket_of(ids).to_list()))
        events_in = ray.remote(max_retries=MAX_RETRIES)(work.events_in)
        kept = [self.event_refs[b] for b in buckets if self.event_refs[b] is not None]
        refs = [events_in.remote(events, correlation_ids) for events in kept]
        return pl.concat(_get(refs), how="vertical") if refs else pl.DataFrame(schema=EVENT_SCHEMA)
