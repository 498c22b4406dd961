"""Reducing at parse gives what rebuilding from events gives, or hands the input to the event way.

`summarize(reduce_at_parse=True)` turns each chunk's events into partial request rows on the parse
threads (aiobs.reducer), merges them per bucket (aiobs.partials) and finalizes them; `keep_events=True`
takes the event way. Small chunks (a few requests each) spread every request over several chunks and
files, so merging is exercised.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import aiobs.ingest
import aiobs.rebuild
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.native_reader import ChunkParser
from aiobs.issues import IssueLog
from aiobs.redact import Privacy
from aiobs.reducer import ChunkReducer
from aiobs.sources import read
from aiobs.sources.paths import expand_inputs
from aiobs.sources.read import Chunk
from aiobs.summary import Summary, summarize

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Chunks of about 2 KB (a few requests), never joined into batches; counts which way each summary went."""
    monkeypatch.setattr(aiobs.ingest, "iter_chunks", functools.partial(read.iter_chunks, chunk_bytes=2000))
    monkeypatch.setattr(aiobs.ingest, "BATCH_BYTES", 0)
    ways = {"reduced": 0, "events": 0}
    reduce_at_parse, from_events = aiobs.rebuild.reduce_at_parse, aiobs.rebuild.rebuild_from_events

    def reduced(*args: Any, **kwargs: Any) -> Any:
        result = reduce_at_parse(*args, **kwargs)
        ways["reduced"] += result is not None
        return result

    def events(*args: Any, **kwargs: Any) -> Any:
        ways["events"] += 1
        return from_events(*args, **kwargs)

    monkeypatch.setattr(aiobs.rebuild, "reduce_at_parse", reduced)
    monkeypatch.setattr(aiobs.rebuild, "rebuild_from_events", events)
    return ways


def event(cid: str, kind: str, ms: float, **extra: Any) -> dict[str, Any]:
    row = {"ts": (T0 + timedelta(milliseconds=ms)).isoformat(), "request_id": cid, "event": kind, "status": "ok"}
    return row | extra


def request(rng: random.Random, cid: str, at: float) -> list[dict[str, Any]]:
    """A gateway root and a few children, with the fields the picks read."""
    root_id = f"{cid}-root"
    rows = [event(cid, "gateway", at, event_id=root_id, latency_ms=900.0, route=rng.choice(["/a", "/b"]))]
    for i in range(rng.randint(1, 4)):
        kind = rng.choice(["retrieval", "llm", "llm", "rerank"])
        extra: dict[str, Any] = {"event_id": f"{cid}-{i}", "parent_id": root_id, "latency_ms": rng.uniform(5, 300)}
        if kind == "llm":
            extra |= {
                "model": rng.choice(["gpt-4o-mini", "claude-3-5-haiku-20241022"]),
                "input_tokens": rng.randint(1, 500),
                "output_tokens": rng.randint(1, 200),
                "attempt": rng.choice([1, 1, 2]),
                "input": rng.choice(["hi", "what is 2+2?"]),
                "output": rng.choice(["4", "I cannot help with that.", '{"a": 1}']),
            }
            if rng.random() < 0.2:
                extra |= {"status": "error", "error_type": "rate_limit"}
        rows.append(event(cid, kind, at + rng.uniform(0, 500), **extra))
    if rng.random() < 0.2:
        rows.append(event(cid, "feedback", at + 5_000, feedback=rng.choice([0.0, 1.0])))
    return rows


def write_logs(tmp_path: Path, seed: int, files: int = 3) -> list[Path]:
    """Requests whose events are spread over several files (one per service) and out of order."""
    rng = random.Random(seed)
    per_file: list[list[dict[str, Any]]] = [[] for _ in range(files)]
    for n in range(40):
        for row in request(rng, f"r{n:03d}", n * 200.0):
            per_file[rng.randrange(files)].append(row)
    paths = []
    for i, rows in enumerate(per_file):
        if rng.random() < 0.5:
            rng.shuffle(rows)
        path = tmp_path / f"svc{i}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        paths.append(path)
    return paths


def both_ways(paths: list[Path]) -> tuple[Summary, Summary]:
    inputs = [str(p) for p in paths]
    reduced = summarize(expand_inputs(inputs), by=["model", "route"], keep_texts=True, reduce_at_parse=True)
    events = summarize(expand_inputs(inputs), by=["model", "route"], keep_texts=True, keep_events=True)
    return reduced, events


def assert_same(a: Summary, b: Summary) -> None:
    assert a.n_requests == b.n_requests
    assert a.events == b.events
    assert dict(a.issues.counts) == dict(b.issues.counts)
    assert a.issues.examples == b.issues.examples
    close = {"check_exact": False, "rel_tol": 1e-9}
    assert_frame_equal(a.requests.collect(), b.requests.collect(), **close)  # same rows in the same order
    assert_frame_equal(a.overall, b.overall, **close)
    for key in b.groups:
        assert_frame_equal(a.groups[key], b.groups[key], **close)
    assert_frame_equal(a.spend, b.spend, **close)
    assert_frame_equal(a.unpriced, b.unpriced, **close)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_requests_spread_over_chunks_and_files_merge_to_the_event_answer(
    tmp_path_factory: pytest.TempPathFactory, small_chunks: dict[str, int], seed: int
) -> None:
    paths = write_logs(tmp_path_factory.mktemp("logs"), seed)
    reduced, events = both_ways(paths)
    assert_same(reduced, events)


def test_a_clean_log_is_reduced_at_parse(tmp_path: Path, small_chunks: dict[str, int]) -> None:
    reduced, events = both_ways(write_logs(tmp_path, seed=1))
    assert small_chunks == {"reduced": 1, "events": 1}  # the second is keep_events=True
    assert_same(reduced, events)


def test_a_file_given_twice_takes_the_event_way(tmp_path: Path, small_chunks: dict[str, int]) -> None:
    """Every event of a file repeats in another: which copy is dropped is decided over the events."""
    paths = write_logs(tmp_path, seed=2)
    copy = tmp_path / "svc0-copy.jsonl"
    copy.write_bytes(paths[0].read_bytes())
    reduced, events = both_ways([*paths, copy])
    assert small_chunks == {"reduced": 0, "events": 2}
    assert reduced.issues.counts["duplicate-event"] > 0
    assert_same(reduced, events)


def test_clock_skew_across_chunks_is_counted_from_the_merged_root(tmp_path: Path, small_chunks: dict[str, int]) -> None:
    rows = [event("r1", "gateway", 0, event_id="g", latency_ms=100.0)]
    rows += [event(f"x{i}", "gateway", 10, latency_ms=1.0) for i in range(30)]  # pushes the child to another chunk
    rows.append(event("r1", "llm", 50, event_id="c", parent_id="g", latency_ms=500.0))  # ends after its root
    path = tmp_path / "skew.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    reduced, events = both_ways([path])
    assert small_chunks == {"reduced": 1, "events": 1}
    assert reduced.issues.counts["clock-skew"] == 1
    assert_same(reduced, events)


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    "fixture",
    [
        "langchain/callbacks.jsonl",  # start and end halves of runs, in a run tree: the event way
        "otlp/formats_md_traces.jsonl",
        "otlp/formats_md_openinference.jsonl",
        "structlog/scenario.jsonl",
        "pino/",
    ],
)
def test_every_format_gives_the_event_answer(fixture: str, small_chunks: dict[str, int]) -> None:
    paths = sorted((FIXTURES / fixture).glob("*.jsonl")) if fixture.endswith("/") else [FIXTURES / fixture]
    reduced, events = both_ways(paths)
    assert_same(reduced, events)
    if fixture.startswith("langchain"):
        assert small_chunks["reduced"] == 0


def test_kept_events_take_the_event_way(tmp_path: Path, small_chunks: dict[str, int]) -> None:
    paths = write_logs(tmp_path, seed=3, files=1)
    summary = summarize(expand_inputs([str(paths[0])]), keep_events=True, reduce_at_parse=True)
    assert small_chunks == {"reduced": 0, "events": 1}
    assert summary.events_of(["r000"]).height > 0


def test_partial_rows_do_not_hold_events() -> None:
    """What the reducer buckets is one row per request per chunk, not one per event."""
    rng = random.Random(5)
    rows = [r for n in range(20) for r in request(rng, f"r{n}", n * 10.0)]
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    events = ChunkParser(FieldMapping(), IssueLog()).events(Chunk("x", data, 1))
    partials = ChunkReducer(None, Privacy(), IssueLog())(events.with_columns(_pos=pl.col("line")))
    assert events.height > 20
    assert partials.height == 20
    assert partials["n_events"].sum() == events.height


def test_progress_starts_over_when_the_input_is_read_again(tmp_path: Path, small_chunks: dict[str, int]) -> None:
    paths = write_logs(tmp_path, seed=4)
    copy = tmp_path / "svc0-copy.jsonl"
    copy.write_bytes(paths[0].read_bytes())
    reported: list[int] = []
    summarize(expand_inputs([str(p) for p in [*paths, copy]]), progress=reported.append, reduce_at_parse=True)
    assert small_chunks == {"reduced": 0, "events": 1}
    assert any(n < 0 for n in reported)
    assert sum(reported) == sum(p.stat().st_size for p in [*paths, copy])
