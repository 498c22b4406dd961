"""Bad input is data: every problem is counted by kind, with the first few examples kept.

Nothing here raises. Readers and `reconstruct` record what they could not use,
the summary shows it, and `--strict` turns a non-empty log into exit code 1.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

#: code -> (title shown to users, whether --strict fails on it)
ISSUE_KINDS: dict[str, str] = {
    "invalid-json": "line is not valid JSON",
    "not-an-object": "line is JSON but not an object",
    "invalid-utf8": "line is not valid UTF-8 (decoded with replacement characters)",
    "wrong-type": "field has the wrong type (value ignored)",
    "invalid-timestamp": "timestamp could not be parsed (value ignored)",
    "invalid-duration": "negative or absurd duration (value ignored)",
    "missing-correlation-id": "event has no correlation ID (orphan, not in any request)",
    "truncated-archive": "compressed file ends early (read up to the cut)",
    "corrupt-archive": "compressed member fails its checksum (its data was read, and may be damaged)",
    "unreadable-chunk": "part of a file could not be read",
    "line-too-long": "line is longer than the limit (left out; max_line_mb in [input] raises it)",
    "missing-object": "S3 object listed but gone when read (deleted during the run)",
    "unreadable-object": "S3 object could not be read (access denied, archived, ...)",
    "duplicate-event": "the same event appears more than once (counted once)",
    "missing-root": "no event spans the whole request (a root or gateway event): latency is its events' span",
    "clock-skew": "child event starts before or ends after its root event",
    "unknown-record": "line is JSON but not a record of its file's format",
    "skipped-record": "record the format's adapter does not read (OTLP metrics, non-GenAI logs)",
    "unmatched-mapping": "a path you mapped matches nothing in a file",
    "naive-timestamp": "timestamp has no time zone (read as UTC, or as --timezone says)",
    "no-timestamp": "event has no timestamp (not placed in time)",
    "unknown-latency": "request has no duration and a single timestamp: latency unknown",
    "envelope-latency": "latency is the span of the request's log lines (no duration logged)",
    "longest-latency": "latency is the request's longest event (its lines have no timestamps)",
    "assumed-unit": "a duration's unit is not in its name: read in the unit aiobs assumes",
    "unknown-status": "no line of a file has a status, level, HTTP status or error field (counted as succeeded)",
    "no-tokens": "no request has token counts: tokens and cost are unknown, not zero",
    "partial-mapping": "a path you mapped fills only part of a file's events (the format's own paths fill the rest)",
    "blank-line": "blank line (skipped)",
    "skipped-file": "file in an input folder whose name is not a log's (not read; pass it by name to read it)",
    "repeated-key": "a line repeats a key (the first value is read; checked on each file's first 50 lines)",
}

#: Kinds that describe how requests were rebuilt, or what the logs do not say, rather than broken input:
#: reported with how to fix them, never fatal under --strict.
INFORMATIONAL = frozenset(
    {
        "missing-root",
        "skipped-record",
        "naive-timestamp",
        "no-timestamp",
        "unknown-latency",
        "envelope-latency",
        "longest-latency",
        "assumed-unit",
        "clock-skew",
        "unknown-status",
        "no-tokens",
        "partial-mapping",
        "blank-line",
        "repeated-key",
        "skipped-file",
    }
)


@dataclass(frozen=True)
class InputIssue:
    code: str
    source: str
    line: int | None
    message: str

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


def example_order(issue: InputIssue) -> tuple[str, bool, int, str]:
    """Examples are kept and shown by source, then line (issues without a line first)."""
    return (issue.source, issue.line is not None, issue.line or 0, issue.message)


@dataclass
class IssueLog:
    """Counts per kind, plus the `keep` first examples of each kind by (source, line).

    Chunks are parsed on several threads, so issues arrive in any order: keeping the smallest
    (source, line) rather than the first to arrive makes the examples the same on every run.
    """

    keep: int = 5
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[InputIssue]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, code: str, count: int = 1, examples: list[InputIssue] | None = None) -> None:
        if code not in ISSUE_KINDS:
            msg = f"unknown issue code {code!r}"
            raise ValueError(msg)
        if count <= 0:
            return
        with self._lock:  # parser threads record the lines they reject
            self.counts[code] += count
            kept = self.examples.get(code, [])
            self.examples[code] = sorted([*kept, *(examples or [])], key=example_order)[: self.keep]

    def __getstate__(self) -> dict[str, object]:
        """Without the lock: a worker of a distributed engine sends its log to the driver, which merges it."""
        return {"keep": self.keep, "counts": self.counts, "examples": self.examples}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def record(self, issue: InputIssue) -> None:
        self.add(issue.code, 1, [issue])

    def merge(self, other: IssueLog) -> None:
        for code, count in other.counts.items():
            self.add(code, count, other.examples.get(code, []))

    @property
    def failing(self) -> int:
        """Problems that `--strict` fails on."""
        return sum(n for code, n in self.counts.items() if code not in INFORMATIONAL)

    def rows(self) -> list[tuple[str, str, int, list[InputIssue]]]:
        """(code, title, count, examples) in a stable order, most frequent first."""
        ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(code, ISSUE_KINDS[code], n, self.examples.get(code, [])) for code, n in ordered]
