"""The deadlines of a case: each step's limit counted from the date that starts it (DESIGN.md, Periods)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from xinfang.config.procedure import STEPS

from .calendar import BEIJING, LegalCalendar, PeriodEnd
from .case_input import Case


@dataclass(frozen=True, slots=True)
class Limit:
    """A step's time limit with the text the decision cites: "FILE:LINE (basis)"."""

    days: int
    unit: str
    where: str  # FILE:LINE of `days`
    basis: str
    paused_by_hearings: bool = False
    extension: Limit | None = None  # how much longer the step may be made, where a law provides it (BJ Art. 40)
    source: str = ""  # "FILE:LINE (basis)", filled in from where and basis
    hours: int | None = None  # a limit in hours from the time received (流转不过夜); `days` is then 0
    by: dt.time | None = None  # the hour (Beijing time) the last day of a limit in days ends at

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", f"{self.where} ({self.basis})" if self.basis else self.where)

    @property
    def timed(self) -> bool:
        """Whether the deadline is a moment (due_at), not the end of a day."""
        return self.hours is not None or self.by is not None


# Step → the case field whose date starts it, in the order the procedure runs (config.procedure).
# `extension` is no step of its own: it lengthens `conclude`; any other step is lengthened by its own
# `extension` (Limit.extension, BJ Art. 40: review) when the case has one approved.
STARTS = tuple((s.name, s.starts) for s in STEPS if s.starts is not None)
# A case that is not accepted still has to be registered and its petitioner told (Art. 22, 23).
NOT_ADMISSIBLE_STEPS = frozenset(s.name for s in STEPS if s.when_refused)


class StepGroup:
    """Consecutive steps started by the same case field (received_on: route, notify, objection)."""

    __slots__ = ("field", "steps", "paused")

    def __init__(self, field: str, steps: tuple[tuple[str, Limit], ...]) -> None:
        self.field = field
        self.steps = steps
        self.paused = any(limit.paused_by_hearings for _, limit in steps)

    def __repr__(self) -> str:
        return f"StepGroup({self.field!r}, {[step for step, _ in self.steps]})"


class Periods:
    """Period ends memoised for one calendar: cases share start dates and limits, and the arithmetic dominates.

    Each end is kept with its date as ISO text, which is how a decision writes it; and the ends of a
    group of steps from one start date are kept together.
    """

    __slots__ = ("calendar", "_memo", "_groups")
    MAX = 100_000

    def __init__(self, calendar: LegalCalendar) -> None:
        self.calendar = calendar
        self._memo: dict[tuple, tuple[PeriodEnd, str]] = {}
        self._groups: dict[tuple, tuple[tuple[str, str, bool, str], ...]] = {}

    def end(self, start: dt.date, days: int, unit: str, pauses: tuple = ()) -> PeriodEnd:
        return self.ended(start, days, unit, pauses)[0]

    def ended(self, start: dt.date, days: int, unit: str, pauses: tuple = ()) -> tuple[PeriodEnd, str]:
        """The period's end and its date as ISO text."""
        key = (start, days, unit, pauses)
        found = self._memo.get(key)
        if found is None:
            end = self.calendar.period_end(start, days, unit, pauses)
            if len(self._memo) >= self.MAX:
                self._memo.clear()
            found = self._memo[key] = (end, end.date.isoformat())
        return found

    def group_ends(self, group: StepGroup, start: dt.date, hearings: tuple) -> tuple[tuple[str, str, bool, str], ...]:
        """(step, ISO date, provisional, source) for each step of `group` started on `start`."""
        pauses = hearings if group.paused else ()
        key = (group, start, pauses)  # a group is keyed by identity: it belongs to one plan's limits
        found = self._groups.get(key)
        if found is None:
            found = []
            for step, limit in group.steps:
                end, text = self.ended(start, limit.days, limit.unit, pauses if limit.paused_by_hearings else ())
                found.append((step, text, end.provisional, limit.source))
            if len(self._groups) >= self.MAX:
                self._groups.clear()
            found = self._groups[key] = tuple(found)
        return found


def extended_end(periods: Periods, start: dt.date, limit: Limit, days: int, extension: Limit,
                 pauses: tuple = ()) -> tuple[PeriodEnd, str]:
    """A limit plus an approved extension of `days`, counted on from the limit's end (one period when units agree)."""
    source = f"{limit.source} + extension {days} days: {extension.source}"
    if extension.unit == limit.unit:
        return periods.end(start, limit.days + days, limit.unit, pauses), source
    first = periods.end(start, limit.days, limit.unit, pauses)
    then = periods.end(first.date, days, extension.unit, pauses)
    return PeriodEnd(then.date, first.provisional or then.provisional), source


def conclusion(periods: Periods, case: Case, limit: Limit, extension: Limit | None) -> tuple[PeriodEnd, str]:
    """Art. 34: the handling limit, plus an approved extension counted on from it."""
    start, days = case.accepted_on or case.received_on, case.extension_days
    if not days or extension is None:
        return periods.end(start, limit.days, limit.unit), limit.source
    return extended_end(periods, start, limit, days, extension)


def steps(limits: Mapping[str, Limit], admissible: bool) -> tuple[StepGroup, ...]:
    """The steps these limits configure, in procedure order, grouped by the case field whose date starts
    them, so a stage the case has not reached is skipped at once."""
    groups: list[tuple[str, list[tuple[str, Limit]]]] = []
    for step, field in STARTS:
        if step in limits and (admissible or step in NOT_ADMISSIBLE_STEPS):
            if groups and groups[-1][0] == field:
                groups[-1][1].append((step, limits[step]))
            else:
                groups.append((field, [(step, limits[step])]))
    return tuple(StepGroup(field, tuple(group)) for field, group in groups)


def deadlines(periods: Periods, case: Case, plan: tuple[StepGroup, ...],
              extension: Limit | None) -> tuple[dict[str, dict], bool]:
    """Step → {"date", "provisional", "source"} (a step whose start is not given is absent), and whether any
    is provisional; a step whose limit is in hours or ends at an hour also has `due_at` (with_due_at). `plan`
    comes from steps()."""
    out: dict[str, dict] = {}
    provisional = False
    timed = False
    for group in plan:
        timed = timed or any(limit.timed for _, limit in group.steps)
        field = group.field
        if field == "handling_start":
            ((step, limit),) = group.steps
            if case.extension_days and extension is not None:
                end, source = conclusion(periods, case, limit, extension)
                text = end.date.isoformat()
            else:  # the common case, without conclusion()'s extension arithmetic
                end, text = periods.ended(case.accepted_on or case.received_on, limit.days, limit.unit)
                source = limit.source
            out[step] = {"date": text, "provisional": end.provisional, "source": source}
            provisional = provisional or end.provisional
            continue
        start = getattr(case, field)
        if start is None:
            continue
        if case.extensions and any(step in case.extended for step, _ in group.steps):
            pauses = case.hearings if group.paused else ()
            for step, limit in group.steps:
                held = pauses if limit.paused_by_hearings else ()
                days = case.extended.get(step)
                if days and limit.extension is not None:
                    end, source = extended_end(periods, start, limit, days, limit.extension, held)
                else:
                    end, source = periods.end(start, limit.days, limit.unit, held), limit.source
                out[step] = {"date": end.date.isoformat(), "provisional": end.provisional, "source": source}
                provisional = provisional or end.provisional
            continue
        for step, text, ended_provisional, source in periods.group_ends(group, start, case.hearings):
            out[step] = {"date": text, "provisional": ended_provisional, "source": source}
            if ended_provisional:
                provisional = True
    if timed:
        provisional = with_due_at(periods.calendar, case, plan, out) or provisional
    return out, provisional


def hours_start(case: Case) -> dt.datetime:
    """When a limit in hours starts: the time received; a case giving only the day, at the end of that day
    (the latest it may have come in, so no clock runs out before it could have)."""
    if case.received_at is not None:
        return case.received_at
    return dt.datetime.combine(case.received_on + dt.timedelta(days=1), dt.time(0), BEIJING)


def with_due_at(calendar: LegalCalendar, case: Case, plan: tuple[StepGroup, ...], out: dict[str, dict]) -> bool:
    """Add `due_at` (ISO 8601, +08:00) to the deadlines whose limit is in hours or ends at an hour, moving an hours
    limit's `date` to the day it ends; True when one of them is provisional."""
    provisional = False
    for group in plan:
        for step, limit in group.steps:
            found = out.get(step)
            if found is None or not limit.timed:
                continue
            if limit.hours is not None:
                start = hours_start(case)
                due = calendar.hours_end(start, limit.hours)
                found["date"] = due.date().isoformat()
                unknown = not (calendar.is_known_year(start.year) and calendar.is_known_year(due.year))
                found["provisional"] = unknown
                provisional = provisional or unknown
            else:
                due = dt.datetime.combine(dt.date.fromisoformat(found["date"]), limit.by, BEIJING)
            found["due_at"] = due.isoformat()
    return provisional


def request_late(periods: Periods, case: Case, limits: Mapping[str, Limit]) -> bool:
    """SD Art. 33: a review (or re-review) requested after its request window closed."""
    if case.review_requested_on is None and case.rereview_requested_on is None:
        return False
    for answered, requested, step in (("answered_on", "review_requested_on", "review_request"),
                                      ("review_answered_on", "rereview_requested_on", "rereview_request")):
        asked = getattr(case, requested)
        if asked is None:
            continue
        start, limit = getattr(case, answered), limits.get(step)
        if start is not None and limit is not None:
            if asked > periods.end(start, limit.days, limit.unit).date:
                return True
    return False
