"""Time ranges of date-partitioned folders, so a `--since`/`--until` window can skip whole folders.

A folder's path says what time its objects cover when its segments name a date, from the year down
to the hour, in one of the layouts log writers use (all UTC):

- bare numbers, one segment each: `2026/11/28/13/` (Firehose, Bedrock, CloudTrail), or one
  `2026-11-28/` segment (`2026-11-28-13/` with the hour), optionally followed by an hour `13/`;
- Hive keys: `year=2026/month=11/day=28/hour=13/` (also `y=`, `m=`, `d=`, `h=`, `hr=`, unpadded
  numbers allowed), with other segments between them (`year=2026/region=eu/month=11/`);
- one date key: `dt=2026-11-28/` (also `date=`, `ds=`, `day=`; `YYYYMMDD`; an hour suffix
  `dt=2026-11-28-13` or `T13`), optionally followed by `hour=13/`.

Each level must follow the one above it (a month after a year, a day after a month, an hour after
a day), and the values must be a real date (2026/02/30 is not one); a bare number must directly
follow the bare number above it. A segment that is not a date leaves the time as it was, so
`dt=2026-11-28/region=eu/part-0.jsonl` is still inside that day.

A folder whose time range does not overlap the window `[since, until)` is skipped; one that lies
wholly inside it (or is an hour, the finest level) needs no further pruning below it. Commands list
with `TimeWindow.around(since, until)`, widened by `EDGE_SLACK` on each side, so the result equals a
read of every file: a request that started just before `since` has later events in the first folder
kept, and must be seen whole to be left out.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: How far a request's events may lie from its start and still be read whole at a window's edge (a request
#: lasts seconds to minutes; a single event longer than a day is already rejected as absurd).
EDGE_SLACK = timedelta(hours=1)
#: Bare four-digit folders are taken as years only in this range (a folder `1234/` is not a year).
YEARS = range(1990, 2200)

_YEAR, _MONTH, _DAY, _HOUR = 0, 1, 2, 3
_BARE_YEAR = re.compile(r"([0-9]{4})")
_BARE_NUMBER = re.compile(r"([0-9]{2})")
_BARE_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[-T_]([0-9]{2}))?")
_DATE_VALUE = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[-T_ ]([0-9]{2}))?")
_YEAR_VALUE = re.compile(r"[0-9]{4}")
_LEVEL_VALUE = re.compile(r"[0-9]{1,2}")
_KEYED = re.compile(r"([A-Za-z_]+)=(.+)")
_LEVEL_KEYS = {
    "year": _YEAR,
    "yr": _YEAR,
    "y": _YEAR,
    "month": _MONTH,
    "mo": _MONTH,
    "m": _MONTH,
    "day": _DAY,
    "d": _DAY,
    "hour": _HOUR,
    "hr": _HOUR,
    "h": _HOUR,
}
_DATE_KEYS = frozenset({"dt", "date", "ds", "day"})


@dataclass(frozen=True)
class TimeWindow:
    """`[since, until)`, either end open when None."""

    since: datetime | None = None
    until: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return (self.until is None or start < self.until) and (self.since is None or end > self.since)

    def covers(self, start: datetime, end: datetime) -> bool:
        return (self.since is None or start >= self.since) and (self.until is None or end <= self.until)

    @classmethod
    def around(cls, since: datetime | None, until: datetime | None) -> TimeWindow:
        """The folders to read for requests that start in `[since, until)`: with EDGE_SLACK on each side,
        since a request's events reach past its start (a request that began just before `since` must
        be seen whole to be left out, one that began just before `until` to be counted whole)."""
        return cls(since - EDGE_SLACK if since else None, until + EDGE_SLACK if until else None)


@dataclass(frozen=True)
class PartitionTime:
    """What the folders so far say about time: (year, month, day, hour), as many as were named."""

    fields: tuple[int, ...] = ()
    #: The last segment was a bare-number date, so a bare number right after it is the next level.
    bare: bool = False

    @property
    def finest(self) -> bool:
        return len(self.fields) > _HOUR

    def after(self, segment: str) -> PartitionTime:
        """The time once the folder `segment` is entered (unchanged when it does not name a date)."""
        return _parse(self, segment) or PartitionTime(self.fields, bare=False)

    def names_date(self, segment: str) -> bool:
        return _parse(self, segment) is not None

    def span(self) -> tuple[datetime, datetime] | None:
        """`[start, end)` of the named period, or None when no date was named."""
        if not self.fields:
            return None
        year = self.fields[0]
        month, day, hour = (*self.fields[1:], None, None, None)[:3]
        if month is None:
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        if day is None:
            start = datetime(year, month, 1, tzinfo=UTC)
            return start, start + timedelta(days=calendar.monthrange(year, month)[1])
        if hour is None:
            start = datetime(year, month, day, tzinfo=UTC)
            return start, start + timedelta(days=1)
        start = datetime(year, month, day, hour, tzinfo=UTC)
        return start, start + timedelta(hours=1)


def _parse(time: PartitionTime, segment: str) -> PartitionTime | None:
    level = len(time.fields)
    if level == _YEAR and (match := _BARE_YEAR.fullmatch(segment)):
        return _extended(time, [int(match.group(1))], bare=True)
    if level == _YEAR and (match := _BARE_DATE.fullmatch(segment)):
        return _extended(time, [int(g) for g in match.groups() if g is not None], bare=True)
    if time.bare and _MONTH <= level <= _HOUR and (match := _BARE_NUMBER.fullmatch(segment)):
        return _extended(time, [int(match.group(1))], bare=True)
    keyed = _KEYED.fullmatch(segment)
    if keyed is None:
        return None
    key, value = keyed.group(1).lower(), keyed.group(2)
    if key in _DATE_KEYS and level == _YEAR and (match := _DATE_VALUE.fullmatch(value)):
        return _extended(time, [int(g) for g in match.groups() if g is not None], bare=False)
    if _LEVEL_KEYS.get(key) == level and (_YEAR_VALUE if level == _YEAR else _LEVEL_VALUE).fullmatch(value):
        return _extended(time, [int(value)], bare=False)
    return None


def _extended(time: PartitionTime, values: list[int], *, bare: bool) -> PartitionTime | None:
    fields = (*time.fields, *values)
    if len(fields) > _HOUR + 1 or not _valid(fields):
        return None
    return PartitionTime(fields, bare=bare)


def _valid(fields: tuple[int, ...]) -> bool:
    year = fields[_YEAR]
    if year not in YEARS:
        return False
    if len(fields) > _MONTH and not 1 <= fields[_MONTH] <= 12:
        return False
    if len(fields) > _DAY and not 1 <= fields[_DAY] <= calendar.monthrange(year, fields[_MONTH])[1]:
        return False
    return len(fields) <= _HOUR or 0 <= fields[_HOUR] <= 23
