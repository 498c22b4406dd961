"""What the record-type tests share: the keys a TypedDict names, and a command's JSON document."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_type_hints

import orjson
from typer.testing import CliRunner

from aiobs.cli import app

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_logs")


def keys_of(record_type: type) -> set[str]:
    return set(get_type_hints(record_type))


def cli_json(*args: str) -> dict[str, Any]:
    """`aiobs ARGS --format json`, parsed; the command must succeed."""
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = orjson.loads(result.stdout)
    return parsed
