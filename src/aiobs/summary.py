"""`summarize`: the library call behind `aiobs summarize`, and the result every renderer reads.

partial -> merge -> finalize: the sources become one request table (aiobs.rebuild: partial rows reduced
where they are parsed, merged per bucket and finalized, or every event bucketed and rebuilt), and the
metrics are computed once over it (aiobs.metrics). docs/architecture.md draws the whole flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl

from aiobs import __version__
from aiobs.engines import Engine, LocalEngine
from aiobs.errors import InputError, UsageError, did_you_mean
from aiobs.formats import check_input_format
from aiobs.formats.details import merge_details, merge_phases
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ProgressCallback
from aiobs.issues import INFORMATIONAL, InputIssue, IssueLog
from aiobs.metrics import (
    STAGE_KEY,
    TIME_KEY,
    cost_comparison,
    errors_by_rule,
    other_last,
    spend_by_model,
    summarize_requests,
    top_groups,
)
from aiobs.pricing import PriceBook, price_data_version
from aiobs.quality import QualityConfig, flag_names
from aiobs.rebuild import FREE_TEXT_COLUMNS, IngestOptions, Rebuild, Workspace
from aiobs.redact import Privacy, private_labels
from aiobs.schema import REQUEST_SCHEMA
from aiobs.sources.base import STDIN, SkippedFile, Source
from aiobs.sources.read import MAX_LINE_BYTES
from aiobs.where import Where, check_flags

SCHEMA_VERSION = "1"
#: Flag rates are always shown by these keys, whatever `--by` asks for.
QUALITY_GROUPS = ("model", "route")
#: Canonical fields read only for the quality flags.
TEXT_FIELDS = ("input_text", "output_text", "context_text", "response_format", "max_tokens")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass
class Summary:
    """Everything a renderer needs. `requests` is the request table (lazy: on disk for large inputs)."""

    inputs: list[str]
    events: int
    bytes_read: int
    requests: pl.LazyFrame
    n_requests: int
    overall: pl.DataFrame
    groups: dict[str, pl.DataFrame]
    unpriced: pl.DataFrame
    cost_check: pl.DataFrame
    issues: IssueLog
    every: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    price_data: str = ""
    version: str = __version__
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Names of the quality flags rated (the request table has a `flag_<name>` column for each).
    flags: list[str] = field(default_factory=list)
    #: How renderers show log-derived text (redacted by default).
    privacy: Privacy = field(default_factory=Privacy)
    #: Flag rates and feedback by model and by route (the same rows as `groups`).
    quality_groups: dict[str, pl.DataFrame] = field(default_factory=dict)
    #: Requests rebuilt from the input before --since/--until kept `n_requests` of them (None without a window).
    requests_read: int | None = None
    #: Per model, every call (embeddings and rerankers included): calls, tokens, cost (metrics.spend_by_model).
    spend: pl.DataFrame = field(default_factory=lambda: spend_by_model([]))
    #: Per group table (`groups`' keys): how many groups `--top` counted together as `other`.
    folded: dict[str, int] = field(default_factory=dict)
    #: The --where conditions that selected the requests, as written (None: every request).
    where: str | None = None
    #: Failed requests per convention that marked them (`error_rule`, requests).
    error_rules: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The bucketed events (kept with `keep_events`) and the spilled request table; removed with the summary.
    workspace: Workspace | None = field(default=None, repr=False)

    @property
    def selected_by(self) -> str:
        """What left requests out: `in the --since/--until window`, `matching --where ...`, or both."""
        parts = ["in the --since/--until window"] if self.since or self.until else []
        if self.where:
            parts.append(f"matching --where {self.where}")
        return ", ".join(parts)

    @property
    def kept_events(self) -> bool:
        """The events were kept (`summarize(..., keep_events=True)`), so `events_of` can read them."""
        return self.workspace is not None and self.workspace.kept_events

    def events_of(self, correlation_ids: list[str]) -> pl.DataFrame:
        """The events of these requests (needs `summarize(..., keep_events=True)`)."""
        if self.workspace is None or not self.kept_events:
            msg = "the events were not kept: call summarize(..., keep_events=True)"
            raise ValueError(msg)
        # As the requests were rebuilt: details folded into their spans, start and end halves joined (their
        # input problems were counted when the summary was made).
        events = merge_phases(merge_details(self.workspace.events_of(correlation_ids), IssueLog()))
        return private_labels(events, self.privacy)


def parse_time_bound(text: str, *, now: datetime | None = None) -> datetime:
    """`24h`, `7d`, `30m` (before now) or an ISO-8601 date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        try:
            return now - timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        except OverflowError:
            msg = f"cannot read time '{text}': that is before the year 1"
            raise UsageError(msg) from None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = f"cannot read time '{text}': use ISO-8601 (2026-11-28T10:00) or a relative span (24h, 7d, 30m)"
        raise UsageError(msg) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def validate_group_keys(by: list[str]) -> list[list[str]]:
    """`--by model --by route` gives two tables; `--by model,route` gives one table grouped by both."""
    key_sets = [[k.strip() for k in spec.split(",") if k.strip()] for spec in by]
    allowed = {STAGE_KEY, TIME_KEY} | {name for name, dtype in REQUEST_SCHEMA.items() if dtype == pl.String()}
    allowed -= {"correlation_id", *FREE_TEXT_COLUMNS}
    for key in (k for keys in key_sets for k in keys):
        if key in FREE_TEXT_COLUMNS:
            msg = f"cannot group by '{key}': it is free text; group by {', '.join(sorted(allowed))}"
            raise UsageError(msg)
        if key not in allowed:
            msg = f"cannot group by '{key}'{did_you_mean(key, allowed)} (choose from {', '.join(sorted(allowed))})"
            raise UsageError(msg)
    return key_sets


def summarize(
    sources: list[Source],
    *,
    mapping: FieldMapping | None = None,
    by: list[str] | None = None,
    every: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    prices: PriceBook | None = None,
    quality: QualityConfig | None = None,
    flags: bool = True,
    keep_events: bool = False,
    keep_texts: bool = True,
    reduce_at_parse: bool = False,
    n_buckets: int | None = None,
    progress: ProgressCallback | None = None,
    input_format: str | None = None,
    privacy: Privacy | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    engine: Engine | None = None,
    where: Where | None = None,
    top: int | None = None,
) -> Summary:
    """Read the sources and compute the full summary. Raises InputError when no usable event was found.

    `privacy` (redact by default) rewrites the labels from the logs (model, route, user, ...) as each
    bucket is rebuilt, so everything computed from the summary is private (aiobs.redact).

    `flags=False` skips the quality flags (and reading the texts they need); `keep_events` keeps every
    event on disk (or in memory for small inputs) so `Summary.events_of` can rebuild a request's timeline.
    `keep_texts=False` drops the input, output and context texts from the request table once the flags
    are computed, for callers that only read aggregates (a third less work to spill and read back).
    `reduce_at_parse` turns each chunk's events into partial request rows on the parse threads instead of
    bucketing the events (aiobs.rebuild; same answers). It is off by default: on two cores it measured
    slower than the event way (docs/performance.md).
    `input_format` forces one format (`aiobs.formats.FORMAT_NAMES`) for every source; by default each
    file's format is detected from its first lines. A line over `max_line_bytes` is left out and recorded.
    `engine` runs the reading and rebuilding (aiobs.engines: this process by default, or a Ray cluster);
    the numbers are the same whichever runs them. `where` (aiobs.where) keeps the requests that meet
    its conditions, after the --since/--until window. `top` keeps the `top` busiest groups of each `by`
    table and counts the rest together as `other` (aiobs.metrics.top_groups).
    """
    if top is not None and top < 1:
        msg = f"--top must be 1 or more, got {top}"
        raise UsageError(msg)
    check_input_format(input_format)
    key_sets = validate_group_keys(list(by or []))
    if every is not None:
        check_every(every)
    elif any(TIME_KEY in keys for keys in key_sets):
        msg = "--by time needs --every to say how long a time bucket is, e.g. --every 1h"
        raise UsageError(msg)
    mapping = mapping or FieldMapping()
    if not flags:
        mapping = mapping.without(TEXT_FIELDS)  # nothing reads them: do not parse and carry them
    quality = quality or QualityConfig()
    rated = flag_names(quality) if flags else []
    if where is not None:
        check_flags(where, rated)  # before the logs are read: a mistyped flag costs no time
    privacy = privacy or Privacy()
    options = IngestOptions(n_buckets, progress, input_format, max_line_bytes)
    how = Rebuild(mapping, options, prices, quality if flags else None, privacy, keep_texts)
    engine = engine or LocalEngine(reduce_at_parse=reduce_at_parse)
    ingested, issues, (requests, n_requests, unpriced, spend) = engine.read(sources, how, keep_events=keep_events)
    ingested.kept_events = keep_events
    total = n_requests  # before the window and --where select some of them
    if n_requests == 0:
        ingested.close()
        detail = f" ({issues.failing:,} input problem(s) found: {_top_problems(issues)})" if issues.failing else ""
        if issues.counts.get("skipped-record"):
            detail += f" ({issues.counts['skipped-record']} record(s) skipped: not read by their format's adapter)"
        read = [s for s in sources if not isinstance(s, SkippedFile)]
        names = ", ".join("- (standard input)" if s == STDIN else s.name for s in read)
        msg = f"no usable events in {names}{detail}"
        if all(s.size == 0 for s in read):  # said plainly: an empty file is not a format aiobs failed to read
            msg = f"nothing to read: {names} {'is' if len(read) == 1 else 'are'} empty (0 bytes)"
        raise InputError(msg)
    if since is not None or until is not None:
        window = (pl.col("start") >= since) if since is not None else pl.lit(True)
        if until is not None:
            window = window & (pl.col("start") < until)
        unfiltered, requests = requests, requests.filter(window)
        n_requests = requests.select(pl.len()).collect().item()
        if n_requests == 0:
            first, last = (
                unfiltered.select(pl.col("start").min().alias("first"), pl.col("start").max().alias("last"))
                .collect()
                .row(0)
            )
            ingested.close()
            span = " and ".join(
                f"{word} {bound.isoformat().replace('+00:00', 'Z')}"
                for word, bound in (("at or after", since), ("before", until))
                if bound is not None
            )
            if first is None:
                msg = (
                    f"no request has a timestamp, so none starts {span}: map one with --map start=FIELD "
                    "(aiobs inspect shows candidates)"
                )
                raise InputError(msg)
            found = f" (they start between {first:%Y-%m-%dT%H:%M:%SZ} and {last:%Y-%m-%dT%H:%M:%SZ})"
            msg = f"no request starts {span}: all {total:,} requests in the input lie outside the window{found}"
            raise InputError(msg)
    if where is not None:
        matched = requests.filter(where.predicate)
        before, n_requests = n_requests, matched.select(pl.len()).collect().item()
        if n_requests == 0:
            within = " in the --since/--until window" if since is not None or until is not None else ""
            hints = where.hints(requests)
            ingested.close()
            msg = f"no request matches --where {where.text}: none of the {before:,} requests read{within}{hints}"
            raise InputError(msg)
        requests = matched
    if every is not None and requests.select(pl.col("start").is_not_null().any()).collect().item() is False:
        ingested.close()
        msg = f"--every {every} needs timestamps: no request in the input has one (map one with --map start=FIELD)"
        raise InputError(msg)
    _say_when_no_request_has_tokens(requests, sources, issues)
    lazy = requests
    groups, folded = {}, {}
    for keys in key_sets:
        name = " × ".join(keys)
        frame, folded[name] = top_groups(lazy, keys, top) if top is not None else (lazy, 0)
        every_here = every if TIME_KEY in keys else None
        table = summarize_requests(frame, keys, every=every_here, flags=rated, empty_buckets=True)
        groups[name] = other_last(table, keys) if folded[name] else table
    if every is not None:
        groups[f"per {every}"] = summarize_requests(lazy, [], every=every, flags=rated, empty_buckets=True)
    quality_groups = {key: summarize_requests(lazy, [key], flags=rated) for key in QUALITY_GROUPS} if rated else {}
    return Summary(
        inputs=[s.name for s in sources if not isinstance(s, SkippedFile)],
        events=ingested.events,
        bytes_read=ingested.bytes_read,
        requests=requests,
        n_requests=n_requests,
        requests_read=total if since is not None or until is not None or where is not None else None,
        where=where.text if where is not None else None,
        overall=summarize_requests(lazy, flags=rated),
        groups=groups,
        folded={name: n for name, n in folded.items() if n},
        unpriced=_merge_unpriced(unpriced),
        cost_check=cost_comparison(lazy),
        spend=spend,
        error_rules=errors_by_rule(lazy),
        issues=issues,
        every=every,
        since=since,
        until=until,
        price_data=price_data_version(),
        flags=rated,
        privacy=privacy,
        quality_groups=quality_groups,
        workspace=ingested,
    )


def _say_when_no_request_has_tokens(requests: pl.LazyFrame, sources: list[Source], issues: IssueLog) -> None:
    """Tokens and cost shown as unknown need a reason in the input-quality notes, with the way to a fix."""
    counted = pl.any_horizontal(pl.col(k).is_not_null().any() for k in ("input_tokens", "output_tokens"))
    if requests.select(counted).collect().item():
        return
    names = ", ".join("- (standard input)" if s == STDIN else s.name for s in sources[:3])
    names += f" and {len(sources) - 3} more" if len(sources) > 3 else ""
    message = (
        "no token counts in these logs, so no cost either: map yours with --map input_tokens=FIELD "
        "--map output_tokens=FIELD (aiobs inspect shows candidates)"
    )
    issues.record(InputIssue("no-tokens", names, None, message))


def _top_problems(issues: IssueLog, most: int = 3) -> str:
    """`2 invalid-json, 1 not-an-object`: what made the input unusable, most frequent first."""
    failing = sorted(
        ((n, code) for code, n in issues.counts.items() if code not in INFORMATIONAL and n), key=lambda t: (-t[0], t[1])
    )
    shown = ", ".join(f"{n:,} {code}" for n, code in failing[:most])
    return shown + (f" and {len(failing) - most} more kind(s)" if len(failing) > most else "")


#: A Polars duration that is not zero (`0h` divided by zero): one or more count-unit pairs, each count >= 1.
_DURATION = re.compile(r"^(?:[1-9]\d*(?:ns|us|ms|s|m|h|d|w|mo|q|y))+$")


def check_every(every: str) -> None:
    """`--every`: a duration such as 15m, 1h or 1d (shared by summarize, report and history)."""
    if not _DURATION.match(every):
        msg = f"invalid --every '{every}': use a duration such as 15m, 1h or 1d"
        raise UsageError(msg)


def _merge_unpriced(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    keys = ["model", "provider"]
    merged = frame.group_by(keys).agg(pl.exclude(keys).sum())
    return merged.sort([pl.col("input_tokens") + pl.col("output_tokens"), *keys], descending=[True, False, False])
