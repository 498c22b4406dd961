"""A local history store for nightly runs: hour-bucket profiles in Parquet, trends, anomalies.

    STORE/
      aiobs-history.json        {"format": "aiobs.history/1", "bucket": "1h", "sketch_alpha": 0.01}
      runs.parquet              one row per run: id, when, inputs, requests, buckets
      days/2026-11-28.parquet   profiles (aiobs.profiles) per hour bucket and group, for that day

Each hour bucket holds the profiles of **one run**: the run that saw the most requests in that hour
(the newest on a tie). So reading the same logs again leaves the store as it was; a run over a
growing log, or over a window that overlaps an earlier run, replaces the buckets it now sees more
fully and never counts a request twice; and a partial re-read (a file missing, a shorter window)
never erases a fuller earlier bucket. The price: two runs over *different* logs of the same hour
(shards read separately) are not added up; read them in one run.

A run's id is a fingerprint of what it read (input names, bytes, events, filters), so re-recording
the same run rewrites the same rows. Appends take a lock file, and every file is written to a
temporary name and renamed, so a cron job killed halfway leaves each day file whole.

For `aiobs report --history DIR`: call `record_run(DIR, summary)` once, then `trends(DIR, ...)` and
`anomalies(DIR, ...)` for the frames to show.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import polars as pl

from aiobs import __version__, sketch
from aiobs.anomaly import AnomalyRules, hourly_series, score_series
from aiobs.errors import UsageError
from aiobs.profiles import BUCKET, DIMENSIONS, OVERALL, PROFILE_SCHEMA, profile_requests
from aiobs.schema import UTC_TIME
from aiobs.summary import Summary

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
_DIMENSION_ORDER = {OVERALL: 0, **{d: i + 1 for i, d in enumerate(DIMENSIONS)}}


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    requests: int
    #: Hour buckets the run had data for.
    buckets: int
    #: Of those, the buckets where the store kept an earlier run that saw more requests.
    kept_earlier: int


# -- the store's files -------------------------------------------------------------------------------------


def _manifest() -> dict[str, object]:
    return {"format": FORMAT, "bucket": BUCKET_EVERY, "sketch_alpha": sketch.ALPHA}


def check_store_target(store: Path) -> None:
    """Fail early (before reading any log) when `store` can neither be read nor created as a store."""
    store = store.expanduser()
    if (store / MANIFEST).is_file():
        open_store(store, create=False)
    elif store.exists() and (not store.is_dir() or any(store.iterdir())):
        msg = f"{store} exists and is not an aiobs history store: give an empty or new folder for --history"
        raise UsageError(msg)


def open_store(store: Path, *, create: bool) -> Path:
    """Check (or create) a store folder. Refuses a folder that holds other things."""
    store = store.expanduser()
    manifest = store / MANIFEST
    if manifest.is_file():
        try:
            found = orjson.loads(manifest.read_bytes())
        except orjson.JSONDecodeError:
            found = None
        if not isinstance(found, dict) or found.get("format") != FORMAT or found.get("sketch_alpha") != sketch.ALPHA:
            msg = f"{store} is a history store this aiobs cannot read ({MANIFEST} says {found!r}, expected {FORMAT})"
            raise UsageError(msg)
        return store
    if not create:
        msg = f"{store} is not an aiobs history store (no {MANIFEST}); record a run with --history {store} first"
        raise UsageError(msg)
    if store.exists() and (not store.is_dir() or any(store.iterdir())):
        msg = f"{store} exists and is not an aiobs history store: give an empty or new folder for --history"
        raise UsageError(msg)
    store.mkdir(parents=True, exist_ok=True)
    (store / DAYS).mkdir(exist_ok=True)
    _write_bytes(manifest, orjson.dumps(_manifest(), option=orjson.OPT_INDENT_2) + b"\n")
    return store


def _write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_parquet(path: Path, frame: pl.DataFrame) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    """One writer at a time (two cron jobs on one store). POSIX only; elsewhere writers must not overlap."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with (store / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _day_path(store: Path, day: date) -> Path:
    return store / DAYS / f"{day.isoformat()}.parquet"


def _day_files(store: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted((store / DAYS).glob("*.parquet")):
        with contextlib.suppress(ValueError):
            found.append((date.fromisoformat(path.stem), path))
    return found


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    order = pl.col("dimension").replace_strict(_DIMENSION_ORDER, default=len(_DIMENSION_ORDER))
    return frame.sort([pl.col(BUCKET), order, pl.col("key")], nulls_last=False, maintain_order=True)


# -- writing -----------------------------------------------------------------------------------------------


def run_fingerprint(summary: Summary) -> str:
    """The identity of what a run read: the same logs with the same filters give the same id."""
    what = [summary.inputs, summary.bytes_read, summary.events, summary.n_requests]
    what += [summary.since.isoformat() if summary.since else None, summary.until.isoformat() if summary.until else None]
    return hashlib.sha256(orjson.dumps(what)).hexdigest()[:16]


def record_run(store: Path, summary: Summary, *, now: datetime | None = None) -> RunRecord:
    """Append a run's hourly profiles to the store (creating it). The call `--history DIR` makes."""
    profiles = profile_requests(summary.requests, every=BUCKET_EVERY)
    return append(store, profiles, run_id=run_fingerprint(summary), inputs=summary.inputs, now=now)


def append(
    store: Path, profiles: pl.DataFrame, *, run_id: str, inputs: list[str], now: datetime | None = None
) -> RunRecord:
    """Merge hourly profiles (`profile_requests(..., every="1h")`) into the store, bucket by bucket."""
    store = open_store(store, create=True)
    rows = profiles.with_columns(
        pl.col(BUCKET).dt.replace_time_zone("UTC") if profiles.schema[BUCKET].time_zone is None else pl.col(BUCKET),
        run_id=pl.lit(run_id),
    ).select(pl.col(name).cast(dtype) for name, dtype in STORE_SCHEMA.items())
    totals = rows.filter(pl.col("dimension") == OVERALL).select(BUCKET, "requests")
    kept_earlier = 0
    with _locked(store):
        for (day,), new in rows.group_by(pl.col(BUCKET).dt.date(), maintain_order=True):
            path = _day_path(store, day)
            new_totals = totals.filter(pl.col(BUCKET).dt.date() == day)
            if path.is_file():
                old = pl.read_parquet(path).select(pl.col(n).cast(t) for n, t in STORE_SCHEMA.items())
                old_totals = old.filter(pl.col("dimension") == OVERALL).select(BUCKET, old_requests="requests")
                verdict = new_totals.join(old_totals, on=BUCKET, how="left")
                wins = verdict.filter(pl.col("old_requests").is_null() | (pl.col("requests") >= pl.col("old_requests")))
                kept_earlier += verdict.height - wins.height
                winning = wins[BUCKET].implode()
                merged = pl.concat(
                    [old.filter(~pl.col(BUCKET).is_in(winning)), new.filter(pl.col(BUCKET).is_in(winning))]
                )
            else:
                merged = new
            _write_parquet(path, _sorted(merged))
        _record_in_runs(store, rows, run_id=run_id, inputs=inputs, now=now or datetime.now(UTC))
    return RunRecord(run_id, int(totals["requests"].sum()), totals.height, kept_earlier)


def _record_in_runs(store: Path, rows: pl.DataFrame, *, run_id: str, inputs: list[str], now: datetime) -> None:
    overall = rows.filter(pl.col("dimension") == OVERALL)
    entry = pl.DataFrame(
        {
            "run_id": [run_id],
            "recorded_at": [now],
            "inputs": [inputs],
            "requests": [int(overall["requests"].sum())],
            "first_bucket": [overall[BUCKET].min()],
            "last_bucket": [overall[BUCKET].max()],
            "buckets": [overall.height],
            "aiobs_version": [__version__],
        },
        schema=RUNS_SCHEMA,
    )
    earlier = runs(store).filter(pl.col("run_id") != run_id)
    _write_parquet(store / RUNS, pl.concat([earlier, entry]).sort("recorded_at", maintain_order=True))


# -- reading -----------------------------------------------------------------------------------------------


def runs(store: Path) -> pl.DataFrame:
    path = store / RUNS
    return pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=RUNS_SCHEMA)


def read_store(store: Path, *, since: datetime | None = None, until: datetime | None = None) -> pl.DataFrame:
    """Every stored profile row (or those of buckets in [since, until)), in bucket order."""
    store = open_store(store, create=False)
    files = [
        path
        for day, path in _day_files(store)
        if (since is None or day >= since.astimezone(UTC).date())
        and (until is None or day <= until.astimezone(UTC).date())
    ]
    if not files:
        return pl.DataFrame(schema=STORE_SCHEMA)
    frame = pl.concat(pl.read_parquet(p).select(pl.col(n).cast(t) for n, t in STORE_SCHEMA.items()) for p in files)
    if since is not None:
        frame = frame.filter(pl.col(BUCKET) >= since)
    if until is not None:
        frame = frame.filter(pl.col(BUCKET) < until)
    return frame


def days(store: Path) -> pl.DataFrame:
    """What the store holds, per day: hour buckets, requests, runs, file size."""
    store = open_store(store, create=False)
    rows = []
    for day, path in _day_files(store):
        overall = pl.read_parquet(path, columns=["dimension", "requests", "run_id"]).filter(
            pl.col("dimension") == OVERALL
        )
        rows.append(
            {
                "day": day,
                "buckets": overall.height,
                "requests": int(overall["requests"].sum()),
                "runs": overall["run_id"].n_unique(),
                "bytes": path.stat().st_size,
            }
        )
    schema = {"day": pl.Date(), "buckets": pl.Int64(), "requests": pl.Int64(), "runs": pl.Int64(), "bytes": pl.Int64()}
    return pl.DataFrame(rows, schema=schema)


def prune(store: Path, *, keep_days: int, now: datetime | None = None) -> list[date]:
    """Remove the days before the last `keep_days` (today, UTC, counts as one), and runs wholly before them."""
    if keep_days < 1:
        msg = "--keep-days must be at least 1"
        raise UsageError(msg)
    store = open_store(store, create=False)
    cutoff = (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=keep_days - 1)
    removed = []
    with _locked(store):
        for day, path in _day_files(store):
            if day < cutoff:
                path.unlink()
                removed.append(day)
        kept = runs(store).filter(pl.col("last_bucket").dt.date() >= cutoff)
        if (store / RUNS).is_file():
            _write_parquet(store / RUNS, kept)
    return removed


# -- trends and anomalies ----------------------------------------------------------------------------------

TREND_PERCENTILES = {"latency_p50": 0.50, "latency_p95": 0.95, "latency_p99": 0.99}


def _window(frame: pl.DataFrame, days: int, end: datetime | None) -> tuple[datetime, datetime] | None:
    if frame.is_empty():
        return None
    last = end or (frame[BUCKET].max() + timedelta(hours=1))  # type: ignore[operator]
    return last - timedelta(days=days), last


def rollup(frame: pl.DataFrame, *, every: str, by_key: bool) -> pl.DataFrame:
    """Profile rows merged per period (and key): counts summed, sketches merged, rates recomputed."""
    keys = ["period", "key"] if by_key else ["period"]
    rows = frame.with_columns(period=pl.col(BUCKET).dt.truncate(every)).lazy()
    sums = rows.group_by(keys).agg(
        pl.col("requests", "errors", "retries", "latency_n", "priced", "feedback_n", "feedback_accepted").sum(),
        pl.col("latency_sum", "cost_usd").sum(),
    )
    latency = sketch.quantiles(sketch.merge(rows, keys, "latency_sketch"), keys, TREND_PERCENTILES, "latency_sketch")
    flags = (
        rows.select(*keys, "flags")
        .explode("flags")
        .unnest("flags")
        .drop_nulls("name")
        .group_by([*keys, "name"])
        .agg(pl.col("hits", "n").sum())
        .with_columns(rate=pl.col("hits") / pl.col("n"))
    )
    out, latency, flags = pl.collect_all([sums, latency.drop("n"), flags])
    out = out.join(latency, on=keys, how="left", nulls_equal=True).with_columns(
        error_rate=pl.col("errors") / pl.col("requests"),
        latency_mean=pl.col("latency_sum") / pl.col("latency_n"),
        cost_usd=pl.when(pl.col("priced") > 0).then(pl.col("cost_usd")),
        cost_per_1k_requests=pl.when(pl.col("priced") > 0).then(pl.col("cost_usd") / pl.col("requests") * 1000),
        acceptance_rate=pl.when(pl.col("feedback_n") > 0).then(pl.col("feedback_accepted") / pl.col("feedback_n")),
    )
    if not flags.is_empty():
        wide = flags.with_columns(pl.format("rate_{}", "name").alias("name")).pivot(
            "name", index=keys, values="rate", aggregate_function="first"
        )
        out = out.join(wide, on=keys, how="left", nulls_equal=True)
    columns = [
        *keys,
        "requests",
        "errors",
        "error_rate",
        *TREND_PERCENTILES,
        "latency_mean",
        "cost_usd",
        "cost_per_1k_requests",
        "acceptance_rate",
    ]
    columns += sorted(c for c in out.columns if c.startswith("rate_"))
    return out.select(columns).sort(keys, nulls_last=True)


def trends(
    store: Path, *, days: int = 7, by: str = OVERALL, every: str = "1d", end: datetime | None = None
) -> pl.DataFrame:
    """Per period (default: day) over the last `days` days of data (ending at the newest bucket, or `end`).

    `by`: overall, model, route or stage. Columns: period, key (when grouped), requests, errors,
    error_rate, latency_p50/p95/p99 (from the merged sketches, within 1 %), latency_mean, cost_usd,
    cost_per_1k_requests, acceptance_rate, and rate_<flag> for each quality flag.
    """
    _check_by(by)
    _check_every(every)
    frame = read_store(store).filter(pl.col("dimension") == by)
    window = _window(frame, days, end)
    if window is None:
        return rollup(frame, every=every, by_key=by != OVERALL)
    frame = frame.filter((pl.col(BUCKET) >= window[0]) & (pl.col(BUCKET) < window[1]))
    return rollup(frame, every=every, by_key=by != OVERALL)


def anomalies(
    store: Path,
    *,
    days: int = 7,
    by: tuple[str, ...] = (OVERALL, *DIMENSIONS),
    rules: AnomalyRules | None = None,
    end: datetime | None = None,
    everything: bool = False,
) -> pl.DataFrame:
    """Hour buckets of the last `days` days where a metric jumped (aiobs.anomaly); all scored ones with everything."""
    rules = rules or AnomalyRules()
    for name in by:
        _check_by(name)
    frame = read_store(store).filter(pl.col("dimension").is_in(list(by)))
    window = _window(frame, days, end)
    if window is None:
        return score_series(hourly_series(frame), rules).head(0)
    # The baseline reaches back `reference_days` before the window.
    history = frame.filter(
        (pl.col(BUCKET) >= window[0] - timedelta(days=rules.reference_days)) & (pl.col(BUCKET) < window[1])
    )
    scored = score_series(hourly_series(history), rules).filter(pl.col(BUCKET) >= window[0])
    return scored if everything else scored.filter(pl.col("anomaly"))


_DURATION = re.compile(r"^(?:[1-9]\d*(?:ns|us|ms|s|m|h|d|w|mo|q|y))+$")


def _check_every(every: str) -> None:
    if not _DURATION.match(every):
        msg = f"invalid --every '{every}': use a duration such as 1h, 6h, 1d or 1w"
        raise UsageError(msg)


def _check_by(name: str) -> None:
    if name not in (OVERALL, *DIMENSIONS):
        msg = f"cannot show history by '{name}': choose from {', '.join((OVERALL, *DIMENSIONS))}"
        raise UsageError(msg)
