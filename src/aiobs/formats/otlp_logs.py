"""OTLP GenAI log records -> detail rows of their span.

GenAI log records (`gen_ai.user.message`, `gen_ai.choice`, `gen_ai.client.inference.operation.details`)
carry the messages of a span in another line or file. They become *detail* rows (`detail_of` = the
span's id) that `aiobs.formats.details.merge_details` folds into their span once every bucket holds
all events of its traces. Other log records are counted as `skipped-record`.
"""

from __future__ import annotations

import polars as pl

from aiobs.formats.adapter_exprs import ENGINE, finish, from_epoch_nanos, nanos, nonempty
from aiobs.formats.otlp_frames import explode_path, pivot, scalar_text
from aiobs.formats.text import message_text, rendered_anyvalue_text

#: Log record event names whose body is an input message, and the one whose body is an output choice.
INPUT_MESSAGE_EVENTS = (
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
)
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
MESSAGE_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")
LOG_KEYS = ("event.name", *MESSAGE_KEYS, "gen_ai.response.finish_reasons")
#: Keys of a log body whose string is message text.
TEXT_KEYS = ("content", "text")


def _body_text(records: pl.DataFrame) -> pl.DataFrame:
    """Per record (`_row`): the `content`/`text` strings of its body, one and two key/value levels deep,
    joined in order, and the body's `finish_reason`."""
    pairs = (
        records.select("_row", pl.col("body").struct.field("kvlistValue").struct.field("values").alias("_pair"))
        .explode("_pair")
        .filter(pl.col("_pair").is_not_null())
        .with_row_index("_order")
        .unnest("_pair")
    )
    value = pl.col("value")
    top = pairs.select(
        "_order", "_row", "key", pl.lit(0).alias("_depth"), value.struct.field("stringValue").alias("text")
    )
    inner = (
        pairs.select("_order", "_row", value.struct.field("kvlistValue").struct.field("values").alias("_pair"))
        .explode("_pair")
        .filter(pl.col("_pair").is_not_null())
        .unnest("_pair")
        .select("_order", "_row", "key", pl.lit(1).alias("_depth"), value.struct.field("stringValue").alias("text"))
    )
    found = pl.concat([top, inner]).sort("_order", "_depth", maintain_order=True)
    is_text = pl.col("key").is_in(TEXT_KEYS)
    return found.group_by("_row", maintain_order=True).agg(
        _body_text=pl.col("text").filter(is_text & pl.col("text").is_not_null()).str.join("\n"),
        _body_finish_reason=pl.col("text").filter((pl.col("key") == "finish_reason") & (pl.col("_depth") == 0)).first(),
    )


def _messages_text(value: pl.Expr) -> pl.Expr:
    """A message attribute of a log record: a JSON string (the usual case) or a structured AnyValue tree."""
    items = value.struct.field("arrayValue").struct.field("values")
    structured = items.list.eval(rendered_anyvalue_text(pl.element().struct.field("kvlistValue"))).list.drop_nulls()
    joined = structured.list.join("\n")
    return pl.coalesce(
        message_text(value.struct.field("stringValue")),
        pl.when(joined != "").then(joined),
        rendered_anyvalue_text(value.struct.field("kvlistValue")),
    )


def log_details(lines: pl.LazyFrame) -> pl.LazyFrame:
    """GenAI log records -> detail rows of their span; other records are counted as skipped."""
    logs = explode_path(lines, "resourceLogs", "scopeLogs", "logRecords").with_row_index("_row")
    records = logs.collect(engine=ENGINE)
    attrs = (
        records.select("_row", "attributes")
        .explode("attributes")
        .filter(pl.col("attributes").is_not_null())
        .unnest("attributes")
        .filter(pl.col("key").is_in(LOG_KEYS))
    )
    value = pl.col("value")
    attrs = attrs.select(
        "_row",
        "key",
        value=pl.when(pl.col("key").is_in(MESSAGE_KEYS)).then(_messages_text(value)).otherwise(scalar_text(value)),
    )
    joined = (
        records.drop("attributes")
        .join(pivot(attrs, LOG_KEYS), on="_row", how="left", maintain_order="left")
        .join(_body_text(records), on="_row", how="left", maintain_order="left")
        .lazy()
    )

    name = pl.coalesce(nonempty(pl.col("eventName")), nonempty(pl.col("event.name")))
    trace = nonempty(pl.col("traceId")).str.to_lowercase()
    span = nonempty(pl.col("spanId")).str.to_lowercase()
    body_text = pl.coalesce(
        pl.when(pl.col("_body_text") != "").then(pl.col("_body_text")),
        message_text(pl.col("body").struct.field("stringValue")),
    )
    is_input = name.is_in(INPUT_MESSAGE_EVENTS)
    is_choice = name == CHOICE_EVENT
    is_details = name == DETAILS_EVENT
    genai = (is_input | is_choice | is_details).fill_null(False)
    unattached = trace.is_not_null() & span.is_null()
    time_raw = pl.coalesce(nonempty(pl.col("timeUnixNano")), nonempty(pl.col("observedTimeUnixNano")))
    return joined.select(
        "source",
        "line",
        correlation_id=trace,
        detail_of=span,
        event=name,
        stage=pl.lit("other"),
        is_root=pl.lit(False),
        is_error=pl.lit(False),
        start=from_epoch_nanos(nanos(time_raw)),
        input_text=pl.when(is_input).then(body_text).when(is_details).then(pl.col("gen_ai.input.messages")),
        output_text=pl.when(is_choice).then(body_text).when(is_details).then(pl.col("gen_ai.output.messages")),
        finish_reason=pl.when(is_choice)
        .then(pl.col("_body_finish_reason"))
        .when(is_details)
        .then(pl.col("gen_ai.response.finish_reasons")),
        _drop=pl.when(genai.not_() | unattached).then(pl.lit("skipped-record")),
        _drop_message=pl.when(genai.not_())
        .then(pl.lit("OTLP log record is not a GenAI event: ") + name.fill_null("(no event name)"))
        .when(unattached)
        .then(pl.lit("GenAI log record has no spanId, so it cannot be tied to its span")),
    ).pipe(finish)
