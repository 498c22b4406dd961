"""The sample-log generator: deterministic, well-formed where it should be, realistic in its mix."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import zstandard

from aiobs.sample import MALFORMED_KINDS, MAX_TOKENS, SampleStats, iter_sample_lines, write_sample

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
        children = [e for e in events if e is not gateway and e["event"] != "feedback"]
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
        assert 20 <= len(e["output"]) <= 2000 or e["output"] == "" or is_refusal(e["output"])
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
    assert set(stages) == {"/chat", "/chat/stream", "/extract", "/rag/answer", "/rag/search"}
    assert ("gateway", "llm", "tool", "llm") in stages["/chat"]
    assert ("gateway", "embedding", "retrieval", "rerank", "llm") in stages["/rag/answer"]
    assert ("gateway", "llm") in stages["/extract"]
    assert all(stage[0] == "gateway" and stage[-1] in ("llm", "feedback") for stage in stages["/extract"])


# -- what quality flags look for -------------------------------------------------------------------------------------
# Each check finds the planted cases the way a quality flag would (phrases, parsing, word overlap, regexes), not by
# asking the generator, and compares their share with the rate the generator documents.

REFUSAL_MARKERS = {
    "en": (
        "I'm sorry, but I can't",
        "As an AI language model",
        "I cannot help with",
        "I cannot fulfill",
        "I can't provide",
    ),
    "fr": ("je ne peux pas",),
    "de": ("kann ich Ihnen nicht helfen",),
    "es": ("no puedo ayudarte",),
    "ja": ("お応えできません",),
    "zh": ("我无法帮助",),
}
WORD = re.compile(r"[a-z0-9]+")
URL = re.compile(r"https?://[^\s)\]\"']+")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+1 202-555-01\d\d|\(555\) 555-01\d\d|\+44 20 7946 0\d{3}|\+49 30 23125 \d{3}")
SECRET = re.compile(r"\bsk-proj-[A-Za-z0-9]{48}\b|\bAKIA[A-Z0-9]{16}\b|\bghp_[A-Za-z0-9]{36}\b")
CARD = re.compile(r"(?<![\w-])\d{4}(?:[ -]?\d{4}){3}(?![\w-])|(?<![\w-])3[47]\d{2}[ -]?\d{6}[ -]?\d{5}(?![\w-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def is_refusal(text: str) -> bool:
    return any(marker in text for markers in REFUSAL_MARKERS.values() for marker in markers)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def distinct_4gram_share(text: str) -> float:
    words = text.split()
    grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
    return len(set(grams)) / len(grams) if grams else 1.0


def overlap(answer: str, documents: list[str]) -> float:
    """Share of the answer's words (3+ letters) that occur in the documents."""
    vocabulary = set(WORD.findall(" ".join(documents).lower()))
    words = [w for w in WORD.findall(answer.lower()) if len(w) >= 3]
    return sum(w in vocabulary for w in words) / len(words) if words else 0.0


def urls(text: str) -> set[str]:
    return {url.rstrip(".,;:") for url in URL.findall(text)}


@dataclass
class Answered:
    """A request whose last LLM call answered (no tool call pending), with what a flag would look at."""

    events: list[dict[str, Any]]
    answer: dict[str, Any]
    route: str | None  # None when the gateway event was lost
    documents: list[str] | None

    @property
    def prose(self) -> bool:
        return "response_format" not in self.answer


def answered(requests: dict[str, list[dict[str, Any]]]) -> list[Answered]:
    result = []
    for events in requests.values():
        llm = [e for e in events if e["event"] == "llm"]
        if not llm or llm[-1]["status"] != "ok" or llm[-1]["finish_reason"] == "tool_calls":
            continue
        gateway = next((e for e in events if e["event"] == "gateway"), None)
        rerank = next((e for e in events if e["event"] == "rerank"), None)
        result.append(
            Answered(events, llm[-1], gateway["route"] if gateway else None, rerank["documents"] if rerank else None)
        )
    return result


@pytest.fixture(scope="module")
def answers(requests: dict[str, list[dict[str, Any]]]) -> list[Answered]:
    return answered(requests)


def share(hits: int, total: int) -> float:
    assert total > 0
    return hits / total


def test_llm_calls_log_max_tokens_by_route(requests: dict[str, list[dict[str, Any]]]) -> None:
    seen: set[tuple[str, int]] = set()
    for events in requests.values():
        gateway = next((e for e in events if e["event"] == "gateway"), None)
        for e in events:
            if e["event"] != "llm":
                continue
            assert isinstance(e["max_tokens"], int)
            if gateway is not None:
                expected = MAX_TOKENS[gateway["route"]] * (4 if e["model"] == "o3-mini" else 1)
                assert e["max_tokens"] == expected
                seen.add((gateway["route"], e["max_tokens"]))
    assert {route for route, _ in seen} == set(MAX_TOKENS)


def test_answers_cut_at_the_limit_stop_mid_sentence(answers: list[Answered]) -> None:
    ok = [e for events in (a.events for a in answers) for e in events if e["event"] == "llm" and e["status"] == "ok"]
    for e in ok:
        # Reasoning tokens count against the limit too.
        assert (e["finish_reason"] == "length") == (e["output_tokens"] == e["max_tokens"]), e
        assert e["output_tokens"] <= e["max_tokens"]
    prose = [a.answer for a in answers if a.prose]
    cut = [e for e in prose if e["finish_reason"] == "length"]
    assert 0.01 < share(len(cut), len(prose)) < 0.04
    assert all(e["output"][-1].isalnum() for e in cut)  # mid-word, so mid-sentence
    # Answers that were not cut off end on a whole sentence or a cited link (loops, refusals and empty ones aside).
    whole = [
        e for e in prose if e["finish_reason"] == "stop" and e["output"] and distinct_4gram_share(e["output"]) >= 0.5
    ]
    clean = [e for e in whole if e["output"][-1] in ".!?。！？" or re.search(r"https://\S+$", e["output"])]
    assert len(clean) == len(whole)
    # A cut-off answer never ends inside a link (half a link would look made up).
    assert all(not re.search(r"https?://\S*$", e["output"]) for e in cut)


def test_refusals(answers: list[Answered]) -> None:
    prose = [a.answer for a in answers if a.prose]
    refusals = [e for e in prose if is_refusal(e["output"])]
    assert 0.014 < share(len(refusals), len(prose)) < 0.027
    assert all(
        e["finish_reason"] == "stop" and e["output_tokens"] - e.get("reasoning_tokens", 0) <= 40 for e in refusals
    )
    languages = {
        lang for e in refusals for lang, markers in REFUSAL_MARKERS.items() if any(m in e["output"] for m in markers)
    }
    assert languages == set(REFUSAL_MARKERS)
    assert not any(is_refusal(a.answer["output"]) for a in answers if not a.prose)


def test_empty_answers(answers: list[Answered]) -> None:
    prose = [a.answer for a in answers if a.prose]
    empty = [e for e in prose if e["output"] == ""]
    assert 0.0012 < share(len(empty), len(prose)) < 0.006
    assert all(1 <= e["output_tokens"] - e.get("reasoning_tokens", 0) <= 2 for e in empty)


def test_looping_answers(answers: list[Answered]) -> None:
    prose = [a.answer for a in answers if a.prose]
    scored = [(e, distinct_4gram_share(e["output"])) for e in prose if e["output"]]
    loops = [e for e, distinct in scored if distinct < 0.5]
    assert 0.0025 < share(len(loops), len(prose)) < 0.009
    assert {e["finish_reason"] for e in loops} == {"stop", "length"}
    # Ordinary answers of some length are far from looping (a short one may say one sentence twice).
    assert all(distinct > 0.6 for e, distinct in scored if distinct >= 0.5 and len(e["output"].split()) >= 40)


def test_json_mode_route(answers: list[Answered], requests: dict[str, list[dict[str, Any]]]) -> None:
    routes = [e["route"] for events in requests.values() for e in events if e["event"] == "gateway"]
    chat = [r for r in routes if r in ("/chat", "/chat/stream", "/extract")]
    assert 0.08 < share(chat.count("/extract"), len(chat)) < 0.12
    llm = [e for events in requests.values() for e in events if e["event"] == "llm"]
    json_mode = [e for e in llm if "response_format" in e]
    shapes = Counter(
        fmt if isinstance(fmt, str) else fmt["type"] + ("+schema" if "json_schema" in fmt else "")
        for fmt in (e["response_format"] for e in json_mode)
    )
    assert set(shapes) == {"json_object", "json_schema+schema"}
    assert sum(isinstance(e["response_format"], str) for e in json_mode) > 0
    assert sum(
        isinstance(e["response_format"], dict) and e["response_format"]["type"] == "json_object" for e in json_mode
    )
    for a in answers:
        assert (not a.prose) == (a.route == "/extract") or a.route is None

    replies = [a.answer for a in answers if not a.prose]
    invalid: dict[str, int] = Counter()
    for e in replies:
        text = e["output"]
        try:
            value = json.loads(text)
        except ValueError:
            if e["finish_reason"] == "length":
                invalid["cut off"] += 1
            elif text.startswith("```json\n") and text.endswith("\n```"):
                invalid["fenced"] += 1
                assert isinstance(json.loads(text[len("```json\n") : -len("\n```")]), dict)
            else:
                invalid["prose around"] += 1
                assert isinstance(json.loads(text[text.index("{") : text.rindex("}") + 1]), dict)
        else:
            assert isinstance(value, dict) and e["finish_reason"] == "stop"
    assert 0.025 < share(sum(invalid.values()), len(replies)) < 0.06
    assert set(invalid) == {"cut off", "fenced", "prose around"}


def first_input(events: list[dict[str, Any]]) -> str:
    return next(e["input"] for e in events if e["event"] == "llm")


# Each regex runs only where a cheap necessary condition holds: Python's `re` reads these patterns at ~3 MB/s.
def n_digits(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def emails(text: str) -> list[str]:
    return EMAIL.findall(text) if "@" in text else []


def phones(text: str) -> list[str]:
    return PHONE.findall(text) if n_digits(text) >= 10 else []


def cards(text: str) -> list[str]:
    """Card numbers (separators removed) outside IBANs, whose digits look like one but fail the Luhn check."""
    if n_digits(text) < 15:
        return []
    return [re.sub(r"[ -]", "", m) for m in CARD.findall(IBAN.sub(" ", text))]


def secrets(text: str) -> list[str]:
    return SECRET.findall(text) if "sk-proj-" in text or "AKIA" in text or "ghp_" in text else []


def on_reserved_domains(addresses: list[str]) -> bool:
    return all(a.split("@")[1].endswith(("example.com", "example.org", "example.net")) for a in addresses)


def test_personal_data_in_prompts(requests: dict[str, list[dict[str, Any]]]) -> None:
    prompts = [first_input(events) for events in requests.values() if any(e["event"] == "llm" for e in events)]
    found = [emails(p) for p in prompts]
    assert 0.008 < share(sum(bool(f) for f in found), len(prompts)) < 0.017
    assert 0.004 < share(sum(bool(phones(p)) for p in prompts), len(prompts)) < 0.012
    keys = [secrets(p) for p in prompts]
    assert 0.003 < share(sum(bool(k) for k in keys), len(prompts)) < 0.008
    assert {key[:4] for k in keys for key in k} == {"sk-p", "AKIA", "ghp_"}
    numbers = [c for p in prompts for c in cards(p)]
    ibans = [m.replace(" ", "") for p in prompts for m in IBAN.findall(p)]
    assert 0 < len(numbers) < 0.005 * len(prompts) and 0 < len(ibans) < 0.005 * len(prompts)
    # Realistic in shape, obviously fake: reserved domains, test card numbers, the standard's example IBANs.
    assert all(on_reserved_domains(f) for f in found)
    assert all(luhn_ok(number) for number in numbers)
    assert all(iban_ok(iban) for iban in ibans)


def test_personal_data_in_answers(answers: list[Answered]) -> None:
    prose = [a.answer["output"] for a in answers if a.prose]
    found = [emails(t) for t in prose]
    assert all(on_reserved_domains(f) for f in found)
    numbers = [cards(t) for t in prose]
    leaky = [f or n or phones(t) for t, f, n in zip(prose, found, numbers, strict=True)]
    assert 0.002 < share(sum(map(bool, leaky)), len(prose)) < 0.008
    assert any(numbers) and all(luhn_ok(number) for n in numbers for number in n)
    assert not any(secrets(t) for t in prose)


def test_rag_answers_draw_on_their_documents(answers: list[Answered]) -> None:
    rag = [a for a in answers if a.documents is not None]
    for a in rag:
        assert all(isinstance(d, str) and 150 <= len(d) <= 400 for d in a.documents)
        n_docs = next(e["n_docs"] for e in a.events if e["event"] == "rerank")
        assert len(a.documents) == len(set(a.documents)) == n_docs
    prose = [
        a
        for a in rag
        if a.answer["output"] and not is_refusal(a.answer["output"]) and distinct_4gram_share(a.answer["output"]) >= 0.5
    ]
    scores = [overlap(a.answer["output"], a.documents) for a in prose]
    # Grounded answers are made of the passages' sentences; ~3 % ignore them (generic text: low overlap).
    assert 0.02 < share(sum(s < 0.5 for s in scores), len(scores)) < 0.045
    assert share(sum(s >= 0.8 for s in scores), len(scores)) > 0.95
    grounded_links = [a for a in prose if urls(a.answer["output"])]
    ungrounded = [a for a in prose if urls(a.answer["output"]) - {u for d in a.documents for u in urls(d)}]
    assert 0.006 < share(len(ungrounded), len(prose)) < 0.016
    assert len(grounded_links) > 10 * len(ungrounded)  # most cited links are the passages' own
    assert all(overlap(a.answer["output"], a.documents) >= 0.8 for a in ungrounded)  # made-up link, grounded text
    assert sum(bool(urls(d)) for a in rag for d in a.documents) > 0.3 * sum(len(a.documents) for a in rag)


def test_some_calls_decode_slowly(requests: dict[str, list[dict[str, Any]]]) -> None:
    llm = [e for events in requests.values() for e in events if e["event"] == "llm" and e["status"] == "ok"]
    slow = [e for e in llm if e["output_tokens"] >= 100 and e["output_tokens"] * 1000.0 / e["latency_ms"] < 10.0]
    assert 0.002 < share(len(slow), len(llm)) < 0.02


def request_end(events: list[dict[str, Any]]) -> float:
    gateway = next((e for e in events if e["event"] == "gateway"), None)
    if gateway is not None:
        return to_ms(gateway["ts"]) + gateway["latency_ms"]
    return max(to_ms(e["ts"]) + e["latency_ms"] for e in events if e["event"] != "feedback")


def unhappy(events: list[dict[str, Any]]) -> bool:
    """What users give a thumbs down for: a failure, a refusal, an empty, cut-off, looping or off-context answer."""
    if ended_in_error(events):
        return True
    a = answered({"r": events})
    if not a:
        return False
    text, documents = a[0].answer["output"], a[0].documents
    if a[0].answer["finish_reason"] == "length" or text == "" or is_refusal(text):
        return True
    if not a[0].prose:
        try:
            json.loads(text)
        except ValueError:
            return True
        return False
    return distinct_4gram_share(text) < 0.5 or (documents is not None and overlap(text, documents) < 0.5)


def test_feedback_events(requests: dict[str, list[dict[str, Any]]]) -> None:
    by_app: dict[str, list[bool]] = defaultdict(list)
    accepted: dict[bool, list[bool]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    for events in requests.values():
        feedback = [e for e in events if e["event"] == "feedback"]
        app = next(e["service"] for e in events if "service" in e)
        by_app[app].append(bool(feedback))
        if not feedback:
            continue
        (event,) = feedback
        assert set(event) == {"ts", "request_id", "event_id", "event", "feedback"}
        delay = to_ms(event["ts"]) - request_end(events)
        assert 5_000 - 1 <= delay <= 600_000 + 1
        value = event["feedback"]
        if isinstance(value, str):
            assert value in ("up", "down")
            kinds["thumbs"] += 1
        else:
            assert isinstance(value, float) and 0.0 <= value <= 1.0 and value != 0.5
            kinds["score"] += 1
        accepted[unhappy(events)].append(value == "up" or (isinstance(value, float) and value > 0.5))
    assert 0.13 < share(sum(by_app["chatbot-api"]), len(by_app["chatbot-api"])) < 0.18
    assert 0.08 < share(sum(by_app["rag-api"]), len(by_app["rag-api"])) < 0.12
    assert 0.15 < share(kinds["score"], kinds.total()) < 0.35
    everyone = accepted[True] + accepted[False]
    assert 0.75 < share(sum(everyone), len(everyone)) < 0.85
    assert (
        share(sum(accepted[True]), len(accepted[True])) < 0.4 < 0.8 < share(sum(accepted[False]), len(accepted[False]))
    )


def test_feedback_comes_later_in_the_file(big: tuple[list[bytes], SampleStats]) -> None:
    """A feedback line is written after every line of its request (the log is in time order)."""
    last_line: dict[str, int] = {}
    feedback_line: dict[str, int] = {}
    for i, line in enumerate(big[0]):
        event = parse_good(line)
        if event is None or event["event"] == "cache_lookup":
            continue
        if event["event"] == "feedback":
            feedback_line[event["request_id"]] = i
        else:
            assert event["request_id"] not in feedback_line
            last_line[event["request_id"]] = i
    assert feedback_line and all(feedback_line[rid] > last_line[rid] for rid in feedback_line)


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


def test_committed_sample_logs_hold_every_planted_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled logs are small, but each quality check finds something in them."""
    script = load_make_sample_logs(monkeypatch)
    by_request: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for spec in script.FILES:
        for line in script.read_lines(SAMPLE_LOGS / spec.path):
            event = parse_good(line)
            if event is not None and event["event"] != "cache_lookup":
                by_request[event["request_id"]].append(event)
    found: Counter[str] = Counter()
    for a in answered(by_request):
        text = a.answer["output"]
        found["truncated"] += a.answer["finish_reason"] == "length"
        if not a.prose:
            try:
                json.loads(text)
            except ValueError:
                found["invalid_json"] += 1
            continue
        found["empty"] += text == ""
        found["refusal"] += is_refusal(text)
        found["loop"] += bool(text) and distinct_4gram_share(text) < 0.5
        found["pii_in_output"] += bool(emails(text) or phones(text) or cards(text))
        if a.documents is not None and text and not is_refusal(text):
            found["context_unused"] += overlap(text, a.documents) < 0.5
            found["ungrounded_url"] += bool(urls(text) - {u for d in a.documents for u in urls(d)})
    for events in by_request.values():
        prompt = next((e["input"] for e in events if e["event"] == "llm"), "")
        for kind, hit in (
            ("email", emails(prompt)),
            ("phone", phones(prompt)),
            ("secret", secrets(prompt)),
            ("card", cards(prompt)),
            ("iban", IBAN.findall(prompt)),
        ):
            found[f"{kind}_in_input"] += bool(hit)
        found["slow"] += any(
            e["event"] == "llm"
            and e["status"] == "ok"
            and e["output_tokens"] >= 100
            and e["latency_ms"] > 100 * e["output_tokens"]
            for e in events
        )
        for e in events:
            if e["event"] == "feedback":
                found[f"feedback_{e['feedback'] if isinstance(e['feedback'], str) else 'score'}"] += 1
    expected = {
        "truncated", "invalid_json", "empty", "refusal", "loop", "pii_in_output", "context_unused", "ungrounded_url",
        "email_in_input", "phone_in_input", "secret_in_input", "card_in_input", "iban_in_input", "slow",
        "feedback_up", "feedback_down", "feedback_score",
    }  # fmt: skip
    assert {kind for kind, n in found.items() if n} == expected, found
