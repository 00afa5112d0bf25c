"""Pure planning of a published year's segments: the year partition's rows split by trade date
into a settled segment and a recent one, each its own file (or files) in the version folder,
sorted by symbol and date. A day's changed bars are new or restated bars of the last weeks, so
they fall in the recent segment: publish merges that one and carries the settled file into the
new version as it is (Storage.carry), instead of reading, sorting and rewriting the whole year.

The boundary is the first day of the month that holds the run's date less RECENT_DAYS: it
moves once a month (around mid-month), and that day the settled segment of the current year is
rewritten once. RECENT_DAYS is above the age of the oldest bar a compact fetch restates in
practice (the bench restates bars 20 sessions back, 28 days), so a day's restatements stay in
the recent segment. A year the boundary does not fall in is one segment: the years before it
are settled whole, and in a year's first weeks the previous year holds the recent segment's
first part (its own split stays until the boundary leaves it).

A segment's file is named seg-<first>-<last>-<n>.parquet (dates inclusive, yyyymmdd): the name
says which dates it holds, so the next publish knows what it may carry. Files named otherwise
(part-00000.parquet, written before segments or by a repair) hold the whole year and are never
carried: the first publish into such a year rewrites it into segments.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

RECENT_DAYS = 45
_NAME = re.compile(r"(?:^|/)seg-(\d{8})-(\d{8})-(\d{5})\.parquet$")


@dataclass(frozen=True, order=True)
class Segment:
    first: dt.date
    last: dt.date

    def holds(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def file_name(self, number: int) -> str:
        return f"seg-{self.first:%Y%m%d}-{self.last:%Y%m%d}-{number:05d}.parquet"


@dataclass(frozen=True)
class Carry:
    segment: Segment
    keys: tuple[str, ...]  # the current version's files of the segment, taken as they are


@dataclass(frozen=True)
class Merge:
    segment: Segment  # merged afresh from the current rows and the run's rows in its dates


def of_key(key: str) -> Segment | None:
    """The segment a file's name says it holds (None: not a segment file)."""
    match = _NAME.search(key)
    if match is None:
        return None
    first, last = (dt.datetime.strptime(match.group(i), "%Y%m%d").date() for i in (1, 2))
    return Segment(first, last)


def boundary(today: dt.date) -> dt.date:
    """The first day of the recent segment for a run dated `today`."""
    return (today - dt.timedelta(days=RECENT_DAYS)).replace(day=1)


def layout(year: int, today: dt.date) -> list[Segment]:
    """The segments of trade_year `year` for a run dated `today`, oldest first, covering the year."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cut = boundary(today)
    if not start < cut <= end:
        return [Segment(start, end)]
    return [Segment(start, cut - dt.timedelta(days=1)), Segment(cut, end)]


def plan(year: int, today: dt.date, current_keys: Iterable[str],
         changed_dates: Iterable[dt.date] | None) -> list[Carry | Merge]:
    """Per segment of the year's layout: carry the current version's files of that segment
    when none of the run's rows falls in it, else merge it (every segment when the dates are
    not known: None). A current version with any file
    that is not a segment file, or whose segments are cut elsewhere, has nothing to carry."""
    current: dict[Segment, list[str]] = {}
    for key in current_keys:
        segment = of_key(key)
        if segment is None:
            return [Merge(s) for s in layout(year, today)]
        current.setdefault(segment, []).append(key)
    if changed_dates is None:
        return [Merge(s) for s in layout(year, today)]
    dates = set(changed_dates)
    steps: list[Carry | Merge] = []
    for segment in layout(year, today):
        keys = current.get(segment)
        if keys and not any(segment.holds(d) for d in dates):
            steps.append(Carry(segment, tuple(sorted(keys))))
        else:
            steps.append(Merge(segment))
    return steps
