"""Generated hostile bytes: whatever a file holds, reading it never raises and every line is accounted for.

Each generated line has a known fate: a good event (read, at its line), a line that is not a JSON object
(counted as a problem, at its line), or a blank line (a note). Files are written plain, gzip or zstd, and
read in small chunks so lines straddle chunk edges.
"""

from __future__ import annotations

import gzip
import tempfile
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ingest
from aiobs.issues import INFORMATIONAL, IssueLog
from aiobs.sources import read
from aiobs.sources.paths import expand_inputs

GOOD, BAD, BLANK = "good", "bad", "blank"
#: Problems a line that is not a usable object is counted as (exactly one each).
LINE_PROBLEMS = {"invalid-json", "not-an-object", "invalid-utf8"}


def good_line(i: int) -> bytes:
    row = {"request_id": f"r{i % 7}", "event": "llm", "ts": "2026-11-28T10:00:00Z", "status": "ok", "latency_ms": i}
    return orjson.dumps(row)


# Lines that can never be a JSON object: the bytes cannot contain a newline (that would be two lines).
_noise = st.binary(min_size=1, max_size=80).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))
bad_line = st.one_of(
    _noise.filter(lambda b: b.strip() and not b.lstrip().startswith((b"{", b"[", b'"')) and not _is_json(b)),
    st.sampled_from([b"[1, 2]", b'"text"', b"42", b"null", b"{", b'{"request_id": "a"', b"}{", b"{]"]),
    st.integers(0, 300).map(lambda i: good_line(i)[: max(1, i % 40)]),  # cut off mid-write
)
blank_line = st.sampled_from([b"", b" ", b"\t", b"\r", b"   "])


def _is_json(text: bytes) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


@st.composite
def hostile_files(draw: st.DrawFn) -> tuple[list[tuple[str, bytes]], str]:
    # The first line is a good one: a file whose first line opens an unclosed `{` is read as pretty-printed
    # JSON documents, where a broken document is one problem for all its lines (tests/formats/test_documents.py).
    fates = [GOOD, *draw(st.lists(st.sampled_from([GOOD, GOOD, GOOD, BAD, BLANK]), max_size=120))]
    lines = []
    for i, fate in enumerate(fates):
        text = good_line(i) if fate == GOOD else draw(bad_line) if fate == BAD else draw(blank_line)
        lines.append((fate, text))
    return lines, draw(st.sampled_from(["plain", "gzip", "zstd"]))


def encode(lines: list[tuple[str, bytes]], compression: str, bom: bool) -> bytes:
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(text for _, text in lines) + b"\n"
    if compression == "gzip":
        return gzip.compress(data)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=hostile_files(), bom=st.booleans())
def test_every_line_is_an_event_a_problem_or_a_blank_note(
    generated: tuple[list[tuple[str, bytes]], str], bom: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, compression = generated
    monkeypatch.setattr(read, "READ_BYTES", 64)
    monkeypatch.setattr(read, "CHUNK_BYTES", 256)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.jsonl"
        path.write_bytes(encode(lines, compression, bom))
        issues = IssueLog(keep=1_000)
        ingested = ingest(expand_inputs([str(path)]), FieldMapping(), n_buckets=1, issues=issues)
        try:
            events = ingested.store.bucket(0).collect() if ingested.events else pl.DataFrame()
        finally:
            ingested.close()

    expected = Counter(fate for fate, _ in lines)
    good_numbers = [n for n, (fate, _) in enumerate(lines, start=1) if fate == GOOD]
    bad_numbers = {n for n, (fate, _) in enumerate(lines, start=1) if fate == BAD}
    read_lines = sorted(events["line"].to_list()) if events.height else []
    assert read_lines == good_numbers
    problems = {code: n for code, n in issues.counts.items() if code not in INFORMATIONAL}
    assert set(problems) <= LINE_PROBLEMS
    # invalid UTF-8 is recorded and the line then read as JSON: it fails that too, a second problem
    utf8 = problems.pop("invalid-utf8", 0)
    assert sum(problems.values()) == expected[BAD]
    assert utf8 <= expected[BAD]
    where = {e.line for code in LINE_PROBLEMS for e in issues.examples.get(code, [])}
    assert where == bad_numbers
    assert issues.counts.get("blank-line", 0) == expected[BLANK]
