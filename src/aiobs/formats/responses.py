"""Log-store query responses saved as files: the log lines they hold, read as if the application's file were given.

- **Loki**: the query API's response (`/loki/api/v1/query_range` or `/query`, `resultType` `streams`):
  `{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {labels},
  "values": [["<unix ns>", "<line>"], ...]}, ...]}}` (grafana/loki docs/sources/reference/loki-http-api.md).
- **CloudWatch Logs**: `aws logs filter-log-events` and `aws logs get-log-events` output:
  `{"events": [{"timestamp": <unix ms>, "message": "<line>", "logStreamName", "ingestionTime",
  "eventId"}, ...], ...}` (the CLI merges the pages of a paginated query into one document).

Unlike an export with one envelope a line (aiobs.formats.envelopes), a response is one JSON document,
pretty-printed or on a single line, so a log line inside it has no line of its own. Its place is said
by its position instead: the lines of `resp.json` are read as the source `resp.json#events` (Loki:
`resp.json#values`), numbered from 1 in the response's order, so a problem reported at
`resp.json#events:17` is `jq '.events[16]' resp.json` (Loki: `jq '[.data.result[].values[]][16]'`).
The inner lines then go through format detection like any file (structlog, Pino, aiobs's own...).

A response is decoded whole, in Python: it is what one query returns, not a day of logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from aiobs.issues import InputIssue, IssueLog
from aiobs.sources.read import CHUNK_BYTES, Chunk

LOKI_RESPONSE = "loki-response"
CLOUDWATCH_RESPONSE = "cloudwatch-response"
_WHERE = {LOKI_RESPONSE: "values", CLOUDWATCH_RESPONSE: "events"}
# How each starts: Loki writes `status` then `data`; the AWS CLI keeps the response's order, `events` first.
_STARTS = {
    LOKI_RESPONSE: re.compile(
        rb'^\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*"resultType"\s*:\s*"streams"'
    ),
    CLOUDWATCH_RESPONSE: re.compile(rb'^\s*\{\s*"events"\s*:\s*\[\s*(\]|\{)'),
}


def response_of(data: bytes) -> str | None:
    """`loki-response` or `cloudwatch-response` when the file's first bytes open such a response."""
    head = data[:512].removeprefix(b"\xef\xbb\xbf")
    return next((kind for kind, start in _STARTS.items() if start.match(head)), None)


def response_chunks(
    chunks: Iterable[Chunk], kind: str, issues: IssueLog, *, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Chunk]:
    """The log lines of a response as chunks of `<file>#events` (or `#values`), one a line, in order."""
    parts, source = [], ""
    for chunk in chunks:
        source = chunk.source
        parts.append(chunk.data)
    name = f"{source}#{_WHERE[kind]}"
    try:
        document = orjson.loads(b"".join(parts).removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        issues.record(InputIssue("invalid-json", source, 1, f"the {kind} document cannot be read: {exc}"))
        return
    out: list[bytes] = []
    size, first_line = 0, 1
    for number, line in enumerate(_lines(document, kind, name, issues), start=1):
        if size >= chunk_bytes:
            yield Chunk(name, b"".join(out), first_line, count_blank=False)
            out, size, first_line = [], 0, number
        out.append(line + b"\n")
        size += len(out[-1])
    if out:
        yield Chunk(name, b"".join(out), first_line, count_blank=False)


def _lines(document: Any, kind: str, name: str, issues: IssueLog) -> Iterator[bytes]:
    """Each log line, its newlines made spaces (a raw newline inside a JSON string was never valid JSON).

    An entry without a line, or with an empty one, is reported here and kept as a blank line, so the
    numbering stays that of the response (the chunks say blank lines are not to be counted again)."""
    for number, text in enumerate(_texts(document, kind), start=1):
        line = text.rstrip("\r\n").replace("\r", " ").replace("\n", " ") if isinstance(text, str) else ""
        if not isinstance(text, str):
            issues.record(InputIssue("unknown-record", name, number, f"a {kind} entry without a log line"))
        elif not line.strip():
            issues.record(InputIssue("blank-line", name, number, "an empty log line"))
        yield line.encode("utf-8", errors="replace")


def _texts(document: Any, kind: str) -> Iterator[object]:
    if not isinstance(document, dict):
        return
    if kind == CLOUDWATCH_RESPONSE:
        for event in document.get("events") or ():
            yield event.get("message") if isinstance(event, dict) else None
        return
    data = document.get("data")
    for stream in (data.get("result") if isinstance(data, dict) else None) or ():
        for value in (stream.get("values") if isinstance(stream, dict) else None) or ():
            yield value[1] if isinstance(value, list) and len(value) == 2 else None
