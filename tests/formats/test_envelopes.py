"""Loki and CloudWatch exports: the lines they wrap read as if the application's file were given.

The envelopes are written here as the tools write them: `logcli query --output=jsonl` marshals a map
`{"labels", "line", "timestamp"}` with Go's encoding/json (keys sorted, <, > and & escaped as \\u003c...;
grafana/loki pkg/logcli/output/jsonl.go), and a CloudWatch Logs export task writes `<timestamp> <message>`
per event (AWS CLI `aws logs create-export-task`; objects gzip-compressed in S3). Each wrapped file must
give the summary of the file it wraps, problems at the same line numbers.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from format_helpers import renamed, summary_doc

from aiobs.formats.envelopes import CLOUDWATCH, DATADOG, LOKI, envelope_of

ROOT = Path(__file__).resolve().parents[2]
STRUCTLOG = ROOT / "tests" / "fixtures" / "structlog" / "scenario.jsonl"
CHATBOT = ROOT / "sample_logs" / "chatbot.jsonl"  # has broken lines: their numbers must not move
START = datetime(2026, 11, 28, 10, tzinfo=UTC)


def go_json(value: Any) -> str:
    """What Go's json.Marshal writes for a map: sorted keys, no spaces, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def loki_export(lines: list[bytes]) -> bytes:
    out = []
    for i, line in enumerate(lines):
        stamp = (START + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
        text = line.decode("utf-8", errors="replace")
        out.append(go_json({"labels": {"app": "chat", "env": "prod"}, "line": text, "timestamp": stamp}))
    return ("\n".join(out) + "\n").encode()


def cloudwatch_export(lines: list[bytes]) -> bytes:
    stamps = [
        (START + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for i in range(len(lines))
    ]
    return b"".join(stamp.encode() + b" " + line + b"\n" for stamp, line in zip(stamps, lines, strict=True))


def datadog_archive(lines: list[bytes]) -> bytes:
    """Datadog's archive events: the line's fields parsed into `attributes`, with Datadog's own keys."""
    out = []
    for i, line in enumerate(lines):
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            fields = None
        if not isinstance(fields, dict):
            out.append(line)  # a line Datadog could not parse as JSON: kept as it was, and read as it is
            continue
        stamp = (START + timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
        event = {"_id": f"AY{i:06d}", "date": stamp, "host": "web-1", "service": "chat", "status": "info"}
        out.append(orjson.dumps({**event, "message": "", "attributes": fields, "tags": ["env:prod"]}))
    return b"\n".join(out) + b"\n"


@pytest.mark.parametrize("original", [STRUCTLOG, CHATBOT])
@pytest.mark.parametrize("envelope", [LOKI, CLOUDWATCH, DATADOG])
def test_a_wrapped_file_gives_the_summary_of_the_file_it_wraps(tmp_path: Path, original: Path, envelope: str) -> None:
    lines = [line for line in original.read_bytes().split(b"\n")[:-1]]
    if envelope == LOKI:
        wrapped = tmp_path / "export.jsonl"
        wrapped.write_bytes(loki_export(lines))
    elif envelope == DATADOG:
        wrapped = tmp_path / "archive_1.json.gz"
        wrapped.write_bytes(gzip.compress(datadog_archive(lines)))
    else:
        lines = [line for line in lines if line.startswith(b"{")]  # CloudWatch stores events, not blank lines
        (tmp_path / "plain.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        original = tmp_path / "plain.jsonl"
        wrapped = tmp_path / "000000.gz"  # as the export task names its objects
        wrapped.write_bytes(gzip.compress(cloudwatch_export(lines)))
    assert envelope_of(gzip.decompress(wrapped.read_bytes()) if wrapped.suffix == ".gz" else wrapped.read_bytes())
    expected, found = summary_doc(original), renamed(summary_doc(wrapped), str(wrapped), str(original))
    if envelope == DATADOG:  # Datadog keeps the fields it parsed, not the line's bytes: the sizes differ
        expected.pop("bytes_read"), found.pop("bytes_read")
    assert found == expected
    assert expected["overall"]["requests"] > 0


def test_a_broken_envelope_is_reported_at_its_line(tmp_path: Path) -> None:
    lines = STRUCTLOG.read_bytes().split(b"\n")[:-1]
    export = loki_export(lines).split(b"\n")
    export[2] = b'{"labels":{},"line":"cut off'
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"\n".join(export))
    doc = summary_doc(path)
    kinds = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert [(e["source"], e["line"]) for e in kinds["invalid-json"]["examples"]] == [(str(path), 3)]


def test_logs_that_are_not_wrapped_are_left_as_they_are() -> None:
    assert envelope_of(STRUCTLOG.read_bytes()) is None
    assert envelope_of(CHATBOT.read_bytes()) is None
    assert envelope_of(b'{"line": "x", "level": "info"}\n') is None  # a log with a `line` field of its own


def test_lambda_platform_lines_in_a_cloudwatch_export_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = [line for line in STRUCTLOG.read_bytes().split(b"\n")[:-1] if line.startswith(b"{")]
    platform = [
        b"START RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab Version: $LATEST",
        b"END RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab",
        b"REPORT RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab\tDuration: 2.39 ms\tBilled Duration: 3 ms",
    ]
    wrapped = tmp_path / "000000.gz"
    wrapped.write_bytes(gzip.compress(cloudwatch_export([platform[0], *lines, *platform[1:]])))
    doc = summary_doc(wrapped)
    kinds = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert doc["input_quality"]["problems"] == 0 and "blank-line" not in kinds
    assert kinds["skipped-record"]["count"] == 3
    assert [e["line"] for e in kinds["skipped-record"]["examples"]] == [1, len(lines) + 2, len(lines) + 3]
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(b"\n".join(lines) + b"\n")
    assert doc["overall"] == summary_doc(plain)["overall"]


def test_a_blank_line_in_a_cloudwatch_export_is_counted_once_at_its_line(tmp_path: Path) -> None:
    lines = [line for line in STRUCTLOG.read_bytes().split(b"\n")[:-1] if line.startswith(b"{")]
    export = cloudwatch_export(lines).split(b"\n")
    export.insert(3, b"")
    wrapped = tmp_path / "000000.gz"
    wrapped.write_bytes(gzip.compress(b"\n".join(export)))
    kinds = {k["code"]: k for k in summary_doc(wrapped)["input_quality"]["by_kind"]}
    assert kinds["blank-line"]["count"] == 1 and kinds["blank-line"]["examples"][0]["line"] == 4
