"""The store's files on disk: shareable permissions, and what a writer killed halfway (SIGKILL) leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from aiobs import history, history_store
from aiobs.profiles import profile_requests
from synthetic import T0, make_requests

ROOT = Path(__file__).resolve().parents[2]
DAYS2 = make_requests(2 * 24 * 10, seed=7, span=timedelta(days=2))


def hourly(frame: pl.DataFrame) -> pl.DataFrame:
    return profile_requests(frame.lazy(), every="1h")


def store_files(store: Path) -> list[Path]:
    return [store / "aiobs-history.json", store / "runs.parquet", *sorted((store / "days").glob("*.parquet"))]


@pytest.fixture
def umask() -> Iterator[None]:
    """The test sets the process umask; this puts the old one back."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o027, 0o077])
def test_files_get_the_mode_open_gives_them(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"])
    files = store_files(store)
    assert len(files) == 4
    assert {path.name: path.stat().st_mode & 0o777 for path in files} == {path.name: 0o666 & ~mask for path in files}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_store_written_private_becomes_shareable_when_rewritten(tmp_path: Path, umask: None) -> None:
    """Stores written before (mkstemp: 0600) get the open() mode as each file is written again."""
    os.umask(0o002)  # a team's cron job: group members read and write
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"])
    for path in store_files(store):
        path.chmod(0o600)
    history.append(store, hourly(DAYS2), run_id="again", inputs=["x"])
    rewritten = [store / "runs.parquet", *sorted((store / "days").glob("*.parquet"))]
    assert {path.stat().st_mode & 0o777 for path in rewritten} == {0o664}


LEFTOVERS = [".runs.parquet.abcd_123", ".aiobs-history.json.zz99yy88", "days/.2026-11-01.parquet.k3x9a0b1"]
#: Look like temporary files but are not the store's: never removed.
NOT_OURS = [
    ".notes.txt.abcd1234",
    "days/.2026-11-01.parquet.too-long-a-suffix",
    "days/.holiday.parquet.abcd1234",
    "days/2026-10-01.parquet.damaged-20261002T000000Z",
    "notes.txt",
]


def plant(store: Path, names: list[str]) -> list[Path]:
    paths = [store / name for name in names]
    for path in paths:
        path.write_bytes(b"half a file")
    return paths


def test_a_write_run_removes_the_temporary_files_killed_writers_left(tmp_path: Path) -> None:
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"])
    leftovers, others = plant(store, LEFTOVERS), plant(store, NOT_OURS)
    warned: list[str] = []
    history.read_store(store, warn=warned.append)
    history.trends(store, warn=warned.append)
    assert all(p.exists() for p in leftovers) and warned == []  # readers leave them: a writer may be at work
    history.append(store, hourly(DAYS2.head(10)), run_id="small", inputs=["y"], warn=warned.append)
    assert not any(p.exists() for p in leftovers)
    assert all(p.exists() for p in others)
    assert len(warned) == 1 and warned[0].startswith(
        "removed 3 temporary file(s) an interrupted run left in the history store: "
    )
    plant(store, LEFTOVERS)
    history.prune(store, keep_days=30, now=T0, warn=warned.append)  # prune writes too
    assert not any(p.exists() for p in leftovers)


def test_without_a_lock_only_old_temporary_files_go(tmp_path: Path) -> None:
    """Windows has no flock: a temporary file may be a live writer's, so only those over an hour old are removed."""
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"])
    fresh, old = plant(store, [".runs.parquet.fresh123", ".runs.parquet.old45678"])
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    removed = history_store.remove_leftovers(store, exclusive=False, warn=lambda message: None)
    assert removed == [old] and fresh.exists()


def test_a_store_a_killed_first_run_left_half_made_is_still_a_store_target(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "days").mkdir(parents=True)
    plant(store, [".lock", ".aiobs-history.json.abcd1234"])
    history.check_store_target(store)
    warned: list[str] = []
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"], warn=warned.append)
    assert sorted(p.name for p in store.iterdir()) == [".lock", "aiobs-history.json", "days", "runs.parquet"]
    assert len(warned) == 1 and "removed 1 temporary file(s)" in warned[0]


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
import polars as pl
from aiobs import history
from aiobs.profiles import profile_requests

def stall(fd):  # the data is written, not yet renamed into place: the writer is killed here
    print("writing", flush=True)
    time.sleep(600)

frame = pl.read_parquet(sys.argv[2])
os.fsync = stall
history.append(Path(sys.argv[1]), profile_requests(frame.lazy(), every="1h"), run_id="killed", inputs=["k"])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL")
def test_a_writer_killed_halfway_leaves_the_store_whole_and_the_next_run_tidies(tmp_path: Path) -> None:
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="first", inputs=["x"])
    before = {p: p.read_bytes() for p in store_files(store)}
    later = tmp_path / "later.parquet"
    make_requests(200, seed=8, start=T0 + timedelta(days=1), span=timedelta(days=2)).write_parquet(later)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", _KILLED_WRITER, str(store), str(later)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, env=env) as writer:
        try:
            assert writer.stdout is not None and writer.stdout.readline() == b"writing\n"
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    (temp,) = [p for p in (store / "days").iterdir() if p.name.startswith(".")]
    assert temp.name.startswith(".2026-11-02.parquet.")
    assert {p: p.read_bytes() for p in store_files(store)} == before  # every file as the first run left it

    warned: list[str] = []
    assert history.read_store(store, warn=warned.append).height == hourly(DAYS2).height and warned == []
    history.append(store, hourly(DAYS2.head(5)), run_id="next", inputs=["y"], warn=warned.append)  # the lock is free
    assert not temp.exists()
    assert warned == [f"removed 1 temporary file(s) an interrupted run left in the history store: {temp}"]


def test_a_reader_panic_is_a_damaged_file_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Polars panics (a BaseException) on some corrupt pages: that file is skipped like any damaged one."""
    store = tmp_path / "store"
    history.append(store, hourly(DAYS2), run_id="r", inputs=["x"])

    def panic(*args: object, **kwargs: object) -> pl.DataFrame:
        raise pl.exceptions.PanicException("invalid num_bits 36")

    monkeypatch.setattr(history_store.pl, "read_parquet", panic)
    warned: list[str] = []
    assert history.read_store(store, warn=warned.append).is_empty()
    assert len(warned) == 2 and all("corrupt Parquet data (invalid num_bits 36)" in m for m in warned)
