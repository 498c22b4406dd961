"""Ingest: malformed input is counted by kind with file and line, and never stops the run."""

from __future__ import annotations

import functools
import gzip
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import aiobs.ingest
from aiobs.errors import UsageError
from aiobs.formats.mapping import FieldMapping, parse_map_options
from aiobs.formats.native_reader import ChunkParser
from aiobs.ingest import BucketStore, ingest
from aiobs.issues import IssueLog
from aiobs.schema import EVENT_SCHEMA
from aiobs.sources import read
from aiobs.sources.paths import Source, expand_inputs
from aiobs.sources.read import Chunk
from aiobs.summary import summarize

WriteJsonl = Callable[[Path, Iterable[Any]], Path]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def ev(cid: str | None = "r1", event: str = "llm", offset_ms: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A native event; it logs a status, as a clean log does (without one aiobs reports `unknown-status`)."""
    row: dict[str, Any] = {"ts": iso(T0 + timedelta(milliseconds=offset_ms)), "event": event, "status": "ok"}
    if cid is not None:
        row["request_id"] = cid
    row.update(extra)
    return row


def run_ingest(
    paths: list[Path], mapping: FieldMapping | None = None, *, n_buckets: int = 1
) -> tuple[pl.DataFrame, IssueLog]:
    """All events (sorted by source and line) and every issue (all examples kept)."""
    issues = IssueLog(keep=100_000)
    ingested = ingest(
        expand_inputs([str(p) for p in paths]), mapping or FieldMapping(), n_buckets=n_buckets, issues=issues
    )
    try:
        frames = [ingested.store.bucket(b).collect() for b in range(ingested.store.n)]
    finally:
        ingested.close()
    events = pl.concat(frames) if frames else pl.DataFrame(schema=EVENT_SCHEMA)
    assert events.height == ingested.events
    return events.sort("source", "line"), issues


def where(issues: IssueLog) -> dict[str, list[tuple[str, int | None]]]:
    """kind -> [(source, line), ...] of every recorded example."""
    return {code: sorted((e.source, e.line) for e in examples) for code, examples in issues.examples.items()}


def one(events: pl.DataFrame, line: int) -> dict[str, Any]:
    rows = events.filter(pl.col("line") == line).to_dicts()
    assert len(rows) == 1, f"expected one event from line {line}, got {rows}"
    return rows[0]


# -- one malformed line among good ones ------------------------------------------------------------------


GOOD = [ev("a", "gateway", 0, latency_ms=100), ev("a", "llm", 10, latency_ms=50, input_tokens=3)]


def test_examples_are_the_first_bad_lines_in_order_when_chunks_parse_in_parallel(
    tmp_path: Path, write_jsonl: WriteJsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny chunks: the file is parsed as dozens of chunks on the parser threads, finishing in any order.
    monkeypatch.setattr("aiobs.ingest.iter_chunks", functools.partial(read.iter_chunks, chunk_bytes=300))
    rows = [b"{bad" if i % 7 == 3 else ev(f"r{i}", "gateway", i, latency_ms=5) for i in range(1, 250)]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    bad = [i for i in range(1, 250) if i % 7 == 3]
    issues = IssueLog()
    ingest(expand_inputs([str(path)]), FieldMapping(), n_buckets=1, issues=issues).close()
    assert issues.counts["invalid-json"] == len(bad)
    assert [(e.source, e.line) for e in issues.examples["invalid-json"]] == [(str(path), n) for n in bad[:5]]


@pytest.mark.parametrize(
    "bad",
    [
        b'{"request_id": "a", "ts": "2026-11-28T10:00:00Z", "event": "llm"',
        b'{"request_id": "a", "event": llm}',
        b"{'request_id': 'a'}",
        b"not json at all",
        b'{"request_id": "a",, "event": "llm"}',
    ],
)
def test_invalid_json_is_counted_at_its_line_and_the_rest_kept(
    tmp_path: Path, write_jsonl: WriteJsonl, bad: bytes
) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, bad, ev("b", "gateway", 5, latency_ms=7)])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"invalid-json": 1}
    assert where(issues) == {"invalid-json": [(str(path), 3)]}
    assert events["line"].to_list() == [1, 2, 4]
    assert events["correlation_id"].to_list() == ["a", "a", "b"]


@pytest.mark.parametrize("bad", [b"[1,2]", b'"str"', b"42", b"null", b"true", b"[]", b"3.5"])
def test_non_object_line_is_not_an_object(tmp_path: Path, write_jsonl: WriteJsonl, bad: bytes) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, bad, *GOOD])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"not-an-object": 1}
    assert where(issues) == {"not-an-object": [(str(path), 3)]}
    assert events["line"].to_list() == [1, 2, 4, 5]


def test_wrong_type_duration_keeps_the_event_with_null_duration(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, ev("a", "tool", 20, latency_ms="oops", tool_name="t")])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"wrong-type": 1}
    assert where(issues) == {"wrong-type": [(str(path), 3)]}
    assert events.height == 3
    bad = one(events, 3)
    assert bad["correlation_id"] == "a"
    assert bad["stage"] == "tool"
    assert bad["duration_ms"] is None
    assert bad["start"] == T0 + timedelta(milliseconds=20)
    assert one(events, 1)["duration_ms"] == 100.0


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("input_tokens", "many", "input_tokens"),
        ("input_tokens", 12.5, "input_tokens"),
        ("input_tokens", -3, "input_tokens"),
        ("output_tokens", {"n": 1}, "output_tokens"),
        ("attempt", "second", "attempt"),
        ("cost_usd", "cheap", "logged_cost_usd"),
        ("ttft_ms", [1, 2], "ttft_ms"),
        ("latency_ms", True, "duration_ms"),
    ],
)
def test_wrong_type_fields(tmp_path: Path, write_jsonl: WriteJsonl, field: str, value: object, column: str) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [GOOD[0], ev("a", "llm", 1, **{field: value}), GOOD[1]])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"wrong-type": 1}
    assert where(issues) == {"wrong-type": [(str(path), 2)]}
    assert events.height == 3
    assert one(events, 2)[column] is None


def test_whole_number_floats_are_valid_token_counts(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [ev("a", "llm", 0, input_tokens=12.0, output_tokens="7")])
    events, issues = run_ingest([path])
    assert not issues.counts
    row = one(events, 1)
    assert (row["input_tokens"], row["output_tokens"]) == (12, 7)


@pytest.mark.parametrize("missing", [{}, {"request_id": ""}, {"request_id": "   "}, {"request_id": None}])
def test_missing_correlation_id_is_an_orphan(tmp_path: Path, write_jsonl: WriteJsonl, missing: dict[str, Any]) -> None:
    orphan = {**ev(None, "llm", 3, latency_ms=9, input_tokens=1000), **missing}
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, orphan, ev("b", "gateway", 0, latency_ms=1)])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"missing-correlation-id": 1}
    assert where(issues) == {"missing-correlation-id": [(str(path), 3)]}
    assert events["line"].to_list() == [1, 2, 4]
    summary = summarize(expand_inputs([str(path)]), n_buckets=1)
    requests = summary.requests.collect().sort("correlation_id")
    assert requests["correlation_id"].to_list() == ["a", "b"]
    assert requests["n_events"].to_list() == [2, 1]
    assert requests["input_tokens"].to_list() == [3, None]  # the orphan's 1000 tokens are in no request


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("latency_ms", -5, "duration_ms"),
        ("latency_ms", -0.001, "duration_ms"),
        ("latency_ms", 86_400_001, "duration_ms"),
        ("latency_ms", 1e12, "duration_ms"),
        ("duration", 90_000, "duration_ms"),  # seconds: 25 hours
        ("ttft_ms", -1, "ttft_ms"),
        ("ttft_ms", 1e9, "ttft_ms"),
    ],
)
def test_negative_or_absurd_duration(
    tmp_path: Path, write_jsonl: WriteJsonl, field: str, value: float, column: str
) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, ev("a", "llm", 2, **{field: value}), *GOOD])
    events, issues = run_ingest([path])
    # `duration` carries no unit in its name: read as seconds, and said so (it is the bad line's only value).
    assumed = {"assumed-unit": 1} if field == "duration" else {}
    assert dict(issues.counts) == {"invalid-duration": 1, **assumed}
    assert where(issues)["invalid-duration"] == [(str(path), 3)]
    assert events.height == 5
    assert one(events, 3)[column] is None


def test_a_day_long_duration_is_still_valid(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl", [ev("a", "llm", 0, latency_ms=86_400_000), ev("a", "llm", 1, latency_ms=0)]
    )
    events, issues = run_ingest([path])
    assert not issues.counts
    assert events["duration_ms"].to_list() == [86_400_000.0, 0.0]


def test_invalid_utf8_keeps_the_event_and_counts_it(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    bad = b'{"request_id":"u","event":"llm","ts":"2026-11-28T10:00:00Z","model":"gpt\xff4o","latency_ms":12}'
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, bad, *GOOD])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"invalid-utf8": 1}
    assert where(issues) == {"invalid-utf8": [(str(path), 3)]}
    assert events.height == 5
    row = one(events, 3)
    assert row["correlation_id"] == "u"
    assert row["duration_ms"] == 12.0
    assert row["model"] == "gpt\ufffd4o"


def test_invalid_utf8_in_a_key_or_outside_strings(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    lone_continuation = b'{"request_id":"u","event":"llm","ts":"2026-11-28T10:00:00Z","x\x80y":1}'
    path = write_jsonl(tmp_path / "x.jsonl", [*GOOD, lone_continuation])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"invalid-utf8": 1}
    assert where(issues) == {"invalid-utf8": [(str(path), 3)]}
    assert one(events, 3)["correlation_id"] == "u"


def test_blank_lines_keep_line_numbers_right(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    lines: list[Any] = [
        b"",
        GOOD[0],
        b"",
        b"   ",
        GOOD[1],
        b"\t",
        b"[1]",
        b"",
        ev("b", "gateway", 0, latency_ms="x"),
        b"",
    ]
    path = write_jsonl(tmp_path / "x.jsonl", lines)
    events, issues = run_ingest([path])
    assert events["line"].to_list() == [2, 5, 9]
    assert events["correlation_id"].to_list() == ["a", "a", "b"]
    assert issues.counts["blank-line"] == 6  # lines 1, 3, 4, 6, 8 and 10: counted, a note only
    assert where(issues) == {
        "blank-line": [(str(path), n) for n in (1, 3, 4, 6, 8, 10)],  # every one: this log keeps all examples
        "not-an-object": [(str(path), 7)],
        "wrong-type": [(str(path), 9)],
    }
    assert issues.failing == 2


def test_blank_lines_on_the_fast_path(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    """Clean input with blank lines: line numbers still point at the right lines."""
    lines: list[Any] = []
    expected = []
    for i in range(50):
        lines.append(ev(f"r{i}", "gateway", i, latency_ms=i))
        expected.append(len(lines))
        lines += [b""] * (i % 3)
    path = write_jsonl(tmp_path / "x.jsonl", lines)
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"blank-line": sum(i % 3 for i in range(50))}
    assert not issues.failing
    assert events["line"].to_list() == expected
    assert events["duration_ms"].to_list() == [float(i) for i in range(50)]


@pytest.mark.parametrize(
    "line",
    [
        b'{"request_id"  :  "a", "event"  : "gateway", "ts"  : "2026-11-28T10:00:00Z", "latency_ms"  : 5,'
        b' "status"  : 200}',
        b'{"request_id"\t: "a", "event"\t: "gateway", "ts"\t: "2026-11-28T10:00:00Z", "latency_ms"\t: 5,'
        b' "status"\t: 200}',
        b'{ "request_id" : "a" , "event" : "gateway" , "ts" : "2026-11-28T10:00:00Z" , "latency_ms" : 5 ,'
        b' "status" : 200 }',
    ],
    ids=["two-spaces", "tab", "one-space"],
)
def test_insignificant_whitespace_around_keys(tmp_path: Path, line: bytes) -> None:
    """JSON allows any whitespace between a key and its colon; the field must still be read."""
    path = tmp_path / "x.jsonl"
    path.write_bytes(line + b"\n")
    events, issues = run_ingest([path])
    assert not issues.counts
    assert events.select("correlation_id", "stage", "duration_ms", "start").rows() == [("a", "gateway", 5.0, T0)]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\r\n" for r in [*GOOD, ev("b", "gateway", 0)]))
    events, issues = run_ingest([path])
    assert not issues.counts
    assert events["correlation_id"].to_list() == ["a", "a", "b"]


def test_nested_usage_that_is_a_string(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [
        ev("a", "llm", 0, latency_ms=5, usage={"prompt_tokens": 11, "completion_tokens": 4}),
        ev("a", "llm", 1, latency_ms=6, usage="lots of tokens"),
        ev("a", "llm", 2, latency_ms=7, usage={"prompt_tokens": 1, "completion_tokens": 2}),
    ]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"wrong-type": 1}
    assert where(issues) == {"wrong-type": [(str(path), 2)]}
    assert events["input_tokens"].to_list() == [11, None, 1]
    assert events["output_tokens"].to_list() == [4, None, 2]
    assert events["duration_ms"].to_list() == [5.0, 6.0, 7.0]  # the line's other fields are kept


def test_one_of_each_malformed_kind_in_one_file(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    lines: list[Any] = [
        GOOD[0],  # 1
        b'{"request_id": "a"',  # 2 invalid-json
        b"[1,2]",  # 3 not-an-object
        ev("a", "tool", 1, latency_ms="oops"),  # 4 wrong-type
        ev(None, "llm", 2),  # 5 missing-correlation-id
        ev("a", "llm", 3, latency_ms=-1),  # 6 invalid-duration
        b'{"request_id":"a","event":"llm","ts":"2026-11-28T10:00:00Z","m":"\xfe"}',  # 7 invalid-utf8
        ev("a", "llm", 4, ts="yesterday-ish"),  # 8 invalid-timestamp
        ev("a", "llm", 5, usage="x"),  # 9 wrong-type (nested)
        b"",  # 10 blank-line (a note)
        GOOD[1],  # 11
    ]
    path = write_jsonl(tmp_path / "x.jsonl", lines)
    events, issues = run_ingest([path])
    p = str(path)
    assert where(issues) == {
        "blank-line": [(p, 10)],
        "invalid-json": [(p, 2)],
        "not-an-object": [(p, 3)],
        "wrong-type": [(p, 4), (p, 9)],
        "missing-correlation-id": [(p, 5)],
        "invalid-duration": [(p, 6)],
        "invalid-utf8": [(p, 7)],
        "invalid-timestamp": [(p, 8)],
    }
    assert dict(issues.counts) == {k: len(v) for k, v in where(issues).items()}
    assert events["line"].to_list() == [1, 4, 6, 7, 8, 9, 11]
    assert one(events, 8)["start"] is None


# -- timestamps ------------------------------------------------------------------------------------------


def us(n: int) -> datetime:
    return EPOCH + timedelta(microseconds=n)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-11-28T10:00:00Z", T0),
        ("2026-11-28T10:00:00.123Z", T0 + timedelta(milliseconds=123)),
        ("2026-11-28T10:00:00.123456Z", T0 + timedelta(microseconds=123456)),
        ("2026-11-28T12:00:00.5+02:00", T0 + timedelta(milliseconds=500)),
        ("2026-11-28T05:30:00-04:30", T0),
        ("2026-11-28T10:00:00+00:00", T0),
        ("2026-11-28T10:00:00.25", T0 + timedelta(milliseconds=250)),  # naive means UTC (counted below)
        ("2026-11-28T10:00:00", T0),
        ("2026-11-28 10:00:00", T0),
        ("2026-11-28 10:00:00,250", T0 + timedelta(milliseconds=250)),  # Python's asctime
        ("  2026-11-28T10:00:00Z ", T0),  # blanks: the permissive second pass reads it
        (" 1764324000 ", datetime(2025, 11, 28, 10, 0, tzinfo=UTC)),
        (1764324000, datetime(2025, 11, 28, 10, 0, tzinfo=UTC)),  # epoch s
        (1764324000.25, datetime(2025, 11, 28, 10, 0, 0, 250000, tzinfo=UTC)),
        (1764324000123, us(1764324000123 * 1000)),  # ms
        (1764324000123456, us(1764324000123456)),  # us
        # ns: as a float this would round to ...457024 ns and land one microsecond later
        (1764324000123456999, us(1764324000123456)),
        ("1764324000123456999", us(1764324000123456)),
        ("1764324000123", us(1764324000123000)),
        (1_000_000_000, datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(tmp_path: Path, write_jsonl: WriteJsonl, ts: object, expected: datetime) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"request_id": "a", "event": "llm", "ts": ts, "status": "ok"}])
    events, issues = run_ingest([path])
    naive = isinstance(ts, str) and not ts.strip().endswith(("Z", "+02:00", "-04:30", "+00:00")) and ":" in ts
    assert dict(issues.counts) == ({"naive-timestamp": 1} if naive else {})
    assert one(events, 1)["start"] == expected


def test_ns_timestamps_keep_microsecond_order(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    base = 1_764_324_000_000_000_000
    stamps = [base + k * 1000 + 999 for k in range(20)]  # one microsecond apart
    path = write_jsonl(
        tmp_path / "x.jsonl", [{"request_id": "a", "event": "llm", "ts": s, "status": "ok"} for s in stamps]
    )
    events, issues = run_ingest([path])
    assert not issues.counts
    assert events["start"].to_list() == [us(s // 1000) for s in stamps]


@pytest.mark.parametrize("ts", ["yesterday", "2026-13-45T10:00:00Z", "", {"a": 1}, "10:00"])
def test_invalid_timestamp_keeps_the_event(tmp_path: Path, write_jsonl: WriteJsonl, ts: object) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [GOOD[0], {"request_id": "a", "event": "llm", "ts": ts, "status": "ok"}])
    events, issues = run_ingest([path])
    assert dict(issues.counts) == {"invalid-timestamp": 1}
    assert where(issues) == {"invalid-timestamp": [(str(path), 2)]}
    assert one(events, 2)["start"] is None


# -- many lines, small chunks, scattered bad lines -------------------------------------------------------


BAD_KINDS: list[tuple[str, Callable[[int], bytes]]] = [
    ("invalid-json", lambda i: b'{"request_id": "r%d", "ts": "2026-11-28T1' % i),
    ("not-an-object", lambda i: b"[%d, 2]" % i),
    ("invalid-utf8", lambda i: b'{"request_id":"u%d","event":"llm","ts":1764324000,"model":"\xc3\x28"}' % i),
    ("wrong-type", lambda i: orjson.dumps(ev(f"w{i}", "tool", i, latency_ms="oops"))),
    ("missing-correlation-id", lambda i: orjson.dumps(ev(None, "llm", i))),
    ("invalid-duration", lambda i: orjson.dumps(ev(f"d{i}", "llm", i, latency_ms=-i - 1))),
    ("wrong-type", lambda i: orjson.dumps(ev(f"s{i}", "llm", i, usage="str"))),
]
#: kinds whose line still yields an event
KEPT_KINDS = {"invalid-utf8", "wrong-type", "invalid-duration"}


def scattered_lines(n: int, seed: int = 1) -> tuple[list[bytes], dict[str, list[int]], list[int]]:
    """n lines, a bad one every 23 to 41 lines and a blank one every 97; returns (lines, kind -> bad (or blank)
    line numbers, event line numbers)."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    bad: dict[str, list[int]] = {}
    kept: list[int] = []
    next_bad = rng.randint(23, 41)
    k = 0
    while len(lines) < n:
        number = len(lines) + 1
        if number == next_bad:
            kind, make = BAD_KINDS[k % len(BAD_KINDS)]
            k += 1
            lines.append(make(number))
            bad.setdefault(kind, []).append(number)
            if kind in KEPT_KINDS:
                kept.append(number)
            next_bad += rng.randint(23, 41)
        elif number % 97 == 0:
            lines.append(b"")
            bad.setdefault("blank-line", []).append(number)
        else:
            row = ev(f"r{number // 4}", "llm" if number % 4 else "gateway", number, latency_ms=number % 500)
            lines.append(orjson.dumps(row))
            kept.append(number)
    return lines, bad, kept


def assert_where(issues: IssueLog, bad: dict[str, list[int]], source: str, offset: int = 0) -> None:
    """Every bad line is an example of its kind; blank lines are counted with (at least) one example each chunk."""
    found = where(issues)
    blank = found.pop("blank-line")
    assert {(source, n + offset) for n in bad["blank-line"]} >= set(blank)
    assert (source, bad["blank-line"][0] + offset) in blank
    assert found == {
        kind: [(source, n + offset) for n in numbers] for kind, numbers in bad.items() if kind != "blank-line"
    }


def small_chunks(monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, read_bytes: int) -> list[Chunk]:
    """Make ingest read in small blocks and cut small chunks; returns the list of chunks it parses."""
    seen: list[Chunk] = []
    real_iter_chunks = read.iter_chunks

    def iter_small(source: Source, issues: IssueLog, max_line_bytes: int = read.MAX_LINE_BYTES) -> Iterator[Chunk]:
        for chunk in real_iter_chunks(source, issues, chunk_bytes=chunk_bytes, max_line_bytes=max_line_bytes):
            seen.append(chunk)
            yield chunk

    monkeypatch.setattr(read, "READ_BYTES", read_bytes)
    monkeypatch.setattr(read, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(aiobs.ingest, "iter_chunks", iter_small)
    return seen


@pytest.mark.parametrize(("chunk_bytes", "read_bytes"), [(40_000, 8192), (7_000, 2048)])
def test_scattered_malformed_lines_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, read_bytes: int
) -> None:
    lines, bad, kept = scattered_lines(3000)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    seen = small_chunks(monkeypatch, chunk_bytes, read_bytes)
    events, issues = run_ingest([path])
    assert len(seen) > 5
    assert events["line"].to_list() == kept
    assert events.height == len(kept)
    assert_where(issues, bad, str(path))
    assert dict(issues.counts) == {kind: len(numbers) for kind, numbers in bad.items()}
    # good lines keep their values
    good = events.filter(pl.col("correlation_id").str.starts_with("r"))
    assert good["duration_ms"].to_list() == [float(n % 500) for n in good["line"].to_list()]


def test_scattered_malformed_lines_in_one_gzip_member_and_one_chunk(tmp_path: Path) -> None:
    lines, bad, kept = scattered_lines(3000, seed=2)
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    events, issues = run_ingest([path])
    assert events["line"].to_list() == kept
    assert dict(issues.counts) == {kind: len(numbers) for kind, numbers in bad.items()}
    assert_where(issues, bad, str(path))


def test_chunk_parser_directly_with_offset_first_line() -> None:
    lines, bad, kept = scattered_lines(500, seed=3)
    issues = IssueLog(keep=10_000)
    parser = ChunkParser(FieldMapping(), issues)
    events = parser.events(Chunk("src", b"\n".join(lines) + b"\n", 1001))
    assert sorted(events["line"].to_list()) == [n + 1000 for n in kept]
    assert_where(issues, bad, "src", offset=1000)


def test_two_files_line_numbers_are_per_file(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [GOOD[0], b"{bad", GOOD[1]])
    b = write_jsonl(tmp_path / "b.jsonl", [b"[]", GOOD[0]])
    events, issues = run_ingest([a, b])
    assert events.select("source", "line").rows() == [(str(a), 1), (str(a), 3), (str(b), 2)]
    assert where(issues) == {"invalid-json": [(str(a), 2)], "not-an-object": [(str(b), 1)]}


def test_small_files_read_together_give_what_each_file_gives_alone(
    tmp_path: Path, write_jsonl: WriteJsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files are parsed in batches (one Polars query for many files); a batch with a bad line is
    halved until that file is read on its own, so every event, line number and issue is as file by file."""
    rng = random.Random(7)
    paths = []
    for i in range(60):
        rows: list[Any] = [ev(f"r{i}", "gateway", 0, latency_ms=100), ev(f"r{i}", "llm", 5, latency_ms=40)]
        if i % 17 == 3:
            bad = [b"{bad", b"[1]", b"", b'{"request_id": "x", "latency_ms": "slow"}'][i // 17]
            rows.insert(rng.randrange(3), bad)
        if i % 23 == 5:
            rows = [{k: v for k, v in row.items() if k != "status"} for row in rows if isinstance(row, dict)]
        paths.append(write_jsonl(tmp_path / f"f{i:03d}.jsonl", rows))
    batch_sizes: list[int] = []
    batched = ChunkParser.events_of_batch

    def spy(self: ChunkParser, chunks: list[Chunk]) -> pl.DataFrame:
        batch_sizes.append(len(chunks))
        return batched(self, chunks)

    monkeypatch.setattr(ChunkParser, "events_of_batch", spy)
    together, together_issues = run_ingest([tmp_path])
    assert batch_sizes[0] == 60  # one batch, halved around the files with bad lines
    monkeypatch.setattr(aiobs.ingest, "BATCH_BYTES", 0)  # nothing is small: one parse per file
    alone, alone_issues = run_ingest(paths)
    assert_frame_equal(together, alone)
    assert together_issues.counts == alone_issues.counts
    assert where(together_issues) == where(alone_issues)
    assert {"invalid-json", "not-an-object", "blank-line", "wrong-type", "unknown-status"} <= set(
        together_issues.counts
    )


# -- field mapping ---------------------------------------------------------------------------------------


def test_default_aliases(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [
        {
            "trace_id": "t1",
            "type": "chat",
            "timestamp": "2026-11-28T10:00:00Z",
            "duration": 1.5,
            "model_name": "gpt-4o",
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 2}},
            "status_code": 503,
            "tenant_id": "acme",
            "endpoint": "/x",
        },
        {"correlation_id": "t2", "event": "gateway", "time": 1764324000, "elapsed_ms": 42, "prompt_tokens": 9},
        {"x_request_id": "t3", "event": "retrieve", "created_at": "2026-11-28T10:00:00Z", "latency_s": 0.25},
        {"traceId": "t4", "event": "llm", "ts": "2026-11-28T10:00:00Z", "latency_ms": 3, "duration": 99},
    ]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    events, issues = run_ingest([path])
    # t1's `duration` is read as seconds, and said so once (t4's lost to latency_ms, so it is not counted).
    assert dict(issues.counts) == {"assumed-unit": 1}
    got = events.select(
        "correlation_id", "stage", "duration_ms", "model", "input_tokens", "output_tokens", "cached_tokens"
    ).rows()
    assert got == [
        ("t1", "llm", 1500.0, "gpt-4o", 10, 5, 2),
        ("t2", "gateway", 42.0, None, 9, None, None),
        ("t3", "retrieval", 250.0, None, None, None, None),
        ("t4", "llm", 3.0, None, None, None, None),  # latency_ms wins over duration
    ]
    first = one(events, 1)
    assert (first["is_error"], first["user"], first["route"]) == (True, "acme", "/x")
    assert one(events, 2)["start"] == datetime(2025, 11, 28, 10, 0, tzinfo=UTC)


def test_map_overrides_with_nested_paths_and_units(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    mapping = FieldMapping().with_overrides(
        parse_map_options(
            [
                "correlation_id=meta.req.id",
                "duration_ms=timing.total:s",
                "input_tokens=tok.in",
                "ttft_ms=timing.first:us",
                "start=when",
                "model = llm.name",
            ]
        )
    )
    rows = [
        {
            "meta": {"req": {"id": "m1"}},
            "request_id": "ignored",
            "event": "llm",
            "when": "2026-11-28T10:00:00Z",
            "timing": {"total": 2.5, "first": 1500},
            "tok": {"in": 7},
            "llm": {"name": "claude"},
        },
        # mapped fields absent: the defaults still apply
        {"request_id": "fallback", "event": "llm", "ts": "2026-11-28T10:00:00Z", "latency_ms": 4, "input_tokens": 1},
    ]
    path = write_jsonl(tmp_path / "x.jsonl", [{**row, "status": "ok"} for row in rows])
    events, issues = run_ingest([path], mapping)
    # Each mapped field matched the first line only: said once per field, with the share.
    # Said for the fields every line should fill (the ID, the time), not for a duration or a model.
    assert dict(issues.counts) == {"partial-mapping": 2}
    assert "correlation_id = meta.req.id matched 1 of 2 events (50.0%)" in {
        e.message for e in issues.examples["partial-mapping"]
    }
    assert events.select("correlation_id", "duration_ms", "input_tokens", "ttft_ms", "model", "start").rows() == [
        ("m1", 2500.0, 7, 1.5, "claude", T0),
        ("fallback", 4.0, 1, None, None, T0),
    ]


def test_mapped_field_with_a_unit_and_the_wrong_type(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    mapping = FieldMapping().with_overrides(parse_map_options(["duration_ms=took:s"]))
    rows = [ev("a", "llm", 0, took="slow"), ev("a", "llm", 1, took=0.002)]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    events, issues = run_ingest([path], mapping)
    assert where(issues) == {"wrong-type": [(str(path), 1)]}
    assert events["duration_ms"].to_list() == [None, 2.0]


def test_mapped_nested_path_that_is_not_an_object_on_some_lines(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    mapping = FieldMapping().with_overrides(parse_map_options(["correlation_id=meta.rid"]))
    rows = [
        {"meta": {"rid": "m1"}, "event": "llm", "ts": "2026-11-28T10:00:00Z", "status": "ok"},
        {"meta": "flat", "request_id": "r2", "event": "llm", "ts": "2026-11-28T10:00:00Z", "status": "ok"},
        {"meta": {"rid": "m3"}, "event": "llm", "ts": "2026-11-28T10:00:00Z", "status": "ok"},
    ]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    events, issues = run_ingest([path], mapping)
    assert where(issues) == {"wrong-type": [(str(path), 2)], "partial-mapping": [(str(path), None)]}
    assert events["correlation_id"].to_list() == ["m1", "r2", "m3"]


@pytest.mark.parametrize(
    "option",
    [
        "nonsense",
        "unknown_field=foo",
        "duration_ms=",
        "duration_ms=a..b",
        "duration_ms=.a",
        "duration_ms=a.",
        "duration_ms=took:parsecs",
        "=took",
        "input_tokens=usage.prompt_tokens:minutes",
    ],
)
def test_bad_map_specs_are_usage_errors(option: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_map_options([option])
    assert "\n" not in str(info.value)


def test_map_options_parse() -> None:
    assert parse_map_options(["correlation_id=meta.rid", " duration_ms = took:s ", "correlation_id=ctx.id"]) == {
        "correlation_id": ["meta.rid", "ctx.id"],  # given twice: fallbacks, in order
        "duration_ms": ["took:s"],
    }


# -- hash buckets ----------------------------------------------------------------------------------------


def bucket_corpus(rng: random.Random, n_requests: int) -> list[Any]:
    lines: list[Any] = []
    models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "local-model"]
    for r in range(n_requests):
        cid = f"req-{r:05d}-{rng.randint(0, 10**9)}"
        base = rng.uniform(0, 86_400_000)
        if rng.random() > 0.1:
            lines.append(ev(cid, "gateway", base, latency_ms=rng.uniform(100, 5000), route=f"/r{r % 3}", status=200))
        for k in range(rng.randint(1, 4)):
            lines.append(
                ev(
                    cid,
                    rng.choice(["llm", "retrieval", "tool", "embedding"]),
                    base + 10 * (k + 1),
                    latency_ms=rng.uniform(1, 80),
                    model=rng.choice(models),
                    input_tokens=rng.randint(1, 5000),
                    output_tokens=rng.choice([None, rng.randint(1, 500)]),
                    attempt=rng.choice([1, 1, 1, 2]),
                    status=rng.choice(["ok", "ok", "error"]),
                )
            )
        if rng.random() < 0.05:
            lines.append(lines[-1])  # a duplicate
        if rng.random() < 0.03:
            lines.append(b"{broken")
    rng.shuffle(lines)
    return lines


def test_one_bucket_and_seven_buckets_give_the_same_requests(
    tmp_path: Path, write_jsonl: WriteJsonl, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    lines = bucket_corpus(rng, 600)
    half = len(lines) // 2
    a = write_jsonl(tmp_path / "a.jsonl", lines[:half])
    b = tmp_path / "b.jsonl.gz"
    b.write_bytes(
        gzip.compress(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines[half:]))
    )

    spills: list[int] = []
    real_spill = BucketStore._spill

    def counting_spill(self: BucketStore, bucket: int) -> None:
        spills.append(bucket)
        real_spill(self, bucket)

    monkeypatch.setattr(aiobs.ingest, "SPILL_ROWS", 40)
    monkeypatch.setattr(BucketStore, "_spill", counting_spill)

    sources = expand_inputs([str(a), str(b)])
    one_bucket = summarize(sources, n_buckets=1)
    assert spills == []  # one bucket stays in memory
    seven = summarize(sources, n_buckets=7)
    assert len(set(spills)) == 7  # every bucket went to disk at least once

    left = one_bucket.requests.collect().sort("correlation_id")
    right = seven.requests.collect().sort("correlation_id")
    assert left.height == 600
    assert_frame_equal(left, right, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
    assert one_bucket.events == seven.events
    assert dict(one_bucket.issues.counts) == dict(seven.issues.counts)
    assert one_bucket.issues.counts["invalid-json"] == sum(1 for x in lines if x == b"{broken")
    assert one_bucket.issues.counts["duplicate-event"] > 0


def test_every_request_lives_in_one_bucket(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rng = random.Random(9)
    path = write_jsonl(tmp_path / "x.jsonl", bucket_corpus(rng, 200))
    ingested = ingest(expand_inputs([str(path)]), FieldMapping(), n_buckets=5)
    try:
        owners: Counter[str] = Counter()
        for b in range(ingested.store.n):
            ids = ingested.store.bucket(b).select("correlation_id").unique().collect()["correlation_id"]
            owners.update(ids.to_list())
    finally:
        ingested.close()
    assert len(owners) == 200
    assert set(owners.values()) == {1}


def test_summaries_without_texts_have_the_same_flags_and_metrics() -> None:
    sources = expand_inputs([str(Path(__file__).parent.parent / "sample_logs")])
    with_texts = summarize(sources, n_buckets=3)
    without = summarize(sources, n_buckets=3, keep_texts=False)
    kept = with_texts.requests.collect_schema().names()
    dropped = without.requests.collect_schema().names()
    assert {"input_text", "output_text", "context_text"} <= set(kept)
    assert not {"input_text", "output_text", "context_text"} & set(dropped)
    assert [c for c in kept if c not in ("input_text", "output_text", "context_text")] == dropped
    order = "correlation_id"
    assert_frame_equal(
        with_texts.requests.select(dropped).collect().sort(order), without.requests.collect().sort(order)
    )
    assert_frame_equal(with_texts.overall, without.overall, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
