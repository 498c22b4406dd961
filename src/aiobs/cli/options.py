"""Options that several commands share, defined once so they read and behave the same everywhere."""

from __future__ import annotations

import typer

from aiobs.formats import AUTO, FORMAT_NAMES

PATHS = typer.Argument(..., metavar="PATHS", help="Log files, folders, globs (quote them), s3:// URLs, or - for stdin.")
SINCE = typer.Option(None, "--since", metavar="TIME", help="Only requests starting at or after: ISO time or 24h/7d.")
UNTIL = typer.Option(None, "--until", metavar="TIME", help="Only requests starting before: ISO time or 24h/7d.")
FIELD_MAP = typer.Option(
    [],
    "--map",
    "-m",
    metavar="FIELD=PATH",
    help="Map a canonical field to your field: correlation_id=meta.rid, duration_ms=took:s.",
)
PRICES = typer.Option(None, "--prices", metavar="FILE", help="TOML/JSON file with extra or overriding prices.")
CONFIG = typer.Option(None, "--config", metavar="FILE", help="Config file (default: ./aiobs.toml or pyproject).")
STRICT = typer.Option(False, "--strict", help="Exit 1 when the input had any problem.")
OUTPUT = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file (atomically); - for stdout.")
NO_REDACT = typer.Option(False, "--no-redact", help="Show texts as logged (PII and secrets are redacted by default).")
HASH_USERS = typer.Option(False, "--hash-users", help="Show user IDs as stable hashes.")
ENDPOINT_URL = typer.Option(
    None,
    "--endpoint-url",
    metavar="URL",
    help="S3-compatible endpoint for s3:// inputs (MinIO, R2, ...); default AWS_ENDPOINT_URL or AWS S3.",
)
INPUT_FORMAT = typer.Option(
    None,
    "--input-format",
    metavar="NAME",
    help=f"Log format of every input: {', '.join(FORMAT_NAMES)} (default {AUTO}: detected per file). "
    "Loki, CloudWatch and Datadog wrappers are always unwrapped; this names the format of the lines inside.",
)
HISTORY = typer.Option(
    None,
    "--history",
    metavar="DIR",
    help="Also record this run's hourly aggregates in a history store folder (docs/ci.md).",
)
TIME_IS = typer.Option(
    None,
    "--time-is",
    metavar="start|end",
    help="A line's timestamp is when its event started, or ended (was written); default: as the format says.",
)
TIME_FORMAT = typer.Option(
    None,
    "--time-format",
    metavar="STRFTIME",
    help="Read timestamps with this strftime format first, e.g. '%d/%b/%Y:%H:%M:%S %z'.",
)
TIMEZONE = typer.Option(
    None,
    "--timezone",
    metavar="ZONE",
    help="Timestamps logged without a zone (aiobs's format, loggers' JSON) are this zone's time, e.g. Europe/Paris.",
)
HTTP_ERROR_FROM = typer.Option(
    None,
    "--http-error-from",
    metavar="STATUS",
    help="HTTP statuses from this one up are errors (default 500; 400 counts 4xx too).",
)
ENGINE = typer.Option(
    None,
    "--engine",
    metavar="local|ray",
    help="Where the reading runs: this process (default) or a Ray cluster (docs/scale-out.md).",
)
RAY_ADDRESS = typer.Option(
    None,
    "--ray-address",
    metavar="ADDRESS",
    help="Ray cluster for --engine ray, e.g. ray://head:10001 (default: RAY_ADDRESS, or a local Ray).",
)
WHERE = typer.Option(
    [],
    "--where",
    "-w",
    metavar="COND",
    help="Only requests that meet it: route=/chat, 'model~gpt-4o', 'latency_ms>2000', flag=refusal (repeat: all).",
)
