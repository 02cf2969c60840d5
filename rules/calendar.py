"""The legal calendar: rest days and the period arithmetic (Civil Code Art. 201, 203) every deadline uses."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable, Iterable, Literal

import chinese_calendar

Unit = Literal["calendar", "working"]
UNITS: tuple[str, ...] = ("calendar", "working")

# The days a case, a query or a sweep may name. Periods are at most MAX_PERIOD_DAYS and pauses lie
# in the range too, so every deadline counted from such a day ends centuries before date.max
# (9999-12-31): the arithmetic cannot overflow, and a date near 9999 is the sender's error, said so.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
MAX_PERIOD_DAYS = 36500


BEIJING = timezone(timedelta(hours=8), "北京时间")  # a day in a rule set is a day in China


class DayOutOfRange(ValueError):
    """A day outside FIRST_DAY..LAST_DAY, or a period longer than MAX_PERIOD_DAYS."""


def parse_day(text: object) -> date:
    """The date a YYYY-MM-DD text names, within FIRST_DAY..LAST_DAY; ValueError saying what is accepted."""
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayOutOfRange(f"{text!r} is not a date from {FIRST_DAY} to {LAST_DAY}")
    return day


def in_day_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


@dataclass(frozen=True)
class HolidayTable:
    """One year's State Council holiday schedule, as a rule set configures it.

    It exists because the package only knows the years published before its release (2004-2026):
    the notice for the next year comes out late in the year, and a rule set must be able to add it
    (or correct a year) without a release. A notice may name days of the neighbouring year (a New
    Year break starting on 30 December): such days apply where they fall.
    """

    year: int
    rest_days: frozenset[date]  # public holidays, including the weekdays given off
    working_days: frozenset[date]  # make-up working days (调休上班)

    def __post_init__(self) -> None:
        # Accept any iterable but store frozensets, so tables stay hashable (calendar_for caches on them).
        object.__setattr__(self, "rest_days", frozenset(self.rest_days))
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        both = self.rest_days & self.working_days
        if both:
            raise ValueError(f"holiday table {self.year}: {_listed(both)} both a rest day and a working day")


@dataclass(frozen=True)
class PeriodEnd:
    """The last day of a period, and whether a day it depends on lies in a year of unknown holidays."""

    date: date
    provisional: bool


def _by_year(days: Iterable[date]) -> dict[int, set[date]]:
    grouped: dict[int, set[date]] = {}
    for day in days:
        grouped.setdefault(day.year, set()).add(day)
    return grouped


def _listed(days: Iterable[date]) -> str:
    return ", ".join(sorted(d.isoformat() for d in days))


# The package's data grouped once by year, so building a year's bitmap never scans the whole table.
_PACKAGE_REST = _by_year(chinese_calendar.holidays)
_PACKAGE_WORK = _by_year(chinese_calendar.workdays)
_PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


class _Year:
    """One year precomputed: a rest-day flag per day and the sorted ordinals of its working days."""

    __slots__ = ("first", "rest", "working")

    def __init__(self, first: int, rest: bytes) -> None:
        self.first = first  # ordinal of 1 January
        self.rest = rest
        self.working = [first + i for i, flag in enumerate(rest) if not flag]


class LegalCalendar:
    """Rest days and deadline counting for one combination of holiday tables and local adjustments.

    Precedence for a day, lowest first: weekends; the rule set's table for its year, or else the
    package; days other tables name in this year; then extra_rest_days and extra_working_days, the
    local adjustments (a county's own day off, a declared working Saturday).
    """

    def __init__(
        self,
        tables: Iterable[HolidayTable] = (),
        extra_rest_days: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self._tables: dict[int, HolidayTable] = {}
        for table in tables:
            if self._tables.setdefault(table.year, table) != table:
                raise ValueError(f"two different holiday tables for {table.year}")
        self._extra_rest = frozenset(extra_rest_days)
        self._extra_working = frozenset(extra_working_days)
        if self._extra_rest & self._extra_working:
            both = _listed(self._extra_rest & self._extra_working)
            raise ValueError(f"{both} both an extra rest day and an extra working day")
        self._years: dict[int, _Year] = {}

    def is_known_year(self, year: int) -> bool:
        """Whether the year's holidays are published (in the package or a table): else weekends only."""
        return year in self._tables or year in _PACKAGE_YEARS

    def is_rest_day(self, day: date) -> bool:
        """A weekend or public holiday, unless it is a make-up working day."""
        year = self._year(day.year)
        return bool(year.rest[day.toordinal() - year.first])

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += timedelta(days=1)
        while self.is_rest_day(day):
            day += timedelta(days=1)
        return day

    def hours_end(self, start: datetime, hours: int, by: time | None = None) -> datetime:
        """A limit in hours (流转不过夜), in Beijing time.

        With `by` (a county's "by 09:00 the next working day"), the step is due at that time on the first
        working day after the day it started, however many hours that is; without it, `hours` after `start`,
        and an end on a rest day moves to the same time on the next working day (the office is closed).
        A naive `start` is taken as Beijing time.
        """
        start = start.replace(tzinfo=BEIJING) if start.tzinfo is None else start.astimezone(BEIJING)
        if by is not None:
            return datetime.combine(self.next_working_day(start.date()), by, BEIJING)
        end = start + timedelta(hours=hours)
        if self.is_rest_day(end.date()):
            end = datetime.combine(self.next_working_day(end.date()), end.timetz())
        return end

    def period_end(
        self, start: date, days: int, unit: Unit, pauses: Iterable[tuple[date, date]] = ()
    ) -> PeriodEnd:
        """The last day of a period of `days` days starting on `start` (Civil Code Art. 201, 203).

        The start day is not counted. A calendar-day period whose last day is a rest day ends on
        the next working day; a working-day period counts working days only (make-up working days
        count, weekday holidays do not), so it always ends on one. Pauses are inclusive ranges of
        days that are not counted (N22 Art. 36: hearing time); overlaps count once. The period
        never ends inside a pause: a roll-forward passes over it like a rest day.

        A zero-day period (the same-day track, 当日办) ends on the start day itself, or, when that
        is a rest day, on the next working day in either unit: the office cannot act that day.

        A year with no known calendar is counted on weekends alone and the result is provisional.
        """
        if isinstance(start, datetime) or not isinstance(start, date):
            raise TypeError(f"start must be a date (in Asia/Shanghai), not {start!r}")
        if unit not in UNITS:
            raise ValueError(f"unit must be 'calendar' or 'working', not {unit!r}")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"days must be a non-negative integer, not {days!r}")
        if days > MAX_PERIOD_DAYS:
            raise DayOutOfRange(f"a period of {days} days is longer than the {MAX_PERIOD_DAYS} days counted")
        pauses = tuple(pauses)
        outside = [d for d in (start, *(d for span in pauses for d in span)) if not in_day_range(d)]
        if outside:
            raise DayOutOfRange(f"{outside[0].isoformat()} is not a date from {FIRST_DAY} to {LAST_DAY}")
        paused = _merge(pauses)
        first = end = start.toordinal()
        if days:
            first += 1
            if unit == "calendar":
                end = _count(first - 1, days, paused, _calendar_days, _nth_calendar_day)
            else:
                end = _count(first - 1, days, paused, self._working_days, self._nth_working_day)
        if not days or unit == "calendar":
            end = self._next_open_day(end, paused)
        years = range(date.fromordinal(first).year, date.fromordinal(end).year + 1)
        provisional = not all(self.is_known_year(y) for y in years)
        return PeriodEnd(date.fromordinal(end), provisional)

    def _year(self, year: int) -> _Year:
        info = self._years.get(year)
        if info is None:  # a race only builds the same year twice
            info = self._years[year] = self._build(year)
        return info

    def _build(self, year: int) -> _Year:
        first = date(year, 1, 1).toordinal()
        length = date(year, 12, 31).toordinal() - first + 1
        monday_offset = date(year, 1, 1).weekday()
        rest = bytearray((monday_offset + i) % 7 >= 5 for i in range(length))

        def mark(days: Iterable[date], flag: int) -> None:
            for day in days:
                if day.year == year:
                    rest[day.toordinal() - first] = flag

        own = self._tables.get(year)
        if own is not None:
            mark(own.rest_days, 1)
            mark(own.working_days, 0)
        elif year in _PACKAGE_YEARS:
            mark(_PACKAGE_REST.get(year, ()), 1)
            mark(_PACKAGE_WORK.get(year, ()), 0)
        for table in self._tables.values():
            if table is not own:
                mark(table.rest_days, 1)
                mark(table.working_days, 0)
        mark(self._extra_rest, 1)
        mark(self._extra_working, 0)
        return _Year(first, bytes(rest))

    def _is_rest_ordinal(self, ordinal: int) -> bool:
        year = self._year(date.fromordinal(ordinal).year)
        return bool(year.rest[ordinal - year.first])

    def _next_open_day(self, ordinal: int, paused: list[tuple[int, int]]) -> int:
        """Art. 203 roll-forward: the day itself if working and not paused, else the next such day."""
        while self._is_rest_ordinal(ordinal) or any(a <= ordinal <= b for a, b in paused):
            ordinal += 1
        return ordinal

    def _working_days(self, after: int, until: int) -> int:
        """How many working days lie in (after, until]."""
        total = 0
        for y in range(date.fromordinal(after + 1).year, date.fromordinal(until).year + 1):
            working = self._year(y).working
            total += bisect_right(working, until) - bisect_right(working, after)
        return total

    def _nth_working_day(self, after: int, n: int) -> int:
        """The n-th working day after the day `after` (n >= 1)."""
        y = date.fromordinal(after + 1).year
        while True:
            working = self._year(y).working
            i = bisect_right(working, after)
            if n <= len(working) - i:
                return working[i + n - 1]
            n -= len(working) - i
            y += 1


def _calendar_days(after: int, until: int) -> int:
    return until - after


def _nth_calendar_day(after: int, n: int) -> int:
    return after + n


def _count(
    after: int,
    n: int,
    paused: list[tuple[int, int]],
    days_between: Callable[[int, int], int],
    nth_day: Callable[[int, int], int],
) -> int:
    """The n-th counted day after `after`, skipping paused days: jumps pause to pause, not day by day."""
    for first, last in paused:
        if last <= after:
            continue
        free = days_between(after, first - 1) if first - 1 > after else 0
        if n <= free:
            break
        n -= free
        after = last
    return nth_day(after, n)


def _merge(pauses: Iterable[tuple[date, date]]) -> list[tuple[int, int]]:
    """Pauses as sorted, disjoint inclusive ordinal ranges, so overlapping hearings count once."""
    spans = []
    for first, last in pauses:
        if last < first:
            raise ValueError(f"pause ends on {last.isoformat()}, before it starts on {first.isoformat()}")
        spans.append((first.toordinal(), last.toordinal()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def calendar_for(
    tables: Iterable[HolidayTable] = (),
    extra_rest_days: Iterable[date] = (),
    extra_working_days: Iterable[date] = (),
) -> LegalCalendar:
    """The shared calendar for these tables and adjustments: rule sets reuse a handful, built once."""
    return _cached_calendar(frozenset(tables), frozenset(extra_rest_days), frozenset(extra_working_days))


@lru_cache(maxsize=128)
def _cached_calendar(
    tables: frozenset[HolidayTable], extra_rest_days: frozenset[date], extra_working_days: frozenset[date]
) -> LegalCalendar:
    return LegalCalendar(tables, extra_rest_days, extra_working_days)
