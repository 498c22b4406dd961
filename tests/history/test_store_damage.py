"""A damaged history store never stops a command: every reader skips the bad file and says which and why;
a writer keeps a damaged file aside (never overwrites it) and writes a new one."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from aiobs import history
from aiobs.errors import AiobsError, UsageError
from aiobs.profiles import profile_requests
from synthetic import T0, make_requests

DAYS3 = make_requests(3 * 24 * 20, seed=11, span=timedelta(days=3), flags={"refusal": 0.03})
DAY2 = (T0 + timedelta(days=1)).date()


def hourly(frame: pl.DataFrame) -> pl.DataFrame:
    return profile_requests(frame.lazy(), every="1h")


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("run_id", strict=False).sort(["bucket", "dimension", "key"], nulls_last=True)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _drop_column(data: bytes, name: str) -> bytes:
    return parquet_bytes(pl.read_parquet(io.BytesIO(data)).drop(name))


def _retype_column(data: bytes, name: str) -> bytes:
    return parquet_bytes(pl.read_parquet(io.BytesIO(data)).with_columns(pl.col(name).cast(pl.String)))


#: What a damaged file holds instead of what aiobs wrote (from what it wrote), and what the warning says.
DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda data: b"", "empty (0 bytes)"),
    "truncated": (lambda data: data[: len(data) // 2], "not a whole Parquet file (truncated?)"),
    "not parquet": (lambda data: b"this is not parquet\n" * 20, "not a Parquet file"),
    "corrupt inside": (lambda data: data[:4] + bytes(len(data) - 12) + data[-8:], "corrupt Parquet data ("),
    "missing column": (lambda data: _drop_column(data, "requests"), "missing column(s) requests"),
    "changed type": (lambda data: _retype_column(data, "requests"), "column requests holds String, expected Int64"),
}


def damage(path: Path, kind: str) -> bytes:
    change, _ = DAMAGE[kind]
    path.write_bytes(change(path.read_bytes()))
    return path.read_bytes()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    history.append(path, hourly(DAYS3), run_id="full", inputs=["app.jsonl"], now=T0)
    return path


@pytest.mark.parametrize("kind", DAMAGE)
def test_every_reader_skips_a_damaged_day_and_names_it(store: Path, kind: str) -> None:
    bad = store / "days" / f"{DAY2.isoformat()}.parquet"
    damage(bad, kind)
    warned: list[str] = []
    rows = history.read_store(store, warn=warned.append)
    expected = hourly(DAYS3).filter(pl.col("bucket").dt.date() != DAY2)
    assert_frame_equal(canonical(rows), canonical(expected))
    assert len(warned) == 1
    (message,) = warned
    assert message.startswith(f"skipped {bad}: ") and DAMAGE[kind][1] in message
    assert message.endswith("; move it away or delete it") and "\n" not in message

    said: list[str] = []
    assert history.days(store, warn=said.append)["day"].to_list() == [T0.date(), (T0 + timedelta(days=2)).date()]
    trend = history.trends(store, days=7, warn=said.append)
    assert (
        trend.height == 2
        and trend["requests"].sum() == expected.filter(pl.col("dimension") == "overall")["requests"].sum()
    )
    history.anomalies(store, days=7, everything=True, warn=said.append)
    history.trends(store, days=7, by="model", warn=said.append)
    assert set(said) == {message}  # each reader says the same sentence about the same file
    assert history.runs(store, warn=said.append)["run_id"].to_list() == ["full"]
    with pytest.warns(history.StoreWarning, match="move it away or delete it"):  # without warn: a Python warning
        history.read_store(store)


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_run_keeps_a_damaged_day_aside_and_writes_it_anew(store: Path, kind: str) -> None:
    bad = store / "days" / f"{DAY2.isoformat()}.parquet"
    damaged = damage(bad, kind)
    others = {p.name: p.read_bytes() for p in (store / "days").iterdir() if p != bad}
    # A thinner run of that day only: against a whole day file it would keep none of its hours.
    thinner = DAYS3.filter((pl.col("start").dt.date() == DAY2) & (pl.col("model") != "gpt-4o"))
    warned: list[str] = []
    record = history.append(store, hourly(thinner), run_id="thin", inputs=["some"], warn=warned.append)
    (aside,) = (store / "days").glob(f"{bad.name}.damaged-*")
    assert aside.read_bytes() == damaged  # nothing is lost: the damaged file is kept as it was
    assert len(warned) == 1 and warned[0].startswith(f"{bad}: {DAMAGE[kind][1]}")
    assert f"kept it as {aside.name} and wrote this run's hours of {DAY2} to a new {bad.name}" in warned[0]
    assert record.kept_earlier == 0 and record.buckets == 24  # the damaged day's hours are this run's
    stored = history.read_store(store, warn=warned.append)
    assert len(warned) == 1  # the store reads clean again
    owners = stored.filter(pl.col("dimension") == "overall").group_by(pl.col("bucket").dt.date()).agg(pl.col("run_id"))
    assert {d: set(r) for d, r in owners.iter_rows()} == {
        T0.date(): {"full"},
        DAY2: {"thin"},
        (T0 + timedelta(days=2)).date(): {"full"},
    }
    assert {name: (store / "days" / name).read_bytes() for name in others} == others  # the other days untouched


@pytest.mark.parametrize("kind", ["empty", "truncated", "missing column", "changed type"])
def test_a_damaged_run_list_is_skipped_then_kept_aside(store: Path, kind: str) -> None:
    runs = store / "runs.parquet"
    change = {  # runs.parquet's own columns
        "missing column": lambda data: _drop_column(data, "aiobs_version"),
        "changed type": lambda data: _retype_column(data, "buckets"),
    }.get(kind, DAMAGE[kind][0])
    runs.write_bytes(change(runs.read_bytes()))
    damaged = runs.read_bytes()
    warned: list[str] = []
    assert history.runs(store, warn=warned.append).is_empty()
    assert len(warned) == 1 and warned[0].startswith(f"skipped {runs}: ")

    warned.clear()
    later = make_requests(50, seed=3, start=T0 + timedelta(days=5), span=timedelta(hours=2))
    history.append(store, hourly(later), run_id="later", inputs=["y"], now=T0 + timedelta(days=5), warn=warned.append)
    (aside,) = store.glob("runs.parquet.damaged-*")
    assert aside.read_bytes() == damaged
    assert len(warned) == 1 and "kept it as" in warned[0] and warned[0].endswith("started a new list of runs")
    assert history.runs(store)["run_id"].to_list() == ["later"]
    assert history.read_store(store).height == hourly(DAYS3).height + hourly(later).height  # the days are whole


def test_prune_leaves_a_damaged_run_list_and_prunes_days_kept_aside(store: Path) -> None:
    runs = store / "runs.parquet"
    runs.write_bytes(b"")
    first = store / "days" / f"{T0.date().isoformat()}.parquet"
    damage(first, "truncated")
    history.append(store, hourly(DAYS3.head(5)), run_id="r", inputs=["x"], warn=lambda message: None)
    assert len(list((store / "days").glob("*.damaged-*"))) == 1
    runs.write_bytes(b"")  # damaged again
    warned: list[str] = []
    removed = history.prune(store, keep_days=2, now=T0 + timedelta(days=2, hours=3), warn=warned.append)
    assert removed == [T0.date()]
    assert not list((store / "days").glob("*.damaged-*"))  # retention covers the kept-aside day too
    assert runs.read_bytes() == b""  # left as it is: the next recorded run keeps it aside
    assert warned == [f"skipped {runs}: empty (0 bytes); move it away or delete it"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "empty (0 bytes)"),
        (b'{"format": "aiobs.hist', "not valid JSON (truncated?)"),
        (b"\x00\xff\xfe garbage", "not valid JSON (truncated?)"),
        (b"[1, 2]", "not a JSON object (a list)"),
    ],
)
def test_a_damaged_manifest_is_read_as_this_format_and_written_anew(store: Path, content: bytes, said: str) -> None:
    manifest = store / "aiobs-history.json"
    manifest.write_bytes(content)
    warned: list[str] = []
    history.check_store_target(store, warn=warned.append)
    assert history.read_store(store, warn=warned.append).height == hourly(DAYS3).height
    read_as = f"read the store as {history.FORMAT}, and the next recorded run writes a new one"
    assert set(warned) == {f"{manifest}: {said}; {read_as}"}

    warned.clear()
    history.append(store, hourly(DAYS3.head(5)), run_id="r", inputs=["x"], warn=warned.append)
    (aside,) = store.glob("aiobs-history.json.damaged-*")
    assert aside.read_bytes() == content
    assert warned == [f"{manifest}: {said}; kept it as {aside.name} and wrote a new one"]
    assert orjson.loads(manifest.read_bytes())["format"] == history.FORMAT


def test_a_manifest_of_another_format_is_refused_not_repaired(store: Path) -> None:
    manifest = store / "aiobs-history.json"
    manifest.write_text('{"format": "aiobs.history/99"}')
    with pytest.raises(UsageError, match="cannot read"):
        history.append(store, hourly(DAYS3.head(5)), run_id="r", inputs=["x"])
    with pytest.raises(UsageError, match="cannot read"):
        history.read_store(store)
    assert not list(store.glob("*.damaged-*")) and manifest.read_text() == '{"format": "aiobs.history/99"}'


def test_a_day_that_cannot_be_read_is_skipped_and_stops_a_write(store: Path) -> None:
    """Not damage but access (here a folder in a day file's place): readers skip it; a writer stops with one
    sentence (exit 2 in the CLI) and moves nothing."""
    odd = store / "days" / "2026-01-01.parquet"
    odd.mkdir()
    warned: list[str] = []
    assert history.read_store(store, warn=warned.append).height == hourly(DAYS3).height
    assert warned == [f"skipped {odd}: cannot read it (Is a directory)"]
    january = make_requests(20, seed=4, start=datetime(2026, 1, 1, 3, tzinfo=UTC), span=timedelta(hours=1))
    with pytest.raises(AiobsError, match=r"cannot write .*2026-01-01\.parquet: Is a directory"):
        history.append(store, hourly(january), run_id="jan", inputs=["j"])
    assert odd.is_dir()
