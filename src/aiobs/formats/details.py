"""Fold detail records and start/end halves into the events they describe, once a bucket holds every event
of its requests.

An OTLP log record such as `gen_ai.user.message` or `gen_ai.choice` carries the messages of a span that
may sit in another line or file. Its adapter emits it as a row with `detail_of` = the span's id. Rows of
one trace land in the same bucket, so here, bucket by bucket, each span gets the text of its details
where it has none of its own: input messages joined in time order, choices likewise, the first finish
reason. Details whose span is not in the input are counted as `skipped-record`, never made into events.
"""

from __future__ import annotations

import polars as pl

from aiobs.issues import InputIssue, IssueLog

DETAIL_FIELDS = ("input_text", "output_text", "finish_reason")
_JOINED = ("input_text", "output_text")


def merge_details(events: pl.DataFrame, issues: IssueLog) -> pl.DataFrame:
    """`events` without detail rows, their text moved onto the events they describe."""
    if "detail_of" not in events.columns or events.get_column("detail_of").null_count() == events.height:
        return events
    is_detail = pl.col("detail_of").is_not_null()
    details = events.filter(is_detail)
    main = events.filter(is_detail.not_())
    keys = ["correlation_id", "detail_of"]
    folded = (
        details.sort("start", "line", nulls_last=True, maintain_order=True)
        .group_by(keys, maintain_order=True)
        .agg(
            *(pl.col(f).drop_nulls().str.join("\n").alias(f) for f in _JOINED),
            pl.col("finish_reason").drop_nulls().first(),
            pl.col("source").first(),
            pl.col("line").first(),
            pl.len().alias("_records"),
        )
        .with_columns(pl.when(pl.col(f) != "").then(pl.col(f)).alias(f) for f in _JOINED)
    )
    targets = main.select("correlation_id", pl.col("event_id").alias("detail_of")).drop_nulls().unique()
    unmatched = folded.join(targets, on=keys, how="anti")
    if not unmatched.is_empty():
        examples = [
            InputIssue(
                "skipped-record", source, line, f"log record of span {span} (trace {trace}): span not in the input"
            )
            for trace, span, source, line in unmatched.head(issues.keep)
            .select("correlation_id", "detail_of", "source", "line")
            .iter_rows()
        ]
        issues.add("skipped-record", int(unmatched.get_column("_records").sum()), examples)
    merged = main.join(
        folded.select(*keys, *DETAIL_FIELDS).rename(
            {"detail_of": "event_id", **{f: f"_detail_{f}" for f in DETAIL_FIELDS}}
        ),
        on=["correlation_id", "event_id"],
        how="left",
        maintain_order="left",
    )
    return merged.with_columns(pl.coalesce(f, f"_detail_{f}").alias(f) for f in DETAIL_FIELDS).drop(
        f"_detail_{f}" for f in DETAIL_FIELDS
    )


#: Columns an event's end record knows best (what came out, what it cost, how it failed).
_END_FIRST = ("output_text", "finish_reason", "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
              "reasoning_tokens", "logged_cost_usd", "error_type", "error_rule")  # fmt: skip


def merge_phases(events: pl.DataFrame) -> pl.DataFrame:
    """`events` with each start record and end record of one event (same correlation_id and event_id) made
    one event: it starts at the start record's time and lasts until the end record's; a value logged on
    both halves is taken from the end for outputs, tokens and errors, from the start for the rest.

    A start without its end (a run still going, or cut off) stays an event without a duration; an end
    without its start is a point at its time.
    """
    if "phase" not in events.columns or events.get_column("phase").null_count() == events.height:
        return events
    has_phase = pl.col("phase").is_not_null()
    halves = events.filter(has_phase)
    keys = ["correlation_id", "event_id"]
    is_end = pl.col("phase") == "end"
    rest = [c for c in events.columns if c not in (*keys, "phase", "start", "duration_ms", "is_error", "is_root")]
    merged = (
        halves.sort(is_end, "line", maintain_order=True)  # start records first
        .group_by(keys, maintain_order=True)
        .agg(
            _started=pl.col("start").filter(is_end.not_()).min(),
            _ended=pl.col("start").filter(is_end).max(),
            is_error=pl.col("is_error").any(),
            is_root=pl.col("is_root").any(),
            **{
                c: (pl.col(c).sort_by(is_end, descending=True) if c in _END_FIRST else pl.col(c)).drop_nulls().first()
                for c in rest
            },
        )
        .with_columns(
            start=pl.coalesce("_started", "_ended"),
            duration_ms=(pl.col("_ended") - pl.col("_started")).dt.total_microseconds() / 1000.0,
            phase=pl.lit(None, dtype=pl.String),
        )
        .select(events.columns)
    )
    return pl.concat([events.filter(has_phase.not_()), merged.cast(events.schema)])
