"""decide(): one case under one effective rule set → the Decision JSON (DESIGN.md); evaluate() picks the rule set."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from xinfang.config import EffectiveRuleSet, RuleSetLibrary

from .case_input import OFFICE_DATES, STAGES, Case, CaseError, parse_case
from .deadlines import Limit, deadlines, request_late
from .escalation import completed_steps, due_escalations, escalation_flags
from .guard import names_accused
from .plan import Plan, plan_for


def evaluate(library: RuleSetLibrary, code: str, case_json: Mapping, *, at: dt.date | None = None) -> dict:
    """Validate Case JSON and decide it under the rule set in force in `code` on the day it was received.

    Raises CaseError (bad input), UnknownJurisdiction or NoRuleSetInForce.
    """
    case = parse_case(case_json)
    return decide(library.effective(code, case.received_on), case, at=at)


def decide(effective: EffectiveRuleSet, case: Case, *, at: dt.date | None = None) -> dict:
    """The Decision JSON for a validated case.

    `at` is the day the decision is taken as of: stages dated after it have not happened yet and are
    disregarded; a case received after it is refused; and the escalation steps due that day are added
    (rules/escalation.py): their flags (escalation_flags), each step's rule id `escalation:<step>`
    among the flags and, with its source, at the end of the trace. Raises CaseError for what only
    the rule set can check (an unknown category, an extension above the bound).
    """
    if at is not None:
        case = _as_of(case, at)
    plan = plan_for(effective)
    compiled = plan.compiled
    category, classify, kind, channel, facts = _facts(plan, case)
    # Trusted: the facts are built here from a Case that parse_case validated (str, int, bool only).
    fired = plan.adapter.evaluate_trusted(compiled.name, facts)
    outcome = plan.outcome(fired, category)

    route = outcome.route
    trace = [classify, *[{"rule": r, "source": dict(s)} for r, s in outcome.entries]]
    flags = list(outcome.flags)
    if kind == "accusation":
        flags.append("accusation_confidential")  # Art. 46(5): nothing reaches the accused
        if case.accused_unit and names_accused(route, plan.unit_types.get(route["unit"]), case.accused_unit,
                                               plan.places):
            route = plan.guard_routes[route["level"]]  # Art. 30, 46(5): one level above the accused
            flags.append("accused_guard")
            trace.insert(1 + outcome.route_entries, {"rule": "route:guard", "source": plan.source("route:guard")})
    if case.extension_days:
        _check_extension(case, outcome.limits.extension)
    if case.extensions:
        _check_step_extensions(case, outcome.limits.table)
    # Art. 22 ¶2, 28 ¶2 (诉访分离): a matter for the courts leaves the petition procedure once routed; only the
    # office's duty to register, route and tell runs, as for a matter not accepted.
    steps = outcome.limits.refused_steps if channel == "litigation" else outcome.steps
    found, provisional = deadlines(plan.periods, case, steps, outcome.limits.extension)

    if case.intake == "visit" and case.representatives is not None and case.representatives >= 2:
        flags.append("group_visit")  # Art. 20: 多人采用走访形式
    if channel == "litigation":
        flags.append("litigation_separated")  # Art. 22 ¶2, 28 ¶2: 诉访分离
    if provisional:
        flags.append("provisional")
    if at is not None:  # what the escalation sweep finds due that day: each step's deadline, the stages done
        dates = {step: dt.date.fromisoformat(d["date"]) for step, d in found.items()}
        due = due_escalations(effective, deadlines=dates, opened_on=case.received_on, now=at,
                              completed=completed_steps(case, at))
        if due:
            flags = set(flags).union(escalation_flags(due), (d.rule for d in due))
            trace += [{"rule": d.rule, "source": dict(d.source)} for d in due]
    flags = sorted(flags)

    decision: dict[str, Any] = {"jurisdiction": effective.jurisdiction.code, "ruleset_version": plan.version_label,
                                "admissible": not outcome.refusals}
    if outcome.refusals:
        decision["reason"] = "；".join(_reason(plan, r, case) for r in outcome.refusals)
    decision |= {"kind": kind, "category": category, "channel": channel, "route": dict(route),
                 "track": outcome.track, "deadlines": found, "flags": flags, "trace": trace}
    return decision


def engine_facts(effective: EffectiveRuleSet, case: Case) -> dict[str, Any]:
    """The facts decide() asserts for a case (the benchmark posts them raw to compare)."""
    return _facts(plan_for(effective), case)[-1]


def _facts(plan: Plan, case: Case) -> tuple[str, dict, str, str, dict[str, Any]]:
    """Classification (category, its trace entry, kind, channel), then the typed facts the engine tests."""
    compiled = plan.compiled
    matched = compiled.matched_keywords(case.text)
    category, classify = _classify(plan, case, matched)
    spec = plan.categories[category]
    kind = case.kind or spec.kind
    channel = "discipline" if kind == "accusation" else spec.channel
    late = request_late(plan.periods, case, plan.base_limits)  # the track is not known yet: base limits
    return category, classify, kind, channel, compiled.facts(case, category, kind, channel, matched, late)


def _as_of(case: Case, at: dt.date) -> Case:
    """The case as it stood on `at`: a stage dated later has not happened, a hearing not yet begun is dropped."""
    if case.received_on > at:
        raise CaseError([f"received_on: {case.received_on} is after the evaluation date {at}"])
    later = {name: None for name in (*STAGES, *OFFICE_DATES) if (getattr(case, name) or at) > at}
    hearings = tuple(h for h in case.hearings if h[0] <= at)
    if not later and hearings == case.hearings:
        return case
    return dataclasses.replace(case, **later, hearings=hearings)


def _classify(plan: Plan, case: Case, matched: tuple[str, ...]) -> tuple[str, dict]:
    """The given category (it must exist), else the one whose keywords the text matches most, else the default."""
    if case.category is not None:
        if case.category not in plan.categories:
            raise CaseError([f"category: {case.category!r} is not a category of {plan.version_label}; "
                             f"valid codes: {', '.join(plan.categories)}"])
        return case.category, {"rule": "classify:given", "category": case.category,
                               "source": plan.source(f"classify:given:{case.category}")}
    key = matched
    inside = plan.keywords_inside.get(key)
    if inside is None:  # matched keyword → the longer matched keywords that contain it (征地 → 征地拆迁)
        inside = {word: longer for word in key
                  if (longer := [w for w in plan.longer_keywords.get(word, ()) if w in key])}
        _remember(plan.keywords_inside, key, inside)
    if inside:  # 征地 inside 征地拆迁 is that keyword, not a word of its own
        key = tuple(w for w in key if w not in inside or not _only_inside(case.text, w, inside[w]))
    known = plan.classified.get(key)
    if known is None:  # the answer depends on the words that count alone: worked out once per set
        known = _remember(plan.classified, key, _by_keywords(plan, key))
    code, rule, words, source = known
    return code, {"rule": rule, "category": code, "matched": list(words), "source": dict(source)}


_MEMO_SIZE = 4096  # sets of matched keywords remembered per plan (cleared when full)


def _remember(memo: dict, key: tuple, value: Any) -> Any:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


def _by_keywords(plan: Plan, words: tuple[str, ...]) -> tuple[str, str, tuple[str, ...], dict]:
    """The category with the most of `words` (ties: the first in definition order), else the default:
    (code, trace rule, its words as the rule set lists them, the rule's source)."""
    hits: dict[str, list[str]] = {}
    for word in words:
        for code in plan.keyword_categories.get(word, ()):
            hits.setdefault(code, []).append(word)
    best, found = None, []
    index = plan.category_index
    for code, listed in hits.items():  # most words; ties: the first category in definition order
        if len(listed) > len(found) or (len(listed) == len(found) and index[code] < index[best]):
            best, found = code, listed
    if best is None:
        return plan.default_category, "classify:default", (), plan.sources.get("classify:default", {})
    ordered = tuple(w for w in plan.categories[best].keywords if w in found)  # as the rule set lists them
    return best, "classify:keywords", ordered, plan.sources.get(f"classify:keywords:{best}", {})


def _only_inside(text: str, word: str, longer: list[str]) -> bool:
    """Whether every occurrence of `word` in `text` lies within an occurrence of one of the `longer` words."""
    spans = []
    for other in longer:
        at = text.find(other)
        while at >= 0:
            spans.append((at, at + len(other)))
            at = text.find(other, at + 1)
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        for first, last in spans:
            if first <= at and end <= last:
                break
        else:
            return False
        at = text.find(word, at + 1)
    return True


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


def _check_step_extensions(case: Case, table: Mapping[str, Limit]) -> None:
    """An extension of another step than handling (BJ Art. 40: review), only where the rule set provides one
    for that step, and at most as long."""
    problems = []
    for step, days in case.extensions:
        limit = table.get(step)
        bound = limit.extension if limit is not None else None
        if not days:
            continue
        if bound is None:
            problems.append(f"extensions.{step}: the rule set allows no extension of {step}")
        elif days > bound.days:
            cited = f"{bound.basis}, {bound.where}" if bound.basis else bound.where
            problems.append(f"extensions.{step}: {days} is more than the {bound.days} days allowed ({cited})")
    if problems:
        raise CaseError(problems)


def _reason(plan: Plan, rule: str, case: Case) -> str:
    if rule == "admissibility:representatives":
        bound, basis = plan.max_representatives
        return f"代表人数{case.representatives}人，超过上限{bound}人（{basis}）"
    return plan.reasons.get(rule, rule)
