"""`aiobs inspect`: what aiobs makes of unknown logs, file by file, and how to fix what it cannot read.

For each file, from a sample of its first lines (`SAMPLE_LINES`; the result says how much was read):
the detected format and the evidence for it; every canonical field, the share of events it is filled in
and which source path fills it; the keys the mapping leaves unread; and what aiobs will not be able to
compute (latency, status, tokens, correlation ID, time, model) with the exact `--map` option and
aiobs.toml line that would fix it. The sample is parsed by the very parser `summarize` uses, so the
shares are what a summary would see; walking the sample's keys is plain Python over a bounded sample.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import polars as pl

from aiobs.formats import FORMATS, WRAPPER_NAMES, check_input_format, frame_source, make_parser, wrapper_of
from aiobs.formats.detect import DEFAULT_FORMAT, detect_votes, format_of_row
from aiobs.formats.loggers import PRESET_BY_NAME
from aiobs.formats.mapping import FieldMapping, SourcePath
from aiobs.formats.native_paths import Reading
from aiobs.issues import IssueLog
from aiobs.reconstruct import rebuild_requests
from aiobs.redact import Privacy, private_issues
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources.base import SkippedFile, Source
from aiobs.sources.read import Chunk, iter_chunks

SAMPLE_LINES = 10_000
#: Unmapped keys listed per file, most often present first.
TOP_KEYS = 15
#: Nested objects are walked this deep for unmapped keys.
KEY_DEPTH = 4
#: Canonical fields shown, in this order (derived columns such as `stage` and `is_root` are left out).
SHOWN_FIELDS = (
    "correlation_id",
    "start",
    "duration_ms",
    "event",
    "model",
    "provider",
    "route",
    "user",
    "error_type",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "logged_cost_usd",
    "ttft_ms",
    "event_id",
    "parent_id",
    "attempt",
    "finish_reason",
    "input_text",
    "output_text",
)
#: Source-side fields that decide the status: reported with the others, read into `is_error`.
STATUS_FIELDS = ("status", "level", "http_status", "error")


@dataclass(frozen=True)
class FieldUse:
    """A canonical field: the share of sampled events that have it, and the source paths that fill it."""

    name: str
    share: float | None
    #: (path as written in --map, share of sampled lines it filled the field on), most used first.
    paths: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class KeyUse:
    """A key of the logs that no mapped path reads."""

    path: str
    type: str
    share: float
    #: The median of its numeric values in the sample (None when it has none): a duration's likely unit.
    median: float | None = None


@dataclass(frozen=True)
class Gap:
    """Something aiobs cannot compute from these logs, and the mappings that would let it."""

    what: str
    why: str
    #: `--map` options, best candidate first; empty when no key looks like it.
    options: list[str]

    @property
    def config(self) -> list[str]:
        """The aiobs.toml lines for the first candidate."""
        if not self.options:
            return []
        name, _, spec = self.options[0].removeprefix("--map ").partition("=")
        return ["[mapping]", f'{name} = "{spec}"']


@dataclass(frozen=True)
class FileInspection:
    source: str
    format: str
    format_reads: str
    evidence: str
    sampled_lines: int
    sampled_bytes: int
    whole_file: bool
    #: The format is read through the field mapping (native, logger presets), so --map can fix what is missing.
    mappable: bool
    events: int
    requests: int
    fields: list[FieldUse]
    status: list[FieldUse]
    unmapped: list[KeyUse]
    gaps: list[Gap]
    issues: IssueLog


def inspect_sources(
    sources: list[Source],
    mapping: FieldMapping | None = None,
    *,
    input_format: str | None = None,
    sample_lines: int = SAMPLE_LINES,
    privacy: Privacy | None = None,
) -> list[FileInspection]:
    """One inspection per source, each from at most `sample_lines` of its first lines.

    The problems' examples quote the lines they are about: redacted unless `privacy` says otherwise.
    """
    forced = check_input_format(input_format)
    # A folder's files that are not logs are never read: summarize names them (`skipped-file`), inspect has
    # nothing to say of their contents.
    readable = [s for s in sources if not isinstance(s, SkippedFile)]
    files = [_inspect(source, mapping or FieldMapping(), forced, sample_lines) for source in readable]
    if (privacy or Privacy()).redact:
        files = [replace(f, issues=private_issues(f.issues)) for f in files]
    return files


def _sample(source: Source, issues: IssueLog, lines: int) -> tuple[Chunk | None, bool]:
    """The first `lines` lines of the source as one chunk, and whether that is the whole source."""
    chunks = iter_chunks(source, issues, chunk_bytes=4 << 20)
    parts, count = [], 0
    for chunk in chunks:
        parts.append(chunk.data)
        count += chunk.line_count
        if count >= lines:
            break
    else:
        data = b"".join(parts)
        return (Chunk(source.name, data, 1, count) if data else None), True
    data = b"".join(parts)
    cut = _nth_newline(data, lines)
    whole = cut == len(data) and next(chunks, None) is None
    return Chunk(source.name, data[:cut], 1, lines), whole


def _nth_newline(data: bytes, n: int) -> int:
    at = -1
    for _ in range(n):
        at = data.find(b"\n", at + 1)
        if at < 0:
            return len(data)
    return at + 1


def _inspect(source: Source, mapping: FieldMapping, forced: str | None, lines: int) -> FileInspection:
    issues = IssueLog()
    sample, whole = _sample(source, issues, lines)
    wrapper = wrapper_of(sample.data) if sample is not None else None
    if wrapper in ("loki-response", "cloudwatch-response", "documents") and not whole:
        # One JSON document: its first lines are not a readable part of it, so it is read whole.
        issues, (sample, whole) = IssueLog(), _sample(source, IssueLog(), 1 << 62)
    stream: Iterator[Chunk] = iter([sample]) if sample is not None else iter(())
    name, chunks = frame_source(stream, issues, forced)
    parsed = list(chunks)
    parser = make_parser(name, mapping, issues)
    frames = [parser.events(chunk) for chunk in parsed]
    parser.finish()
    events = pl.concat(frames) if frames else pl.DataFrame(schema=EVENT_SCHEMA)
    requests = None
    if not events.is_empty():
        rebuilt = rebuild_requests(events)
        issues.merge(rebuilt.issues)
        requests = rebuilt.requests
    rows = _rows(parsed) if name in PRESET_BY_NAME else []
    reading = Reading.of(mapping, PRESET_BY_NAME[name]) if name in PRESET_BY_NAME else None
    fields, status = _field_uses(events, rows, reading)
    unmapped = _unmapped(rows, reading) if reading is not None else []
    return FileInspection(
        source=source.name,
        format=name,
        format_reads=FORMATS[name][0],
        evidence=_evidence(parsed, name, forced, wrapper) + _mixed(rows, name),
        sampled_lines=sample.line_count if sample is not None else 0,
        sampled_bytes=len(sample.data) if sample is not None else 0,
        whole_file=whole,
        mappable=reading is not None,
        events=events.height,
        requests=0 if requests is None else requests.height,
        fields=fields,
        status=status,
        unmapped=unmapped,
        gaps=_gaps(events, requests, fields, status, unmapped, issues, reading, len(rows) or events.height),
        issues=issues,
    )


def _evidence(parsed: list[Chunk], name: str, forced: str | None, wrapper: str | None) -> str:
    """Why this format: the votes of the first lines, said of the lines inside a wrapper when there is one."""
    inside = f"{WRAPPER_NAMES[wrapper]}, read as the lines it holds: " if wrapper else ""
    if forced is not None:
        return f"{inside}{name}: chosen with --input-format"
    if not parsed:
        return f"{inside}no line to read" if wrapper else "the file is empty"
    votes = detect_votes(parsed[0].data)
    total = sum(votes.values())
    if not total:
        return f"{inside}no line of the first ones is a JSON object: read as native"
    others = ", ".join(f"{n} {k}" for k, n in votes.most_common() if k != name)
    said = f"{votes[name]} of the first {total} lines look like {name}" + (f" (others: {others})" if others else "")
    return inside + said


#: Lines of the sample whose format is checked for a second logger, spread over the whole sample.
MIXED_CHECK_LINES = 2_000
#: The share of those lines in another logger's shape that makes a file "mixed".
MIXED_SHARE = 0.05


def _mixed(rows: list[dict[str, Any]], name: str) -> str:
    """`; but 1,050 of 1,450 lines look like loguru: ...` when a file holds two loggers' lines: aiobs reads a
    file as one format, so the other's lines lose their correlation IDs. Lines no detector claims (`native`)
    are not counted: a logger's own lines without its marks look like that."""
    step = max(1, len(rows) // MIXED_CHECK_LINES)
    checked = rows[::step]
    votes = Counter(format_of_row(r) for r in checked)
    others = [(n, other) for other, n in votes.most_common() if other not in (name, DEFAULT_FORMAT)]
    if not others or others[0][0] < MIXED_SHARE * len(checked):
        return ""
    n, other = others[0]
    return (
        f"; but {n:,} of {len(checked):,} lines across the sample look like {other}: this file mixes two "
        f"formats, and aiobs reads a file as one; split it and read each part"
    )


def _rows(chunks: list[Chunk]) -> list[dict[str, Any]]:
    rows = []
    for line in itertools.chain.from_iterable(c.data.split(b"\n") for c in chunks):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            rows.append(value)
    return rows


def _get(row: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        if isinstance(part, int):
            row = row[part] if isinstance(row, list) and -len(row) <= part < len(row) else None
        else:
            row = row.get(part) if isinstance(row, dict) else None
        if row is None:
            return None
    return row


def _field_uses(
    events: pl.DataFrame, rows: list[dict[str, Any]], reading: Reading | None
) -> tuple[list[FieldUse], list[FieldUse]]:
    # Without events (no correlation ID yet) the share of lines the mapped paths fill stands in.
    shares = events.select(pl.col(SHOWN_FIELDS).is_not_null().mean()).row(0, named=True) if events.height else {}
    paths = reading.paths if reading is not None else {}

    def sources_of(name: str) -> list[tuple[str, float]]:
        counts: Counter[SourcePath] = Counter()
        for row in rows:
            hit = next((p for p in paths.get(name, ()) if _get(row, p.parts) is not None), None)
            if hit is not None:
                counts[hit] += 1
        return [(_with_unit(p), n / len(rows)) for p, n in counts.most_common()] if rows else []

    # A logger's timestamp feeds `end` (the event started `duration` earlier): shown as the start's source.
    fields = []
    for name in SHOWN_FIELDS:
        used = sources_of(name) + (sources_of("end") if name == "start" else [])
        share = shares.get(name) if events.height else (min(1.0, sum(s for _, s in used)) if used else None)
        fields.append(FieldUse(name, share, used))
    status = [FieldUse(n, None, sources_of(n)) for n in STATUS_FIELDS] if reading is not None else []
    return fields, status


def _with_unit(path: SourcePath) -> str:
    units = {1000.0: ":s", 0.001: ":us", 0.000001: ":ns"}
    return path.path + units.get(path.scale, "")


def _walk(value: Any, prefix: tuple[str, ...], depth: int) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    for key, child in value.items():
        here = (*prefix, key)
        if isinstance(child, dict) and child and depth > 1:
            yield from _walk(child, here, depth - 1)
        else:
            yield here, _json_type(child), child


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), "value")


def _unmapped(rows: list[dict[str, Any]], reading: Reading) -> list[KeyUse]:
    mapped = {tuple(str(p) for p in path.parts) for path in reading.all_paths()}
    seen: Counter[tuple[str, ...]] = Counter()
    types: dict[tuple[str, ...], Counter[str]] = {}
    numbers: dict[tuple[str, ...], list[float]] = {}
    for row in rows:
        for path, kind, value in _walk(row, (), KEY_DEPTH):
            if kind == "null":
                continue
            seen[path] += 1
            types.setdefault(path, Counter())[kind] += 1
            if kind == "number":
                numbers.setdefault(path, []).append(float(value))
    keys = [
        KeyUse(
            SourcePath(path).path,
            types[path].most_common(1)[0][0],
            n / len(rows),
            statistics.median(numbers[path]) if path in numbers else None,
        )
        for path, n in seen.items()
        if not any(path[: len(m)] == m for m in mapped)
    ]
    return sorted(keys, key=lambda k: (-k.share, k.path))[:TOP_KEYS] if rows else []


_CANDIDATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "correlation_id": (r"(^|[._])(request|req|trace|correlation|session)?_?id$|rid$", ("string", "number")),
    "duration_ms": (r"duration|latency|elapsed|took|response_?time|_ms$|_secs?$|seconds", ("number", "string")),
    "start": (r"time|^ts$|date|_at$|when", ("string", "number")),
    "status": (r"status|level|severity|outcome|result|code", ("string", "number")),
    "error": (r"err|exception|fail", ("string", "object")),
    "input_tokens": (r"(prompt|input|in)_?tokens?|tokens?_?(in|input|prompt)$", ("number",)),
    "output_tokens": (r"(completion|output|out)_?tokens?|tokens?_?(out|output|completion)$", ("number",)),
    "model": (r"model|engine|deployment|llm", ("string",)),
}


#: Keys that look like a candidate and never are: loguru's `record.elapsed` is the time since the program
#: started, not how long anything took, and its `record.process.id` / `record.thread.id` name no request.
_NEVER = re.compile(r"^record\.(elapsed|process|thread)\b")


def _candidates(unmapped: list[KeyUse], target: str) -> list[str]:
    pattern, kinds = _CANDIDATES[target]
    found = [k for k in unmapped if k.type in kinds and re.search(pattern, k.path.lower()) and not _NEVER.match(k.path)]
    return [f"--map {target}={k.path}{_unit_hint(k) if target == 'duration_ms' else ''}" for k in found[:3]]


#: A duration key whose name says no unit and whose median is below this is read as seconds: an AI
#: request (or step) of a median under 30 ms is rare, one under 30 s is the norm.
SECONDS_BELOW = 30.0


def _unit_hint(key: KeyUse) -> str:
    """The unit a `--map` of this duration key needs: from its name, else from its values (`latency` 0.02-16: `:s`).

    camelCase names are read as snake_case: `latencyMs` is `latency_ms`, `durationSeconds` is `duration_seconds`."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key.path).lower()
    if re.search(r"(_|\b)(s|sec|secs|seconds)$", name):
        return ":s"
    if name.endswith(("_us", "micros")):
        return ":us"
    if name.endswith(("_ns", "nanos")):
        return ":ns"
    if re.search(r"(_|\b)(ms|millis|milliseconds)$", name):
        return ""
    return ":s" if key.median is not None and key.median < SECONDS_BELOW else ""


def _share(fields: list[FieldUse], name: str) -> float:
    return next((f.share or 0.0 for f in fields if f.name == name), 0.0)


def _gaps(
    events: pl.DataFrame,
    requests: pl.DataFrame | None,
    fields: list[FieldUse],
    status: list[FieldUse],
    unmapped: list[KeyUse],
    issues: IssueLog,
    reading: Reading | None,
    rows_read: int,
) -> list[Gap]:
    gaps: list[Gap] = []
    orphans = issues.counts.get("missing-correlation-id", 0)
    if not rows_read and events.is_empty():
        return [Gap("events", "no line of the sample could be read as an event (see the input problems)", [])]
    if events.is_empty() or orphans:
        why = f"{orphans:,} sampled event(s) have no correlation ID, so they belong to no request"
        gaps.append(Gap("correlation ID", why, _candidates(unmapped, "correlation_id")))
    if _share(fields, "start") == 0:
        why = "no event has a timestamp: no time range, no --since or --every, no latency from log lines"
        gaps.append(Gap("time", why, _candidates(unmapped, "start")))
    if requests is not None and requests.height:
        unknown = requests.get_column("latency_ms").null_count()
        if unknown:
            why = f"{unknown:,} of {requests.height:,} sampled requests have no duration and a single timestamp"
            gaps.append(Gap("latency", why, _candidates(unmapped, "duration_ms")))
        from_lines = requests.filter(pl.col("latency_from") == "lines").height
        options = _candidates(unmapped, "duration_ms")
        if from_lines and options:  # a measured duration is there, unread
            why = (
                f"{from_lines:,} of {requests.height:,} sampled requests get their latency from the span of their lines"
            )
            gaps.append(Gap("latency", why, options))
    elif _share(fields, "duration_ms") == 0:
        gaps.append(Gap("latency", "no line has a duration", _candidates(unmapped, "duration_ms")))
    if reading is not None and not any(f.paths for f in status):
        why = "no line has a status, level, HTTP status or error field: every request would count as succeeded"
        gaps.append(Gap("errors", why, _candidates(unmapped, "status") + _candidates(unmapped, "error")))
    if _share(fields, "input_tokens") == 0 and _share(fields, "output_tokens") == 0:
        why = "no token counts: no cost, no tokens per second"
        options = _candidates(unmapped, "input_tokens") + _candidates(unmapped, "output_tokens")
        gaps.append(Gap("tokens and cost", why, options))
    if _share(fields, "model") == 0:
        why = "no model name: nothing can be priced or grouped by model"
        gaps.append(Gap("model", why, _candidates(unmapped, "model")))
    return gaps
