"""Turn what the user typed (files, folders, globs, `-`, `s3://` URLs) into a list of sources."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiobs.errors import InputError, UsageError
from aiobs.sources.base import (
    GLOB_CHARS,
    LOG_FILES,
    STDIN,
    Source,
    is_log_file,
)

if TYPE_CHECKING:
    from aiobs.sources.s3 import S3Inputs


def _file_source(path: Path) -> Source:
    if not os.access(path, os.R_OK):
        msg = f"cannot read {path}: permission denied"
        raise InputError(msg)
    return Source(str(path), path, path.stat().st_size)


def _folder_sources(folder: Path) -> list[Source]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and is_log_file(p))
    if not files:
        msg = f"no log files ({LOG_FILES}) in folder {folder}"
        raise InputError(msg)
    return [_file_source(p) for p in files]


def expand_inputs(
    inputs: Iterable[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    endpoint_url: str | None = None,
) -> list[Source]:
    """Files as given, folders recursively (log files only), globs (with `**`), `-` for stdin, `s3://` URLs.

    Each file appears once even when two arguments match it. `since`/`until` prune the date-partitioned
    folders of S3 inputs (local files are all read); `endpoint_url` is an S3-compatible endpoint.
    """
    sources: list[Source] = []
    seen: set[str] = set()
    s3: S3Inputs | None = None
    for spec in inputs:
        if spec == "-":
            found = [STDIN]
        elif spec[:5].lower() == "s3://":
            if s3 is None:
                # Imported here so that local runs do not pay for importing botocore.
                from aiobs.sources.partitions import TimeWindow
                from aiobs.sources.s3 import S3Inputs

                s3 = S3Inputs(endpoint_url=endpoint_url, window=TimeWindow(since, until))
            found = list(s3.expand("s3://" + spec[5:]))
        elif Path(spec).is_dir():
            found = _folder_sources(Path(spec))
        elif Path(spec).is_file():
            found = [_file_source(Path(spec))]
        elif GLOB_CHARS & set(spec):
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))  # noqa: PTH207 (absolute patterns too)
            files = [m for m in matches if m.is_file()] + [
                f for m in matches if m.is_dir() for f in sorted(m.rglob("*")) if f.is_file() and is_log_file(f)
            ]
            if not files:
                msg = f"no files match {spec}"
                raise InputError(msg)
            found = [_file_source(p) for p in files]
        else:
            msg = f"no such file or directory: {spec}"
            raise InputError(msg)
        for source in found:
            identity = str(source.path.resolve()) if source.path is not None else source.name
            if identity not in seen:
                seen.add(identity)
                sources.append(source)
    if not sources:
        msg = "no input given: pass log files, folders, globs, s3:// URLs, or - for stdin"
        raise UsageError(msg)
    if s3 is not None:
        s3.plan(sources)
    return sources
