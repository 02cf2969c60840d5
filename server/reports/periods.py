"""The periods a report covers: ISO weeks (2024-W10), fortnights (two weeks ending on an even week), months."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from xinfang.config import CHINA

__all__ = ["CADENCES", "Period", "PeriodError", "beijing_span", "latest_complete", "parse_period", "previous"]

CADENCES = {"weekly": "每周", "fortnightly": "每半月", "monthly": "每月"}
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period label that does not fit the report's cadence; the message is Chinese, naming the label."""


@dataclass(frozen=True)
class Period:
    """`label` as stored and typed (2024-W10, 2024-03), its first and last day (Beijing dates)."""

    cadence: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def title(self) -> str:
        """2024年第10周（3月4日至3月10日）, 2024年第9至10周（…）, 2024年3月."""
        if self.cadence == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        year, week = self.end.isocalendar()[:2]
        first = self.start.isocalendar()[1]
        weeks = f"第{week}周" if first == week else f"第{first}至{week}周"
        return f"{year}年{weeks}（{_day(self.start)}至{_day(self.end)}）"


def beijing_span(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start 00:00, the day after end 00:00) in Beijing time: the days as a clock sees them."""
    after = end + dt.timedelta(days=1)
    return dt.datetime.combine(start, dt.time(), CHINA), dt.datetime.combine(after, dt.time(), CHINA)


def _day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def parse_period(label: str, cadence: str) -> Period:
    """The period `label` names under `cadence`; PeriodError saying what to write instead."""
    if cadence == "monthly":
        found = _MONTH.match(label or "")
        if not found or not 1 <= int(found[2]) <= 12:
            raise PeriodError(f"期别“{label}”不是月份：月报写作 YYYY-MM，如 2024-03")
        start = dt.date(int(found[1]), int(found[2]), 1)
        return Period(cadence, label, start, _month_after(start) - dt.timedelta(days=1))
    found = _WEEK.match(label or "")
    if not found:
        raise PeriodError(f"期别“{label}”不是周次：周报、半月报写作 YYYY-Www，如 2024-W10")
    year, week = int(found[1]), int(found[2])
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"期别“{label}”不存在：{year}年没有第{week}周") from None
    end = monday + dt.timedelta(days=6)
    if cadence == "weekly":
        return Period(cadence, label, monday, end)
    if week % 2 and week != 53:
        raise PeriodError(f"期别“{label}”不是半月报的期别：半月报按两周一期，以偶数周（或第53周）为期末，"
                          f"如 {year}-W{week + 1:02d}")
    start = monday if week == 53 else monday - dt.timedelta(days=7)
    return Period(cadence, label, start, end)


def _month_after(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _week_label(day: dt.date) -> str:
    year, week = day.isocalendar()[:2]
    return f"{year}-W{week:02d}"


def latest_complete(cadence: str, today: dt.date) -> Period:
    """The last period of `cadence` that ended before `today` (the one a report made today covers)."""
    if cadence == "monthly":
        return parse_period(_month_label(_month_before(today.replace(day=1))), cadence)
    yesterday = today - dt.timedelta(days=1)
    sunday = yesterday - dt.timedelta(days=(yesterday.weekday() + 1) % 7)
    if cadence == "fortnightly":
        while sunday.isocalendar()[1] % 2 and sunday.isocalendar()[1] != 53:
            sunday -= dt.timedelta(days=7)
    return parse_period(_week_label(sunday), cadence)


def previous(period: Period) -> Period:
    """The period just before `period`, of the same cadence (a 月通报's month before)."""
    if period.cadence == "monthly":
        return parse_period(_month_label(_month_before(period.start)), "monthly")
    return latest_complete(period.cadence, period.start)


def _month_before(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def _month_label(first: dt.date) -> str:
    return f"{first.year}-{first.month:02d}"
