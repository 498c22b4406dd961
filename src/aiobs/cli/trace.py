"""`aiobs trace`: one request (or several) rebuilt from its events, as a waterfall with its texts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import polars as pl
import typer

from aiobs.cli import options
from aiobs.cli.common import (
    check_output_target,
    fail_if_strict,
    read_logs,
    refuse_unwritten_suffix,
    stdout_console,
    terminal_text_for_file,
    user_errors,
    write_output,
)
from aiobs.errors import UsageError
from aiobs.outliers import OutlierQuery, select_outliers
from aiobs.pricing import price_events
from aiobs.redact import Privacy
from aiobs.render.otlp_out import render_trace_otlp
from aiobs.render.trace import render_trace_json, render_trace_terminal
from aiobs.summary import Summary
from aiobs.views.trace_records import trace_document, trace_view


class TraceFormat(StrEnum):
    terminal = "terminal"
    json = "json"
    otlp = "otlp"


def trace_command(
    paths: list[str] = options.PATHS,
    ids: list[str] = typer.Option(
        [], "--id", metavar="ID", help="Correlation ID of a request to show (repeat for several)."
    ),
    from_outliers: bool = typer.Option(False, "--from-outliers", help="Show the worst requests (see outliers)."),
    p: float = typer.Option(99.0, "--p", metavar="PCT", help="With --from-outliers: the percentile."),
    limit: int = typer.Option(3, "--limit", "-n", metavar="N", help="With --from-outliers: how many."),
    fmt: TraceFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="terminal (default), json (aiobs.trace/1) or otlp (OTLP/JSON traces); from --output's suffix if omitted.",
    ),
    output: Path | None = options.OUTPUT,
    json_output: bool = typer.Option(False, "--json", hidden=True, help="Deprecated: use --format json."),
    since: str | None = options.SINCE,
    until: str | None = options.UNTIL,
    field_map: list[str] = options.FIELD_MAP,
    prices: Path | None = options.PRICES,
    config: Path | None = options.CONFIG,
    no_redact: bool = options.NO_REDACT,
    hash_users: bool = options.HASH_USERS,
    strict: bool = options.STRICT,
    endpoint_url: str | None = options.ENDPOINT_URL,
    engine: str | None = options.ENGINE,
    ray_address: str | None = options.RAY_ADDRESS,
    where: list[str] = options.WHERE,
    input_format: str | None = options.INPUT_FORMAT,
    time_is: str | None = options.TIME_IS,
    time_format: str | None = options.TIME_FORMAT,
    timezone: str | None = options.TIMEZONE,
    http_error_from: int | None = options.HTTP_ERROR_FROM,
) -> None:
    """Show requests rebuilt from their events: a waterfall of the event tree, key figures, flags, full texts.

    \b
    Examples:
      aiobs trace logs/ --id 5ba91faf-7a02-4204-b7c1-bd874da5e709
      aiobs trace logs/ --from-outliers --limit 3
      aiobs trace logs/ --id ID --format otlp -o trace.json
    """
    with user_errors():
        if not ids and not from_outliers:
            raise UsageError("say which requests: --id ID (repeatable) or --from-outliers")
        if json_output and fmt not in (None, TraceFormat.json):
            raise UsageError(f"--json asks for JSON but --format asks for {fmt}: pass only --format")
        if output is not None:
            check_output_target(output)  # before the logs are read
        if fmt is None and not json_output:
            refuse_unwritten_suffix(output, "trace", {".json": "json"})
        suffix = TraceFormat.json if output is not None and output.suffix.lower() == ".json" else None
        chosen = fmt or (TraceFormat.json if json_output else suffix) or TraceFormat.terminal
        privacy = Privacy(redact=not no_redact, hash_users=hash_users)
        summary = read_logs(
            paths,
            field_map=field_map,
            prices=prices,
            config=config,
            since=since,
            until=until,
            endpoint_url=endpoint_url,
            engine=engine,
            ray_address=ray_address,
            where=where,
            input_format=input_format,
            time_is=time_is,
            time_format=time_format,
            timezone=timezone,
            http_error_from=http_error_from,
            keep_events=True,
            privacy=privacy,
        )
        wanted = list(dict.fromkeys(ids))
        if from_outliers:
            worst = select_outliers(summary.requests, OutlierQuery(p=p, limit=limit), flags=summary.flags)
            wanted += [cid for cid in worst["correlation_id"].to_list() if cid not in wanted]
        requests = summary.requests.filter(pl.col("correlation_id").is_in(wanted)).collect()
        missing = [cid for cid in wanted if cid not in set(requests["correlation_id"].to_list())]
        if missing:
            named = ", ".join(repr(m) for m in missing[:3])
            raise UsageError(f"no request with ID {named} in the input{_starting(summary, missing[0])}")
        events = price_events(summary.events_of(wanted)).collect()
        views = [
            trace_view(
                requests.filter(pl.col("correlation_id") == cid),
                events.filter(pl.col("correlation_id") == cid),
                flags=summary.flags,
                privacy=privacy,
            )
            for cid in wanted
        ]
        if chosen is TraceFormat.json:
            write_output(output, render_trace_json(trace_document(views)))
        elif chosen is TraceFormat.otlp:
            write_output(output, render_trace_otlp([(view.request, view.events) for view in views]))
        elif output is not None and str(output) != "-":
            document = trace_document(views)
            draw = lambda console: render_trace_terminal(document, console, redacted=privacy.redact)  # noqa: E731
            write_output(output, terminal_text_for_file(draw))
        else:
            render_trace_terminal(trace_document(views), stdout_console(), redacted=privacy.redact)
        fail_if_strict(summary, strict)


def _starting(summary: Summary, prefix: str) -> str:
    """`; IDs that start with it: 4caf4b72-...` for an ID given in part (as tables show IDs cut short)."""
    column = pl.col("correlation_id")
    found = summary.requests.filter(column.str.starts_with(prefix)).select(column).head(3).collect()
    return f"; IDs that start with it: {', '.join(found['correlation_id'])}" if found.height else ""
