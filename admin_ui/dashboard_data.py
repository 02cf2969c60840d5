"""What the supervisors' dashboard reads besides server.indicators: the period, intake over time, escalations."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinfang.config import NoRuleSetInForce, RuleSetLibrary, jurisdiction_prefix
from xinfang.config.procedure import MEASURES, OPEN_STAGES
from xinfang.server.store.case_tables import CaseEscalation, CaseEvent, Petition
from xinfang.server.store.models import AuditLog, User, utcnow

from .charts import Column

__all__ = ["HANDLED_EVENT", "PRESETS", "Awaiting", "Period", "PeriodError", "awaiting_escalations", "intake_counts",
           "intake_columns", "mark_handled", "parse_period", "preset_period"]

PRESETS = {"month": "本月", "quarter": "本季度", "year": "本年", "12m": "近12个月"}
DEFAULT_PRESET = "12m"  # the demo data's year, and a whole year of any office's work
HANDLED_EVENT = "escalation_handled"  # CaseEvent.action when a supervisor marks a fired step handled
MAX_DAYS = 366 * 10
ASKS_A_SUPERVISOR = tuple(m.name for m in MEASURES if m.asks_supervisor)  # warnings and marks are the unit's


class PeriodError(ValueError):
    """A period that cannot be read; the message is the Chinese sentence the page shows."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    preset: str | None = None  # which preset it is, when it is one

    @property
    def label(self) -> str:
        named = PRESETS.get(self.preset or "")
        return f"{named}（{self.start} 至 {self.end}）" if named else f"{self.start} 至 {self.end}"


def preset_period(preset: str, today: dt.date) -> Period:
    """本月, 本季度, 本年 (each up to today) and the twelve months ending today (from the 1st, 11 months back)."""
    if preset == "month":
        start = today.replace(day=1)
    elif preset == "quarter":
        start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    elif preset == "year":
        start = dt.date(today.year, 1, 1)
    elif preset == "12m":
        month = today.year * 12 + today.month - 1 - 11
        start = dt.date(month // 12, month % 12 + 1, 1)
    else:
        raise PeriodError(f"没有“{preset}”这个时段，可选：" + "、".join(PRESETS.values()))
    return Period(start, today, preset)


def parse_period(args: Mapping[str, str], today: dt.date) -> Period:
    """`?preset=` wins; else `?from=`/`?to=` (either may be left out: 12 months back, today); else the default."""
    preset = (args.get("preset") or "").strip()
    if preset:
        return preset_period(preset, today)
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if not raw_from and not raw_to:
        return preset_period(DEFAULT_PRESET, today)
    end = _date(raw_to, "结束日期") if raw_to else today
    start = _date(raw_from, "开始日期") if raw_from else preset_period(DEFAULT_PRESET, end).start
    if start > end:
        raise PeriodError(f"开始日期 {start} 晚于结束日期 {end}。")
    if (end - start).days > MAX_DAYS:
        raise PeriodError("时段不能超过十年。")
    for name in PRESETS:  # a period typed by hand that is a preset is shown as one
        if preset_period(name, today) == Period(start, end, name):
            return Period(start, end, name)
    return Period(start, end)


def _date(raw: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(f"{label}“{raw}”不是日期，请写成 2026-01-01 这样的格式。") from None


def _in_scope(code: str):
    return Petition.jurisdiction_code.like(jurisdiction_prefix(code) + "%")


def intake_counts(session: Session, code: str, period: Period) -> list[tuple[dt.date, str, int]]:
    """Cases received per day and intake channel in `code` and below: one row per day and channel."""
    rows = session.execute(
        select(Petition.received_on, Petition.intake, func.count())
        .where(_in_scope(code), Petition.received_on.between(period.start, period.end))
        .group_by(Petition.received_on, Petition.intake))
    return [(day, intake, int(n)) for day, intake, n in rows]


def intake_columns(counts: list[tuple[dt.date, str, int]], period: Period) -> tuple[str, list[Column]]:
    """The intake over the period in columns: by day up to a month, by week up to four months, else by month."""
    days = (period.end - period.start).days + 1
    if days <= 31:
        unit, keys = "日", [period.start + dt.timedelta(i) for i in range(days)]
    elif days <= 124:
        first = period.start - dt.timedelta(period.start.weekday())
        unit, keys = "周", [first + dt.timedelta(7 * i) for i in range((period.end - first).days // 7 + 1)]
    else:
        first = period.start.year * 12 + period.start.month - 1
        months = period.end.year * 12 + period.end.month - first
        unit, keys = "月", [dt.date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(months)]
    totals: Counter = Counter()
    for day, _, n in counts:
        totals[_bucket(unit, day)] += n
    columns = []
    for key in keys:
        label, group = _names(unit, key)
        columns.append(Column(label, totals[key], str(totals[key]), group))
    return unit, columns


def _bucket(unit: str, day: dt.date) -> dt.date:
    if unit == "周":
        return day - dt.timedelta(day.weekday())
    return day.replace(day=1) if unit == "月" else day


def _names(unit: str, key: dt.date) -> tuple[str, str]:
    """A column's label and the group written under the first column of its run (the month, or the year)."""
    if unit == "日":
        return f"{key.day}", f"{key.month}月"
    return (f"{key.month}/{key.day}" if unit == "周" else f"{key.month}月"), f"{key.year}年"


@dataclass(frozen=True)
class Awaiting:
    """A fired escalation step nobody has acted on, on a case still open."""

    id: int
    petition_id: int
    number: str
    jurisdiction_code: str
    step: str
    step_name: str
    action: str
    flag: str | None
    letter: bool
    due_on: dt.date
    days_late: int


def awaiting_escalations(session: Session, library: RuleSetLibrary, code: str, today: dt.date,
                         limit: int = 50) -> tuple[list[Awaiting], int]:
    """Escalations fired and not yet handled on open cases in `code` and below, oldest first; and how many in all.

    Warnings and marks without a letter are the handling unit's business; the list keeps what asks a
    supervisor to act: supervision (督办), referral up (提交上级), a leader taking charge (包案), letters.
    """
    where = (CaseEscalation.fired_at.is_not(None), CaseEscalation.resolved_at.is_(None),
             Petition.stage.in_(OPEN_STAGES), _in_scope(code),
             or_(CaseEscalation.action.in_(ASKS_A_SUPERVISOR), CaseEscalation.letter.is_(True)))
    total = session.scalar(select(func.count()).select_from(CaseEscalation)
                           .join(Petition, Petition.id == CaseEscalation.petition_id).where(*where))
    rows = session.execute(
        select(CaseEscalation, Petition.number, Petition.jurisdiction_code)
        .join(Petition, Petition.id == CaseEscalation.petition_id).where(*where)
        .order_by(CaseEscalation.due_on, CaseEscalation.id).limit(limit))
    names: dict[str, dict] = {}
    found = []
    for esc, number, jurisdiction in rows:
        steps = names.get(jurisdiction)
        if steps is None:
            steps = names[jurisdiction] = _step_specs(library, jurisdiction, today)
        found.append(Awaiting(esc.id, esc.petition_id, number, jurisdiction, esc.step,
                              (steps.get(esc.step) or {}).get("name") or esc.step, esc.action, esc.flag,
                              bool(esc.letter), esc.due_on, (today - esc.due_on).days))
    return found, int(total or 0)


def _step_specs(library: RuleSetLibrary, code: str, today: dt.date) -> dict:
    try:
        return (library.effective(code, today).get("escalation") or {}).get("steps") or {}
    except (NoRuleSetInForce, LookupError, ValueError):
        return {}


def mark_handled(session: Session, escalation: CaseEscalation, user: User, note: str, today: dt.date) -> bool:
    """Record that a supervisor acted on a fired step: on the step, in the case file, in the audit log.

    Returns False (and records nothing) when it was already handled. The caller checks scope and commits.
    """
    if escalation.resolved_at is not None:
        return False
    petition = session.get(Petition, escalation.petition_id)
    escalation.resolved_at = utcnow()
    detail = {"escalation_id": escalation.id, "step": escalation.step, "action": escalation.action,
              "due_on": escalation.due_on.isoformat(), "note": note[:500]}
    session.add(CaseEvent(petition_id=petition.id, action=HANDLED_EVENT, on=today, actor=user.username,
                          stage_before=petition.stage, stage_after=petition.stage, detail=detail))
    session.add(AuditLog(actor=user.username, action="escalation.handled", object_type="case_escalation",
                         object_id=str(escalation.id), detail={"number": petition.number, **detail}))
    session.flush()
    return True
