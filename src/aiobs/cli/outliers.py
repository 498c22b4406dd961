"""`aiobs outliers`: the worst requests (by latency, TTFT, cost or tokens) and where their time went."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

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
from aiobs.outliers import OutlierQuery, select_outliers, tail_attribution
from aiobs.redact import Privacy
from aiobs.render.eval_datasets import EVAL_FORMATS, render_eval_dataset
from aiobs.render.outliers import (
    render_outliers_csv,
    render_outliers_json,
    render_outliers_markdown,
    render_outliers_terminal,
)
from aiobs.views.outlier_records import OutlierReport, eval_requests, outliers_record
from aiobs.views.record_types import OutliersRecord


class OutlierFormat(StrEnum):
    terminal = "terminal"
    json = "json"
    md = "md"
    csv = "csv"
    deepeval = "deepeval"
    ragas = "ragas"
    langsmith = "langsmith"


class Metric(StrEnum):
    latency = "latency"
    ttft = "ttft"
    cost = "cost"
    tokens = "tokens"


_SUFFIX_FORMATS = {".json": OutlierFormat.json, ".md": OutlierFormat.md, ".csv": OutlierFormat.csv}


def build_outlier_report(summary_paths: list[str], query: OutlierQuery, **read: object) -> OutlierReport:
    summary = read_logs(summary_paths, **read)  # type: ignore[arg-type]
    outliers = select_outliers(summary.requests, query, flags=summary.flags)
    return OutlierReport(query, outliers, tail_attribution(summary.requests, query), summary)


def outliers_command(
    paths: list[str] = options.PATHS,
    p: float = typer.Option(
        99.0, "--p", metavar="PCT", help="Percentile: requests strictly above it are outliers (0-99.99)."
    ),
    metric: Metric = typer.Option(Metric.latency, "--by", help="Rank by latency, ttft, cost or tokens."),
    flag: str | None = typer.Option(
        None, "--flag", metavar="NAME", help="Only requests that raised this quality flag."
    ),
    per: str | None = typer.Option(
        None, "--per", metavar="KEY", help="Percentile within each model, route, provider or user."
    ),
    limit: int = typer.Option(20, "--limit", "-n", metavar="N", help="At most this many (per group with --per)."),
    since: str | None = options.SINCE,
    until: str | None = options.UNTIL,
    fmt: OutlierFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="terminal (default), json, md, csv; or an eval dataset of these requests: deepeval, ragas, langsmith.",
    ),
    output: Path | None = options.OUTPUT,
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
    """The worst requests, each rebuilt from its events: stage breakdown, tokens, cost, flags, snippets.

    Outliers lie strictly above the percentile (linear interpolation) of the metric; the tail attribution
    compares each stage's share of time in them with its share over all requests.

    \b
    Examples:
      aiobs outliers logs/ --p 99 --limit 10
      aiobs outliers logs/ --by cost --per model
      aiobs outliers logs/ --flag refusal -f ragas -o refusals.jsonl
    """
    with user_errors():
        query = OutlierQuery(p=p, metric=metric.value, per=per, flag=flag, limit=limit)
        if output is not None:
            check_output_target(output)  # before the logs are read
        if fmt is None:
            refuse_unwritten_suffix(output, "outliers", {k: v.value for k, v in _SUFFIX_FORMATS.items()})
        chosen = fmt or (_SUFFIX_FORMATS.get(output.suffix.lower()) if output else None) or OutlierFormat.terminal
        report = build_outlier_report(
            paths,
            query,
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
            privacy=Privacy(redact=not no_redact, hash_users=hash_users),
        )
        if chosen.value in EVAL_FORMATS:
            text: str | None = render_eval_dataset(eval_requests(report), chosen.value)
        else:
            text = _write(outliers_record(report), chosen, output)
        if text is not None:
            write_output(output, text)
        fail_if_strict(report.summary, strict)


def _write(record: OutliersRecord, chosen: OutlierFormat, output: Path | None) -> str | None:
    """The record in the format chosen; None once printed to the terminal itself."""
    if chosen is OutlierFormat.json:
        return render_outliers_json(record)
    if chosen is OutlierFormat.md:
        return render_outliers_markdown(record)
    if chosen is OutlierFormat.csv:
        return render_outliers_csv(record)
    if output is not None and str(output) != "-":
        return terminal_text_for_file(lambda console: render_outliers_terminal(record, console))
    render_outliers_terminal(record, stdout_console())
    return None
