"""The cost tables every medium shows: spend by model per call, models aiobs could not price, and cost
logged vs priced.

Each takes plain rows (the summary record's `spend_by_model_per_call`, `unpriced_models` and
`cost_check`, or the report's cleaned copies of them): privacy and the report's length cap are applied
before, once, where the rows are made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiobs.views.tables import ColumnSpec, TableSpec, table

UNPRICED_TITLE = "Models aiobs could not price (cost not counted)"
COST_CHECK_TITLE = "Cost logged by the app vs priced by aiobs"
SPEND_TITLE = "Spend by model, per call"
#: What the spend table counts, next to the summary's `--by model` table (each request once).
SPEND_NOTE = (
    "Every call counts, on the model that made it (embeddings and rerankers included); "
    "--by model counts each request once, on the model that answered it."
)
#: The same, in the report, whose cost chart and model table count each request once.
REPORT_SPEND_NOTE = (
    "Every call counts, on the model that made it (embeddings and rerankers included); "
    "the chart counts each request once, on the model that answered it."
)


def model_with_stages(model: str | None, stages: Sequence[str | None]) -> str | None:
    """`text-embedding-3-small (embedding)`: the stages a model served, unless it only answered (llm).

    A call with no model stays no value (None) when it only answered, and is `— (embedding)` otherwise."""
    named = [s for s in stages if s is not None]
    if named == ["llm"] or not named:
        return model
    return f"{'—' if model is None else model} ({', '.join(named)})"


def spend_table(rows: Sequence[Mapping[str, Any]], *, note: str = SPEND_NOTE) -> TableSpec:
    """Per model, every call it made (embeddings and rerankers included): calls, tokens, cost, unpriced calls.

    `rows` are `metrics.spend_by_model` rows (`input_tokens`, `output_tokens`); the model's stages are
    named beside it, so an embedding model reads as one. Most costly first, as the rows come.
    """
    columns = (
        ColumnSpec("model", "label"),
        ColumnSpec("calls", "count"),
        ColumnSpec("tokens in", "count"),
        ColumnSpec("tokens out", "count"),
        ColumnSpec("cost", "usd"),
        ColumnSpec("unpriced calls", "count"),
    )
    cells = [
        [
            model_with_stages(r.get("model"), r.get("stages") or []),
            r["calls"],
            r.get("input_tokens"),
            r.get("output_tokens"),
            r.get("cost_usd"),
            r["unpriced_calls"],
        ]
        for r in rows
    ]
    # No drop_order: at 80 columns the terminal folds the model names rather than leave a column out.
    return table(SPEND_TITLE, columns, cells, notes=[note, *_tokenless_notes(rows)])


def _tokenless_notes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A model whose calls logged no tokens has no cost, and no unpriced calls either: say so rather than
    leave a dash (a reranker billed per search, say, is not in the totals)."""
    notes = []
    for r in rows:
        if r.get("cost_usd") is None and r.get("input_tokens") is None and r.get("output_tokens") is None:
            name = model_with_stages(r.get("model"), r.get("stages") or []) or "—"
            notes.append(
                f"{name}: {r['calls']:,} calls logged no tokens, so aiobs could not price them; "
                "their cost is not in the totals."
            )
    return notes


def summary_spend(record: Mapping[str, Any]) -> TableSpec:
    """The spend table of a summary record (`aiobs.summary/1`), whose rows keep their tokens under `tokens`."""
    rows = [
        {**r, "input_tokens": r["tokens"].get("input"), "output_tokens": r["tokens"].get("output")}
        for r in record["spend_by_model_per_call"]
    ]
    return spend_table(rows)


def unpriced_table(rows: Sequence[Mapping[str, Any]]) -> TableSpec:
    """Models whose events logged tokens but have no price: their cost is missing from every total."""
    columns = (
        ColumnSpec("model", "label"),
        ColumnSpec("provider", "label"),
        ColumnSpec("events", "count"),
        ColumnSpec("tokens in", "count"),
        ColumnSpec("tokens out", "count"),
    )
    cells = [
        [r.get("model"), r.get("provider"), r.get("events"), r.get("input_tokens"), r.get("output_tokens")]
        for r in rows
    ]
    return table(UNPRICED_TITLE, columns, cells)


def cost_check_table(rows: Sequence[Mapping[str, Any]], *, requests: int, logged_requests: int) -> TableSpec:
    """Per model, the cost the application logged next to the cost aiobs priced, on the requests that have both.

    The note says how many requests that is (`requests` in all, `logged_requests` with a logged cost):
    a difference over 5 requests of 2,600 says less than one over all of them.
    """
    columns = (
        ColumnSpec("model", "label"),
        ColumnSpec("requests", "count"),
        ColumnSpec("logged", "usd"),
        ColumnSpec("priced", "usd"),
        ColumnSpec("difference", "usd"),
    )
    cells = [
        [r.get("model"), r["requests"], r["logged_cost_usd"], r["priced_cost_usd"], r["difference_usd"]] for r in rows
    ]
    return table(COST_CHECK_TITLE, columns, cells, notes=[coverage_note(rows, requests, logged_requests)])


def coverage_note(rows: Sequence[Mapping[str, Any]], requests: int, logged_requests: int) -> str:
    """`Compared on the 788 of 2,600 requests with both a logged and a priced cost.` (fits 80 columns)"""
    compared = sum(int(r["requests"]) for r in rows)
    note = f"Compared on the {compared:,} of {requests:,} requests with both a logged and a priced cost"
    unpriced = logged_requests - compared
    if unpriced > 0:
        note += f"; {unpriced:,} more logged a cost aiobs could not price"
    return note + "."


def summary_cost_check(record: Mapping[str, Any]) -> TableSpec:
    """The cost check of a summary record (`aiobs.summary/1`), with its coverage from the overall figures."""
    overall = record["overall"]
    return cost_check_table(
        record["cost_check"], requests=overall["requests"], logged_requests=overall["logged_cost_requests"]
    )
