"""`aiobs report`: one self-contained HTML (or Markdown) report, written atomically."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path

import typer

from aiobs.cli.common import ExitCode, progress_bar, user_errors, write_atomically
from aiobs.config import load_config
from aiobs.errors import UsageError
from aiobs.formats.mapping import FieldMapping, parse_map_options
from aiobs.pricing import load_price_book
from aiobs.sources.paths import expand_inputs
from aiobs.summary import parse_time_bound, summarize


class ReportFormat(StrEnum):
    html = "html"
    md = "md"


_SUFFIX_FORMATS = {".html": ReportFormat.html, ".htm": ReportFormat.html, ".md": ReportFormat.md}


def image_dir_for(output: Path) -> Path:
    """Where the Markdown report's chart images go: `report-charts/` beside `report.md`."""
    return output.with_name(f"{output.stem}-charts")


def _command_line() -> str:
    return shlex.join([Path(sys.argv[0]).name or "aiobs", *sys.argv[1:]])


def report_command(
    paths: list[str] = typer.Argument(..., help="Log files, folders, globs (quote them), or - for stdin."),
    output: str = typer.Option(..., "--output", "-o", help="Report file (.html or .md), or - for standard output."),
    fmt: ReportFormat | None = typer.Option(
        None, "--format", "-f", help="html or md; from --output's suffix if omitted."
    ),
    every: str | None = typer.Option(None, "--every", help="Time bucket of the over-time charts (default: automatic)."),
    since: str | None = typer.Option(None, "--since", help="Only requests starting at or after: ISO time or 24h/7d."),
    until: str | None = typer.Option(None, "--until", help="Only requests starting before: ISO time or 24h/7d."),
    p: float = typer.Option(99.0, "--p", min=50.0, max=99.99, help="Percentile above which a request is an outlier."),
    outliers: int = typer.Option(200, "--outliers", min=0, max=5000, help="Most outliers listed, with timelines."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show texts as logged (PII is redacted by default)."),
    title: str = typer.Option("aiobs report", "--title", help="Heading of the report."),
    field_map: list[str] = typer.Option(
        [], "--map", "-m", help="Map a canonical field to your field: correlation_id=meta.rid, duration_ms=took:s."
    ),
    prices: Path | None = typer.Option(None, "--prices", help="TOML/JSON file with extra or overriding prices."),
    config: Path | None = typer.Option(None, "--config", help="Config file (default: ./aiobs.toml or pyproject)."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when the input had any problem (report still written)."
    ),
) -> None:
    """Write a self-contained report: headline figures, latency, stages, cost, flags, outliers, input quality.

    HTML works offline (inline charts, no network, strict Content-Security-Policy); Markdown suits
    $GITHUB_STEP_SUMMARY and pull requests, with chart images written to NAME-charts/ beside it.
    Exit codes: 0 ok; 1 input problems with --strict; 2 bad arguments, unreadable input or no usable events.
    """
    with user_errors():
        # Imported here: Altair and vl-convert take half a second to import, which other commands need not pay.
        from aiobs.render.charts import render_charts
        from aiobs.render.html import render_html
        from aiobs.render.report_markdown import IMAGE_CHARTS, render_report_markdown
        from aiobs.report.model import build_report
        from aiobs.report.outliers import keep_slowest_events

        target = None if output == "-" else Path(output)
        chosen = fmt or (_SUFFIX_FORMATS.get(target.suffix.lower()) if target else ReportFormat.md)
        if chosen is None:
            raise UsageError(f"cannot tell the report format from '{output}': name it .html or .md, or pass --format")
        if target is not None and not target.expanduser().parent.is_dir():
            raise UsageError(f"cannot write {target}: folder {target.parent} does not exist")
        settings = load_config(config)
        mapping = FieldMapping().with_overrides({**settings.mapping, **parse_map_options(field_map)})
        price_file = prices or settings.prices
        price_book = load_price_book(price_file) if price_file else None
        bounds = [parse_time_bound(t) if t else None for t in (since, until)]
        if bounds[0] and bounds[1] and bounds[0] >= bounds[1]:
            raise UsageError("--since must be before --until")
        sources = expand_inputs(paths)
        keeper = keep_slowest_events(outliers, since=bounds[0], until=bounds[1]) if outliers else None
        with progress_bar(sources) as progress:
            summary = summarize(
                sources,
                mapping=mapping,
                every=every,
                since=bounds[0],
                until=bounds[1],
                prices=price_book,
                progress=progress,
                keep_events=keeper,
            )
        report = build_report(
            summary, p=p, outlier_limit=outliers, redact_pii=not no_redact, command_line=_command_line(), title=title
        )
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
            text = md.text
        if target is None:
            sys.stdout.write(text)
        else:
            write_atomically(target, text)
            typer.echo(f"wrote {target} ({len(text.encode()) / 1e3:,.0f} kB)", err=True)
        if strict and summary.issues.failing:
            typer.echo(f"aiobs: {summary.issues.failing} input problem(s) found (--strict)", err=True)
            raise typer.Exit(int(ExitCode.INPUT_PROBLEMS))
