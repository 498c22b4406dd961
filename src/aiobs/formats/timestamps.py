"""Timestamps as people really write them, read with Polars expressions.

- epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude (a number from 1e11
  up is milliseconds, from 1e14 microseconds, from 1e17 nanoseconds; below, seconds);
- ISO-8601 / RFC 3339 with a zone (`Z`, `+02:00`), the fast path;
- a space instead of `T`, a comma before the fraction (Python's `asctime`: `2026-11-20 09:00:00,123`),
  no zone at all: read as UTC and counted (`naive-timestamp`), since the log does not say;
- `--time-format` (strftime, e.g. `%d/%b/%Y:%H:%M:%S %z`) for anything else, tried first;
- `--timezone Europe/Paris`: timestamps without a zone are that zone's wall-clock time (Python's `asctime`
  is local time), converted to UTC; a time that zone skips (a daylight-saving gap) is `invalid-timestamp`.

A timestamp present but unreadable is never a silent null: the `_bad_*` flag columns become
`invalid-timestamp` issues with file and line.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import polars as pl

from aiobs.errors import UsageError, did_you_mean
from aiobs.schema import UTC_TIME

ZONED_ISO = "%Y-%m-%dT%H:%M:%S%.f%#z"
#: A time outside these is a broken clock or a placeholder (Go's zero time 0001-01-01, 9999-12-31), not an
#: event: an input problem, never a point on a chart or a day in the history store.
EARLIEST, LATEST = datetime(1970, 1, 2, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
NAIVE_ISO = "%Y-%m-%dT%H:%M:%S%.f"
#: Timestamp columns a parser reads: the event's start and, for logger formats, the moment it ended.
TIME_COLUMNS = ("start", "end")


def _epoch(raw: pl.Expr, number: pl.Expr) -> pl.Expr:
    magnitude = number.abs()
    epoch_us = (
        pl.when(magnitude >= 1e17)
        .then(raw.cast(pl.Int64, strict=False) // 1000)  # ns: parse as an integer, a float loses precision
        .when(magnitude >= 1e14)
        .then(number)
        .when(magnitude >= 1e11)
        .then(number * 1e3)
        .otherwise(number * 1e6)
    )
    return epoch_us.cast(pl.Int64, strict=False).cast(UTC_TIME)


def fast_timestamp(raw: pl.Expr) -> pl.Expr:
    """The common forms, fast: epoch by magnitude, or ISO-8601 with a zone.

    Parsing a date costs more than anything else per event, so only one ISO format is tried here;
    `finish_timestamps` gives the rows it could not read the permissive parse.
    """
    number = raw.cast(pl.Float64, strict=False)
    iso = raw.str.to_datetime(ZONED_ISO, strict=False, time_unit="us", time_zone="UTC")
    return pl.when(number.is_not_null()).then(_epoch(raw, number)).otherwise(iso)


def naive_iso(raw: pl.Expr) -> pl.Expr:
    """ISO-8601 without a zone, `T` or a space, `.` or `,` before the fraction; read as UTC."""
    text = raw.str.strip_chars().str.replace(" ", "T", literal=True).str.replace(",", ".", literal=True)
    return text.str.to_datetime(NAIVE_ISO, strict=False, time_unit="us").dt.replace_time_zone("UTC")


def permissive_timestamp(raw: pl.Expr) -> pl.Expr:
    """Every form but `--time-format`: ISO with or without a zone (naive means UTC), or epoch."""
    return permissive_parts(raw)[0]


def permissive_parts(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(the time, whether it was read without a zone) for every form but `--time-format`."""
    text = raw.str.strip_chars()
    number = text.cast(pl.Float64, strict=False)
    zoned = pl.coalesce(
        text.str.to_datetime(ZONED_ISO, strict=False, time_unit="us", time_zone="UTC"),
        text.str.replace(" ", "T", literal=True)
        .str.replace(",", ".", literal=True)
        .str.to_datetime(ZONED_ISO, strict=False, time_unit="us", time_zone="UTC"),
    )
    naive = pl.when(zoned.is_null()).then(naive_iso(text))
    value = pl.when(number.is_not_null()).then(_epoch(text, number)).otherwise(pl.coalesce(zoned, naive))
    return value, number.is_null() & zoned.is_null() & naive.is_not_null()


def plausible(time: pl.Expr) -> pl.Expr:
    """`time` where it lies between EARLIEST and LATEST, else null."""
    return pl.when(time.is_between(EARLIEST, LATEST, "left")).then(time)


def check_time_format(time_format: str | None) -> str | None:
    """A strftime format Polars can use, or a UsageError naming it."""
    if time_format is None:
        return None
    # A format is usable when Polars reads back what it writes: unknown directives (%Q) pass Polars'
    # own check and then match nothing, silently.
    probe = datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC).strftime(time_format)
    try:
        parsed = pl.Series([probe]).str.to_datetime(time_format, strict=False).item()
    except (pl.exceptions.PolarsError, ValueError) as exc:
        parsed, reason = None, str(exc).splitlines()[0]
    else:
        reason = "it reads no date and time"
    if parsed is None:
        example = "%d/%b/%Y:%H:%M:%S %z"
        msg = f"--time-format '{time_format}' is not a strftime format aiobs can read ({reason}), e.g. {example}"
        raise UsageError(msg)
    return time_format


def formatted_timestamp(raw: pl.Expr, time_format: str) -> tuple[pl.Expr, bool]:
    """(`raw` read with the user's strftime format, whether that format has no zone)."""
    zoned = any(z in time_format for z in ("%z", "%:z", "%#z", "%Z"))
    parsed = raw.str.strip_chars().str.to_datetime(time_format, strict=False, time_unit="us")
    if zoned:
        return parsed.dt.convert_time_zone("UTC"), False
    return parsed.dt.replace_time_zone("UTC"), True


def check_timezone(zone: str | None) -> str | None:
    """An IANA time zone name (`Europe/Paris`, `UTC`), or a one-sentence UsageError naming a close one."""
    if zone is None:
        return None
    try:
        zoneinfo.ZoneInfo(zone)
        # Polars reads fewer names than zoneinfo (not `localtime` or `posix/...`): ask it, before any log is read.
        pl.Series([datetime(2026, 1, 1)]).dt.replace_time_zone(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pl.exceptions.PolarsError):
        hint = did_you_mean(zone, sorted(zoneinfo.available_timezones() - {zone}))
        msg = f"--timezone '{zone}' is not an IANA time zone name (such as Europe/Paris or UTC){hint}"
        raise UsageError(msg) from None
    return zone


def in_zone(events: pl.DataFrame, zone: str | None) -> pl.DataFrame:
    """Starts read without a zone (`_naive_start`, read as UTC wall time) taken as `zone`'s wall time instead.

    A wall time that `zone` skips (the hour clocks jump over) has no instant: it is flagged `_bad_zone_start`,
    an `invalid-timestamp` problem, rather than guessed; a repeated one (the hour clocks go back) is its first.
    """
    if zone is None or zone == "UTC" or "_naive_start" not in events.columns or not events["_naive_start"].any():
        return events
    wall = pl.col("start").dt.replace_time_zone(None)
    zoned = wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    naive = pl.col("_naive_start") & pl.col("start").is_not_null()
    # One step, so that `_bad_zone_start` reads the starts before they are replaced.
    return events.with_columns(
        start=pl.when(naive).then(zoned).otherwise(pl.col("start")), _bad_zone_start=naive & zoned.is_null()
    )


def finish_timestamps(events: pl.DataFrame) -> pl.DataFrame:
    """Retry the timestamps the fast path could not read with the permissive parse, on those rows only.

    For each of `start` and `end` that `to_events` read, its `_raw_<c>` column is dropped and `_bad_<c>`
    stays true only where no form could read it; `_naive_<c>` marks those read without a zone. Then the
    event's start is settled: its own start, else its end minus its duration, else its end.
    """
    for column in TIME_COLUMNS:
        raw = f"_raw_{column}"
        if raw not in events.columns:
            continue
        bad = events.get_column(f"_bad_{column}")
        naive_name = f"_naive_{column}"
        if naive_name not in events.columns:
            events = events.with_columns(pl.lit(False).alias(naive_name))
        if bad.any():
            rows = bad.arg_true()
            value, naive = permissive_parts(pl.col(raw))
            fixed = events[rows].select(value.alias("v"), naive.fill_null(False).alias("n"))
            events = events.with_columns(
                events.get_column(column).scatter(rows, fixed.get_column("v")),
                bad.scatter(rows, fixed.get_column("v").is_null()),
                events.get_column(naive_name).scatter(rows, fixed.get_column("n")),
            )
        events = events.drop(raw)
        implausible = events.get_column(column).is_not_null() & ~events.get_column(column).is_between(
            EARLIEST, LATEST, "left"
        )
        if implausible.any():
            events = events.with_columns(
                pl.when(implausible).then(None).otherwise(pl.col(column)).alias(column),
                (pl.col(f"_bad_{column}") | implausible).alias(f"_bad_{column}"),
            )
    if "end" not in events.columns:
        return events
    if events.get_column("end").null_count() == events.height:  # the common case: timestamps are starts
        return events.drop("end", "_naive_end")
    # A line stamped when it was written: its event started `duration` before.
    back = pl.duration(microseconds=(pl.col("duration_ms") * 1000).round(0).cast(pl.Int64))
    start = pl.coalesce(pl.col("start"), pl.col("end") - back, pl.col("end"))
    naive = pl.when(pl.col("start").is_not_null()).then("_naive_start").otherwise("_naive_end")
    return events.with_columns(start=start, _naive_start=naive.fill_null(False)).drop("end", "_naive_end")
