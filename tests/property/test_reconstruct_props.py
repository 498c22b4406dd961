"""Properties of request reconstruction, checked against plain-Python bookkeeping."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiobs.reconstruct import rebuild_requests
from aiobs.schema import conform_events
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
STAGES = ["gateway", "embedding", "retrieval", "rerank", "llm", "tool", "other"]
TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")

tokens = st.none() | st.integers(min_value=0, max_value=2_000_000)


@st.composite
def event_sets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    """Distinct valid events over a few correlation IDs, and indices of events repeated verbatim."""
    ids = draw(st.lists(st.text("abcdefghij0123456789-", min_size=1, max_size=8), min_size=1, max_size=6, unique=True))
    n = draw(st.integers(min_value=1, max_value=40))
    events = []
    for i in range(n):
        events.append(
            {
                "correlation_id": draw(st.sampled_from(ids)),
                "event_id": f"e{i}",  # distinct events
                "stage": draw(st.sampled_from(STAGES)),
                "start_ms": draw(st.integers(min_value=0, max_value=10_000_000)),
                "duration_ms": draw(st.none() | st.floats(min_value=0, max_value=60_000, allow_nan=False)),
                "model": draw(st.none() | st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "x"])),
                "attempt": draw(st.none() | st.integers(min_value=1, max_value=3)),
                "is_error": draw(st.booleans()),
                **{kind: draw(tokens) for kind in TOKENS},
            }
        )
    repeats = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=5))
    return events, repeats


def canonical_frame(events: list[dict[str, Any]]) -> pl.DataFrame:
    rows = [
        {
            "source": "p.jsonl",
            "line": line,
            "correlation_id": ev["correlation_id"],
            "event_id": ev["event_id"],
            "event": ev["stage"],
            "stage": ev["stage"],
            "is_root": ev["stage"] == "gateway",
            "start": T0 + timedelta(milliseconds=ev["start_ms"]),
            "duration_ms": ev["duration_ms"],
            "model": ev["model"],
            "attempt": ev["attempt"],
            "is_error": ev["is_error"],
            **{kind: ev[kind] for kind in TOKENS},
        }
        for line, ev in enumerate(events, start=1)
    ]
    schema_overrides = {"duration_ms": pl.Float64, "model": pl.String, "attempt": pl.Int64} | {
        kind: pl.Int64 for kind in TOKENS
    }
    return conform_events(pl.DataFrame(rows, schema_overrides=schema_overrides)).collect()


def expected_by_request(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per correlation ID: event count and token sums (None when no event logged the kind)."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"n_events": 0, **dict.fromkeys(TOKENS)})
    for ev in events:
        row = out[ev["correlation_id"]]
        row["n_events"] += 1
        for kind in TOKENS:
            if ev[kind] is not None:
                row[kind] = (row[kind] or 0) + ev[kind]
    return dict(out)


def check(requests: pl.DataFrame, events: list[dict[str, Any]]) -> None:
    expected = expected_by_request(events)
    got = {r["correlation_id"]: r for r in requests.to_dicts()}
    # one request per distinct ID, each ID exactly once
    assert requests.height == len({ev["correlation_id"] for ev in events})
    assert requests["correlation_id"].n_unique() == requests.height
    assert set(got) == set(expected)
    # every distinct event lands in exactly one request
    assert sum(r["n_events"] for r in got.values()) == len(events)
    for cid, want in expected.items():
        assert {k: got[cid][k] for k in want} == want, cid
    # token totals over requests equal the sums over events; never logged stays null, not 0
    for kind in TOKENS:
        logged = [ev[kind] for ev in events if ev[kind] is not None]
        if logged:
            assert requests[kind].sum() == sum(logged), kind
        else:
            assert requests[kind].null_count() == requests.height, kind


@settings(max_examples=100, deadline=None, database=None)
@given(event_sets())
def test_every_event_lands_in_exactly_one_request(data: tuple[list[dict[str, Any]], list[int]]) -> None:
    events, repeats = data
    with_repeats = events + [dict(events[i]) for i in repeats]  # verbatim repeats on later lines
    rebuilt = rebuild_requests(canonical_frame(with_repeats))
    check(rebuilt.requests, events)
    assert rebuilt.issues.counts["duplicate-event"] == len(repeats)


def to_line(ev: dict[str, Any]) -> bytes:
    row: dict[str, Any] = {
        "request_id": ev["correlation_id"],
        "event_id": ev["event_id"],
        "event": ev["stage"],
        "ts": (T0 + timedelta(milliseconds=ev["start_ms"])).isoformat(),
    }
    for key, value in (
        ("latency_ms", ev["duration_ms"]),
        ("model", ev["model"]),
        ("attempt", ev["attempt"]),
        *((kind, ev[kind]) for kind in TOKENS),
    ):
        if value is not None:
            row[key] = value
    if ev["is_error"]:
        row["status"] = "error"
    return orjson.dumps(row)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=3))
def test_same_property_through_files_and_buckets(
    data: tuple[list[dict[str, Any]], list[int]], n_buckets: int, n_files: int
) -> None:
    events, repeats = data
    lines = [to_line(ev) for ev in events] + [to_line(events[i]) for i in repeats]
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for k in range(n_files):
            path = Path(folder) / f"part-{k}.jsonl"
            path.write_bytes(b"".join(line + b"\n" for line in lines[k::n_files]))
            paths.append(str(path))
        summary = summarize(expand_inputs(paths), n_buckets=n_buckets)
    check(summary.requests.collect(), events)
    assert summary.events == len(lines)
    assert summary.issues.counts["duplicate-event"] == len(repeats)
