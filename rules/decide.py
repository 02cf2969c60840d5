"""decide(): one case under one effective rule set → the Decision JSON (DESIGN.md); evaluate() picks the rule set."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from xinfang.config import EffectiveRuleSet, RuleSetLibrary

from .case_input import STAGES, Case, CaseError, parse_case
from .deadlines import Limit, deadlines, request_late
from .guard import names_accused
from .plan import Plan, plan_for


def evaluate(library: RuleSetLibrary, code: str, case_json: Mapping, *, at: dt.date | None = None) -> dict:
    """Validate Case JSON and decide it under the rule set in force in `code` on the day it was received.

    Raises CaseError (bad input), UnknownJurisdiction or NoRuleSetInForce.
    """
    case = parse_case(case_json)
    return decide(effective_on(library, code, case.received_on), case, at=at)


_effective: dict[tuple, tuple[RuleSetLibrary, EffectiveRuleSet]] = {}


def effective_on(library: RuleSetLibrary, code: str, day: dt.date) -> EffectiveRuleSet:
    """library.effective(code, day), reused for every day with the same chain of versions (it costs ~50 µs)."""
    chain = library.chain(code, day)  # raises UnknownJurisdiction
    key = (id(library), code, tuple(map(id, chain)))
    hit = _effective.get(key)
    if hit is not None and hit[0] is library:
        return hit[1]
    effective = library.effective(code, day)  # raises NoRuleSetInForce
    if len(_effective) >= 256:
        _effective.clear()
    _effective[key] = (library, effective)
    return effective


def decide(effective: EffectiveRuleSet, case: Case, *, at: dt.date | None = None) -> dict:
    """The Decision JSON for a validated case.

    `at` is the day the decision is taken as of: stages dated after it have not happened yet and are
    disregarded; a case received after it is refused. Raises CaseError for what only the rule set can
    check (an unknown category, an extension above the bound).
    """
    if at is not None:
        case = _as_of(case, at)
    plan = plan_for(effective)
    compiled = plan.compiled
    category, classify, kind, channel, facts = _facts(plan, case)
    fired = plan.adapter.evaluate(compiled.name, facts)
    ordered = sorted(fired, key=compiled.order.__getitem__)  # admissibility, route, track, tier

    refusals = [r for r in ordered if r.startswith("admissibility:")]
    admissible = not refusals
    route, route_trace, flags = _route(plan, case, kind, category, ordered)
    track = _best_track(plan, fired)
    tier = next((t for t in plan.tiers if f"tier:{t}" in fired), None)
    limits = plan.limits(track, tier)
    _check_extension(case, limits.extension)
    found, provisional = deadlines(plan.periods, case, limits.steps if admissible else limits.refused_steps,
                                   limits.extension)

    if case.intake == "visit" and case.representatives is not None and case.representatives >= 2:
        flags.append("group_visit")  # Art. 20: 多人采用走访形式
    if channel == "litigation":
        flags.append("litigation_separated")  # Art. 22 ¶2, 28 ¶2: 诉访分离
    if kind == "accusation":
        flags.append("accusation_confidential")  # Art. 46(5): nothing reaches the accused
    if tier is not None:
        flags.append(f"tier:{tier}")
    if not admissible:
        flags.append("not_admissible")
    if provisional:
        flags.append("provisional")
    flags.sort()

    trace = [classify]
    trace += [{"rule": r, "source": plan.source(r)} for r in refusals]
    trace += route_trace
    trace += [{"rule": r, "source": plan.source(r)} for r in ordered if r.startswith("track:")]
    if track is not None and f"track:{track}" not in fired:  # no track matched: the default
        trace.append({"rule": f"track:{track}", "source": plan.source(f"track:{track}:default")})
    trace += [{"rule": r, "source": plan.source(r)} for r in ordered if r.startswith("tier:")]
    decision: dict[str, Any] = {"jurisdiction": effective.jurisdiction.code, "ruleset_version": plan.version_label,
                                "admissible": admissible}
    if not admissible:
        decision["reason"] = "；".join(_reason(plan, r, case) for r in refusals)
    decision.update(kind=kind, category=category, channel=channel, route=route, track=track, deadlines=found,
                    flags=flags, trace=trace)
    return decision


def engine_facts(effective: EffectiveRuleSet, case: Case) -> dict[str, Any]:
    """The facts decide() asserts for a case (the benchmark posts them raw to compare)."""
    return _facts(plan_for(effective), case)[-1]


def _facts(plan: Plan, case: Case) -> tuple[str, dict, str, str, dict[str, Any]]:
    """Classification (category, its trace entry, kind, channel), then the typed facts the engine tests."""
    matched = plan.compiled.matched_keywords(case.text)
    category, classify = _classify(plan, case, matched)
    spec = plan.categories[category]
    kind = case.kind or spec.kind
    channel = "discipline" if kind == "accusation" else spec.channel
    late = request_late(plan.periods, case, plan.base_limits)  # the track is not known yet: base limits
    return category, classify, kind, channel, plan.compiled.facts(case, category, kind, channel, matched, late)


def _as_of(case: Case, at: dt.date) -> Case:
    """The case as it stood on `at`: a stage dated later has not happened, a hearing not yet begun is dropped."""
    if case.received_on > at:
        raise CaseError([f"received_on: {case.received_on} is after the evaluation date {at}"])
    later = {name: None for name in STAGES if (getattr(case, name) or at) > at}
    hearings = tuple(h for h in case.hearings if h[0] <= at)
    if not later and hearings == case.hearings:
        return case
    return dataclasses.replace(case, **later, hearings=hearings)


def _classify(plan: Plan, case: Case, matched: list[str]) -> tuple[str, dict]:
    """The given category (it must exist), else the one whose keywords the text matches most, else the default."""
    if case.category is not None:
        if case.category not in plan.categories:
            raise CaseError([f"category: {case.category!r} is not a category of {plan.version_label}; "
                             f"valid codes: {', '.join(plan.categories)}"])
        return case.category, {"rule": "classify:given", "category": case.category,
                               "source": plan.source(f"classify:given:{case.category}")}
    hits: dict[str, list[str]] = {}
    for word in matched:
        longer = plan.longer_keywords.get(word)
        if longer and _only_inside(case.text, word, [w for w in longer if w in case.text]):
            continue  # 征地 inside 征地拆迁 is that keyword, not a word of its own
        for code in plan.keyword_categories.get(word, ()):
            hits.setdefault(code, []).append(word)
    best, found = None, []
    index = plan.category_index
    for code, words in hits.items():  # most words; ties: the first category in definition order
        if len(words) > len(found) or (len(words) == len(found) and index[code] < index[best]):
            best, found = code, words
    if best is None:
        code = plan.default_category
        return code, {"rule": "classify:default", "category": code, "matched": [],
                      "source": plan.source("classify:default")}
    words = [w for w in plan.categories[best].keywords if w in found]  # as the rule set lists them
    return best, {"rule": "classify:keywords", "category": best, "matched": words,
                  "source": plan.source(f"classify:keywords:{best}")}


def _only_inside(text: str, word: str, longer: list[str]) -> bool:
    """Whether every occurrence of `word` in `text` lies within an occurrence of one of the `longer` words."""
    spans = [(at, at + len(w)) for w in longer for at in _occurrences(text, w)]
    return all(any(a <= at and at + len(word) <= b for a, b in spans) for at in _occurrences(text, word))


def _occurrences(text: str, word: str) -> list[int]:
    found, at = [], text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _route(plan: Plan, case: Case, kind: str, category: str, ordered: list[str]) -> tuple[dict, list, list]:
    """Accusation, litigation, the first local rule, the category's unit, the default; then the accused guard.

    Returns the route, the route entries of the trace (every route rule that fired, then what was
    decided in Python) and the flags it raises.
    """
    fired = [r for r in ordered if r.startswith("route:")]
    entries = [{"rule": r, "source": plan.source(r)} for r in fired]
    if fired:
        route = plan.routes[fired[0]]
    elif f"route:category:{category}" in plan.routes:
        route = plan.routes[f"route:category:{category}"]
        entries.append({"rule": "route:category", "source": plan.source(f"route:category:{category}")})
    else:
        route = plan.routes["route:default"]
        entries.append({"rule": "route:default", "source": plan.source("route:default")})
    flags: list[str] = []
    if kind == "accusation" and case.accused_unit and names_accused(
            route, plan.unit_types.get(route["unit"]), case.accused_unit, plan.places):
        route = plan.guard_routes[route["level"]]  # Art. 30, 46(5): one level above the accused
        flags.append("accused_guard")
        entries.append({"rule": "route:guard", "source": plan.source("route:guard")})
    return dict(route), entries, flags


def _best_track(plan: Plan, fired: frozenset[str]) -> str | None:
    """The matching track of highest priority (ties: definition order), else the default track."""
    best = None
    for track, priority in plan.tracks:
        if f"track:{track}" in fired and (best is None or priority > best[1]):
            best = (track, priority)
    return best[0] if best else plan.default_track


def _check_extension(case: Case, bound: Limit | None) -> None:
    """Art. 34: an extension moves the handling deadline by at most the configured maximum."""
    days = case.extension_days
    if not days:
        return
    if bound is None:
        raise CaseError(["extension_days: the rule set allows no extension of the handling period"])
    if days > bound.days:
        cited = f"{bound.basis}, {bound.where}" if bound.basis else bound.where
        raise CaseError([f"extension_days: {days} is more than the {bound.days} days allowed ({cited})"])


def _reason(plan: Plan, rule: str, case: Case) -> str:
    if rule == "admissibility:representatives":
        bound, basis = plan.max_representatives
        return f"代表人数{case.representatives}人，超过上限{bound}人（{basis}）"
    return plan.reasons.get(rule, rule)
