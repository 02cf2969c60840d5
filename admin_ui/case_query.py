"""Case lists: the filters a page or an export takes, the query they make, and the rows as a user may see them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, String, cast, exists, func, select
from sqlalchemy.orm import Session, selectinload

from xinfang.config import EffectiveRuleSet, RuleSetLibrary, jurisdiction_prefix
from xinfang.config.procedure import DUTY_STEPS, STAGE_NAMES
from xinfang.server.cases.visibility import visible_case
from xinfang.server.store.case_tables import CaseDeadline, Petition
from xinfang.server.store.models import User

from . import labels
from .case_labels import STAGES as STAGE_LABELS
from .case_labels import countdown, flag_label, flag_tone

PER_PAGE = 50
MAX_EXPORT = 10_000  # rows in one export; a larger list is narrowed by its filters first
MAX_DAYS = 3650


@dataclass
class CaseFilters:
    """What a case list shows: a jurisdiction (and below), a unit, stage, track, flag, deadlines due or passed."""

    jurisdiction: str
    unit: str = ""
    stage: str = ""
    track: str = ""
    flag: str = ""
    due_within: str = ""  # days, as typed (checked by parse_filters)
    overdue: bool = False
    q: str = ""  # a case number, or part of one
    page: int = 1
    problems: list[str] = field(default_factory=list)

    def args(self, **override: Any) -> dict[str, Any]:
        """The query string of these filters (empty ones left out), e.g. for the export links."""
        found = {k: v for k, v in asdict(self).items() if k != "problems"} | override
        found["overdue"] = "1" if found["overdue"] else ""
        if found.get("page") == 1:
            found.pop("page")
        return {k: v for k, v in found.items() if v not in ("", None)}


def parse_filters(args: Mapping[str, str], default_jurisdiction: str) -> CaseFilters:
    """Filters from a query string; a value that cannot be used is dropped, saying why (in `problems`)."""
    f = CaseFilters(jurisdiction=(args.get("jurisdiction") or default_jurisdiction).strip())
    f.unit, f.track, f.flag, f.q = (args.get(k, "").strip()[:64] for k in ("unit", "track", "flag", "q"))
    f.stage = args.get("stage", "").strip()
    if f.stage and f.stage not in STAGE_NAMES:
        f.problems.append(f"没有“{f.stage}”这一阶段，已忽略")
        f.stage = ""
    raw = args.get("due_within", "").strip()
    if raw:
        if raw.isdigit() and int(raw) <= MAX_DAYS:
            f.due_within = str(int(raw))
        else:
            f.problems.append(f"“{raw}”不是0到{MAX_DAYS}之间的天数，已忽略“N天内到期”")
    f.overdue = args.get("overdue", "") in ("1", "true", "on")
    page = args.get("page", "1")
    f.page = int(page) if page.isdigit() and 0 < int(page) <= 10**6 else 1
    return f


def case_query(f: CaseFilters, today: dt.date) -> Select:
    """The cases the filters select, newest first (running office deadlines decide `due_within` and `overdue`)."""
    query = select(Petition).where(Petition.jurisdiction_code.like(jurisdiction_prefix(f.jurisdiction) + "%"))
    if f.unit:
        query = query.where(Petition.route_unit == f.unit)
    if f.stage:
        query = query.where(Petition.stage == f.stage)
    if f.track:
        query = query.where(Petition.track == f.track)
    if f.flag:
        escaped = f.flag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(Petition.flags, String).like(f'%"{escaped}"%', escape="\\"))
    if f.q:
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Petition.number.like(f"%{escaped}%", escape="\\"))
    running = (CaseDeadline.petition_id == Petition.id) & CaseDeadline.done_on.is_(None) & CaseDeadline.step.in_(
        DUTY_STEPS)
    if f.due_within:
        query = query.where(exists().where(running, CaseDeadline.due_on >= today,
                                           CaseDeadline.due_on <= today + dt.timedelta(days=int(f.due_within))))
    if f.overdue:
        query = query.where(exists().where(running, CaseDeadline.due_on < today))
    return query.order_by(Petition.received_on.desc(), Petition.id.desc())


def count(db: Session, query: Select) -> int:
    return db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def fetch(db: Session, query: Select, *, offset: int = 0, limit: int = PER_PAGE) -> list[Petition]:
    return list(db.scalars(query.options(selectinload(Petition.deadlines)).offset(offset).limit(limit)))


class Names:
    """Chinese names of categories, tracks and units, read from each jurisdiction's rule set in force (cached)."""

    def __init__(self, library: RuleSetLibrary, today: dt.date) -> None:
        self.library, self.today, self._found = library, today, {}

    def effective(self, code: str) -> EffectiveRuleSet | None:
        if code not in self._found:
            try:
                self._found[code] = self.library.effective(code, self.today)
            except (LookupError, ValueError):  # no such jurisdiction, or no rule set in force that day
                self._found[code] = None
        return self._found[code]

    def _section(self, code: str, *path: str) -> Mapping[str, Any]:
        data = self.effective(code).data if self.effective(code) else {}
        for key in path:
            data = data.get(key) or {}
        return data

    def category(self, code: str, category: str) -> str:
        return self._section(code, "classification", "categories").get(category, {}).get("name", "")

    def track(self, code: str, track: str | None) -> str:
        return self._section(code, "tracks").get(track or "", {}).get("name", track or "")

    def unit(self, code: str, unit: str | None) -> str:
        return self._section(code, "units").get(unit or "", {}).get("name", unit or "")

    def jurisdiction(self, code: str) -> str:
        try:
            return self.library.tree.get(code).name
        except (LookupError, ValueError):
            return code


def case_rows(petitions: Iterable[Petition], user: User, names: Names) -> list[dict[str, Any]]:
    """Each case as visibility.visible_case shows it in a list (personal data masked), with its countdown."""
    rows = []
    for p in petitions:
        row = visible_case(p, user, in_list=True)
        nxt = row["next_deadline"]
        code = p.jurisdiction_code
        row.update(
            jurisdiction_name=names.jurisdiction(code), category_name=names.category(code, p.category),
            track_name=names.track(code, p.track), unit_name=names.unit(code, p.route_unit),
            stage_name=STAGE_LABELS.get(p.stage, p.stage), intake_name=labels.label(labels.INTAKES, p.intake),
            countdown=countdown(nxt["due_on"], names.today) if nxt else None,
            next_step=labels.label(labels.STEPS, nxt["step"]) if nxt else "",
            flag_items=[{"flag": fl, "label": flag_label(fl), "tone": flag_tone(fl)} for fl in p.flags
                        if not fl.startswith(("escalation:", "tier:"))])
        rows.append(row)
    return rows
