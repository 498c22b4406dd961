"""Writers of a Summary's document: JSON (the versioned document, as records.py builds it) and CSV (one row
per overall or group line)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson

from aiobs.escape import csv_cell, json_text
from aiobs.summary import Summary
from aiobs.views.records import document_record, summary_record


def render_json(summary: Summary) -> str:
    """The summary document (aiobs.views.records.document_record), indented, text escaped as JSON."""
    record = document_record(summary)
    return json_text(orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()) + "\n"


def summary_json(summary: Summary) -> dict[str, Any]:
    """The document `--format json` writes, as Python values (docs/json-output.md)."""
    document: dict[str, Any] = orjson.loads(render_json(summary))
    return document


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = " ".join(map(str, value))
        else:
            flat[name] = value
    return flat


def render_csv(summary: Summary) -> str:
    """Columns: grouping, key, then every metric flattened (latency_ms.p95, tokens.input, ...); the per-call
    spend by model last (grouping `model, per call`: calls, tokens.*, cost_usd, unpriced_calls)."""
    record = summary_record(summary)
    rows = [{"grouping": "overall", "key": "", **_flatten(record["overall"])}]
    for name, records in record["groups"].items():
        for r in records:
            key = ";".join(f"{k}={v}" for k, v in r["key"].items())
            rows.append({"grouping": name, "key": key, **_flatten({k: v for k, v in r.items() if k != "key"})})
    for s in record["spend_by_model_per_call"]:  # every call on its model: a grouping of its own
        spend = {
            "calls": s["calls"],
            "tokens": s["tokens"],
            "cost_usd": s["cost_usd"],
            "unpriced_calls": s["unpriced_calls"],
        }
        rows.append({"grouping": "model, per call", "key": f"model={s['model']}", **_flatten(spend)})
    fields = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return out.getvalue()
