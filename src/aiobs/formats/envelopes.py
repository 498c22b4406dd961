"""Lines that come back wrapped from a log store: Loki and CloudWatch exports, unwrapped to the app's lines.

An application's JSON line shipped to Grafana Loki comes back from `logcli query --output=jsonl` as
`{"labels": {...}, "line": "<the line, as a JSON string>", "timestamp": "..."}`; one exported from
CloudWatch Logs (`aws logs create-export-task`, objects in S3) as `<ISO timestamp> <the line>`. A file
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

from aiobs.sources.read import Chunk

#: A CloudWatch export line: an ISO-8601 UTC timestamp with milliseconds, a space, then the event.
_CLOUDWATCH = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z "
_CLOUDWATCH_LINE = re.compile(_CLOUDWATCH.encode() + rb"\{")
#: Lines of a file's first chunk looked at to decide, and the share of them that must be envelopes.
SAMPLE_LINES = 20
MOST = 0.8

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
    return None


def _is_loki(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and isinstance(value.get("line"), str) and set(value) <= _LOKI_KEYS


def unwrapped(chunks: Iterable[Chunk], envelope: str) -> Iterator[Chunk]:
    """Each chunk with every envelope replaced by the line it wraps, line for line."""
    for chunk in chunks:
        yield Chunk(chunk.source, _unwrap(chunk.data, envelope), chunk.first_line, chunk.n_lines, chunk.count_blank)


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
    else:
        inner = lines.str.replace(_CLOUDWATCH, "")
    return (inner.str.join("\n").item() + "\n").encode()
