"""Fold detail records into the events they describe, once a bucket holds every event of its requests.

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
