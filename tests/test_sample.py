"""The sample-log generator: deterministic, well-formed where it should be, realistic in its mix."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import zstandard

from aiobs.sample import MALFORMED_KINDS, SampleStats, iter_sample_lines, write_sample

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"


def generate(**kwargs: Any) -> tuple[list[bytes], SampleStats]:
    stats = SampleStats()
    return list(iter_sample_lines(stats=stats, **kwargs)), stats


def parse_good(line: bytes) -> dict[str, Any] | None:
    """The event on a well-formed line, else None (a planted malformed line)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    if not all(isinstance(obj.get(key), str) for key in ("request_id", "event", "ts")):
        return None
    latency = obj.get("latency_ms")
    if latency is not None and (not isinstance(latency, int | float) or latency < 0):
        return None
    return obj


def to_ms(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp() * 1000.0


@pytest.fixture(scope="module")
def big() -> tuple[list[bytes], SampleStats]:
    return generate(seed=7, requests=20_000)


@pytest.fixture(scope="module")
def requests(big: tuple[list[bytes], SampleStats]) -> dict[str, list[dict[str, Any]]]:
    by_request: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in big[0]:
        event = parse_good(line)
        if event is not None and event["event"] != "cache_lookup":  # cache_lookup: only planted lines
            by_request[event["request_id"]].append(event)
    return by_request


# -- determinism -------------------------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes() -> None:
    assert generate(seed=3, requests=2_000)[0] == generate(seed=3, requests=2_000)[0]


def test_different_seeds_give_different_logs() -> None:
    assert generate(seed=3, requests=500)[0] != generate(seed=4, requests=500)[0]


def test_without_malformed_lines_the_output_is_the_same_minus_them() -> None:
    with_bad, stats = generate(seed=5, requests=3_000, malformed_every=100)
    clean, clean_stats = generate(seed=5, requests=3_000, malformed=False)
    assert [line for line in with_bad if parse_good(line) is not None] == clean
    assert clean_stats.malformed == 0
    assert stats.events == clean_stats.events
    assert stats.requests == clean_stats.requests == 3_000


def test_target_bytes_cuts_a_prefix_at_a_line_boundary() -> None:
    small, small_stats = generate(seed=1, target_bytes=300_000)
    large, _ = generate(seed=1, target_bytes=900_000)
    assert large[: len(small)] == small
    assert 300_000 - 3_000 < small_stats.bytes == sum(map(len, small)) <= 300_000
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in small)


# -- well-formed lines and planted malformed ones ---------------------------------------------------------------------


def test_every_line_but_the_planted_ones_is_a_valid_event(big: tuple[list[bytes], SampleStats]) -> None:
    lines, stats = big
    bad = [line for line in lines if parse_good(line) is None]
    assert len(bad) == stats.malformed > 0
    assert stats.events + stats.malformed == len(lines)
    assert stats.bytes == sum(map(len, lines))
    # About one bad line per 5,000 good ones.
    assert 0.5 / 5_000 < stats.malformed / stats.events < 2 / 5_000


def test_malformed_lines_cycle_through_every_kind() -> None:
    lines, stats = generate(seed=2, requests=2_000, malformed_every=50)
    kinds = []
    for line in lines:
        if parse_good(line) is not None:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            kinds.append("truncated-json")
            line.decode("utf-8")  # cut on a character boundary: still valid UTF-8
            continue
        if not isinstance(obj, dict):
            kinds.append("not-an-object")
        elif "request_id" not in obj:
            kinds.append("missing-request-id")
        elif isinstance(obj["latency_ms"], str):
            kinds.append("wrong-type")
        else:
            kinds.append("negative-latency")
    assert len(kinds) == stats.malformed
    assert kinds[: 2 * len(MALFORMED_KINDS)] == list(MALFORMED_KINDS) * 2


def test_lines_are_in_start_time_order(big: tuple[list[bytes], SampleStats]) -> None:
    stamps = [event["ts"] for line in big[0] if (event := parse_good(line)) is not None]
    assert stamps == sorted(stamps)
    assert all(ts.endswith("Z") and len(ts) == len("2026-11-28T00:00:00.000Z") for ts in stamps)


# -- a realistic mix -------------------------------------------------------------------------------------------------


def ended_in_error(events: list[dict[str, Any]]) -> bool:
    gateway = next((e for e in events if e["event"] == "gateway"), None)
    if gateway is not None:
        return gateway["status"] >= 400
    llm = [e for e in events if e["event"] == "llm"]
    last = llm[-1] if llm else events[-1]
    return last.get("status") == "error"


def test_error_share(requests: dict[str, list[dict[str, Any]]]) -> None:
    share = sum(ended_in_error(events) for events in requests.values()) / len(requests)
    assert 0.005 <= share <= 0.03


def test_lost_gateways_and_retries(requests: dict[str, list[dict[str, Any]]]) -> None:
    n = len(requests)
    lost = sum(not any(e["event"] == "gateway" for e in events) for events in requests.values())
    retried = sum(
        any(e.get("attempt") == 2 and e["status"] == "ok" for e in events)
        and any(e.get("attempt") == 1 and e.get("error_type") == "rate_limit" for e in events)
        for events in requests.values()
    )
    assert 0.01 < lost / n < 0.03
    assert 0.01 < retried / n < 0.03


def test_children_run_inside_their_gateway(requests: dict[str, list[dict[str, Any]]]) -> None:
    for events in requests.values():
        gateway = next((e for e in events if e["event"] == "gateway"), None)
        if gateway is None:
            continue
        start = to_ms(gateway["ts"])
        end = start + gateway["latency_ms"]
        children = [e for e in events if e is not gateway]
        assert children
        for child in children:
            assert child["parent_id"] == gateway["event_id"]
            assert start <= to_ms(child["ts"]) <= to_ms(child["ts"]) + child["latency_ms"] <= end
        assert sum(c["latency_ms"] for c in children) < gateway["latency_ms"]


def test_llm_events(requests: dict[str, list[dict[str, Any]]]) -> None:
    llm = [e for events in requests.values() for e in events if e["event"] == "llm"]
    ok = [e for e in llm if e["status"] == "ok"]
    failed = [e for e in llm if e["status"] == "error"]
    assert failed and all("output_tokens" not in e and "output" not in e for e in failed)
    for e in ok:
        assert 0 < e.get("cached_tokens", 0) <= e["input_tokens"] or "cached_tokens" not in e
        assert 20 <= len(e["output"]) <= 2000
        assert ("reasoning_tokens" in e) == (e["model"] == "o3-mini")
        assert e.get("reasoning_tokens", 0) < e["output_tokens"]
        assert ("ttft_ms" in e) == e["stream"]
        assert e.get("ttft_ms", 0) < e["latency_ms"]
    finish = {reason: sum(e["finish_reason"] == reason for e in ok) / len(ok) for reason in ("stop", "length")}
    assert finish["stop"] > 0.8 and 0.005 < finish["length"] < 0.08
    assert any(e["finish_reason"] == "tool_calls" for e in ok)
    assert 0.25 < sum("cost_usd" in e for e in ok) / len(ok) < 0.35
    assert any(e["model"] == "llama-3.3-70b-instruct-local" for e in ok)
    assert {e["provider"] for e in ok} == {"openai", "anthropic", "google", "mistral", "vllm"}
    assert any(ord(ch) > 127 for e in ok for ch in e["output"])


def test_both_apps_and_their_pipelines(requests: dict[str, list[dict[str, Any]]]) -> None:
    stages: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for events in requests.values():
        gateway = next((e for e in events if e["event"] == "gateway"), None)
        if gateway is not None and gateway["status"] == 200:
            stages[gateway["route"]].add(tuple(e["event"] for e in events))
    assert set(stages) == {"/chat", "/chat/stream", "/rag/answer", "/rag/search"}
    assert ("gateway", "llm", "tool", "llm") in stages["/chat"]
    assert ("gateway", "embedding", "retrieval", "rerank", "llm") in stages["/rag/answer"]


# -- files -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_write_sample_round_trips(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"logs{suffix}"
    stats = write_sample(path, seed=9, requests=1_500)
    expected, expected_stats = generate(seed=9, requests=1_500)
    data = path.read_bytes()
    if suffix.endswith(".gz"):
        data = gzip.decompress(data)
    elif suffix.endswith(".zst"):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert data == b"".join(expected)
    assert stats.file_bytes == path.stat().st_size
    assert (stats.requests, stats.events, stats.bytes, stats.malformed) == (
        expected_stats.requests,
        expected_stats.events,
        expected_stats.bytes,
        expected_stats.malformed,
    )
    assert not list(tmp_path.glob("*.part"))
    # Compressed output is reproducible too (no timestamp in the gzip header).
    again = tmp_path / f"again{suffix}"
    write_sample(again, seed=9, requests=1_500)
    assert again.read_bytes() == path.read_bytes()


def load_make_sample_logs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_logs", ROOT / "bench" / "make_sample_logs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_committed_sample_logs_are_small() -> None:
    files = [p for p in SAMPLE_LOGS.rglob("*") if p.is_file()]
    assert {p.relative_to(SAMPLE_LOGS).as_posix() for p in files} >= {
        "README.md",
        "chatbot.jsonl",
        "rag/2026-11-28.jsonl.gz",
        "rag/2026-11-29.jsonl.zst",
    }
    assert sum(p.stat().st_size for p in files) < 2_000_000


def test_committed_sample_logs_are_what_the_script_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails when the generator changed and `bench/make_sample_logs.py` was not run again."""
    script = load_make_sample_logs(monkeypatch)
    monkeypatch.setattr(script, "OUT", tmp_path)
    for spec in script.FILES:
        script.make(spec)
        assert (tmp_path / spec.path).read_bytes() == (SAMPLE_LOGS / spec.path).read_bytes(), spec.path
