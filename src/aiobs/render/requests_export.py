"""`summarize --export FILE`: the request table itself, so a user can go on in DuckDB, pandas or a sheet.

One row per request, the columns of the request table (docs/schema.md) with the summary's quality
flags; labels are private as in every other output, and the free texts (input, output, context) are
not exported. Parquet keeps the types; CSV cells are made inert as every aiobs CSV is (no formulas, no
control characters), and the list of models is joined with `;`. The file is written beside its target
and renamed over it, so a reader never sees half of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from aiobs.errors import AiobsError, UsageError
from aiobs.escape import csv_column

EXPORT_SUFFIXES = (".parquet", ".csv")


def check_export_target(path: Path) -> None:
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        msg = f"--export writes a .parquet or .csv file, not '{path.name}'"
        raise UsageError(msg)
    folder = path.expanduser().parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"cannot write {path}: {folder} {why}")


def export_requests(requests: pl.LazyFrame, path: Path) -> None:
    """Write the request table to `path` (.parquet or .csv), atomically."""
    check_export_target(path)
    path = path.expanduser()
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        if path.suffix.lower() == ".parquet":
            requests.sink_parquet(partial)
        else:
            schema = requests.collect_schema()
            inert = [csv_column(pl.col(c)).alias(c) for c, t in schema.items() if t == pl.String]
            lists = [csv_column(pl.col(c).list.join(";")).alias(c) for c, t in schema.items() if isinstance(t, pl.List)]
            requests.with_columns(*inert, *lists).sink_csv(partial)
        partial.replace(path)
    except (OSError, pl.exceptions.PolarsError) as exc:  # Polars reports a failed write as its own error
        partial.unlink(missing_ok=True)
        raise AiobsError(f"cannot write {path}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """`Permission denied`, not Polars' `Permission denied (os error 13): /path/.x.part`."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(" (os error", 1)[0]
