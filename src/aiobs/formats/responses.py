"""Log-store query responses saved as files: the log lines they hold, read as if the application's file were given.

- **Loki**: the query API's response (`/loki/api/v1/query_range` or `/query`, `resultType` `streams`):
  `{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {labels},
  "values": [["<unix ns>", "<line>"], ...]}, ...]}}` (grafana/loki docs/sources/reference/loki-http-api.md).
- **CloudWatch Logs**: `aws logs filter-log-events` and `aws logs get-log-events` output:
  `{"events": [{"timestamp": <unix ms>, "message": "<line>", "logStreamName", "ingestionTime",
  "eventId"}, ...], ...}` (the CLI merges the pages of a paginated query into one document).

Unlike an export with one envelope a line (aiobs.formats.envelopes), a response is one JSON document,
pretty-printed or on a single line, so a log line inside it has no line of its own. Its place is said
by its position instead: the lines of `resp.json` are read as the source `resp.json#events` (each Loki
stream as `resp.json#result[i].values`), numbered from 1 in the response's order, so a problem reported
at `resp.json#events:17` is `jq '.events[16]' resp.json` (Loki, `#result[1].values:3`:
`jq '.data.result[1].values[2]' resp.json`). AWS Lambda's own lines (`START RequestId: ...`, `REPORT
...`) are skipped and counted as `skipped-record`.
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
    """The log lines of a response, one a line, in order: CloudWatch's as the source `<file>#events`, each
    Loki stream's as `<file>#result[i].values` (numbered from 1 within it)."""
    parts, source = [], ""
    for chunk in chunks:
        source = chunk.source
        parts.append(chunk.data)
    try:
        document = orjson.loads(b"".join(parts).removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        issues.record(InputIssue("invalid-json", source, 1, f"the {kind} document cannot be read: {exc}"))
        return
    for where, texts in _parts(document, kind):
        name = f"{source}#{where}"
        out: list[bytes] = []
        size, first_line = 0, 1
        for number, line in enumerate(_lines(texts, kind, name, issues), start=1):
            if size >= chunk_bytes:
                yield Chunk(name, b"".join(out), first_line, count_blank=False)
                out, size, first_line = [], 0, number
            out.append(line + b"\n")
            size += len(out[-1])
        if out:
            yield Chunk(name, b"".join(out), first_line, count_blank=False)


#: What AWS Lambda writes into every function's log group around the function's own lines.
_LAMBDA_PLATFORM = re.compile(r"^(START|END|REPORT|INIT_START|INIT_REPORT|EXTENSION|TELEMETRY) ")


def _lines(texts: Iterable[object], kind: str, name: str, issues: IssueLog) -> Iterator[bytes]:
    """Each log line, its newlines made spaces (a raw newline inside a JSON string was never valid JSON).

    An entry without a line, an empty one, or a Lambda platform line (`START RequestId: ...`) is reported
    here and kept as a blank line, so the numbering stays that of the response (the chunks say blank
    lines are not to be counted again)."""
    for number, text in enumerate(texts, start=1):
        line = text.rstrip("\r\n").replace("\r", " ").replace("\n", " ") if isinstance(text, str) else ""
        if not isinstance(text, str):
            issues.record(InputIssue("unknown-record", name, number, f"a {kind} entry without a log line"))
        elif not line.strip():
            issues.record(InputIssue("blank-line", name, number, "an empty log line"))
        elif _LAMBDA_PLATFORM.match(line):
            issues.record(InputIssue("skipped-record", name, number, f"AWS Lambda platform line: {line[:60]}"))
            line = ""
        yield line.encode("utf-8", errors="replace")


def _parts(document: Any, kind: str) -> Iterator[tuple[str, list[object]]]:
    """(where in the response, its entries' log lines: None for an entry without one)."""
    if not isinstance(document, dict):
        return
    if kind == CLOUDWATCH_RESPONSE:
        events = document.get("events") or ()
        yield "events", [event.get("message") if isinstance(event, dict) else None for event in events]
        return
    data = document.get("data")
    for i, stream in enumerate((data.get("result") if isinstance(data, dict) else None) or ()):
        values = (stream.get("values") if isinstance(stream, dict) else None) or ()
        # [ts, line], or [ts, line, {structured metadata}] when the query asked for categorized labels
        yield f"result[{i}].values", [v[1] if isinstance(v, list) and len(v) >= 2 else None for v in values]
