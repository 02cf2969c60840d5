"""The deadlines of a case: each step's limit counted from the date that starts it (DESIGN.md, Periods)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from .calendar import LegalCalendar, PeriodEnd
from .case_input import Case


@dataclass(frozen=True, slots=True)
class Limit:
    """A step's time limit with the text the decision cites: "FILE:LINE (basis)"."""

    days: int
    unit: str
    where: str  # FILE:LINE of `days`
    basis: str
    paused_by_hearings: bool = False
    source: str = ""  # "FILE:LINE (basis)", filled in from where and basis

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", f"{self.where} ({self.basis})" if self.basis else self.where)


# Step → the case field whose date starts it, in the order the procedure runs (Art. 22, 23, 34, 35, 36;
# SD Art. 43, 44 for the acceptance steps). `extension` is no step of its own: it lengthens `conclude`.
STARTS = (
    ("route", "received_on"),
    ("notify", "received_on"),
    ("objection", "received_on"),
    ("conclude", "handling_start"),
    ("review_request", "answered_on"),
    ("review_acceptance", "review_requested_on"),
    ("review", "review_requested_on"),
    ("rereview_request", "review_answered_on"),
    ("rereview_acceptance", "rereview_requested_on"),
    ("rereview", "rereview_requested_on"),
)
# A case that is not accepted still has to be registered and its petitioner told (Art. 22, 23).
NOT_ADMISSIBLE_STEPS = frozenset({"route", "notify"})


def start_of(case: Case, field: str) -> dt.date | None:
    if field == "handling_start":  # Art. 34: from acceptance, else from receipt
        return case.accepted_on or case.received_on
    return getattr(case, field)


class Periods:
    """Period ends memoised for one calendar: cases share start dates and limits, and the arithmetic dominates."""

    __slots__ = ("calendar", "_memo")
    MAX = 100_000

    def __init__(self, calendar: LegalCalendar) -> None:
        self.calendar = calendar
        self._memo: dict[tuple, PeriodEnd] = {}

    def end(self, start: dt.date, days: int, unit: str, pauses: tuple = ()) -> PeriodEnd:
        key = (start, days, unit, pauses)
        found = self._memo.get(key)
        if found is None:
            found = self.calendar.period_end(start, days, unit, pauses)
            if len(self._memo) >= self.MAX:
                self._memo.clear()
            self._memo[key] = found
        return found


def deadline(periods: Periods, start: dt.date, limit: Limit, case: Case) -> PeriodEnd:
    pauses = case.hearings if limit.paused_by_hearings else ()
    return periods.end(start, limit.days, limit.unit, pauses)


def conclusion(periods: Periods, case: Case, limits: Mapping[str, Limit]) -> tuple[PeriodEnd, str] | None:
    """Art. 34: the handling limit, plus an approved extension counted on from it (one period when units agree)."""
    limit = limits.get("conclude")
    start = start_of(case, "handling_start")
    if limit is None:
        return None
    extension, days = limits.get("extension"), case.extension_days
    if not days or extension is None:
        return deadline(periods, start, limit, case), limit.source
    source = f"{limit.source} + extension {days} days: {extension.source}"
    if extension.unit == limit.unit:
        return periods.end(start, limit.days + days, limit.unit), source
    first = periods.end(start, limit.days, limit.unit)
    then = periods.end(first.date, days, extension.unit)
    return PeriodEnd(then.date, first.provisional or then.provisional), source


def deadlines(periods: Periods, case: Case, limits: Mapping[str, Limit],
              admissible: bool = True) -> dict[str, dict]:
    """Step → {"date", "provisional", "source"}; a step whose start is not given, or without a limit, is absent."""
    out: dict[str, dict] = {}
    for step, field in STARTS:
        limit = limits.get(step)
        if limit is None or not admissible and step not in NOT_ADMISSIBLE_STEPS:
            continue
        start = start_of(case, field)
        if start is None:
            continue
        if step == "conclude":
            end, source = conclusion(periods, case, limits)
        else:
            end, source = deadline(periods, start, limit, case), limit.source
        out[step] = {"date": end.date.isoformat(), "provisional": end.provisional, "source": source}
    return out


def request_late(periods: Periods, case: Case, limits: Mapping[str, Limit]) -> bool:
    """SD Art. 33: a review (or re-review) requested after its request window closed."""
    for answered, requested, step in (("answered_on", "review_requested_on", "review_request"),
                                      ("review_answered_on", "rereview_requested_on", "rereview_request")):
        start, asked, limit = getattr(case, answered), getattr(case, requested), limits.get(step)
        if start is not None and asked is not None and limit is not None:
            if asked > deadline(periods, start, limit, case).date:
                return True
    return False
