"""A key repeated on a line: the first value is read, on every path, and the file is named in a note."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aiobs.formats.detect import REPEAT_CHECK_LINES, repeated_keys
from aiobs.issues import INFORMATIONAL
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

LINE = '{"request_id":"r1","ts":"2026-11-28T10:00:00Z","latency_ms":5,"latency_ms":900,"status":"ok","status":"error"}'


def test_a_repeated_key_is_noted_with_its_line_and_the_first_value_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"request_id":"r0","ts":"2026-11-28T09:00:00Z","latency_ms":1}\n' + LINE + "\n")
    summary = summarize(expand_inputs([str(path)]))
    assert summary.issues.counts["repeated-key"] == 1
    [example] = summary.issues.examples["repeated-key"]
    assert (example.source, example.line) == (str(path), 2)
    assert '"latency_ms" appears twice' in example.message
    assert "repeated-key" in INFORMATIONAL
    requests = summary.requests.sort("correlation_id").collect()
    assert requests["latency_ms"].to_list() == [1.0, 5.0]
    assert requests["is_error"].to_list() == [False, False]


def test_a_pretty_printed_document_reads_the_first_value_too(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(LINE.replace(",", ",\n  ").replace("{", "{\n  ", 1) + "\n")
    summary = summarize(expand_inputs([str(path)]))
    assert summary.requests.collect()["latency_ms"].to_list() == [5.0]


def test_only_the_first_lines_are_checked_and_nested_repeats_count() -> None:
    clean = json.dumps({"request_id": "a", "meta": {"k": 1}})
    nested = '{"request_id":"a","meta":{"k":1,"k":2}}'
    data = "\n".join([clean, nested, *[clean] * REPEAT_CHECK_LINES, nested]).encode()
    found = repeated_keys(data, "src", 10)
    assert [(i.source, i.line) for i in found] == [("src", 11)]
    assert repeated_keys(b'not json "a" "b"\n{"a": 1}\n', "src", 1) == []


def test_a_line_nested_past_pythons_stack_is_read_not_a_crash(tmp_path: Path) -> None:
    """990 levels of arrays is valid JSON: the repeated-key check (Python's json) must not stop the run."""
    deep = "[" * 990 + "]" * 990
    path = tmp_path / "deep.jsonl"
    path.write_text('{"request_id":"a","ts":"2026-11-28T10:00:00Z","latency_ms":5,"m":' + deep + "}\n")
    summary = summarize(expand_inputs([str(path)]))
    assert summary.n_requests == 1
    assert repeated_keys(b'{"m":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "src", 1) == []


def test_a_document_nested_past_pythons_stack_is_one_problem_and_the_next_is_read(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep.json"
    path.write_text(
        '{\n "request_id": "b", "ts": "2026-11-28T00:00:00Z",\n "m": ' + deep + "\n}\n"
        '{\n "request_id": "c", "ts": "2026-11-28T00:00:01Z", "latency_ms": 3\n}\n'
    )
    summary = summarize(expand_inputs([str(path)]))
    assert summary.requests.collect()["correlation_id"].to_list() == ["c"]
    [example] = summary.issues.examples["invalid-json"]
    assert (example.line, example.message) == (
        1,
        "JSON document cannot be read: nested too deeply; lines 1-4 skipped, up to the next line that starts with {",
    )


_KEYS = st.sampled_from(["a", "b", "status", 'q":', "c d"])
_VALUES = st.recursive(
    st.none() | st.integers() | st.text(alphabet='ab":{} ', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.lists(st.tuples(_KEYS, inner), max_size=4),
    max_leaves=12,
)


def _write(value: object, space: str) -> str:
    """JSON text of `value`, where a list of (key, value) pairs is an object that may repeat a key."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return "{" + ",".join(f"{json.dumps(k)}{space}:{_write(v, space)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_write(v, space) for v in value) + "]"
    return json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_KEYS, _VALUES), min_size=1, max_size=5), space=st.sampled_from(["", " ", "\t"]))
def test_the_cheap_pre_check_never_hides_a_repeated_key(pairs: list[tuple[str, object]], space: str) -> None:
    line = _write(pairs, space).encode()
    assert not line.startswith(b"[") or not pairs
    found = repeated_keys(line + b"\n", "x", 1)
    try:
        json.loads(line, object_pairs_hook=_refuse)
        repeats = False
    except KeyError:
        repeats = True
    assert bool(found) == repeats


def _refuse(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise KeyError
    return dict(pairs)
