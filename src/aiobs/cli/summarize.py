"""`aiobs summarize`: requests, errors, latency, tokens, cost and input quality."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from aiobs.cli import options
from aiobs.cli.common import (
    check_output_target,
    fail_if_strict,
    read_logs,
    record_in_history,
    refuse_unwritten_suffix,
    stdout_console,
    store_warnings,
    terminal_text_for_file,
    user_errors,
    write_output,
)
from aiobs.errors import UsageError
from aiobs.history_store import check_store_target
from aiobs.redact import Privacy
from aiobs.render.json_csv import render_csv, render_json
from aiobs.render.markdown import render_markdown
from aiobs.render.openmetrics import check_push_url, push_metrics, render_openmetrics, render_prometheus
from aiobs.render.requests_export import check_export_target, export_requests
from aiobs.render.terminal import render_terminal
from aiobs.summary import Summary


class OutputFormat(StrEnum):
    terminal = "terminal"
    json = "json"
    md = "md"
    csv = "csv"
    prometheus = "prometheus"
    openmetrics = "openmetrics"


_SUFFIX_FORMATS = {
    ".json": OutputFormat.json,
    ".md": OutputFormat.md,
    ".csv": OutputFormat.csv,
    ".prom": OutputFormat.prometheus,
    ".om": OutputFormat.openmetrics,
}


def _render(summary: Summary, fmt: OutputFormat, *, to_file: bool) -> str | None:
    if fmt is OutputFormat.json:
        return render_json(summary)
    if fmt is OutputFormat.md:
        return render_markdown(summary)
    if fmt is OutputFormat.csv:
        return render_csv(summary)
    if fmt is OutputFormat.prometheus:
        return render_prometheus(summary)
    if fmt is OutputFormat.openmetrics:
        return render_openmetrics(summary)
    if to_file:
        return terminal_text_for_file(lambda console: render_terminal(summary, console))
    render_terminal(summary, stdout_console())
    return None


def summarize_command(
    paths: list[str] = options.PATHS,
    by: list[str] = typer.Option(
        [],
        "--by",
        "-b",
        metavar="KEY",
        help="Group by model, route, stage, provider, user, time (with --every), finish_reason, error_rule, "
        "latency_from or response_format (repeat for more tables; model,route for pairs).",
    ),
    every: str | None = typer.Option(
        None, "--every", metavar="DURATION", help="Also show time buckets, e.g. 15m, 1h, 1d."
    ),
    top: int | None = typer.Option(
        None, "--top", metavar="N", help="Per --by table, the N busiest groups; the rest counted together as other."
    ),
    since: str | None = options.SINCE,
    until: str | None = options.UNTIL,
    fmt: OutputFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="terminal (default), json, md, csv, prometheus (.prom) or openmetrics; from --output's suffix if omitted.",
    ),
    output: Path | None = options.OUTPUT,
    field_map: list[str] = options.FIELD_MAP,
    prices: Path | None = options.PRICES,
    config: Path | None = options.CONFIG,
    flags: bool = typer.Option(True, "--flags/--no-flags", help="Compute the quality flags (default) or skip them."),
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
    history: Path | None = options.HISTORY,
    export: Path | None = typer.Option(
        None,
        "--export",
        metavar="FILE",
        help="Also write the request table, a row per request, to FILE (.parquet or .csv; docs/schema.md).",
    ),
    push: str | None = typer.Option(
        None,
        "--push",
        metavar="URL",
        help="Also push the metrics to this Prometheus Pushgateway, as job aiobs (docs/prometheus.md).",
    ),
) -> None:
    """Summarize AI application logs: requests, error rate, latency percentiles, tokens, cost, quality, input quality.

    Exit codes: 0 ok; 1 input problems with --strict; 2 bad arguments, unreadable input or no usable events
    (or a Pushgateway that refused the metrics).

    \b
    Examples:
      aiobs summarize logs/ --by model --by route
      aiobs summarize 'logs/*.jsonl.gz' --since 24h --where route=/chat -f md
      aiobs summarize logs/ --by model,time --every 1d --top 5
    """
    warn = store_warnings()  # a damaged history file: named on stderr, never a failed run
    with user_errors():
        if output is not None:
            check_output_target(output)  # before the logs are read
        if push is not None:
            check_push_url(push)
        if export is not None:
            check_export_target(export)
            if output is not None and output.expanduser().absolute() == export.expanduser().absolute():
                raise UsageError(f"--output and --export both name {output}: give each its own file")
        if fmt is None:
            refuse_unwritten_suffix(output, "summarize", {k: v.value for k, v in _SUFFIX_FORMATS.items()})
        chosen = fmt or (_SUFFIX_FORMATS.get(output.suffix.lower()) if output else None) or OutputFormat.terminal
        if history is not None:
            check_store_target(history, warn=warn)
        summary = read_logs(
            paths,
            field_map=field_map,
            prices=prices,
            config=config,
            since=since,
            until=until,
            by=by,
            top=top,
            every=every,
            flags=flags,
            endpoint_url=endpoint_url,
            engine=engine,
            ray_address=ray_address,
            where=where,
            input_format=input_format,
            time_is=time_is,
            time_format=time_format,
            timezone=timezone,
            http_error_from=http_error_from,
            keep_texts=False,  # every output of summarize is aggregates
            privacy=Privacy(redact=not no_redact, hash_users=hash_users),
        )
        text = _render(summary, chosen, to_file=output is not None and str(output) != "-")
        if text is not None:
            write_output(output, text)
        if history is not None:
            record_in_history(history, summary, warn=warn)
        if export is not None:
            export_requests(summary.requests, export)
        if push is not None:
            push_metrics(push, summary)
        fail_if_strict(summary, strict)
