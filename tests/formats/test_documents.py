"""JSON documents (pretty-printed objects, arrays, `jq .` output) read as lines, each at its own line number."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from format_helpers import read_events

from aiobs.formats.documents import document_chunks, looks_like_documents
from aiobs.issues import IssueLog
from aiobs.sources.read import Chunk


def records(text: str, *, chunk_bytes: int = 1 << 20) -> tuple[list[tuple[int, dict]], IssueLog]:
    """(line number, record) of every non-blank line the documents turn into."""
    issues = IssueLog()
    out = []
    for chunk in document_chunks([Chunk("doc.json", text.encode(), 1)], issues, chunk_bytes=chunk_bytes):
        assert chunk.line_count == chunk.data.count(b"\n")
        for i, line in enumerate(chunk.data.split(b"\n")):
            if line.strip():
                out.append((chunk.first_line + i, orjson.loads(line)))
    return out, issues


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"a": 1}\n{"a": 2}\n', False),  # JSON Lines
        (b'{"a": \n{"a": 2}\n', False),  # JSON Lines with a broken first line
        (b"{\n" + b'  "a": 1\n}\n', True),  # pretty-printed
        (b'{"resourceSpans": [\n  {"x": 1}\n]}\n', True),
        (b"[\n" + b'  {"a": 1}\n]\n', True),
        (b'[{"a": 1}, {"a": 2}]\n', True),  # a JSON array of objects on one line
        (b"[1, 2]\n" + b'{"a": 1}\n', False),  # an array that is not records: a bad line of JSON Lines
        (b"\xef\xbb\xbf{\n" + b'  "a": 1\n}\n', True),
        (b"", False),
    ],
)
def test_looks_like_documents(head: bytes, expected: bool) -> None:
    assert looks_like_documents(head) is expected


def test_concatenated_pretty_documents_keep_their_line_numbers() -> None:
    docs = [{"request_id": f"r{i}", "n": i, "nested": {"k": [1, 2]}} for i in range(3)]
    text = "".join(json.dumps(d, indent=2) + "\n" for d in docs)  # what `jq .` prints
    found, issues = records(text)
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if line == "{"]
    assert found == list(zip(starts, docs, strict=True))
    assert not issues.counts


def test_an_array_of_records_and_a_broken_document() -> None:
    text = '[\n  {"a": 1},\n  {"a": 2,\n   "b": [3]},\n  5\n]\n{"x": \n  oops\n}\n{\n  "c": 9\n}\n'
    found, issues = records(text)
    assert found == [(2, {"a": 1}), (3, {"a": 2, "b": [3]}), (10, {"c": 9})]
    assert [(i.code, i.line) for code in issues.counts for i in issues.examples[code]] == [
        ("not-an-object", 5),
        ("invalid-json", 8),
    ]


def test_large_integers_and_chunking() -> None:
    docs = [{"id": i, "big": 2**70, "text": "é" * 50} for i in range(40)]
    text = "".join(json.dumps(d, indent=1, ensure_ascii=False) + "\n" for d in docs)
    found, _ = records(text, chunk_bytes=500)
    assert [r for _, r in found] == docs


def test_pretty_printed_litellm_payload_end_to_end(fixtures: Path) -> None:
    events, issues = read_events(fixtures / "litellm" / "standard_logging_payload.json")
    assert events.height == 1
    assert events.row(0, named=True)["line"] == 1
    assert issues.failing == 0


def test_lines_skipped_after_a_broken_document_are_named() -> None:
    # A broken first line, then lines that do not start an object: read as documents, the reader
    # resumes at the next `{`, and the issue says which lines went with the broken one.
    found, issues = records('{oops\n[1,2]\n42\n{"a": 1}\n')
    assert found == [(4, {"a": 1})]
    (issue,) = issues.examples["invalid-json"]
    assert issue.line == 1
    assert "lines 1-3 skipped" in issue.message


def test_a_broken_last_document_names_the_lines_to_the_end() -> None:
    _, issues = records('{"a": 1}\n{\n  "b": \n  oops\n\n')
    (issue,) = issues.examples["invalid-json"]
    assert "lines 2-4 skipped" in issue.message


def test_a_broken_one_line_document_names_no_range() -> None:
    _, issues = records('{\n"a": 1}\n{"b": oops}\n{"c": 2}\n')
    (issue,) = issues.examples["invalid-json"]
    assert issue.line == 3
    assert "skipped" not in issue.message
