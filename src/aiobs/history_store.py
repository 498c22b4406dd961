"""The history store's files (aiobs.history): the manifest, runs.parquet and days/*.parquet.

Writing: one writer at a time (a lock file); every file is written to a temporary name beside it
(`.NAME.XXXXXXXX`), synced and renamed, with the mode a plain open() gives (0666 less the umask, so a
team's cron user and its readers can share a store). A writer killed halfway leaves only such a
temporary file; the next writer removes those, under the lock.

Reading: a file that is not what aiobs wrote (empty, truncated, corrupt, a column missing or of
another type; a manifest that is not JSON) never stops a command. Readers skip it and report one
sentence naming the file and what is wrong; a writer that would merge into it keeps it aside as
`NAME.damaged-<UTC time>` and writes a new one, so nothing is overwritten and the store heals.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import polars as pl

from aiobs import sketch
from aiobs.errors import AiobsError, UsageError
from aiobs.profiles import BUCKET, PROFILE_SCHEMA
from aiobs.schema import UTC_TIME

FORMAT = "aiobs.history/1"
BUCKET_EVERY = "1h"
MANIFEST = "aiobs-history.json"
RUNS = "runs.parquet"
DAYS = "days"

STORE_SCHEMA = pl.Schema({BUCKET: UTC_TIME, **PROFILE_SCHEMA, "run_id": pl.String()})
RUNS_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "recorded_at": UTC_TIME,
        "inputs": pl.List(pl.String()),
        "requests": pl.Int64(),
        "first_bucket": UTC_TIME,
        "last_bucket": UTC_TIME,
        "buckets": pl.Int64(),
        "aiobs_version": pl.String(),
    }
)

#: Where a damaged file goes: `2026-11-28.parquet.damaged-20261129T020000Z` beside it.
DAMAGED = ".damaged-"
#: The temporary files writers make (and tempfile.mkstemp made): `.runs.parquet.k3x_9a0b`.
_TEMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}$")
_DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.parquet$")
#: Without a lock (no fcntl: Windows), only temporary files this old are surely no live writer's.
UNLOCKED_TEMP_AGE = 3600.0
_PARQUET_MAGIC = b"PAR1"

Warn = Callable[[str], None]


class StoreWarning(UserWarning):
    """A store file was skipped, kept aside or tidied (the default report when no `warn` is given)."""


class DamagedFile(Exception):
    """A store file whose content aiobs cannot use; the message says what is wrong with it."""


def warner(warn: Warn | None) -> Warn:
    """The caller's report function, or a Python warning (StoreWarning) for library users."""
    if warn is not None:
        return warn
    return lambda message: warnings.warn(message, StoreWarning, stacklevel=3)


# -- the manifest ----------------------------------------------------------------------------------------


def _manifest() -> dict[str, object]:
    return {"format": FORMAT, "bucket": BUCKET_EVERY, "sketch_alpha": sketch.ALPHA}


def _manifest_bytes() -> bytes:
    return orjson.dumps(_manifest(), option=orjson.OPT_INDENT_2) + b"\n"


def manifest_damage(store: Path) -> str | None:
    """What is wrong with the manifest if it is damaged (not JSON); None if it is whole.

    A manifest that is JSON but names another format (or sketch) is a store this aiobs cannot read:
    a UsageError, never skipped, since its files would be misread.
    """
    manifest = store / MANIFEST
    try:
        data = manifest.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {manifest}: {exc.strerror or exc}") from None
    if not data.strip():
        return "empty (0 bytes)" if not data else "empty"
    try:
        found = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "not valid JSON (truncated?)"
    if not isinstance(found, dict):
        return f"not a JSON object (a {type(found).__name__})"
    if found.get("format") != FORMAT or found.get("sketch_alpha") != sketch.ALPHA:
        msg = f"{store} is a history store this aiobs cannot read ({MANIFEST} says {found!r}, expected {FORMAT})"
        raise UsageError(msg)
    return None


def check_store_target(store: Path, *, warn: Warn | None = None) -> None:
    """Fail early (before reading any log) when `store` can neither be read nor created as a store."""
    store = store.expanduser()
    if (store / MANIFEST).is_file():
        open_store(store, create=False, warn=warn)
    elif not _free(store):
        msg = f"{store} exists and is not an aiobs history store: give an empty or new folder for --history"
        raise UsageError(msg)


def _free(store: Path) -> bool:
    """A store can be made here: no such folder, an empty one, or one a run killed while making it left
    (the lock file, an empty days/, a temporary manifest)."""
    if not store.exists():
        return True
    if not store.is_dir():
        return False
    for path in store.iterdir():
        temp = _TEMP.match(path.name)
        if path.name == ".lock" or (temp is not None and temp["name"] == MANIFEST):
            continue
        if path.name == DAYS and path.is_dir() and not any(path.iterdir()):
            continue
        return False
    return True


def open_store(store: Path, *, create: bool, warn: Warn | None = None) -> Path:
    """Check (or create) a store folder. Refuses a folder that holds other things.

    A damaged manifest is reported and the store read as this format; the next write replaces it.
    """
    store = store.expanduser()
    manifest = store / MANIFEST
    if manifest.is_file():
        problem = manifest_damage(store)
        if problem is not None and not create:
            warner(warn)(
                f"{manifest}: {problem}; read the store as {FORMAT}, and the next recorded run writes a new one"
            )
        return store
    if not create:
        msg = f"{store} is not an aiobs history store (no {MANIFEST}); record a run with --history {store} first"
        raise UsageError(msg)
    if not _free(store):
        msg = f"{store} exists and is not an aiobs history store: give an empty or new folder for --history"
        raise UsageError(msg)
    try:
        (store / DAYS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AiobsError(f"cannot create the history store {store}: {exc.strerror or exc}") from None
    with locked(store):
        if not manifest.is_file():  # another writer may have made it while this one waited
            write_bytes(manifest, _manifest_bytes())
    return store


def repair_manifest(store: Path, warn: Warn) -> None:
    """A write run (under the lock): a damaged manifest is kept aside and written anew."""
    problem = manifest_damage(store)
    if problem is not None:
        aside = set_aside(store / MANIFEST)
        write_bytes(store / MANIFEST, _manifest_bytes())
        warn(f"{store / MANIFEST}: {problem}; kept it as {aside.name} and wrote a new one")


# -- writing ---------------------------------------------------------------------------------------------


def write_bytes(path: Path, data: bytes) -> None:
    """Write beside `path` and rename over it: readers and a killed writer never leave half a file.

    The temporary file is created by open() with mode 0666, so the umask (and a default ACL) decide its
    permissions as for any new file, not mkstemp's 0600.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        while True:
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            try:
                fd = os.open(tmp, flags, 0o666)
                break
            except FileExistsError:
                continue
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # the rename must not land before the data (a power cut)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise AiobsError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_parquet(path: Path, frame: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    write_bytes(path, buffer.getvalue())


def set_aside(path: Path) -> Path:
    """Rename a damaged file to `NAME.damaged-<UTC time>` beside it (never over another)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}{DAMAGED}{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}{DAMAGED}{stamp}-{n}")
    try:
        path.rename(aside)
    except OSError as exc:
        raise AiobsError(f"cannot move the damaged {path} aside: {exc.strerror or exc}") from None
    return aside


@contextlib.contextmanager
def locked(store: Path) -> Iterator[bool]:
    """One writer at a time (two cron jobs on one store); yields whether the lock is exclusive.

    POSIX only; elsewhere writers must not overlap.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield False
        return
    with (store / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(store: Path, *, exclusive: bool, warn: Warn) -> list[Path]:
    """Remove the temporary files writers killed halfway (SIGKILL, a power cut) left behind.

    Called by writers holding the lock: every writer writes only while holding it, so with an
    exclusive lock no temporary file belongs to a live writer and all of them go. Without one
    (Windows), only those older than an hour.
    """
    removed = []
    now = time.time()
    for folder, names in ((store, (MANIFEST, RUNS)), (store / DAYS, None)):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _TEMP.match(path.name)
            if match is None or not (match["name"] in names if names else _DAY_NAME.match(match["name"])):
                continue
            with contextlib.suppress(OSError):  # gone already, or held open (Windows)
                if exclusive or now - path.lstat().st_mtime > UNLOCKED_TEMP_AGE:
                    path.unlink()
                    removed.append(path)
    if removed:
        where = ", ".join(str(p) for p in removed[:3]) + (f" and {len(removed) - 3} more" if len(removed) > 3 else "")
        warn(f"removed {len(removed)} temporary file(s) an interrupted run left in the history store: {where}")
    return removed


# -- reading ---------------------------------------------------------------------------------------------


def day_path(store: Path, day: date) -> Path:
    return store / DAYS / f"{day.isoformat()}.parquet"


def day_files(store: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted((store / DAYS).glob("*.parquet")):
        with contextlib.suppress(ValueError):
            found.append((date.fromisoformat(path.stem), path))
    return found


def set_aside_days(store: Path) -> list[tuple[date, Path]]:
    """The damaged day files kept aside (`days/2026-11-28.parquet.damaged-…`), with their day."""
    found = []
    for path in sorted((store / DAYS).glob(f"*.parquet{DAMAGED}*")):
        with contextlib.suppress(ValueError):
            found.append((date.fromisoformat(path.name.split(".", 1)[0]), path))
    return found


def _not_parquet(data: bytes) -> str | None:
    if not data:
        return "empty (0 bytes)"
    if not data.startswith(_PARQUET_MAGIC):
        return "not a Parquet file"
    if len(data) < 12 or not data.endswith(_PARQUET_MAGIC):
        return "not a whole Parquet file (truncated?)"
    return None


def load_frame(path: Path, schema: pl.Schema) -> pl.DataFrame:
    """A store file's rows, with exactly the columns and types aiobs writes.

    Raises DamagedFile when its content is not that, OSError when it cannot be read at all.
    """
    data = path.read_bytes()
    problem = _not_parquet(data)
    if problem is not None:
        raise DamagedFile(problem)
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (Exception, pl.exceptions.PanicException) as exc:  # a Rust panic is a BaseException
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DamagedFile(f"corrupt Parquet data ({_printable(first[:120])})") from None
    missing = [name for name in schema if name not in frame.schema]
    if missing:
        raise DamagedFile(f"missing column(s) {', '.join(missing)}")
    for name, dtype in schema.items():
        if frame.schema[name] != dtype:
            raise DamagedFile(f"column {name} holds {_printable(str(frame.schema[name]))[:200]}, expected {dtype}")
    return frame.select(schema.names())


def _printable(text: str) -> str:
    """What a damaged file's content put into a message (field names in a type) reaches the terminal escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def read_or_skip(path: Path, schema: pl.Schema, warn: Warn) -> pl.DataFrame | None:
    """`load_frame`, or None (reported) when the file is damaged or cannot be read: the command goes on."""
    try:
        return load_frame(path, schema)
    except DamagedFile as exc:
        warn(f"skipped {path}: {exc}; move it away or delete it")
    except OSError as exc:
        warn(f"skipped {path}: cannot read it ({exc.strerror or exc})")
    return None


def load_for_merge(path: Path, schema: pl.Schema, warn: Warn, *, then: str) -> pl.DataFrame | None:
    """A writer's read of the file it will replace: a damaged one is kept aside (reported), never overwritten.

    An unreadable one (permissions) stops the run: the store's files are whole, this user may not read them.
    """
    try:
        return load_frame(path, schema)
    except DamagedFile as exc:
        aside = set_aside(path)
        warn(f"{path}: {exc}; kept it as {aside.name} and {then}")
    except OSError as exc:
        raise AiobsError(f"cannot read {path}: {exc.strerror or exc}") from None
    return None
