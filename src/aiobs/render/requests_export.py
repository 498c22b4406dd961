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
from aiobs.render.escape import csv_column

EXPORT_SUFFIXES = (".parquet", ".csv")


def check_export_target(path: Path) -> None:
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        msg = f"--export writes a .parquet or .csv file, not '{path.name}'"
        raise UsageError(msg)
    if not path.expanduser().parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.expanduser().parent} does not exist")


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
            lists = [pl.col(c).list.join(";") for c, t in schema.items() if isinstance(t, pl.List)]
            requests.with_columns(*inert, *lists).sink_csv(partial)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AiobsError(f"cannot write {path}: {exc.strerror or exc}") from None
