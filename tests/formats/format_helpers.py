"""Helpers for the format tests: read paths the way `aiobs summarize` does, up to the merged events.

Not a conftest.py: a second module named `conftest` would shadow tests/conftest.py for `from conftest import`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import polars as pl

from aiobs.formats.details import merge_details, merge_phases
from aiobs.formats.mapping import FieldMapping
from aiobs.ingest import ingest
from aiobs.issues import IssueLog
from aiobs.render.json_csv import render_json
from aiobs.sources.paths import expand_inputs
from aiobs.summary import summarize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def read_events(*paths: str | Path, input_format: str | None = None) -> tuple[pl.DataFrame, IssueLog]:
    """Canonical events of `paths` (details merged into their spans), sorted by source and line, and the issues."""
    issues = IssueLog(keep=20)
    ingested = ingest(expand_inputs([str(p) for p in paths]), FieldMapping(), issues=issues, input_format=input_format)
    try:
        frames = [
            merge_phases(merge_details(ingested.store.bucket(b).collect(), issues)) for b in range(ingested.store.n)
        ]
    finally:
        ingested.close()
    events = pl.concat(frames) if frames else pl.DataFrame()
    return events.sort("source", "line", "event_id", nulls_last=True), issues


def one(events: pl.DataFrame, **where: object) -> dict[str, object]:
    """The single event matching `where` (column=value), as a dict."""
    rows = events.filter(*(pl.col(k) == v for k, v in where.items()))
    assert rows.height == 1, f"{rows.height} events match {where}"
    return rows.row(0, named=True)


def summary_doc(path: Path, *dropped: str) -> dict[str, Any]:
    """The JSON summary of one path, without `generated_at` (and the `dropped` keys)."""
    doc: dict[str, Any] = orjson.loads(render_json(summarize(expand_inputs([str(path)]))))
    for key in ("generated_at", *dropped):
        doc.pop(key)
    return doc


def renamed(doc: Any, old: str, new: str) -> Any:
    """`doc` with every string equal to `old` replaced by `new`, at any depth."""
    if isinstance(doc, dict):
        return {k: renamed(v, old, new) for k, v in doc.items()}
    if isinstance(doc, list):
        return [renamed(v, old, new) for v in doc]
    return new if doc == old else doc
