"""The figures of 周调度 and 月通报, counted in SQL (the indicators by server/cases/indicators.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from xinfang.config import CHINA, RuleSetLibrary, jurisdiction_prefix
from xinfang.config.procedure import DUTY_STEPS, OFFICE_UNIT, OPEN_STAGES, duties_of, step
from xinfang.config.units import unit_names
from xinfang.server.cases.indicators import breakdown
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, Petition

from .assessment import Assessment, assess
from .periods import Period, beijing_span, previous

__all__ = ["DUE_SOON_DAYS", "Dispatch", "Bulletin", "bulletin", "dispatch", "open_deadlines"]

DUE_SOON_DAYS = 3  # 周调度 lists the cases due within this many days as 临期


@dataclass
class Dispatch:
    """周调度 of a period: per unit the open cases, overdue, due soon and escalations; the open cases; the escalations."""

    units: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Bulletin:
    """月通报 of a period: the indicators by unit and by jurisdiction below, this period and the one before; 考评."""

    units: list[dict[str, Any]] = field(default_factory=list)
    jurisdictions: list[dict[str, Any]] = field(default_factory=list)
    assessment: Assessment | None = None
    previous: Period | None = None


def _unit_names(library: RuleSetLibrary, code: str, at: dt.date) -> dict[str, str]:
    """Unit id → real name: the level's own units, then those below (a township's own unit keeps its name)."""
    return unit_names(library, [j.code for j in _down(library, code)], at)


def _down(library: RuleSetLibrary, code: str) -> list:
    """`code` and every jurisdiction below it, the level first."""
    found, i = [library.tree.get(code)], 0
    while i < len(found):
        found += library.tree.children(found[i].code)
        i += 1
    return found


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def open_deadlines(code: str, end: dt.date):
    """Per case of `code` and below received by `end`, its duty step still running at the end of `end`:
    not done by then (done later, or not yet done on a case still open). One row per running step, under the
    body it answers to: routing and telling the receiving office's, handling the unit's (procedure.Step)."""
    running = or_(CaseDeadline.done_on > end, and_(CaseDeadline.done_on.is_(None), Petition.stage.in_(OPEN_STAGES)))
    charged = case((CaseDeadline.step.in_(duties_of("office")), OFFICE_UNIT), else_=Petition.route_unit)
    return (select(Petition.id, Petition.number, charged.label("route_unit"), Petition.category, CaseDeadline.step,
                   CaseDeadline.due_on)
            .join(CaseDeadline, CaseDeadline.petition_id == Petition.id)
            .where(Petition.jurisdiction_code.like(jurisdiction_prefix(code) + "%"), Petition.received_on <= end,
                   CaseDeadline.step.in_(DUTY_STEPS), running))


def dispatch(session: Session, library: RuleSetLibrary, code: str, period: Period) -> Dispatch:
    """周调度 as of the period's last day: the cases with a running step (days left to its deadline, negative
    when overdue), by unit; and every escalation step fired in the period (督办函 counted apart)."""
    end = period.end
    names = _unit_names(library, code, end)
    effective = library.effective(code, end)
    categories = effective.get("classification.categories") or {}
    steps = effective.get("escalation.steps") or {}
    pending = open_deadlines(code, end).subquery("pending")
    first = (select(pending.c.id, func.min(pending.c.due_on).label("due_on")).group_by(pending.c.id)
             .subquery("first_due"))
    per_case = (select(pending.c.id, pending.c.route_unit, first.c.due_on)
                .join(first, and_(first.c.id == pending.c.id, first.c.due_on == pending.c.due_on))
                .distinct().subquery("per_case"))
    soon = end + dt.timedelta(days=DUE_SOON_DAYS)
    rows = session.execute(select(
        per_case.c.route_unit, func.count(),
        _count_if(per_case.c.due_on < end),
        _count_if(and_(per_case.c.due_on >= end, per_case.c.due_on <= soon)),
        func.min(per_case.c.due_on)).group_by(per_case.c.route_unit)).all()
    since, until = beijing_span(period.start, period.end)
    fired = (select(Petition.number, Petition.route_unit, CaseEscalation.step, CaseEscalation.letter,
                    CaseEscalation.fired_at)
             .join(Petition, Petition.id == CaseEscalation.petition_id)
             .where(Petition.jurisdiction_code.like(jurisdiction_prefix(code) + "%"),
                    CaseEscalation.fired_at >= since, CaseEscalation.fired_at < until)
             .order_by(CaseEscalation.fired_at, Petition.number))
    escalations = [{"number": number, "unit": unit, "unit_name": names.get(unit or "", "未转送"),
                    "step": (steps.get(step_id) or {}).get("name") or "督办", "letter": bool(letter),
                    "fired_on": fired_at.astimezone(CHINA).date()}
                   for number, unit, step_id, letter, fired_at in session.execute(fired)]
    fired_by_unit: dict[Any, list[int]] = {}
    for item in escalations:
        counts = fired_by_unit.setdefault(item["unit"], [0, 0])
        counts[0] += 1
        counts[1] += item["letter"]
    units = []
    for unit, open_cases, overdue, due_soon, earliest in rows:
        fired_here = fired_by_unit.pop(unit, [0, 0])
        units.append({"unit": unit, "name": names.get(unit or "", "未转送"), "open": int(open_cases),
                      "overdue": int(overdue or 0), "due_soon": int(due_soon or 0),
                      "fewest_days_left": (earliest - end).days, "escalations": fired_here[0],
                      "letters": fired_here[1]})
    for unit, (count, letters) in fired_by_unit.items():  # escalations on a unit with nothing open at the end
        units.append({"unit": unit, "name": names.get(unit or "", "未转送"), "open": 0, "overdue": 0, "due_soon": 0,
                      "fewest_days_left": None, "escalations": count, "letters": letters})
    units.sort(key=lambda u: (-u["overdue"], -u["open"], -u["escalations"], str(u["unit"] or "")))
    cases = []
    for _, number, unit, category, step_name, due_on in session.execute(
            open_deadlines(code, end).order_by(CaseDeadline.due_on, Petition.number)):
        cases.append({"number": number, "unit": unit, "unit_name": names.get(unit or "", "未转送"),
                      "category": (categories.get(category) or {}).get("name") or category,
                      "step": step(step_name).label, "due_on": due_on, "days_left": (due_on - end).days})
    return Dispatch(units, _first_per_case(cases), escalations)


def _first_per_case(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nearest running step of each case (the list is ordered by deadline)."""
    seen: set[str] = set()
    return [c for c in cases if not (c["number"] in seen or seen.add(c["number"]))]


def bulletin(session: Session, library: RuleSetLibrary, code: str, period: Period) -> Bulletin:
    """月通报: the headline indicators of the cases received in the period, as of its last day, by unit and by
    jurisdiction below, beside the same of the period before; and the 考评 table (server/reports/assessment.py)."""
    before = previous(period)

    def rows(by: str) -> list[dict[str, Any]]:
        now = breakdown(session, library, code, period.start, period.end, period.end, by=by)
        then = {r["key"]: r for r in breakdown(session, library, code, before.start, before.end, before.end, by=by)}
        for row in now:
            row["before"] = then.get(row["key"])
        return [row for row in now if row["key"] is not None and row["key"] != (code if by != "unit" else None)]

    found = Bulletin(rows("unit"), rows("jurisdiction"), previous=before)
    found.assessment = assess(session, library, code, period.start, period.end, period.end)
    if found.assessment:
        ranked = found.assessment
        for rows_, scored in ((found.units, ranked.units), (found.jurisdictions, ranked.jurisdictions)):
            ranks = {s.key: s.rank for s in scored}
            rows_.sort(key=lambda r: (ranks.get(r["key"], len(ranks) + 1), -r["cases"], str(r["key"])))
    return found

