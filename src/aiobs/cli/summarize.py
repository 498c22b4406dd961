"""`aiobs summarize`: requests, errors, latency, tokens, cost and input quality."""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from aiobs.cli.common import ExitCode, progress_bar, user_errors, write_atomically
from aiobs.config import load_config
from aiobs.errors import UsageError
from aiobs.formats.mapping import FieldMapping, parse_map_options
from aiobs.history import check_store_target, record_run
from aiobs.pricing import load_price_book
from aiobs.render.markdown import render_markdown
from aiobs.render.tabular import render_csv, render_json
from aiobs.render.terminal import render_terminal
from aiobs.sources.paths import expand_inputs
from aiobs.summary import Summary, parse_time_bound, summarize


class OutputFormat(StrEnum):
    terminal = "terminal"
    json = "json"
    md = "md"
    csv = "csv"


_SUFFIX_FORMATS = {".json": OutputFormat.json, ".md": OutputFormat.md, ".csv": OutputFormat.csv}


def _render(summary: Summary, fmt: OutputFormat, *, to_file: bool) -> str | None:
    if fmt is OutputFormat.json:
        return render_json(summary)
    if fmt is OutputFormat.md:
        return render_markdown(summary)
    if fmt is OutputFormat.csv:
        return render_csv(summary)
    if to_file:
        buffer = io.StringIO()
        render_terminal(summary, Console(file=buffer, width=160, color_system=None, force_terminal=False))
        return buffer.getvalue()
    render_terminal(summary, Console(highlight=False))
    return None


def summarize_command(
    paths: list[str] = typer.Argument(..., help="Log files, folders, globs (quote them), or - for stdin."),
    by: list[str] = typer.Option(
        [], "--by", "-b", help="Group by model, route, stage, provider, user (repeat, or model,route for both)."
    ),
    every: str | None = typer.Option(None, "--every", help="Also show time buckets, e.g. 15m, 1h, 1d."),
    since: str | None = typer.Option(None, "--since", help="Only requests starting at or after: ISO time or 24h/7d."),
    until: str | None = typer.Option(None, "--until", help="Only requests starting before: ISO time or 24h/7d."),
    fmt: OutputFormat | None = typer.Option(
        None, "--format", "-f", help="terminal (default), json, md or csv; from --output's suffix when omitted."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file (atomically)."),
    field_map: list[str] = typer.Option(
        [], "--map", "-m", help="Map a canonical field to your field: correlation_id=meta.rid, duration_ms=took:s."
    ),
    prices: Path | None = typer.Option(None, "--prices", help="TOML/JSON file with extra or overriding prices."),
    config: Path | None = typer.Option(None, "--config", help="Config file (default: ./aiobs.toml or pyproject)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when the input had any problem."),
    history: Path | None = typer.Option(
        None, "--history", help="Also record this run's hourly aggregates in a history store folder (docs/ci.md)."
    ),
) -> None:
    """Summarize AI application logs: requests, error rate, latency percentiles, tokens, cost, input quality.

    Exit codes: 0 ok; 1 input problems with --strict; 2 bad arguments, unreadable input or no usable events.
    """
    with user_errors():
        settings = load_config(config)
        mapping = FieldMapping().with_overrides({**settings.mapping, **parse_map_options(field_map)})
        price_file = prices or settings.prices
        price_book = load_price_book(price_file) if price_file else None
        chosen = fmt or (_SUFFIX_FORMATS.get(output.suffix.lower()) if output else None) or OutputFormat.terminal
        bounds = [parse_time_bound(t) if t else None for t in (since, until)]
        if bounds[0] and bounds[1] and bounds[0] >= bounds[1]:
            raise UsageError("--since must be before --until")
        if history is not None:
            check_store_target(history)
        sources = expand_inputs(paths)
        with progress_bar(sources) as progress:
            summary = summarize(
                sources,
                mapping=mapping,
                by=by,
                every=every,
                since=bounds[0],
                until=bounds[1],
                prices=price_book,
                progress=progress,
            )
        text = _render(summary, chosen, to_file=output is not None)
        if output is not None and text is not None:
            write_atomically(output, text)
        elif text is not None:
            sys.stdout.write(text)
        if history is not None:
            run = record_run(history, summary)
            typer.echo(f"aiobs: recorded run {run.run_id} in {history} ({run.buckets} hour bucket(s))", err=True)
        if strict and summary.issues.failing:
            typer.echo(f"aiobs: {summary.issues.failing} input problem(s) found (--strict)", err=True)
            raise typer.Exit(int(ExitCode.INPUT_PROBLEMS))
