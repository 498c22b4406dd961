"""Shared fixtures: build JSONL inputs in tmp_path.

`write_jsonl(path, rows_or_lines)` writes each dict with orjson and each `bytes` item as-is (so tests
can plant malformed lines), one per line, and returns the path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest

Row = dict[str, Any] | bytes
WriteJsonl = Callable[[Path, Iterable[Row]], Path]


def jsonl_bytes(rows_or_lines: Iterable[Row]) -> bytes:
    """Dicts as orjson lines, bytes lines verbatim; every line ends with a newline."""
    out = bytearray()
    for item in rows_or_lines:
        out += item if isinstance(item, bytes) else orjson.dumps(item)
        out += b"\n"
    return bytes(out)


def _write_jsonl(path: Path, rows_or_lines: Iterable[Row]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jsonl_bytes(rows_or_lines))
    return path


@pytest.fixture
def write_jsonl() -> WriteJsonl:
    return _write_jsonl


# -- hostile logs (report security tests) -------------------------------------------------------------

#: Payloads that would run, break a table or inject markup if any renderer failed to escape them.
PAYLOADS: dict[str, str] = {
    "model": "<script>window.__pwned='model'</script>",
    "route": "<img src=x onerror=\"window.__pwned='route'\">",
    "user": "javascript:window.__pwned='user'",
    "error_type": "</td></tr></table><svg onload=\"window.__pwned='error'\">",
    "output": "| a | b |\n</td><script>window.__pwned='output'</script>[click](javascript:alert(1)) ![x](http://evil.example/x.png)",
    "input": "<iframe src=\"javascript:window.__pwned='input'\"></iframe> **bold** `code` <b>html</b> "
    "mail alice@example.com",
    "id": '"><img src=x onerror="window.__pwned=\'id\'">',
}


def _hostile_rows() -> list[dict[str, Any]]:
    """60 plain requests, and 6 slow ones whose every text field carries a payload (the outliers at p90)."""
    rows: list[dict[str, Any]] = []
    for i in range(66):
        hostile = i >= 60
        rid = (PAYLOADS["id"] + str(i)) if hostile else f"req-{i:03d}"
        minute, second = divmod(i * 47, 60)
        ts = f"2026-11-28T{minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z"
        latency = 30_000.0 + i * 1000 if hostile else 500.0 + (i * 137) % 2500
        rows.append(
            {
                "ts": ts,
                "request_id": rid,
                "event_id": f"g{i}",
                "event": "gateway",
                "route": PAYLOADS["route"] if hostile else "/chat",
                "user_id": PAYLOADS["user"] if hostile else f"u-{i % 7}",
                "status": 500 if hostile and i % 2 else 200,
                "latency_ms": latency,
            }
        )
        rows.append(
            {
                "ts": ts.replace(".000Z", ".010Z"),
                "request_id": rid,
                "event_id": f"l{i}",
                "parent_id": f"g{i}",
                "event": "llm",
                "model": PAYLOADS["model"] if hostile else ("gpt-4o" if i % 2 else "gpt-4o-mini"),
                "provider": "openai",
                "status": "error" if hostile and i % 2 else "ok",
                "error_type": PAYLOADS["error_type"] if hostile and i % 2 else None,
                "input_tokens": 100 + i,
                "output_tokens": 20 + i,
                "input": PAYLOADS["input"] if hostile else "hello",
                "output": PAYLOADS["output"] if hostile else "hi, call me at +1 415 555 0100",
                "latency_ms": latency - 20,
            }
        )
    return rows


@pytest.fixture
def hostile_logs(tmp_path: Path) -> Path:
    return _write_jsonl(tmp_path / "hostile.jsonl", _hostile_rows())
