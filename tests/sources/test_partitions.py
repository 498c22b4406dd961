"""Date-partitioned folders: what each layout says about time, and which folders a window keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiobs.sources.partitions import PartitionTime, TimeWindow


def time_of(*segments: str) -> PartitionTime:
    time = PartitionTime()
    for segment in segments:
        time = time.after(segment)
    return time


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("segments", "fields"),
    [
        (("2026", "11", "28"), (2026, 11, 28)),
        (("2026", "11", "28", "13"), (2026, 11, 28, 13)),
        (
            ("AWSLogs", "123456789012", "BedrockModelInvocationLogs", "us-east-1", "2026", "11", "28", "13"),
            (2026, 11, 28, 13),
        ),
        (("app", "2026-11-28"), (2026, 11, 28)),
        (("app", "2026-11-28", "07"), (2026, 11, 28, 7)),
        (("app", "2026-11-28-07"), (2026, 11, 28, 7)),
        (("dt=2026-11-28",), (2026, 11, 28)),
        (("dt=20261128",), (2026, 11, 28)),
        (("date=2026-11-28T07",), (2026, 11, 28, 7)),
        (("ds=2026-11-28", "hour=07"), (2026, 11, 28, 7)),
        (("dt=2026-11-28", "region=eu", "hour=7"), (2026, 11, 28, 7)),
        (("year=2026", "month=11", "day=28"), (2026, 11, 28)),
        (("year=2026", "month=1", "day=2", "hour=3"), (2026, 1, 2, 3)),
        (("YEAR=2026", "Month=11"), (2026, 11)),
        (("year=2026", "region=eu", "month=11"), (2026, 11)),
        (("y=2026", "m=11", "d=28", "h=13"), (2026, 11, 28, 13)),
        (("2026", "02", "29"), (2026, 2)),  # not a leap year: 29 is not a day of February 2026
        (("2028", "02", "29"), (2028, 2, 29)),
        (("2026", "13"), (2026,)),  # no month 13
        (("2026", "11", "28", "24"), (2026, 11, 28)),  # no hour 24
        (("2026", "eu", "11"), (2026,)),  # a bare month must directly follow the bare year
        (("1234", "11"), ()),  # outside the years taken as years
        (("v2", "build-2026", "11"), ()),
        (("month=11",), ()),  # a month without a year says nothing
        (("2026", "2027"), (2026,)),  # one year only
        (("2026", "11", "28", "13", "59"), (2026, 11, 28, 13)),  # finer than an hour: not a level
        (("dt=2026-11-31",), ()),
        (("2026", "1", "2"), (2026,)),  # bare months and days are two digits
    ],
)
def test_layouts(segments: tuple[str, ...], fields: tuple[int, ...]) -> None:
    assert time_of(*segments).fields == fields


def test_spans_are_half_open_utc_periods() -> None:
    assert time_of("2026").span() == (utc(2026, 1, 1), utc(2027, 1, 1))
    assert time_of("2026", "02").span() == (utc(2026, 2, 1), utc(2026, 3, 1))
    assert time_of("2028", "02").span() == (utc(2028, 2, 1), utc(2028, 3, 1))
    assert time_of("2026", "12").span() == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert time_of("dt=2026-11-28").span() == (utc(2026, 11, 28), utc(2026, 11, 29))
    assert time_of("2026", "11", "28", "23").span() == (utc(2026, 11, 28, 23), utc(2026, 11, 29))
    assert time_of("logs").span() is None


def test_only_the_hour_is_the_finest_level() -> None:
    assert not time_of("2026", "11", "28").finest
    assert time_of("2026", "11", "28", "13").finest


def test_window_edges() -> None:
    window = TimeWindow(utc(2026, 11, 28), utc(2026, 11, 29))
    day = time_of("2026", "11", "28").span()
    before = time_of("2026", "11", "27").span()
    after = time_of("2026", "11", "29").span()
    assert day is not None and before is not None and after is not None
    assert window.overlaps(*day) and window.covers(*day)
    assert not window.overlaps(*before)  # ends exactly at since
    assert not window.overlaps(*after)  # starts exactly at until
    assert TimeWindow(utc(2026, 11, 28, 6)).overlaps(*day)
    assert not TimeWindow(utc(2026, 11, 28, 6)).covers(*day)
    assert TimeWindow().is_open and TimeWindow().covers(*day)


instants = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC))
days = st.dates(min_value=datetime(2025, 6, 1).date(), max_value=datetime(2027, 6, 1).date())


@given(since=st.none() | instants, length=st.none() | st.timedeltas(timedelta(seconds=1), timedelta(days=40)), day=days)
def test_a_day_folder_is_kept_exactly_when_some_instant_of_it_is_in_the_window(
    since: datetime | None, length: timedelta | None, day: object
) -> None:
    until = since + length if since is not None and length is not None else None
    window = TimeWindow(since, until)
    time = time_of(f"dt={day}")
    span = time.span()
    assert span is not None
    start, end = span
    # Reference: the latest start and the earliest end of the two intervals leave room for an instant.
    latest_start = max(start, since) if since is not None else start
    earliest_end = min(end, until) if until is not None else end
    assert window.overlaps(*span) == (latest_start < earliest_end)
    assert end - start == timedelta(days=1)
