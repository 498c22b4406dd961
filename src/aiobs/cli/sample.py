"""`aiobs sample`: write realistic, deterministic logs to try aiobs on (or to benchmark it)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from aiobs.cli.common import user_errors
from aiobs.errors import UsageError
from aiobs.sources.base import is_log_file

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg]?)b?$", re.IGNORECASE)
_FACTORS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


#: A generated sample runs at tens of MB/s: a terabyte is hours; anything larger is a typo.
MAX_SAMPLE_BYTES = 10**12


def parse_size(text: str) -> int:
    """`500MB`, `1GB`, `20k`: decimal units, as in the benchmark tables."""
    match = _SIZE.match(text.strip())
    if not match:
        msg = f"cannot read size '{text}': use e.g. 100MB or 1GB"
        raise UsageError(msg)
    size = int(float(match.group(1)) * _FACTORS[match.group(2).lower()])
    if size > MAX_SAMPLE_BYTES:
        msg = f"cannot write a sample of {text}: at most 1TB"
        raise UsageError(msg)
    return size


def sample_command(
    output: Path = typer.Argument(..., metavar="OUTPUT", help="File to write: .jsonl, .jsonl.gz or .jsonl.zst."),
    requests: int | None = typer.Option(
        None, "--requests", "-n", min=1, max=1_000_000_000, metavar="N", help="Number of requests (default 1,000)."
    ),
    size: str | None = typer.Option(
        None, "--size", metavar="SIZE", help="Stop at this many uncompressed bytes, e.g. 1GB."
    ),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Same seed, same bytes."),
    malformed: bool = typer.Option(
        True,
        "--malformed/--clean",
        help="Plant about one bad line per 5,000 lines (default) or none.",
    ),
) -> None:
    """Write realistic chatbot and RAG logs in aiobs's native format.

    \b
    Examples:
      aiobs sample logs.jsonl
      aiobs sample big.jsonl.zst --size 1GB --seed 7
    """
    with user_errors():
        if requests is not None and size is not None:
            raise UsageError("give --requests or --size, not both")
        if str(output) == "-":
            raise UsageError("aiobs sample writes a file: give a name such as logs.jsonl (not -)")
        if not output.parent.is_dir():
            raise UsageError(f"cannot write {output}: folder {output.parent} does not exist")
        if output.is_dir():
            raise UsageError(f"cannot write {output}: it is a folder; give a file name such as logs.jsonl")
        if output.exists() and not output.is_file():  # a pipe or a device: say that, not its name
            raise UsageError(f"cannot write {output}: it is not a regular file; give a file name")
        if not is_log_file(output):  # aiobs would skip it when reading its folder
            raise UsageError(f"cannot write {output}: name it .jsonl, .jsonl.gz or .jsonl.zst, as logs aiobs reads")
        from aiobs.sample import write_sample  # imported here: building its word lists takes ~0.2 s

        stats = write_sample(
            output,
            seed=seed,
            requests=requests,
            target_bytes=parse_size(size) if size else None,
            malformed=malformed,
        )
        typer.echo(
            f"wrote {output}: {stats.requests:,} requests, {stats.events:,} events, "
            f"{stats.malformed:,} malformed lines, {stats.bytes / 1e6:,.1f} MB uncompressed",
            err=True,
        )
