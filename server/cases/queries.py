"""The case service's queries: case lists by filters, and earlier petitions of the same petitioner (智能判重).

One query for each job, used by the API, the pages, exports and registration alike: the intake preview
lists exactly the earlier petitions registration would mark, minus those the clerk may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from xinfang.config import EffectiveRuleSet, RuleSetLibrary, jurisdiction_prefix
from xinfang.config.procedure import DUTY_STEPS
from xinfang.server.accounts import Actor, has_role, in_scope
from xinfang.server.store.case_tables import CaseDeadline, Petition

from .permissions import require_scope, routed_key
from .visibility import LINK_FLAGS, may_see_material

__all__ = ["CaseFilters", "IDENTITY_FIELDS", "Page", "case_query", "count", "defined_below", "earlier_petitions",
           "fetch", "list_cases", "same_matter"]

IDENTITY_FIELDS = frozenset({"id_number", "name", "phone"})  # matched through the petitioner key, never read


@dataclass(frozen=True)
class CaseFilters:
    """What a case list selects: a jurisdiction (and all below it), units, stages, track, flag, a number, and
    the running duty deadlines (config.procedure.DUTY_STEPS) due within N days of `at`, or passed."""

    jurisdiction: str
    at: dt.date
    units: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    track: str = ""
    flag: str = ""
    number: str = ""  # a case number, or part of one
    due_within: int | None = None
    overdue: bool | None = None  # None: either
    now: dt.datetime | None = None  # given, a deadline at a moment earlier today (by 09:00) is overdue already
    routed_to: str = ""  # a unit below (`<code>:<id>`, the actor's own): the cases routed to it count as in the list


@dataclass(frozen=True)
class Page:
    items: list[Petition]
    total: int
    page: int
    per_page: int


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def case_query(f: CaseFilters) -> Select:
    """The cases the filters select, newest first."""
    here = Petition.jurisdiction_code.like(jurisdiction_prefix(f.jurisdiction) + "%")
    query = select(Petition).where(or_(here, Petition.route_unit == f.routed_to) if f.routed_to else here)
    if f.units:
        routed = (f.routed_to,) if f.routed_to and f.routed_to.rpartition(":")[2] in f.units else ()
        query = query.where(Petition.route_unit.in_(f.units + routed))
    if f.stages:
        query = query.where(Petition.stage.in_(f.stages))
    if f.track:
        query = query.where(Petition.track == f.track)
    if f.flag:
        query = query.where(cast(Petition.flags, String).like(f'%"{_like(f.flag)}"%', escape="\\"))
    if f.number:
        query = query.where(Petition.number.like(f"%{_like(f.number)}%", escape="\\"))
    running = (CaseDeadline.petition_id == Petition.id) & CaseDeadline.done_on.is_(None) & CaseDeadline.step.in_(
        DUTY_STEPS)
    if f.due_within is not None:
        last = f.at + dt.timedelta(days=f.due_within) if f.at < dt.date.max - dt.timedelta(f.due_within) else dt.date.max
        query = query.where(exists().where(running, CaseDeadline.due_on >= f.at, CaseDeadline.due_on <= last))
    late = CaseDeadline.due_on < f.at
    if f.now is not None:
        late = late | (CaseDeadline.due_at < f.now)
    if f.overdue is True:
        query = query.where(exists().where(running, late))
    elif f.overdue is False:
        query = query.where(~exists().where(running, late))
    return query.order_by(Petition.received_on.desc(), Petition.id.desc())


def count(db: Session, query: Select) -> int:
    return db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def fetch(db: Session, query: Select, *, offset: int = 0, limit: int = 50) -> list[Petition]:
    options = (selectinload(Petition.deadlines), selectinload(Petition.original))
    return list(db.scalars(query.options(*options).offset(offset).limit(limit)))


def list_cases(db: Session, library: RuleSetLibrary, actor: Actor | None, filters: CaseFilters, *, page: int = 1,
               per_page: int = 50) -> Page:
    """A page of the cases the filters select, within the actor's scope (refused beyond it).

    A repeat mark the actor may not see (visibility.visible_flags) selects nothing either.
    """
    require_scope(actor, filters.jurisdiction, library.tree)
    key = routed_key(actor)
    if key is not None and filters.jurisdiction == actor.jurisdiction_code:  # the unit's inbox: what was sent to it
        filters = replace(filters, routed_to=key)
    query = case_query(filters)
    if filters.flag in LINK_FLAGS:
        original = aliased(Petition)
        query = query.where(material_seen(Petition, actor), or_(
            Petition.duplicate_of_id.is_(None),
            exists().where(original.id == Petition.duplicate_of_id, material_seen(original, actor))))
    return Page(fetch(db, query, offset=(page - 1) * per_page, limit=per_page), count(db, query), page, per_page)


def material_seen(petition: type[Petition], actor: Actor | None) -> ColumnElement[bool]:
    """visibility.may_see_material in SQL, for `petition` (the table or an alias of it): whether filtering on
    what only the material tells (a repeat mark) may select the case for `actor`."""
    if actor is None:
        return false()
    if not has_role(actor, "discipline"):
        return petition.confidential.is_(False)
    accused = func.trim(func.coalesce(petition.accused_unit, ""))
    names = [n.strip() for n in (actor.unit, actor.unit_name) if n and n.strip()]
    # names_accused: the accused unit and one of the actor's unit names contain one another
    is_accused = or_(false(), *(and_(accused != "", or_(petition.accused_unit.contains(n, autoescape=True),
                                                       literal(n).contains(accused))) for n in names))
    return or_(petition.confidential.is_(False),
               and_(petition.jurisdiction_code.like(jurisdiction_prefix(actor.jurisdiction_code) + "%"), ~is_accused))


def defined_below(effective: EffectiveRuleSet, dotted: str) -> str:
    """The code prefix of the jurisdiction whose rule set sets `dotted`: the setting counts cases there and below."""
    source = effective.source_of(dotted)
    return jurisdiction_prefix(source.jurisdiction if source else effective.jurisdiction.code)


def same_matter(db: Session, effective: EffectiveRuleSet, *, key: str | None, category: str, received_on: dt.date,
                case_json: Mapping[str, Any], confidential: bool,
                limit: int | None = None) -> tuple[list[Petition], dict | None]:
    """The earlier petitions a new one repeats under `intake.duplicates` (智能判重), newest first, and the rule.

    The rule's window, the fields that must match, over the jurisdiction that set it and those below.
    Without the rule, or without a petitioner to match by, nothing repeats. An accusation repeats only an
    accusation and an ordinary petition only an ordinary one, so a repeat never links anyone's file to an
    accuser's (Art. 46(5)).
    """
    rule = effective.get("intake.duplicates") or None
    if rule is None or key is None:
        return [], rule
    match = set(rule.get("match") or ())
    if "id_number" in match and not ((case_json.get("petitioner") or {}).get("id_number")):
        return [], rule
    since = received_on - dt.timedelta(days=int(rule["window_days"]))
    query = select(Petition).where(
        Petition.petitioner_key == key, Petition.confidential.is_(confidential),
        Petition.received_on >= since, Petition.received_on <= received_on,
        Petition.jurisdiction_code.like(defined_below(effective, "intake.duplicates.window_days") + "%"))
    if "category" in match:
        query = query.where(Petition.category == category)
    others = match - IDENTITY_FIELDS - {"category"}
    found = [p for p in db.scalars(query.order_by(Petition.received_on.desc(), Petition.id.desc()))
             if all(p.case_json.get(f) == case_json.get(f) for f in others)]
    return (found[:limit] if limit else found), rule


def earlier_petitions(db: Session, library: RuleSetLibrary, actor: Actor, effective: EffectiveRuleSet, *,
                      key: str | None, category: str, received_on: dt.date, case_json: Mapping[str, Any],
                      confidential: bool, limit: int = 10) -> tuple[list[Petition], dict | None]:
    """What registration would mark as repeated (same_matter), as far as `actor` may see it: in its scope, and
    never an accusation's file to anyone but the discipline body (Art. 30, 46(5))."""
    found, rule = same_matter(db, effective, key=key, category=category, received_on=received_on, case_json=case_json,
                              confidential=confidential)
    shown = [p for p in found if in_scope(actor, p.jurisdiction_code, library.tree) and may_see_material(p, actor)]
    return shown[:limit], rule
