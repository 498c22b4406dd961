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
temporary name and renamed, so a cron job killed halfway leaves each day file whole (the files
themselves, and what happens to a damaged one: aiobs.history_store). Every function takes `warn`, which
gets one sentence per damaged file skipped or kept aside (default: a StoreWarning).

For `aiobs report --history DIR`: call `record_run(DIR, summary)` once, then `trends(DIR, ...)` and
`detect(DIR, ...)` (incidents, and what could not be scored) or `anomalies(DIR, ...)` for the frames to show.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import polars as pl

from aiobs import __version__, sketch
from aiobs.anomaly import AnomalyRules
from aiobs.errors import UsageError
from aiobs.history_store import BUCKET_EVERY as BUCKET_EVERY
from aiobs.history_store import DAYS as DAYS
from aiobs.history_store import FORMAT as FORMAT
from aiobs.history_store import MANIFEST as MANIFEST
from aiobs.history_store import RUNS as RUNS
from aiobs.history_store import RUNS_SCHEMA as RUNS_SCHEMA
from aiobs.history_store import STORE_SCHEMA as STORE_SCHEMA
from aiobs.history_store import StoreWarning as StoreWarning
from aiobs.history_store import Warn as Warn
from aiobs.history_store import check_store_target as check_store_target
from aiobs.history_store import (
    day_files,
    day_path,
    load_for_merge,
    locked,
    read_or_skip,
    remove_leftovers,
    repair_manifest,
    set_aside_days,
    warner,
    write_parquet,
)
from aiobs.history_store import open_store as open_store
from aiobs.incidents import Detection
from aiobs.incidents import detect as detect_profiles
from aiobs.metrics import cost_per_1k, error_rate
from aiobs.profiles import BUCKET, DIMENSIONS, OVERALL, profile_requests
from aiobs.summary import Summary, check_every

_DIMENSION_ORDER = {OVERALL: 0, **{d: i + 1 for i, d in enumerate(DIMENSIONS)}}


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    requests: int
    #: Hour buckets the run had data for.
    buckets: int
    #: Of those, the buckets where the store kept an earlier run that saw more requests.
    kept_earlier: int


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    order = pl.col("dimension").replace_strict(_DIMENSION_ORDER, default=len(_DIMENSION_ORDER))
    return frame.sort([pl.col(BUCKET), order, pl.col("key")], nulls_last=False, maintain_order=True)


# -- writing -----------------------------------------------------------------------------------------------


def run_fingerprint(summary: Summary) -> str:
    """The identity of what a run read: the same logs with the same filters give the same id."""
    what = [summary.inputs, summary.bytes_read, summary.events, summary.n_requests]
    what += [summary.since.isoformat() if summary.since else None, summary.until.isoformat() if summary.until else None]
    return hashlib.sha256(orjson.dumps(what)).hexdigest()[:16]


def record_run(store: Path, summary: Summary, *, now: datetime | None = None, warn: Warn | None = None) -> RunRecord:
    """Append a run's hourly profiles to the store (creating it). The call `--history DIR` makes.

    `warn` gets one sentence per damaged file kept aside or leftover tidied (default: a StoreWarning).
    """
    profiles = profile_requests(summary.requests, every=BUCKET_EVERY)
    return append(store, profiles, run_id=run_fingerprint(summary), inputs=summary.inputs, now=now, warn=warn)


def append(
    store: Path,
    profiles: pl.DataFrame,
    *,
    run_id: str,
    inputs: list[str],
    now: datetime | None = None,
    warn: Warn | None = None,
) -> RunRecord:
    """Merge hourly profiles (`profile_requests(..., every="1h")`) into the store, bucket by bucket.

    A day file it would merge into that is damaged is kept aside (`NAME.damaged-<time>`, reported) and
    replaced by this run's hours of that day: never overwritten, and the store heals.
    """
    report = warner(warn)
    store = open_store(store, create=True)
    bucket = profiles.schema[BUCKET]
    naive = isinstance(bucket, pl.Datetime) and bucket.time_zone is None
    rows = profiles.with_columns(
        pl.col(BUCKET).dt.replace_time_zone("UTC") if naive else pl.col(BUCKET),
        run_id=pl.lit(run_id),
    ).select(pl.col(name).cast(dtype) for name, dtype in STORE_SCHEMA.items())
    totals = rows.filter(pl.col("dimension") == OVERALL).select(BUCKET, "requests")
    kept_earlier = 0
    with locked(store) as exclusive:
        _tidy(store, exclusive=exclusive, warn=report)
        for (day,), new in rows.group_by(pl.col(BUCKET).dt.date(), maintain_order=True):
            path = day_path(store, day)
            new_totals = totals.filter(pl.col(BUCKET).dt.date() == day)
            then = f"wrote this run's hours of {day} to a new {path.name}"
            old = load_for_merge(path, STORE_SCHEMA, report, then=then) if path.is_file() else None
            if old is not None:
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
            write_parquet(path, _sorted(merged))
        _record_in_runs(store, rows, run_id=run_id, inputs=inputs, now=now or datetime.now(UTC), warn=report)
    return RunRecord(run_id, int(totals["requests"].sum()), totals.height, kept_earlier)


def _tidy(store: Path, *, exclusive: bool, warn: Warn) -> None:
    """What every write run does first, under the lock: remove killed writers' leftovers, mend the manifest."""
    (store / DAYS).mkdir(exist_ok=True)
    remove_leftovers(store, exclusive=exclusive, warn=warn)
    repair_manifest(store, warn)


def _record_in_runs(
    store: Path, rows: pl.DataFrame, *, run_id: str, inputs: list[str], now: datetime, warn: Warn
) -> None:
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
    path = store / RUNS
    earlier = load_for_merge(path, RUNS_SCHEMA, warn, then="started a new list of runs") if path.is_file() else None
    if earlier is not None:
        entry = pl.concat([earlier.filter(pl.col("run_id") != run_id), entry])
    write_parquet(path, entry.sort("recorded_at", maintain_order=True))


# -- reading -----------------------------------------------------------------------------------------------


def runs(store: Path, *, warn: Warn | None = None) -> pl.DataFrame:
    """One row per recorded run (empty, reported, when runs.parquet is damaged)."""
    path = store.expanduser() / RUNS
    found = read_or_skip(path, RUNS_SCHEMA, warner(warn)) if path.is_file() else None
    return found if found is not None else pl.DataFrame(schema=RUNS_SCHEMA)


def read_store(
    store: Path, *, since: datetime | None = None, until: datetime | None = None, warn: Warn | None = None
) -> pl.DataFrame:
    """Every stored profile row (or those of buckets in [since, until)), in bucket order.

    A damaged day file is skipped and reported to `warn` (default: a StoreWarning), one sentence each.
    """
    report = warner(warn)
    store = open_store(store, create=False, warn=report)
    files = [
        path
        for day, path in day_files(store)
        if (since is None or day >= since.astimezone(UTC).date())
        and (until is None or day <= until.astimezone(UTC).date())
    ]
    frames = [frame for path in files if (frame := read_or_skip(path, STORE_SCHEMA, report)) is not None]
    if not frames:
        return pl.DataFrame(schema=STORE_SCHEMA)
    frame = pl.concat(frames)
    if since is not None:
        frame = frame.filter(pl.col(BUCKET) >= since)
    if until is not None:
        frame = frame.filter(pl.col(BUCKET) < until)
    return frame


def days(store: Path, *, warn: Warn | None = None) -> pl.DataFrame:
    """What the store holds, per day: hour buckets, requests, runs, file size (damaged days skipped, reported)."""
    report = warner(warn)
    store = open_store(store, create=False, warn=report)
    rows = []
    for day, path in day_files(store):
        frame = read_or_skip(path, STORE_SCHEMA, report)
        if frame is None:
            continue
        overall = frame.filter(pl.col("dimension") == OVERALL)
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


def prune(store: Path, *, keep_days: int, now: datetime | None = None, warn: Warn | None = None) -> list[date]:
    """Remove the days before the last `keep_days` (today, UTC, counts as one), and runs wholly before them.

    Damaged day files kept aside go with their day. A damaged runs.parquet is left as it is (reported).
    """
    if keep_days < 1:
        msg = "--keep-days must be at least 1"
        raise UsageError(msg)
    report = warner(warn)
    store = open_store(store, create=False, warn=report)
    cutoff = (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=keep_days - 1)
    removed = []
    with locked(store) as exclusive:
        _tidy(store, exclusive=exclusive, warn=report)
        for day, path in [*day_files(store), *set_aside_days(store)]:
            if day < cutoff:
                path.unlink()
                removed.append(day)
        if (store / RUNS).is_file():
            kept = read_or_skip(store / RUNS, RUNS_SCHEMA, report)
            if kept is not None:
                write_parquet(store / RUNS, kept.filter(pl.col("last_bucket").dt.date() >= cutoff))
    return sorted(set(removed))


# -- trends and anomalies ----------------------------------------------------------------------------------

TREND_PERCENTILES = {"latency_p50": 0.50, "latency_p95": 0.95, "latency_p99": 0.99}


def _window(frame: pl.DataFrame, days: int, end: datetime | None) -> tuple[datetime, datetime] | None:
    if frame.is_empty():
        return None
    newest: datetime = frame[BUCKET].max()  # type: ignore[assignment]
    last = end or newest + timedelta(hours=1)
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
    out, per_latency, per_flag = pl.collect_all([sums, latency.drop("n"), flags])
    out = out.join(per_latency, on=keys, how="left", nulls_equal=True).with_columns(
        error_rate=error_rate(pl.col("errors"), pl.col("requests")),
        latency_mean=pl.col("latency_sum") / pl.col("latency_n"),
        cost_usd=pl.when(pl.col("priced") > 0).then(pl.col("cost_usd")),
        cost_per_1k_requests=cost_per_1k(pl.col("cost_usd"), pl.col("priced"), pl.col("requests")),
        acceptance_rate=pl.when(pl.col("feedback_n") > 0).then(pl.col("feedback_accepted") / pl.col("feedback_n")),
    )
    if not per_flag.is_empty():
        wide = per_flag.with_columns(pl.format("rate_{}", "name").alias("name")).pivot(
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
    store: Path,
    *,
    days: int = 7,
    by: str = OVERALL,
    every: str = "1d",
    end: datetime | None = None,
    warn: Warn | None = None,
) -> pl.DataFrame:
    """Per period (default: day) over the last `days` days of data (ending at the newest bucket, or `end`).

    `by`: overall, model, route or stage. Columns: period, key (when grouped), requests, errors,
    error_rate, latency_p50/p95/p99 (from the merged sketches, within 1 %), latency_mean, cost_usd,
    cost_per_1k_requests, acceptance_rate, and rate_<flag> for each quality flag. Damaged day files are
    skipped and reported to `warn` (as `read_store` does).
    """
    _check_by(by)
    check_every(every)
    frame = read_store(store, warn=warn).filter(pl.col("dimension") == by)
    window = _window(frame, days, end)
    if window is None:
        return rollup(frame, every=every, by_key=by != OVERALL)
    frame = frame.filter((pl.col(BUCKET) >= window[0]) & (pl.col(BUCKET) < window[1]))
    return rollup(frame, every=every, by_key=by != OVERALL)


def detect(
    store: Path,
    *,
    days: int = 7,
    by: tuple[str, ...] = (OVERALL, *DIMENSIONS),
    rules: AnomalyRules | None = None,
    end: datetime | None = None,
    warn: Warn | None = None,
) -> Detection:
    """The anomaly detector over the last `days` days (aiobs.incidents): every bucket scored, the incidents,
    and per group and metric the bucket size it was scored on, or why it was not."""
    rules = rules or AnomalyRules()
    for name in by:
        _check_by(name)
    frame = read_store(store, warn=warn).filter(pl.col("dimension").is_in(list(by)))
    window = _window(frame, days, end)
    if window is None:
        return detect_profiles(frame, rules)
    # The baseline reaches back `reference_days` before the window; a coarse bucket may start before it too.
    history = frame.filter(
        (pl.col(BUCKET) >= window[0] - timedelta(days=rules.reference_days)) & (pl.col(BUCKET) < window[1])
    )
    return detect_profiles(history, rules, since=window[0])


def anomalies(
    store: Path,
    *,
    days: int = 7,
    by: tuple[str, ...] = (OVERALL, *DIMENSIONS),
    rules: AnomalyRules | None = None,
    end: datetime | None = None,
    everything: bool = False,
    warn: Warn | None = None,
) -> pl.DataFrame:
    """Buckets of the last `days` days where a metric jumped, one row per bucket, group and metric (aiobs.anomaly);
    all scored ones with everything. `detect` gives the same rows grouped into incidents, and what was not scored."""
    scored = detect(store, days=days, by=by, rules=rules, end=end, warn=warn).scored
    return scored if everything else scored.filter(pl.col("anomaly"))


def _check_by(name: str) -> None:
    if name not in (OVERALL, *DIMENSIONS):
        msg = f"cannot show history by '{name}': choose from {', '.join((OVERALL, *DIMENSIONS))}"
        raise UsageError(msg)
