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
