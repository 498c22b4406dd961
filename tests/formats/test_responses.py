"""Loki query responses and CloudWatch `filter-log-events` / `get-log-events` output, saved as files.

Written here as the tools write them: the AWS CLI prints a response with Python's `json.dumps(indent=4,
ensure_ascii=False)` (awscli/formatter.py, JSONFormatter), events first; Loki's HTTP API answers a
`query_range` on one line, `status` then `data` (docs/sources/reference/loki-http-api.md), values as
`[<unix ns as a string>, <line>]`. Each response must give the summary of the file it holds, every
problem at the line's place in the response.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from format_helpers import renamed
from format_helpers import summary_doc as summary_of

from aiobs.errors import InputError
from aiobs.formats.responses import CLOUDWATCH_RESPONSE, LOKI_RESPONSE, response_of
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
STRUCTLOG = ROOT / "tests" / "fixtures" / "structlog" / "scenario.jsonl"
CHATBOT = ROOT / "sample_logs" / "chatbot.jsonl"  # has broken lines: their places must not move


def cloudwatch_response(lines: list[str]) -> str:
    events = [
        {
            "logStreamName": "2026/11/20/[$LATEST]abc",
            "timestamp": 1763629200000 + i,
            "message": line + "\n",  # Lambda and most agents ship the line's newline with it
            "ingestionTime": 1763629200500 + i,
            "eventId": f"3793{i:052d}",
        }
        for i, line in enumerate(lines)
    ]
    searched = [{"logStreamName": "2026/11/20/[$LATEST]abc", "searchedCompletely": True}]
    return json.dumps({"events": events, "searchedLogStreams": searched}, indent=4, ensure_ascii=False)


def loki_response(lines: list[str]) -> str:
    values = [[str(1763629200000000000 + i), line] for i, line in enumerate(lines)]
    streams = [  # two streams: the numbering runs on across them, in the response's order
        {"stream": {"app": "chat", "pod": "a"}, "values": values[:FIRST_STREAM]},
        {"stream": {"app": "chat", "pod": "b"}, "values": values[FIRST_STREAM:]},
    ]
    data = {"resultType": "streams", "result": streams, "stats": {"summary": {"totalLinesProcessed": len(lines)}}}
    return json.dumps({"status": "success", "data": data}, separators=(",", ":"), ensure_ascii=False)


def summary_doc_(path: Path) -> dict[str, Any]:
    return summary_of(path, "bytes_read")  # a response holds more than its lines


#: Entries in the first Loki stream: the second stream's entry n is the file's line n + FIRST_STREAM.
FIRST_STREAM = 7


def in_the_plain_file(doc: Any, response: Path, plain: Path) -> Any:
    """The response's summary with every place in it (`#events:n`, `#result[i].values:n`) said as the
    line of the plain file that holds the same log line."""
    if isinstance(doc, list):
        return [in_the_plain_file(v, response, plain) for v in doc]
    if isinstance(doc, str):
        return str(plain) if doc.startswith(str(response)) else doc
    if not isinstance(doc, dict):
        return doc
    moved = {k: in_the_plain_file(v, response, plain) for k, v in doc.items()}
    if isinstance(doc.get("source"), str) and doc["source"].endswith("#result[1].values"):
        moved["line"] = doc["line"] + FIRST_STREAM
    return moved


@pytest.mark.parametrize("original", [STRUCTLOG, CHATBOT])
@pytest.mark.parametrize("kind", [CLOUDWATCH_RESPONSE, LOKI_RESPONSE])
def test_a_response_gives_the_summary_of_the_lines_it_holds(tmp_path: Path, original: Path, kind: str) -> None:
    lines = original.read_text(encoding="utf-8").split("\n")[:-1]
    lines = [line for line in lines if line.strip()]  # log stores keep events, not blank lines
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    response = tmp_path / "response.json"
    write = cloudwatch_response if kind == CLOUDWATCH_RESPONSE else loki_response
    response.write_text(write(lines), encoding="utf-8")
    assert response_of(response.read_bytes()) == kind
    expected = summary_doc_(plain)
    found = in_the_plain_file(summary_doc_(response), response, plain)
    assert found == expected
    assert expected["overall"]["requests"] > 0


def test_a_problem_is_placed_by_its_entry_in_the_response(tmp_path: Path) -> None:
    lines = STRUCTLOG.read_text(encoding="utf-8").split("\n")[:-1]
    lines[2] = '{"event": "cut off'
    doc = json.loads(cloudwatch_response(lines))
    del doc["events"][5]["message"]
    doc["events"][7]["message"] = "\n"
    path = tmp_path / "events.json"
    path.write_text(json.dumps(doc, indent=4), encoding="utf-8")
    kinds = {k["code"]: k for k in summary_doc_(path)["input_quality"]["by_kind"]}
    where = f"{path}#events"
    assert [(e["source"], e["line"]) for e in kinds["invalid-json"]["examples"]] == [(where, 3)]
    assert [(e["source"], e["line"]) for e in kinds["unknown-record"]["examples"]] == [(where, 6)]
    assert [(e["source"], e["line"]) for e in kinds["blank-line"]["examples"]] == [(where, 8)]


def test_a_response_cut_short_is_one_problem_named_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(loki_response(STRUCTLOG.read_text(encoding="utf-8").split("\n")[:-1])[:-20], encoding="utf-8")
    expected = r"no usable events in .*cut.json \(1 input problem\(s\) found: 1 invalid-json"
    with pytest.raises(InputError, match=expected):
        summarize(expand_inputs([str(path)]))


def test_entries_with_structured_metadata_are_read_as_the_plain_ones(tmp_path: Path) -> None:
    """Loki's `categorize-labels` encoding (what Grafana asks for) adds a third element to each entry."""
    lines = STRUCTLOG.read_text(encoding="utf-8").split("\n")[:-1]
    plain, categorized = json.loads(loki_response(lines)), json.loads(loki_response(lines))
    for stream in categorized["data"]["result"]:
        stream["values"] = [[ts, line, {"structuredMetadata": {"pod": "a"}}] for ts, line in stream["values"]]
    (tmp_path / "plain.json").write_text(json.dumps(plain), encoding="utf-8")
    (tmp_path / "categorized.json").write_text(json.dumps(categorized), encoding="utf-8")
    found = summary_doc_(tmp_path / "categorized.json")
    expected = summary_doc_(tmp_path / "plain.json")
    found = renamed(
        renamed(found, f"{tmp_path / 'categorized.json'}#values", f"{tmp_path / 'plain.json'}#values"),
        str(tmp_path / "categorized.json"),
        str(tmp_path / "plain.json"),
    )
    assert found == expected and expected["overall"]["requests"] > 0


def test_other_documents_are_not_responses() -> None:
    assert response_of(b'{"events": "a field of an ordinary log line", "level": "info"}\n') is None
    assert response_of(b'{"status": "error", "data": {}}') is None
    assert response_of(STRUCTLOG.read_bytes()) is None
    assert response_of(b'{"status":"success","data":{"resultType":"matrix","result":[]}}') is None


def test_lambda_platform_lines_are_skipped_and_counted_not_problems(tmp_path: Path) -> None:
    """A Lambda function's log group has the platform's own lines around the function's: they are no
    input problem (`--strict` must pass on a healthy function's logs), but they are counted."""
    lines = STRUCTLOG.read_text(encoding="utf-8").split("\n")[:-1]
    platform = [
        "START RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab Version: $LATEST",
        "END RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab",
        "REPORT RequestId: 8f5c3e2a-1b2c-4d5e-9f00-1234567890ab\tDuration: 2.39 ms\tBilled Duration: 3 ms",
    ]
    path = tmp_path / "lambda.json"
    path.write_text(cloudwatch_response([platform[0], *lines, *platform[1:]]), encoding="utf-8")
    doc = summary_doc_(path)
    kinds = {k["code"]: k for k in doc["input_quality"]["by_kind"]}
    assert doc["input_quality"]["problems"] == 0
    skipped = kinds["skipped-record"]
    assert skipped["informational"] and skipped["count"] == 3
    assert [e["line"] for e in skipped["examples"]] == [1, len(lines) + 2, len(lines) + 3]
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert doc["overall"] == summary_doc_(plain)["overall"]
