"""Supervision indicators of a jurisdiction and all below it over a period, aggregated in SQL from the case file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from xinfang.config import NoRuleSetInForce, RuleSetLibrary
from xinfang.config.procedure import OFFICE_HOLDS, OFFICE_UNIT, TARGETS, duties_of  # windows make nobody late
from xinfang.config.units import unit_name, unit_names
from xinfang.server.store.case_tables import CaseDeadline, CaseEvent, Petition

__all__ = ["HEADLINE", "SATISFACTION", "breakdown", "indicators"]

HEADLINE = ("on_time_acceptance", "on_time_conclusion", "first_petition_resolution", "repeat_petitions",
            "satisfaction")
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
SATISFIED = ("satisfied", "basically_satisfied")


def ratio(numerator: int, denominator: int) -> dict[str, Any]:
    """A count with what it is out of; `rate` is None when nothing is measured."""
    numerator, denominator = int(numerator or 0), int(denominator or 0)
    return {"count": numerator, "numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 4) if denominator else None}


def _sum(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _first_event(stages: Iterable[str], name: str):
    """Per petition, the legal date of the first event leading to one of `stages`."""
    return (select(CaseEvent.petition_id, func.min(CaseEvent.on).label("on"))
            .where(CaseEvent.stage_after.in_(tuple(stages))).group_by(CaseEvent.petition_id).subquery(name))


def _groups(session: Session, library: RuleSetLibrary, root: str, start: dt.date, end: dt.date) -> dict[str, str]:
    """Each jurisdiction with cases in the period that lies under `root` → the child of root it falls in (root: itself).

    A loop over the distinct jurisdictions, not over cases: the tree lives in the rule-set library.
    """
    present = session.scalars(select(Petition.jurisdiction_code).distinct()
                              .where(Petition.received_on.between(start, end)))
    groups: dict[str, str] = {}
    for code in present:
        try:
            chain = [j.code for j in library.tree.ancestors(code)]
        except (LookupError, ValueError):
            continue
        if root in chain:
            below = chain.index(root) + 1
            groups[code] = chain[below] if below < len(chain) else root
    return groups


def _cohort(groups: Mapping[str, str], root: str, start: dt.date, end: dt.date, as_of: dt.date):
    """One row per petition of the cohort with what every indicator needs, as a subquery."""
    notify, conclude, rated = aliased(CaseDeadline), aliased(CaseDeadline), aliased(CaseEvent)
    accepted = _first_event(("accepted", "refused"), "accepted")
    concluded = _first_event(("concluded",), "concluded")
    reviewed = _first_event(("review_requested",), "reviewed")
    rating = CaseEvent.detail["satisfaction"].as_string()
    latest_rating = (select(CaseEvent.petition_id, func.max(CaseEvent.id).label("event_id"))
                     .where(CaseEvent.stage_after.in_(("concluded", "closed")), rating.in_(SATISFACTION))
                     .group_by(CaseEvent.petition_id).subquery("latest_rating"))
    office_late, unit_late = _late(duties_of("office"), as_of), _late(duties_of("unit"), as_of)
    with_office = Petition.stage.in_(OFFICE_HOLDS)
    return (
        select(Petition.id, case(dict(groups), value=Petition.jurisdiction_code, else_=root).label("grp"),
               Petition.jurisdiction_code, Petition.category, Petition.route_unit, Petition.stage,
               Petition.duplicate_of_id,
               notify.due_on.label("notify_due"), accepted.c.on.label("accepted_on"),
               conclude.due_on.label("conclude_due"), concluded.c.on.label("concluded_on"),
               reviewed.c.on.label("review_on"), rated.detail["satisfaction"].as_string().label("satisfaction"),
               _flag(or_(office_late, unit_late)).label("overdue"),
               _flag(or_(office_late, and_(with_office, unit_late))).label("office_late"),
               _flag(and_(unit_late, ~with_office)).label("unit_late"))
        .select_from(Petition)
        .outerjoin(notify, and_(notify.petition_id == Petition.id, notify.step == "notify"))
        .outerjoin(conclude, and_(conclude.petition_id == Petition.id, conclude.step == "conclude"))
        .outerjoin(accepted, accepted.c.petition_id == Petition.id)
        .outerjoin(concluded, concluded.c.petition_id == Petition.id)
        .outerjoin(reviewed, reviewed.c.petition_id == Petition.id)
        .outerjoin(latest_rating, latest_rating.c.petition_id == Petition.id)
        .outerjoin(rated, rated.id == latest_rating.c.event_id)
        .where(Petition.jurisdiction_code.in_(list(groups)), Petition.received_on.between(start, end))
        .subquery("cohort")
    )


def _late(steps: Iterable[str], as_of: dt.date):
    """A step of `steps` of the case done after its deadline, or still open after it as of `as_of`."""
    return exists().where(CaseDeadline.petition_id == Petition.id, CaseDeadline.step.in_(tuple(steps)),
                          or_(and_(CaseDeadline.done_on.is_(None), CaseDeadline.due_on < as_of),
                              CaseDeadline.done_on > CaseDeadline.due_on))


def _flag(condition):
    return case((condition, 1), else_=0)


def _office_charged(c):
    """The receiving office is late on a case: its own step late, or the case routed to itself late."""
    return func.sum(_flag(or_(c.office_late == 1, and_(c.route_unit == OFFICE_UNIT, c.unit_late == 1))))


_WIDTH = 2 * len(HEADLINE) + 1 + len(SATISFACTION)  # the columns of _headline_columns: pairs, cases, answers


def _headline_columns(c, as_of: dt.date) -> list:
    """numerator, denominator pairs in HEADLINE order, then the case count and the satisfaction answers."""
    # 诉访分离 (Art. 22 ¶2): the matter left the petition procedure, so no acceptance or conclusion was owed.
    accept_due = and_(c.notify_due.is_not(None), c.stage != "separated",
                      or_(c.accepted_on.is_not(None), c.notify_due < as_of))
    conclude_due = and_(c.conclude_due.is_not(None), c.stage.not_in(("refused", "separated")),
                        or_(c.concluded_on.is_not(None), c.conclude_due < as_of))
    first = and_(c.concluded_on.is_not(None), c.duplicate_of_id.is_(None))
    return [
        _sum(and_(accept_due, c.accepted_on <= c.notify_due)), _sum(accept_due),
        _sum(and_(conclude_due, c.concluded_on <= c.conclude_due)), _sum(conclude_due),
        _sum(and_(first, c.review_on.is_(None))), _sum(first),
        _sum(c.duplicate_of_id.is_not(None)), func.count(),
        _sum(c.satisfaction.in_(SATISFIED)), _sum(c.satisfaction.is_not(None)),
        func.count(), *(_sum(c.satisfaction == answer) for answer in SATISFACTION),
    ]


def _headline(row: Iterable[int]) -> tuple[int, dict[str, Any], dict[str, int]]:
    values = [int(v or 0) for v in row]
    found = {name: ratio(values[2 * i], values[2 * i + 1]) for i, name in enumerate(HEADLINE)}
    cases = values[2 * len(HEADLINE)]
    return cases, found, dict(zip(SATISFACTION, values[2 * len(HEADLINE) + 1:]))


def _by_unit_name(library: RuleSetLibrary, rows: Iterable[tuple], at: dt.date) -> list[tuple]:
    """(unit, name, cases, overdue) per unit as each case's jurisdiction names it: 沂南县's ecology is
    临沂市生态环境局沂南县分局 and its townships' too; 兰山区's human_resources and 罗庄区's are two units."""
    merged: dict[tuple, list[int]] = {}
    effective: dict[str, Any] = {}
    for code, unit, n, late in rows:
        if code not in effective:
            try:
                effective[code] = library.effective(code, at)
            except (NoRuleSetInForce, LookupError, ValueError):
                effective[code] = None
        name = unit_name(effective[code], unit, library) if effective[code] is not None and unit else None
        if unit == OFFICE_UNIT and name in (None, unit):
            name = TARGETS[OFFICE_UNIT]  # a jurisdiction whose rule set names no office of its own
        totals = merged.setdefault((unit if name is None else name, unit), [0, 0])
        totals[0] += int(n or 0)
        totals[1] += int(late or 0)
    return [(unit, None if key == unit else key, n, late) for (key, unit), (n, late) in merged.items()]


def _names(library: RuleSetLibrary, codes: Iterable[str], at: dt.date, section: str) -> dict[str, str]:
    """Category or unit names from the rule sets in force, the root's first (a county's own category too)."""
    if section == "units":
        return unit_names(library, list(codes), at)
    names: dict[str, str] = {}
    for code in codes:
        try:
            data = library.effective(code, at).data
        except (NoRuleSetInForce, LookupError, ValueError):
            continue
        for key, spec in data.get("classification", {}).get("categories", {}).items():
            names.setdefault(key, spec.get("name"))
    return names


def indicators(session: Session, library: RuleSetLibrary, code: str, start: dt.date, end: dt.date,
               as_of: dt.date) -> dict[str, Any]:
    """The indicators of `code` and everything below it for cases received in [start, end], as of `as_of`.

    The cohort is the petitions received in [start, end] in the jurisdiction or any jurisdiction below it.
    Events are read by the stage they lead to (`stage_after`), not by action name, so the indicators do not
    depend on how the workflow spells its actions:

    - on_time_acceptance: of the cases with a `notify` deadline that were accepted or refused (first event
      leading to `accepted` or `refused`) or whose deadline has passed (as of `as_of`), those accepted or
      refused on or before it (Art. 23).
    - on_time_conclusion: the same for the `conclude` deadline (its row includes an approved extension)
      and the first event leading to `concluded`; refused cases are left out (Art. 34).
    - first_petition_resolution: of the concluded cases that are not repeats (no `duplicate_of_id`), those
      with no review request after (no event leading to `review_requested`) (初次信访事项一次性化解率).
    - repeat_petitions: of all cases, those marked a repeat of an earlier one (`duplicate_of_id` set).
    - satisfaction: of the cases rated, those rated `satisfied` or `basically_satisfied`. The rating is
      `detail.satisfaction` of the latest event leading to `concluded` or `closed` that carries one of
      satisfied / basically_satisfied / unsatisfied (the petitioner's rating, as Ganzhou's report publishes it).
    - by_category, by_unit: cases per category and per responsible unit (`route_unit`), out of all cases.
    - overdue_by_unit: per body, the cases on which it is late, each late step charged to the body it
      answers to (procedure.Step.answers), done after its deadline or still open after it as of `as_of`: a
      unit, for handling a case routed to it (conclude, feedback), out of its cases; the receiving office
      (`petition_office`), for routing and telling (route, notify) and for any case it still holds or
      handles itself, out of every case it registered. Review is the body above's, no unit's here.

    Each is a count with its numerator and denominator (see `ratio`); `children` repeats the headline
    indicators for each jurisdiction directly below, so a supervisor drills down one level at a time.
    """
    root = library.tree.get(code)
    groups = _groups(session, library, root.code, start, end)
    per_group: dict[str, tuple] = {}
    by_category: list = []
    by_unit: list = []
    late_rows: list = []
    if groups:
        c = _cohort(groups, root.code, start, end, as_of)
        for grp, *row in session.execute(select(c.c.grp, *_headline_columns(c.c, as_of)).group_by(c.c.grp)):
            per_group[grp] = tuple(row)
        by_category = session.execute(select(c.c.category, func.count()).group_by(c.c.category)).all()
        by_unit = session.execute(select(c.c.jurisdiction_code, c.c.route_unit, func.count(), func.sum(c.c.unit_late))
                                  .group_by(c.c.jurisdiction_code, c.c.route_unit)).all()
        late_rows = [row for row in by_unit if row[1] != OFFICE_UNIT] + session.execute(  # the office registers all
            select(c.c.jurisdiction_code, literal(OFFICE_UNIT), func.count(), _office_charged(c.c))
            .group_by(c.c.jurisdiction_code)).all()
    total_row = [sum(int(row[i] or 0) for row in per_group.values()) for i in range(_WIDTH)]
    cases, headline, answers = _headline(total_row)
    at = min(end, as_of)
    lookup = [root.code, *groups]
    categories = _names(library, lookup, at, "categories")
    by_unit, late_rows = _by_unit_name(library, by_unit, at), _by_unit_name(library, late_rows, at)
    return {
        "jurisdiction": _jurisdiction(root),
        "from": start.isoformat(), "to": end.isoformat(), "as_of": as_of.isoformat(),
        "cases": cases,
        "indicators": headline,
        "satisfaction_answers": answers,
        "by_category": _ranked([{"category": cat, "name": categories.get(cat), **ratio(n, cases)}
                                for cat, n in by_category]),
        "by_unit": _ranked([{"unit": unit, "name": name, **ratio(n, cases)} for unit, name, n, _ in by_unit]),
        "overdue_by_unit": _ranked([{"unit": unit, "name": name, **ratio(late, n)}
                                    for unit, name, n, late in late_rows]),
        "children": [_child(child, per_group.get(child.code)) for child in library.tree.children(root.code)],
    }


def breakdown(session: Session, library: RuleSetLibrary, code: str, start: dt.date, end: dt.date, as_of: dt.date,
              by: str) -> list[dict[str, Any]]:
    """The headline indicators and the overdue cases (as in `overdue_by_unit`) of the same cohort as `indicators`,
    per responsible unit (`by="unit"`) or per jurisdiction directly below, `code` itself for its own cases
    (`by="jurisdiction"`): what 月通报 and 考评 rank. Each: key, name, cases, overdue, indicators."""
    root = library.tree.get(code)
    groups = _groups(session, library, root.code, start, end)
    if not groups:
        return []
    c = _cohort(groups, root.code, start, end, as_of)
    column = c.c.route_unit if by == "unit" else c.c.grp
    late = c.c.unit_late if by == "unit" else c.c.overdue
    rows = session.execute(select(column, func.sum(late), *_headline_columns(c.c, as_of)).group_by(column))
    if by == "unit":
        names = {OFFICE_UNIT: TARGETS[OFFICE_UNIT], **_names(library, [root.code, *groups], min(end, as_of), "units")}
    else:
        names = {j.code: j.name for j in (root, *library.tree.children(root.code))}
    found = []
    for key, overdue, *row in rows:
        cases, headline, _ = _headline(row)
        found.append({"key": key, "name": names.get(key), "cases": cases, "overdue": int(overdue or 0),
                      "indicators": headline})
    if by == "unit":  # the office's lateness is over every case it registered, not only those it handles itself
        office = int(session.scalar(select(_office_charged(c.c))) or 0)
        row = next((r for r in found if r["key"] == OFFICE_UNIT), None)
        if row is not None:
            row["overdue"] = office
        elif office:
            found.append({"key": OFFICE_UNIT, "name": names[OFFICE_UNIT], "cases": 0, "overdue": office,
                          "indicators": _headline([0] * _WIDTH)[1]})
    return sorted(found, key=lambda item: (-item["cases"], str(item["key"] or "")))


def _child(jurisdiction, row: tuple | None) -> dict[str, Any]:
    cases, headline, _ = _headline(row if row is not None else [0] * _WIDTH)
    return {"jurisdiction": _jurisdiction(jurisdiction), "cases": cases, "indicators": headline}


def _jurisdiction(j) -> dict[str, Any]:
    return {"code": j.code, "name": j.name, "level": j.level}


def _ranked(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda item: (-item["count"], str(item.get("category") or item.get("unit") or "")))
