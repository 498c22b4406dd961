"""`aiobs inspect`: the first command on unknown logs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from aiobs.api import field_mapping
from aiobs.cli import options
from aiobs.cli.common import (
    check_output_target,
    stdout_console,
    terminal_text_for_file,
    user_errors,
    write_output,
)
from aiobs.config import load_config
from aiobs.inspection import SAMPLE_LINES, inspect_sources
from aiobs.redact import Privacy
from aiobs.render.inspect import render_inspect, render_inspect_json
from aiobs.sources.paths import expand_inputs


class InspectFormat(StrEnum):
    terminal = "terminal"
    json = "json"


def inspect_command(
    paths: list[str] = options.PATHS,
    fmt: InspectFormat = typer.Option(InspectFormat.terminal, "--format", "-f", help="terminal (default) or json."),
    output: Path | None = options.OUTPUT,
    lines: int = typer.Option(
        SAMPLE_LINES, "--lines", "-n", min=1, metavar="N", help="Read at most the first N lines of each file."
    ),
    field_map: list[str] = options.FIELD_MAP,
    config: Path | None = options.CONFIG,
    endpoint_url: str | None = options.ENDPOINT_URL,
    input_format: str | None = options.INPUT_FORMAT,
    time_is: str | None = options.TIME_IS,
    time_format: str | None = options.TIME_FORMAT,
    timezone: str | None = options.TIMEZONE,
    http_error_from: int | None = options.HTTP_ERROR_FROM,
    no_redact: bool = options.NO_REDACT,
) -> None:
    """Show what aiobs makes of each file: its format, which field feeds what, and how to map what it misses.

    Reads a sample (the first --lines lines) of each file with the parser summarize uses.

    \b
    Examples:
      aiobs inspect logs/app.jsonl
      aiobs inspect logs/ --map correlation_id=ctx.rid
      aiobs inspect export.json --input-format otlp
    """
    with user_errors():
        if output is not None:
            check_output_target(output)
        settings = load_config(config)
        mapping = field_mapping(
            settings,
            field_map,
            time_is=time_is,
            time_format=time_format,
            timezone=timezone,
            http_error_from=http_error_from,
        )
        sources = expand_inputs(paths, endpoint_url=endpoint_url)
        files = inspect_sources(
            sources,
            mapping,
            input_format=input_format or settings.input_format,
            sample_lines=lines,
            privacy=Privacy(redact=not no_redact),
        )
        if fmt is InspectFormat.json:
            write_output(output, render_inspect_json(files))
        elif output is not None and str(output) != "-":
            write_output(output, terminal_text_for_file(lambda console: render_inspect(files, console)))
        else:
            render_inspect(files, stdout_console())
