"""The issue log: counts per kind and the first examples by (source, line), whatever the arrival order."""

from __future__ import annotations

import random
import threading

from aiobs.issues import InputIssue, IssueLog


def issue(source: str, line: int | None) -> InputIssue:
    return InputIssue("invalid-json", source, line, "bad")


def test_examples_are_the_smallest_source_and_line_sorted_whatever_the_order() -> None:
    issues = [issue(source, line) for source in ("a.jsonl", "b.jsonl") for line in range(1, 40)]
    expected = [issue("a.jsonl", line) for line in range(1, 6)]
    for seed in range(5):
        shuffled = random.Random(seed).sample(issues, len(issues))
        log = IssueLog()
        for one in shuffled:
            log.record(one)
        assert log.examples["invalid-json"] == expected, seed
        assert log.counts["invalid-json"] == len(issues)


def test_later_chunks_first_still_keep_the_first_lines() -> None:
    log = IssueLog(keep=3)
    log.add("invalid-json", 2, [issue("a.jsonl", 900), issue("a.jsonl", 901)])  # a later chunk finished first
    log.add("invalid-json", 4, [issue("a.jsonl", 7), issue("a.jsonl", 3), issue("a.jsonl", 12), issue("a.jsonl", 5)])
    assert [e.line for e in log.examples["invalid-json"]] == [3, 5, 7]
    assert log.counts["invalid-json"] == 6


def test_merge_keeps_the_smallest_examples_of_both_logs() -> None:
    first, second = IssueLog(keep=2), IssueLog(keep=2)
    second.record(issue("a.jsonl", 1))
    first.record(issue("a.jsonl", 2))
    first.record(issue("b.jsonl", 1))
    first.merge(second)
    assert [(e.source, e.line) for e in first.examples["invalid-json"]] == [("a.jsonl", 1), ("a.jsonl", 2)]


def test_issues_without_a_line_sort_before_lines_of_their_source() -> None:
    log = IssueLog()
    for one in (issue("a.jsonl", 4), issue("a.jsonl", None), issue("0.jsonl", 9)):
        log.record(one)
    assert [(e.source, e.line) for e in log.examples["invalid-json"]] == [
        ("0.jsonl", 9),
        ("a.jsonl", None),
        ("a.jsonl", 4),
    ]


def test_threads_recording_at_once_lose_no_count_and_keep_the_smallest() -> None:
    log = IssueLog()
    lines = list(range(1, 2001))
    random.Random(3).shuffle(lines)
    parts = [lines[i::4] for i in range(4)]
    threads = [threading.Thread(target=lambda p=p: [log.record(issue("a.jsonl", n)) for n in p]) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.counts["invalid-json"] == 2000
    assert [e.line for e in log.examples["invalid-json"]] == [1, 2, 3, 4, 5]
