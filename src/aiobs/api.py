"""aiobs from Python: `aiobs.summarize(...)` and `aiobs.read_logs(...)`, the calls behind `aiobs summarize`.

    import aiobs

    summary = aiobs.summarize("logs/", by=["model"], since="24h")
    summary.overall                  # one row: requests, error_rate, latency_p95, cost_usd, ...
    summary.groups["model"]          # a row per model
    summary.issues.counts            # input problems by kind, as the input-quality section shows them
    aiobs.summary_json(summary)      # the document `--format json` writes (docs/json-output.md)

    requests = aiobs.read_logs("logs/*.jsonl.gz")   # a Polars frame, a row per rebuilt request

Every command that reads logs and reports on them (summarize, outliers, trace, report, check) goes
through `summarize` here, with its options as keyword arguments, so Python and the command line give
the same numbers (`inspect` reads only each file's first lines, and the field mapping through
`field_mapping`). Options take what the command line takes, as
Python values: `since="24h"` or a datetime, `where=["route=/chat"]`, `mapping={"model": "llm.name"}`.
Like the command, it reads ./aiobs.toml (or pyproject's [tool.aiobs]) when `config` is not given;
`config=False` reads no file. Bad arguments raise `aiobs.errors.UsageError`; input with no usable
event raises `aiobs.errors.InputError`, with the sentence the command prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from aiobs.config import Config, load_config
from aiobs.engines import engine_named
from aiobs.errors import UsageError
from aiobs.formats.mapping import FieldMapping, check_http_error_from, check_time_is, parse_map_options
from aiobs.formats.timestamps import check_time_format, check_timezone
from aiobs.ingest import ProgressCallback
from aiobs.pricing import load_price_book
from aiobs.redact import Privacy
from aiobs.sources.base import Source
from aiobs.sources.partitions import TimeWindow
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, parse_time_bound
from aiobs.summary import summarize as summarize_sources
from aiobs.where import parse_where

Paths = str | Path | Iterable[str | Path]
TimeBound = str | datetime | date | None
#: Given the sources once they are listed, a context that yields the progress callback (the CLI's bar).
ProgressFactory = Callable[[list[Source]], AbstractContextManager[ProgressCallback | None]]


def summarize(
    paths: Paths,
    *,
    by: str | Iterable[str] | None = None,
    every: str | None = None,
    since: TimeBound = None,
    until: TimeBound = None,
    where: str | Iterable[str] | None = None,
    top: int | None = None,
    mapping: Mapping[str, str] | Iterable[str] | None = None,
    config: str | Path | Literal[False] | None = None,
    prices: str | Path | None = None,
    input_format: str | None = None,
    time_is: str | None = None,
    time_format: str | None = None,
    timezone: str | None = None,
    http_error_from: int | None = None,
    flags: bool = True,
    redact: bool = True,
    hash_users: bool = False,
    privacy: Privacy | None = None,
    engine: str | None = None,
    ray_address: str | None = None,
    endpoint_url: str | None = None,
    progress: ProgressFactory | None = None,
    **options: Any,
) -> Summary:
    """Read the logs at `paths` (files, folders, globs, `s3://` URLs, `-` for standard input) and summarize them.

        `by`: "model", "route", "model,route"... (one table each); `every`: a time bucket such as "1h";
        `since`/`until`: "24h", "7d", an ISO time or a datetime; `where`: conditions such as "route=/chat"
        or "latency_ms>2000" (all must hold); `top`: keep the busiest groups of each `by` table, the rest as
        `other`; `mapping`: field -> path in your logs (`{"correlation_id": "trace.id"}`); `flags=False`
        skips the quality flags; `redact=False` shows labels from the logs as they are (`privacy`, an
    `aiobs.redact.Privacy`, says it all at once). Further keyword
        arguments go to `aiobs.summary.summarize` (`keep_events=True` for `Summary.events_of`).
    """
    settings = Config() if config is False else load_config(Path(config) if config else None)
    reading = field_mapping(
        settings,
        mapping,
        time_is=time_is,
        time_format=time_format,
        timezone=timezone,
        http_error_from=http_error_from,
    )
    price_file = Path(prices) if prices else settings.prices
    start, end = (_time_bound(bound) for bound in (since, until))
    if start and end and start >= end:
        raise UsageError("--since must be before --until")
    # The window also prunes date-partitioned s3:// prefixes before they are listed, with a slack at each
    # edge so that the requests at the edges are seen whole (as a read of every file sees them).
    edges = TimeWindow.around(start, end)
    chosen = engine or settings.engine
    on_ray = (chosen or "local").strip().lower() == "ray"
    # The config's address is for the config's (or the caller's) ray engine; the argument is checked.
    runner = engine_named(chosen, ray_address=ray_address or (settings.ray_address if on_ray else None))
    selection = parse_where(_listed(where))
    sources = expand_inputs(_listed(paths), since=edges.since, until=edges.until, endpoint_url=endpoint_url)
    with (progress or _no_progress)(sources) as callback:
        return summarize_sources(
            sources,
            mapping=reading,
            by=_listed(by),
            every=every,
            since=start,
            until=end,
            top=top,
            prices=load_price_book(price_file) if price_file else None,
            quality=settings.quality,
            flags=flags,
            progress=callback,
            input_format=input_format or settings.input_format,
            max_line_bytes=settings.max_line_bytes,
            engine=runner,
            where=selection,
            privacy=privacy or Privacy(redact=redact, hash_users=hash_users),
            **options,
        )


def read_logs(paths: Paths, **options: Any) -> pl.DataFrame:
    """The rebuilt requests of the logs at `paths`: a row per request, the columns of docs/schema.md.

    Takes the keyword arguments of `summarize` (`since`, `where`, `mapping`, `flags`, `redact`...)."""
    summary = summarize(paths, **options)
    try:
        return summary.requests.collect()
    finally:
        if summary.workspace is not None:
            summary.workspace.close()  # the spilled buckets: the frame above owns its data


def field_mapping(
    settings: Config,
    given: Mapping[str, str] | Iterable[str] | None,
    *,
    time_is: str | None,
    time_format: str | None,
    http_error_from: int | None,
    timezone: str | None = None,
) -> FieldMapping:
    """The field mapping and reading conventions: the caller's over aiobs.toml's over the format's own."""
    pairs = [f"{field}={path}" for field, path in given.items()] if isinstance(given, Mapping) else _listed(given)
    mapping = FieldMapping().with_overrides(settings.mapping, origin="config")
    mapping = mapping.with_overrides(parse_map_options(pairs), origin="option")
    return replace(
        mapping,
        time_is=check_time_is(time_is) or settings.time_is,
        time_format=check_time_format(time_format) or settings.time_format,
        timezone=check_timezone(timezone) or settings.timezone,
        http_error_from=check_http_error_from(http_error_from)
        if http_error_from is not None
        else settings.http_error_from,
    )


def _time_bound(bound: TimeBound) -> datetime | None:
    """A datetime without a time zone is UTC, as a timestamp without one is in the logs; a date is its
    midnight (UTC)."""
    if isinstance(bound, datetime):
        return bound if bound.tzinfo is not None else bound.replace(tzinfo=UTC)
    if isinstance(bound, date):
        return datetime(bound.year, bound.month, bound.day, tzinfo=UTC)
    if bound is not None and not isinstance(bound, str):
        msg = f"since and until take a datetime, a date or a string such as 24h, not {type(bound).__name__}"
        raise UsageError(msg)
    return parse_time_bound(bound) if bound else None


def _listed(value: str | Path | Iterable[Any] | None) -> list[str]:
    """A single value or several, as the list of strings the command line would have given."""
    if value is None:
        return []
    if isinstance(value, str | Path):
        return [str(value)]
    return [str(v) for v in value]


def _no_progress(sources: list[Source]) -> AbstractContextManager[None]:
    return nullcontext()
