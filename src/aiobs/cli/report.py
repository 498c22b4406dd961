"""`aiobs report`: one self-contained HTML (or Markdown) report, written atomically."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path

import typer

from aiobs.cli import options
from aiobs.cli.common import (
    fail_if_strict,
    read_logs,
    record_in_history,
    store_warnings,
    user_errors,
    write_atomically,
)
from aiobs.errors import UsageError
from aiobs.history_store import check_store_target
from aiobs.redact import Privacy


class ReportFormat(StrEnum):
    html = "html"
    md = "md"


#: --days without a value: a week of trends.
DEFAULT_DAYS = 7
_SUFFIX_FORMATS = {".html": ReportFormat.html, ".htm": ReportFormat.html, ".md": ReportFormat.md}


def image_dir_for(output: Path) -> Path:
    """Where the Markdown report's chart images go: `report-charts/` beside `report.md`."""
    return output.with_name(f"{output.stem}-charts")


def _command_line() -> str:
    return shlex.join([Path(sys.argv[0]).name or "aiobs", *sys.argv[1:]])


def report_command(
    paths: list[str] = options.PATHS,
    output: str = typer.Option(
        ..., "--output", "-o", metavar="FILE", help="Report file (.html or .md), or - for standard output."
    ),
    fmt: ReportFormat | None = typer.Option(
        None, "--format", "-f", help="html or md; from --output's suffix if omitted."
    ),
    every: str | None = typer.Option(
        None, "--every", metavar="DURATION", help="Time bucket of the over-time charts (default: automatic)."
    ),
    since: str | None = options.SINCE,
    until: str | None = options.UNTIL,
    p: float = typer.Option(
        99.0, "--p", min=50.0, max=99.99, metavar="PCT", help="Percentile above which a request is an outlier."
    ),
    outliers: int = typer.Option(
        200,
        "--outliers",
        min=0,
        max=5000,
        metavar="N",
        help="Most outliers listed, with timelines (0: none, only counted).",
    ),
    no_redact: bool = options.NO_REDACT,
    hash_users: bool = options.HASH_USERS,
    title: str = typer.Option("aiobs report", "--title", metavar="TEXT", help="Heading of the report."),
    field_map: list[str] = options.FIELD_MAP,
    prices: Path | None = options.PRICES,
    config: Path | None = options.CONFIG,
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when the input had any problem (report still written)."
    ),
    endpoint_url: str | None = options.ENDPOINT_URL,
    engine: str | None = options.ENGINE,
    ray_address: str | None = options.RAY_ADDRESS,
    where: list[str] = options.WHERE,
    input_format: str | None = options.INPUT_FORMAT,
    time_is: str | None = options.TIME_IS,
    time_format: str | None = options.TIME_FORMAT,
    timezone: str | None = options.TIMEZONE,
    http_error_from: int | None = options.HTTP_ERROR_FROM,
    history: Path | None = typer.Option(
        None,
        "--history",
        metavar="DIR",
        help="Record this run in a history store folder, and add its Trends and Anomalies sections (docs/ci.md).",
    ),
    days: int | None = typer.Option(
        None,
        "--days",
        min=1,
        max=3660,
        metavar="N",
        help="With --history: trends and anomalies of the last N days [default: 7].",
    ),
) -> None:
    """Write a self-contained report: headline figures, latency, stages, cost, flags, outliers, input quality.

    HTML works offline (inline charts, no network, strict Content-Security-Policy); Markdown suits
    $GITHUB_STEP_SUMMARY and pull requests, with chart images written to NAME-charts/ beside it.
    --history DIR appends the run's hourly aggregates to a Parquet store (the same logs twice count once)
    and adds the trend per day over the last --days days and the hours whose metrics jumped.
    Exit codes: 0 ok; 1 input problems with --strict; 2 bad arguments, unreadable input or no usable events.

    \b
    Examples:
      aiobs report logs/ -o report.html
      aiobs report logs/ --since 24h --history store/ -o nightly.html
      aiobs report logs/ -o summary.md   # for $GITHUB_STEP_SUMMARY
    """
    warn = store_warnings()  # a damaged history file: named on stderr, never a failed run
    with user_errors():
        # Imported here: Altair and vl-convert take half a second to import, which other commands need not pay.
        from aiobs.render.charts import render_charts
        from aiobs.render.html import render_html
        from aiobs.render.report_markdown import IMAGE_CHARTS, render_report_markdown
        from aiobs.report.model import build_report
        from aiobs.report.trends import read_history

        target = None if output == "-" else Path(output)
        chosen = fmt or (_SUFFIX_FORMATS.get(target.suffix.lower()) if target else ReportFormat.md)
        if chosen is None:
            raise UsageError(f"cannot tell the report format from '{output}': name it .html or .md, or pass --format")
        if target is not None and not target.expanduser().parent.is_dir():
            raise UsageError(f"cannot write {target}: folder {target.parent} does not exist")
        if days is not None and history is None:
            raise UsageError("--days needs --history DIR: the trends come from a history store")
        if history is not None:
            check_store_target(history, warn=warn)  # before reading any log
        summary = read_logs(
            paths,
            field_map=field_map,
            prices=prices,
            config=config,
            since=since,
            until=until,
            every=every,
            endpoint_url=endpoint_url,
            engine=engine,
            ray_address=ray_address,
            where=where,
            input_format=input_format,
            time_is=time_is,
            time_format=time_format,
            timezone=timezone,
            http_error_from=http_error_from,
            keep_events=bool(outliers),  # the outliers' timelines are drawn from their events
            privacy=Privacy(redact=not no_redact, hash_users=hash_users),
        )
        trends = None
        if history is not None:
            recorded = record_in_history(history, summary, warn=warn)
            trends = read_history(history, days=days or DEFAULT_DAYS, recorded=recorded, warn=warn)
        report = build_report(
            summary,
            p=p,
            outlier_limit=outliers,
            redact_pii=not no_redact,
            command_line=_command_line(),
            title=title,
            history=trends,
        )
        beside = ""
        if chosen is ReportFormat.html:
            text = render_html(report, charts=render_charts(report))
        else:
            images_at = image_dir_for(target) if target is not None else None
            charts = render_charts(report, only=IMAGE_CHARTS) if images_at is not None else {}
            md = render_report_markdown(report, charts=charts, image_dir=images_at.name if images_at else None)
            if images_at is not None:
                images_at.mkdir(exist_ok=True)
                for name, svg in md.images.items():
                    write_atomically(images_at / name, svg)
                beside = f", and {len(md.images)} chart image(s) in {images_at}/" if md.images else ""
            text = md.text
        if target is None:
            sys.stdout.write(text)
        else:
            write_atomically(target, text)
            typer.echo(f"wrote {target} ({len(text.encode()) / 1e3:,.0f} kB){beside}", err=True)
        fail_if_strict(summary, strict)
