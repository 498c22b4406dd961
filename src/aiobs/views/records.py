"""A Summary as plain, nested records: the versioned JSON document, which every other renderer reads too."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import polars as pl

from aiobs.issues import INFORMATIONAL
from aiobs.metrics import CALL_TOKENS, PERCENTILES, TIME_KEY, TTFT_PERCENTILES, thin_percentiles
from aiobs.profiles import profile_requests, to_records
from aiobs.redact import Privacy, redact_values, user_pseudonym
from aiobs.summary import SCHEMA_VERSION, Summary
from aiobs.views.record_types import (
    FlagRecord,
    GroupRecord,
    LatencyRecord,
    MetricsRecord,
    SpendRecord,
    SummaryRecord,
    TokensRecord,
    TtftRecord,
)

METRIC_COLUMNS = frozenset(
    {
        "requests",
        "errors",
        "error_rate",
        "retries",
        "output_tokens_per_s",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "cost_usd",
        "priced_requests",
        "logged_cost_usd",
        "logged_cost_requests",
        "cost_per_1k_requests",
        "first_start",
        "last_start",
    }
)


METRIC_PREFIXES = ("latency_", "ttft_", "flag_", "feedback_")


def iso_time(value: datetime | None) -> str | None:
    """A time as the documents write it: ISO 8601, UTC as `Z` (null stays null)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _flags_record(row: dict[str, Any]) -> dict[str, FlagRecord]:
    """`flag_<name>_applicable/_flagged/_cost_usd` columns -> {name: {applicable, flagged, rate, cost_usd}}."""
    flags: dict[str, FlagRecord] = {}
    for column in row:
        if column.startswith("flag_") and column.endswith("_applicable"):
            name = column.removeprefix("flag_").removesuffix("_applicable")
            applicable, flagged = row[column], row[f"flag_{name}_flagged"]
            flags[name] = {
                "applicable": applicable,
                "flagged": flagged,
                "rate": flagged / applicable if applicable else None,
                "cost_usd": row[f"flag_{name}_cost_usd"] if flagged else 0.0,
            }
    return flags


def metrics_record(row: dict[str, Any]) -> MetricsRecord:
    """One row of `summarize_requests` as a nested record."""
    latency_n = int(row.get("latency_n") or 0)
    feedback_n = int(row.get("feedback_n") or 0)
    return {
        "requests": row["requests"],
        "errors": row["errors"],
        "error_rate": row["error_rate"],
        "retries": row["retries"],
        # The percentile names come from metrics.PERCENTILES, so these two are built, then typed.
        "latency_ms": cast(
            LatencyRecord,
            {
                **{name: row[f"latency_{name}"] for name, _ in PERCENTILES},
                "max": row["latency_max"],
                "mean": row["latency_mean"],
                "n": latency_n,
                "thin": thin_percentiles(latency_n),
            },
        ),
        "ttft_ms": cast(
            TtftRecord, {**{name: row[f"ttft_{name}"] for name, _ in TTFT_PERCENTILES}, "n": row["ttft_n"]}
        ),
        "output_tokens_per_s": row["output_tokens_per_s"],
        "tokens": TokensRecord(
            input=row["input_tokens"],
            output=row["output_tokens"],
            cached=row["cached_tokens"],
            reasoning=row["reasoning_tokens"],
        ),
        "cost_usd": row["cost_usd"],
        "cost_per_1k_requests": row["cost_per_1k_requests"],
        "priced_requests": row["priced_requests"],
        "logged_cost_usd": row["logged_cost_usd"],
        "logged_cost_requests": row.get("logged_cost_requests") or 0,
        "first_start": iso_time(row["first_start"]),
        "last_start": iso_time(row["last_start"]),
        "feedback": {
            "requests": feedback_n,
            "accepted": row.get("feedback_accepted") or 0,
            "acceptance_rate": (row.get("feedback_accepted") or 0) / feedback_n if feedback_n else None,
            "mean_score": row.get("feedback_mean"),
        },
        "flags": _flags_record(row),
    }


def group_records(frame: pl.DataFrame) -> list[GroupRecord]:
    keys = [c for c in frame.columns if c not in METRIC_COLUMNS and not c.startswith(METRIC_PREFIXES)]
    records: list[GroupRecord] = []
    for row in frame.iter_rows(named=True):
        key = {k: (iso_time(row[k]) if k == TIME_KEY else row[k]) for k in keys}
        records.append(GroupRecord(key=key, **metrics_record(row)))
    return records


def _privatise(record: SummaryRecord, privacy: Privacy) -> SummaryRecord:
    """Group keys and issue messages come from the logs: redact them (and hash user IDs) as asked."""
    rows = [r for rs in record["groups"].values() for r in rs] + [
        r for rs in record["quality"]["by"].values() for r in rs
    ]
    # (the record that holds a label, its name): group keys and the spend table's models, rewritten in place
    keys: list[tuple[Any, str]] = [(r["key"], k) for r in rows for k, v in r["key"].items() if isinstance(v, str)]
    keys += [(r, "model") for r in record["spend_by_model_per_call"] if isinstance(r["model"], str)]
    examples = [e for kind in record["input_quality"]["by_kind"] for e in kind["examples"]]
    if privacy.hash_users:  # before redaction: two users must not collapse into one "[email]"
        for key, name in keys:
            if name == "user" and key[name] is not None:
                key[name] = user_pseudonym(key[name])
        keys = [(key, name) for key, name in keys if name != "user"]
    if privacy.redact:
        for (key, name), value in zip(keys, redact_values([key[name] for key, name in keys]), strict=True):
            key[name] = value
        for example, message in zip(examples, redact_values([e["message"] for e in examples]), strict=True):
            example["message"] = message if message is not None else example["message"]
    return record


def _spend_record(row: dict[str, Any]) -> SpendRecord:
    return {
        "model": row["model"],
        "stages": row["stages"],
        "calls": row["calls"],
        "tokens": {c.removesuffix("_tokens"): row[c] for c in CALL_TOKENS},
        "cost_usd": row["cost_usd"],
        "unpriced_calls": row["unpriced_calls"],
    }


def summary_record(summary: Summary) -> SummaryRecord:
    overall = summary.overall.row(0, named=True)
    record: SummaryRecord = {
        "schema": f"aiobs.summary/{SCHEMA_VERSION}",
        "aiobs_version": summary.version,
        "generated_at": iso_time(summary.generated_at),
        "inputs": summary.inputs,
        "filters": {
            "since": iso_time(summary.since),
            "until": iso_time(summary.until),
            "every": summary.every,
            "where": summary.where,
        },
        "events": summary.events,
        "bytes_read": summary.bytes_read,
        "price_data": summary.price_data,
        "overall": metrics_record(overall),
        "groups": {name: group_records(frame) for name, frame in summary.groups.items()},
        "quality": {
            "flags": summary.flags,
            "by": {name: group_records(frame) for name, frame in summary.quality_groups.items()},
        },
        "unpriced_models": summary.unpriced.to_dicts(),
        "cost_check": summary.cost_check.to_dicts(),
        "errors_by_rule": summary.error_rules.to_dicts(),
        "spend_by_model_per_call": [_spend_record(row) for row in summary.spend.iter_rows(named=True)],
        "input_quality": {
            "problems": summary.issues.failing,
            "by_kind": [
                {
                    "code": code,
                    "title": title,
                    "count": count,
                    "informational": code in INFORMATIONAL,
                    "examples": [{"source": e.source, "line": e.line, "message": e.message} for e in examples],
                }
                for code, title, count, examples in summary.issues.rows()
            ],
        },
    }
    return _privatise(record, summary.privacy)


def document_record(summary: Summary) -> dict[str, Any]:
    """The whole `aiobs.summary/1` document: the summary record and its `profiles` (per-group
    distributions, what a --baseline needs; only the JSON document carries them)."""
    return {**summary_record(summary), "profiles": to_records(profile_requests(summary.requests))}
