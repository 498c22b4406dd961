"""Lines that come back wrapped from a log store: Loki, CloudWatch and Datadog exports, unwrapped.

An application's JSON line shipped to Grafana Loki comes back from `logcli query --output=jsonl` as
`{"labels": {...}, "line": "<the line, as a JSON string>", "timestamp": "..."}`; one exported from
CloudWatch Logs (`aws logs create-export-task`, objects in S3) as `<ISO timestamp> <the line>`; one in a
Datadog log archive (`dt=YYYYMMDD/hour=HH/archive_*.json.gz` in S3) as `{"date", "service", "host",
"status", "message", "attributes": {<the line's fields, as Datadog parsed them>}, ...}`: its inner line is
the attributes, with the event's `date` and `status` added as `timestamp` and `level` where the
application's own fields do not have those names. A file
whose first lines are all such envelopes is unwrapped chunk by chunk, in Polars, line for line: every
application line keeps the number of the envelope it came in, so issues point at the exported file's
lines. The inner lines then go through format detection like any file (structlog, Pino, aiobs's own...).

A line that is not an envelope is passed on as it is, and read (or reported) as the line it is. A
newline inside a wrapped line is turned into a space: JSON allows any whitespace between its tokens,
and a raw newline inside a JSON string was never valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson
import polars as pl

from aiobs.issues import InputIssue, IssueLog
from aiobs.sources.read import Chunk

#: A CloudWatch export line: an ISO-8601 UTC timestamp with milliseconds, a space, then the event.
_CLOUDWATCH = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z "
_CLOUDWATCH_LINE = re.compile(_CLOUDWATCH.encode() + rb"\{")
#: Lines of a file's first chunk looked at to decide, and the share of them that must be envelopes.
SAMPLE_LINES = 20
MOST = 0.8

DATADOG = "datadog-archive"
LOKI = "loki"
_LOKI_KEYS = frozenset({"labels", "line", "timestamp"})
CLOUDWATCH = "cloudwatch-export"


def envelope_of(data: bytes) -> str | None:
    """`loki` or `cloudwatch-export` when most of the first non-blank lines are such envelopes."""
    lines = [line for line in data.split(b"\n", SAMPLE_LINES * 4)[: SAMPLE_LINES * 4] if line.strip()][:SAMPLE_LINES]
    lines = lines[:-1] if len(lines) == SAMPLE_LINES and not data.endswith(b"\n") else lines
    if not lines:
        return None
    # Most, not all: a broken line among the first ones must not make a whole export unreadable.
    if sum(_is_loki(line) for line in lines) >= MOST * len(lines):
        return LOKI
    if sum(bool(_CLOUDWATCH_LINE.match(line)) for line in lines) >= MOST * len(lines):
        return CLOUDWATCH
    if sum(_is_datadog(line) for line in lines) >= MOST * len(lines):
        return DATADOG
    return None


def _is_datadog(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return (
        isinstance(value, dict)
        and isinstance(value.get("attributes"), dict)
        and "date" in value
        and any(key in value for key in ("service", "host", "status"))
    )


def _is_loki(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and isinstance(value.get("line"), str) and set(value) <= _LOKI_KEYS


def unwrapped(chunks: Iterable[Chunk], envelope: str, issues: IssueLog) -> Iterator[Chunk]:
    """Each chunk with every envelope replaced by the line it wraps, line for line.

    In a CloudWatch export, the lines AWS Lambda writes around a function's own (`START RequestId: ...`)
    become blank lines counted here as `skipped-record`, and the chunk's blank lines are counted here too
    (as the reader would: `blank-line`), so neither is counted twice."""
    for chunk in chunks:
        data = _unwrap(chunk.data, envelope)
        if envelope == CLOUDWATCH and chunk.count_blank:
            data = _skip_platform_lines(data, chunk, issues)
            yield Chunk(chunk.source, data, chunk.first_line, chunk.n_lines, count_blank=False)
        else:
            yield Chunk(chunk.source, data, chunk.first_line, chunk.n_lines, chunk.count_blank)


#: What AWS Lambda writes into every function's log group around the function's own lines.
LAMBDA_PLATFORM = r"^(START|END|REPORT|INIT_START|INIT_REPORT|EXTENSION|TELEMETRY) "


def _skip_platform_lines(data: bytes, chunk: Chunk, issues: IssueLog) -> bytes:
    decoded = pl.Series("line", [data], dtype=pl.Binary).cast(pl.String, strict=False)
    if decoded[0] is None:  # not UTF-8: the reader reports each bad line, and its blank lines
        return data
    lines = decoded.str.strip_suffix("\n").str.split("\n").explode()
    platform, blank = lines.str.contains(LAMBDA_PLATFORM), lines.str.strip_chars() == ""
    for code, mask, message in (
        ("skipped-record", platform, "AWS Lambda platform line, skipped"),
        ("blank-line", blank, "blank line, skipped"),
    ):
        at = mask.arg_true()
        examples = [InputIssue(code, chunk.source, chunk.first_line + i, message) for i in at.head(issues.keep)]
        issues.add(code, len(at), examples)
    kept = pl.select(pl.when(platform).then(pl.lit("")).otherwise(lines)).to_series()
    return (kept.str.join("\n").item() + "\n").encode()


def _unwrap(data: bytes, envelope: str) -> bytes:
    decoded = pl.Series("line", [data], dtype=pl.Binary).cast(pl.String, strict=False)
    if decoded[0] is None:  # not UTF-8: left for the reader, which reports each bad line where it is
        return data
    lines = decoded.str.strip_suffix("\n").str.split("\n").explode()
    if envelope == LOKI:
        wrapped = lines.str.json_path_match("$.line")
        inner = pl.select(
            pl.when(wrapped.is_not_null()).then(wrapped.str.replace_all("\n", " ", literal=True)).otherwise(lines)
        ).to_series()
    elif envelope == DATADOG:
        inner = _datadog_inner(lines)
    else:
        inner = lines.str.replace(_CLOUDWATCH, "")
    return (inner.str.join("\n").item() + "\n").encode()


def _datadog_inner(lines: pl.Series) -> pl.Series:
    """The attributes object, then the event's date and status under the names loggers use, each only where
    the attributes do not have that name already (a key twice would be a repeated key). Datadog's own
    `message` is not added: the application's message is among its attributes, and a `message` key
    would change which logger the lines are read as."""
    attributes = lines.str.json_path_match("$.attributes")
    added = pl.lit("")
    for name, field in (("timestamp", "date"), ("level", "status")):
        value = lines.str.json_path_match(f"$.{field}")
        encoded = pl.struct(v=value).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")
        missing = value.is_not_null() & attributes.str.json_path_match(f"$.{name}").is_null()
        added = added + pl.when(missing).then(pl.lit(f',"{name}":') + encoded).otherwise(pl.lit(""))
    body = attributes.str.strip_chars_end().str.strip_suffix("}").str.strip_chars_end()
    joined = pl.when(body == "{").then("{" + added.str.strip_prefix(",")).otherwise(body + added) + "}"
    return pl.select(pl.when(attributes.str.starts_with("{")).then(joined).otherwise(lines)).to_series()
