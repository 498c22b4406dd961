"""Files that hold JSON *documents* rather than one object a line: turned into lines, numbering kept.

The OpenTelemetry examples are one pretty-printed request per file, LiteLLM's S3 logger writes one
pretty JSON document per object, UI exports are a JSON array, and `jq .` prints each record over many
lines. Such a file is recognised from its first lines (`looks_like_documents`), read whole, decoded
document by document with the standard library's `raw_decode` (it reports where each document ends),
and each record is written back as one compact line *at the line where it started*, the lines it
spanned left blank. Readers skip blank lines, so every event and every problem keeps its real line
number. A broken document is recorded as `invalid-json` at its line; reading resumes at the next line
that starts with `{` in the first column.

This path holds the whole file in memory and decodes it in Python: it is for documents and exports,
not for large logs, which are JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from aiobs.issues import InputIssue, IssueLog
from aiobs.sources.read import CHUNK_BYTES, Chunk

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"


def _first_value_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A repeated key keeps its first value, as Polars' line reader does (the standard library keeps the last)."""
    record: dict[str, Any] = {}
    for key, value in pairs:
        record.setdefault(key, value)
    return record


def _first_lines(data: bytes, count: int) -> list[bytes]:
    lines: list[bytes] = []
    for line in data.removeprefix(_BOM).split(b"\n", 64):
        if line.strip():
            lines.append(line.rstrip(b"\r"))
            if len(lines) == count:
                break
    return lines


def looks_like_documents(data: bytes) -> bool:
    """True when the first lines are the start of a multi-line JSON document or a JSON array of objects.

    A first line that is a whole JSON object is JSON Lines. A first line that opens an object but does not
    close it is a document unless the next line starts a new object in the first column (then it is JSON
    Lines whose first line is broken).
    """
    lines = _first_lines(data, 2)
    if not lines:
        return False
    first = lines[0].strip()
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        if not first.startswith((b"{", b"[")):
            return False
        return len(lines) > 1 and not lines[1].startswith(b"{")
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class _Lines:
    """Line numbers of offsets in a text, counted incrementally (offsets only grow)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _compact(value: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the standard library writes it
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _records(text: str, source: str, issues: IssueLog) -> Iterator[tuple[int, bytes]]:
    """(line where it starts, compact JSON) for each object in the documents of `text`."""
    decoder = json.JSONDecoder(object_pairs_hook=_first_value_wins)
    lines = _Lines(text)
    pos = _skip(text, 0)
    depth_array = False
    while pos < len(text):
        if not depth_array and text[pos] == "[":
            depth_array, pos = True, _skip(text, pos + 1)
            continue
        if depth_array and text[pos] == "]":
            depth_array, pos = False, _skip(text, pos + 1)
            continue
        try:
            value, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            at, why = (exc.pos, exc.msg) if isinstance(exc, json.JSONDecodeError) else (pos, "nested too deeply")
            start, line = lines.at(pos), lines.at(at)
            resume = text.find("\n{", at + 1)
            last = lines.at(resume if resume >= 0 else len(text.rstrip()))
            message = f"JSON document cannot be read: {why}"
            if last > start:  # say which lines go with it, so none is lost without a word
                message += f"; lines {start}-{last} skipped, up to the next line that starts with {{"
            issues.record(InputIssue("invalid-json", source, line, message))
            if resume < 0:
                return
            pos, depth_array = resume + 1, False
            continue
        line = lines.at(pos)
        if isinstance(value, dict):
            yield line, _compact(value)
        else:
            kind = "array" if isinstance(value, list) else type(value).__name__
            issues.record(InputIssue("not-an-object", source, line, f"a JSON {kind} in a document, not an object"))
        pos = _skip(text, end)
        if depth_array and pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)


def document_chunks(chunks: Iterable[Chunk], issues: IssueLog, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The records of a documents file as chunks of lines, each record on the line where it started."""
    source = ""
    parts: list[bytes] = []
    for chunk in chunks:
        source = chunk.source
        parts.append(chunk.data)
    data = b"".join(parts).removeprefix(_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        issues.record(InputIssue("invalid-utf8", source, data.count(b"\n", 0, exc.start) + 1, "invalid UTF-8"))
        text = data.decode("utf-8", errors="replace")
    out: list[bytes] = []
    size, first_line, next_line = 0, 1, 1
    for line, record in _records(text, source, issues):
        line = max(line, next_line)  # two documents on one line: the second goes on the next free line
        if size >= chunk_bytes:
            yield Chunk(source, b"".join(out), first_line, next_line - first_line, count_blank=False)
            out, size, first_line = [], 0, next_line
        out.append(b"\n" * (line - next_line) + record + b"\n")
        size += len(out[-1])
        next_line = line + 1
    if out:
        yield Chunk(source, b"".join(out), first_line, next_line - first_line, count_blank=False)
