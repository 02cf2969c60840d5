"""The case workflow in the regulation's order (Art. 21-36): who may take which action when, and what it records."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xinfang.config import EffectiveRuleSet, RuleSetLibrary, procedure, today_in_china
from xinfang.config.units import destinations, unit_name
from xinfang.rules.calendar import parse_day
from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.decide import decide
from xinfang.rules.plan import plan_for
from xinfang.server.accounts import Actor, is_petitioner
from xinfang.server.store.case_tables import CaseEvent, Petition
from xinfang.server.store.models import AuditLog, utcnow

from .case_file import deadline_snapshot, effective_or_error, engine_input, pinned_effective, sync_file
from .errors import CaseNotFound, Invalid, NotAllowedNow, Problem, Stale
from .permissions import check_approver, require_action, require_case_scope
from .registration import Registered, case_error, register, register_case
from .visibility import names_accused, visible_detail

__all__ = ["ACTIONS", "OUTCOMES", "Registered", "act", "allowed_actions", "get_case", "get_petition", "register",
           "register_case", "timeline"]

OUTCOMES = ("support", "explain", "not_support", "mediated")  # Art. 32 (written decision), Art. 33 (mediation)
OPINION_OUTCOMES = ("support", "explain", "not_support")  # review and re-review opinions (Art. 35, 36)
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")  # the petitioner's rating (Art. 34 ¶2, 41)
ACTIONS = tuple(a.name for a in procedure.ACTIONS)
MAX_ID = 2**31 - 1


def allowed_actions(petition: Petition, actor: Actor | None = None) -> list[str]:
    """The actions the case's stage allows now, in the regulation's order (a mediated case has no review); the
    petitioner's own (a rating) for a petitioner actor only."""
    return procedure.actions_allowed(petition.stage, petition.outcome, petition.flags, petitioner=is_petitioner(actor))


def get_petition(db: Session, petition_id: int) -> Petition:
    # An id beyond the column's range (32-bit on PostgreSQL) names no case: the database is not asked.
    petition = db.get(Petition, petition_id) if 1 <= petition_id <= MAX_ID else None
    if petition is None:
        raise CaseNotFound("case_not_found", f"no case has id {petition_id}", [{"id": petition_id}])
    return petition


def get_case(db: Session, library: RuleSetLibrary, actor: Actor | None, petition_id: int) -> Petition:
    """The case, if it lies in the actor's scope (what of it the actor may see: visibility.visible_case)."""
    petition = get_petition(db, petition_id)
    require_case_scope(actor, petition, library.tree)
    return petition


@dataclass
class _Act:
    """One action being applied: handlers change `case`, add to `detail` and `done`, may swap `effective`."""

    db: Session
    library: RuleSetLibrary
    petition: Petition
    payload: dict[str, Any]
    on: dt.date
    actor: Actor
    effective: EffectiveRuleSet
    case: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)


def act(db: Session, library: RuleSetLibrary, petition_id: int, action: str, payload: Mapping[str, Any] | None, *,
        actor: Actor, on: dt.date | None = None, expected_revision: int | None = None) -> Petition:
    """Apply one action on legal date `on` (default today) as `actor`: check who may (permissions), that the stage
    allows it and its payload, record the event, recompute the deadlines with the pinned rule set.

    Raises CaseServiceError (server/cases/errors.py); the caller commits, or rolls back after an error.
    """
    if action not in ACTIONS:
        raise CaseNotFound("unknown_action", f"no action {action!r}; the actions are {', '.join(ACTIONS)}",
                           [{"action": action, "actions": list(ACTIONS)}])
    petition = get_petition(db, petition_id)
    require_case_scope(actor, petition, library.tree)  # before anything of the case is read
    effective = pinned_effective(library, petition.ruleset_version, petition.jurisdiction_code, petition.received_on)
    require_action(actor, petition, action, library.tree, effective.get("units") or {})
    if expected_revision is not None and expected_revision != petition.revision:
        raise _stale(petition, expected_revision)
    allowed = allowed_actions(petition, actor)  # asked after who: a stranger learns nothing of the stage
    if action not in allowed:
        raise NotAllowedNow("action_not_allowed",
                            f"{action} is not allowed while the case is {petition.stage}; allowed now: "
                            f"{', '.join(allowed) or 'none (the case is closed)'}",
                            [{"stage": petition.stage, "allowed": allowed}])
    payload = _check_payload(action, payload)
    on = _check_on(petition, on)
    step = _Act(db, library, petition, payload, on, actor, effective, copy.deepcopy(petition.case_json),
                {k: payload[k] for k in ("note",) if k in payload})
    HANDLERS[action](step)
    spec = procedure.action(action)
    step.done |= set(spec.completes)
    if spec.adds_flag or spec.drops_flag:
        petition.flags = sorted((set(petition.flags) | {spec.adds_flag} if spec.adds_flag else set(petition.flags))
                                - {spec.drops_flag})
    try:
        case = parse_case(engine_input(step.case))
        decision = decide(step.effective, case)
    except CaseError as err:
        raise case_error(err) from None
    before = petition.stage
    petition.stage = procedure.action(action).leads_to or before
    petition.case_json = step.case
    petition.updated_at = utcnow()
    try:
        sync_file(db, petition, step.effective, decision, done=step.done, on=on, reopened=spec.reopens)
        petition.events.append(CaseEvent(action=action, on=on, actor=actor.username, stage_before=before,
                                         stage_after=petition.stage,
                                         detail={**step.detail, "deadlines": deadline_snapshot(petition)}))
        db.add(AuditLog(actor=actor.username, action=f"case.{action}", object_type="petition", object_id=str(petition.id),
                        detail={"number": petition.number, "on": on.isoformat(), "stage_before": before,
                                "stage_after": petition.stage, **step.detail}))
        db.flush()
    except StaleDataError:
        raise _stale(petition, expected_revision) from None
    return petition


def timeline(db: Session, petition_id: int, actor: Actor | None = None) -> list[dict[str, Any]]:
    """The file (一案一档): every event in order, with each step's deadline as it stood after the event.

    Given an actor, each event's detail as the actor may see it (visibility.visible_detail: an accusation's
    words, the case a repeat repeats); without one, whole, for the service's own use.
    """
    petition = get_petition(db, petition_id)
    out = []
    for event in petition.events:
        detail = dict(event.detail or {})
        deadlines = detail.pop("deadlines", {})
        if actor is not None:
            detail = visible_detail(petition, actor, detail)
        out.append({"id": event.id, "action": event.action, "on": event.on.isoformat(), "at": event.at.isoformat(),
                    "actor": event.actor, "stage_before": event.stage_before, "stage_after": event.stage_after,
                    "detail": detail, "deadlines": deadlines})
    return out


def _stale(petition: Petition, expected: int | None) -> Stale:
    return Stale("precondition_failed", f"case {petition.number} changed since revision {expected}: reload it and "
                                        f"apply the action again (nothing was changed)",
                 [{"number": petition.number, "revision": expected}])


def _check_payload(action: str, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise Invalid("invalid_payload", f"the payload of {action} must be an object",
                      problems=[Problem("payload", "not_an_object", f"the payload of {action} must be an object")])
    required, optional = procedure.action(action).required, procedure.action(action).optional
    known = sorted({*required, *optional, "note"})
    problems = [Problem(k, "unknown", f"unknown field (the fields of {action} are: {', '.join(known)})",
                        {"known": known}) for k in payload if k not in known]
    problems += [Problem(k, "missing", "required field is missing") for k in required if payload.get(k) in (None, "")]
    if problems:
        raise Invalid("invalid_payload", f"{action}: " + "; ".join(map(str, problems)), problems=problems)
    return dict(payload)


def _check_on(petition: Petition, on: dt.date | None) -> dt.date:
    """The legal date: not in the future, not before the file's last event (the file is in time order)."""
    today = today_in_china()
    on = on or today
    recorded = [e.on for e in petition.events if e.action in ACTIONS]  # a sweep's events keep their own day
    last = max(recorded, default=petition.received_on)
    problems = []
    if on > today:
        problems.append(Problem("on", "in_the_future", f"{on} is in the future (today is {today} in Asia/Shanghai)",
                                {"on": on.isoformat(), "today": today.isoformat()}))
    if on < last:
        problems.append(Problem("on", "before_last_event", f"{on} is before the file's last event on {last}",
                                {"on": on.isoformat(), "last": last.isoformat()}))
    if problems:
        raise Invalid("invalid_date", "; ".join(map(str, problems)), problems=problems)
    return on


def _payload_date(step: _Act, name: str) -> dt.date:
    raw = step.payload.get(name)
    if raw is None:
        return step.on
    try:
        day = parse_day(raw.isoformat() if isinstance(raw, dt.date) else raw)
    except ValueError as err:
        raise _invalid(Problem(name, "not_a_date", str(err))) from None
    if day < step.on:
        raise _invalid(Problem(name, "before_action", f"{day} is before the action's date {step.on}",
                               {"on": step.on.isoformat()}))
    return day


def _invalid(problem: Problem) -> Invalid:
    return Invalid("invalid_payload", str(problem), problems=[problem])


def _outcome(step: _Act, allowed: tuple[str, ...]) -> str:
    outcome = step.payload["outcome"]
    if outcome not in allowed:
        raise _invalid(Problem("outcome", "not_one_of", f"{outcome!r} is not one of {', '.join(allowed)}",
                               {"allowed": list(allowed)}))
    step.detail["outcome"] = outcome
    if step.payload.get("opinion"):
        step.detail["opinion"] = step.payload["opinion"]
    return outcome


def _limits(step: _Act):
    """The limits in force for the case's track and tier under its pinned rule set (rules.plan)."""
    decision = step.petition.decision or {}
    tier = next((f.removeprefix("tier:") for f in decision.get("flags", ()) if f.startswith("tier:")), None)
    return plan_for(step.effective).limits(decision.get("track"), tier)


def _limit(step: _Act, name: str):
    return _limits(step).table.get(name)


def _deadline(petition: Petition, name: str) -> dict | None:
    return ((petition.decision or {}).get("deadlines") or {}).get(name)


def _within(step: _Act, name: str, what: str) -> None:
    """Refuse an action taken after the deadline of step `name`, naming the deadline and where it comes from."""
    found = _deadline(step.petition, name)
    if found is not None and step.on > dt.date.fromisoformat(found["date"]):
        limit = _limit(step, name)
        detail = {"step": name, "deadline": found["date"], "source": found["source"], "on": step.on.isoformat(),
                  "basis": limit.basis if limit else ""}
        rule = _missed_review_rule(step) if name.endswith("review_request") else {}
        if rule:
            detail["refusal"] = {"reason": rule.get("reason", ""), "basis": rule.get("basis", "")}
        extra = f"; {rule.get('reason', '')}（{rule.get('basis', '')}）" if rule else ""
        raise Invalid("deadline_passed", f"{what} on {step.on} is too late: the period ended on {found['date']} "
                                         f"({found['source']}){extra}", [detail])


# The handlers, one per action

def _accept(step: _Act) -> None:
    if step.petition.channel == "litigation":
        raise NotAllowedNow("litigation_separated", "a matter for the courts is separated from petitions (诉访分离), "
                                                    "not accepted: 《信访工作条例》第二十二条第二款、第二十八条第二款",
                            [{"channel": "litigation"}])
    step.case["accepted_on"] = step.on.isoformat()
    step.detail["notice"] = "受理告知书"


def _refuse(step: _Act) -> None:
    reason = step.payload.get("reason") or (step.petition.decision or {}).get("reason")
    if not reason:
        raise _invalid(Problem("reason", "missing", "required field is missing (不予受理 must say why)"))
    step.detail.update(reason=reason, notice="不予受理告知书")


def _routed_unit(step: _Act) -> tuple[str, str]:
    """The unit a case is transferred or assigned to: a real unit of its jurisdiction or of one directly below
    (config.units.destinations: never a kind of body, nor the office itself), and for an accusation never the
    accused (Art. 30, 46(5))."""
    unit = str(step.payload["unit"]).strip()
    offered = destinations(step.effective, step.library)
    found = next((d for d in offered if d.key == unit), None)
    if found is None:
        raise _invalid(Problem("unit", "not_a_unit", f"{unit!r} is no unit this case can be routed to",
                               {"units": [d.key for d in offered]}))
    name = step.payload.get("unit_name") or found.name
    if step.petition.confidential and names_accused(step.petition.accused_unit, unit, name):
        raise Invalid("accused_unit", f"an accusation is never transferred to the accused unit "
                                      f"{step.petition.accused_unit} (《信访工作条例》第三十条、第四十六条第五项)",
                      [{"unit": unit}])
    step.petition.route_unit = unit[:64]
    return unit, name


def _transfer(step: _Act) -> None:
    unit, name = _routed_unit(step)
    step.detail.update(unit=unit, unit_name=name, notice="转送告知")


def _assign(step: _Act) -> None:
    """交办: the unit must report how it handles the case by the feedback deadline (time_limits.feedback)."""
    unit, name = _routed_unit(step)
    step.case["assigned_on"] = step.on.isoformat()
    step.detail.update(unit=unit, unit_name=name, notice="交办单")


def _separate(step: _Act) -> None:
    """诉访分离 (Art. 22 ¶2, 28 ¶2): to the political-legal organs; the petition procedure ends, its clocks stop."""
    routing = step.effective.get("routing.litigation") or {}
    unit = str(step.payload.get("unit") or routing.get("unit") or "political_legal")
    name = unit_name(step.effective, unit)
    step.petition.route_unit = unit[:64]
    step.detail.update(unit=unit, unit_name=name, notice="诉访分离告知",
                       **({"reason": step.payload["reason"]} if step.payload.get("reason") else {}))


def _object(step: _Act) -> None:
    _within(step, "objection", "an objection to the transfer")
    step.detail.update(reason=step.payload["reason"], unit=step.petition.route_unit)
    step.petition.flags = sorted(set(step.petition.flags) | {"objection"})


def _report(step: _Act) -> None:
    step.case["feedback_on"] = step.on.isoformat()
    step.detail["progress"] = step.payload["progress"]


def _supervise(step: _Act) -> None:
    """督办 (Art. 40) with its letter: the unit answers in writing, by the rule set's limit if it sets one."""
    step.case["supervised_on"] = step.on.isoformat()
    step.case.pop("supervision_answered_on", None)  # a new supervision is owed a new answer
    step.detail.update(reason=step.payload["reason"], notice="督办函", unit=step.petition.route_unit)


def _answer_supervision(step: _Act) -> None:
    step.case["supervision_answered_on"] = step.on.isoformat()
    step.detail["answer"] = step.payload["answer"]


def _request_extension(step: _Act) -> None:
    """Art. 34: the unit asks, with its reasons, for at most the configured extension; an approver decides."""
    days = _extension_days(step, _limits(step).extension, "the handling period")
    step.detail.update(days=days, reason=step.payload["reason"], bound=_limits(step).extension.days)


def _extension_days(step: _Act, bound, what: str) -> int:
    """The days asked for, refused unless a whole number within the extension `bound` the rule set gives."""
    days = step.payload["days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise _invalid(Problem("days", "not_whole_number", f"{days!r} is not a whole number of days (1 or more)"))
    if bound is None:
        raise Invalid("extension_above_bound",
                      f"the rule set {step.petition.ruleset_version} allows no extension of {what}",
                      [{"days": days, "bound": 0}])
    if days > bound.days:
        raise Invalid("extension_above_bound",
                      f"an extension of {days} days is refused: at most {bound.days} days are allowed "
                      f"({bound.source}; rule set {step.petition.ruleset_version})",
                      [{"days": days, "bound": bound.days, "source": bound.source, "basis": bound.basis}])
    return days


def _extension_request(step: _Act) -> CaseEvent:
    return next(e for e in reversed(step.petition.events) if e.action == "request_extension")


def _approve_extension(step: _Act) -> None:
    request = _extension_request(step)
    check_approver(step.actor, request.actor)
    days = int(request.detail["days"])
    step.case["extension_days"] = days
    step.detail.update(days=days, requester=request.actor, approver=step.actor.username)


def _deny_extension(step: _Act) -> None:
    request = _extension_request(step)
    check_approver(step.actor, request.actor)
    step.detail.update(days=request.detail.get("days"), requester=request.actor, reason=step.payload["reason"])


def _satisfaction(step: _Act) -> None:
    """The petitioner's rating, on the event leading to concluded or closed (what the indicators read)."""
    rating = step.payload.get("satisfaction")
    if rating is None:
        return
    if rating not in SATISFACTION:
        raise _invalid(Problem("satisfaction", "not_one_of", f"{rating!r} is not one of {', '.join(SATISFACTION)}",
                               {"allowed": list(SATISFACTION)}))
    step.detail["satisfaction"] = rating


def _rate(step: _Act) -> None:
    """The petitioner's own rating online (网上评价): once a case, on the rule set's scale; it is what 群众满意率 reads
    (the latest rating on an event leading to concluded or closed), so it overrides one a clerk recorded."""
    if any(e.action == "rate" for e in step.petition.events):
        raise NotAllowedNow("already_rated", f"case {step.petition.number} has been rated already (one rating a case)",
                            [{"number": step.petition.number}])
    scale = tuple((step.effective.get("public") or {}).get("rating_scale") or SATISFACTION)
    rating = step.payload["satisfaction"]
    if rating not in scale:
        raise _invalid(Problem("satisfaction", "not_one_of", f"{rating!r} is not one of {', '.join(scale)}",
                               {"allowed": list(scale)}))
    step.detail["satisfaction"] = rating
    if step.payload.get("comment"):
        step.detail["comment"] = str(step.payload["comment"])[:500]


def _conclude(step: _Act) -> None:
    outcome = _outcome(step, OUTCOMES)
    _satisfaction(step)
    step.petition.outcome = outcome
    if outcome != "mediated":  # a mediation agreement (Art. 33) is no written decision to seek review of
        answered = _payload_date(step, "answered_on")
        step.case["answered_on"] = answered.isoformat()
        step.detail["answered_on"] = answered.isoformat()


def _missed_review_rule(step: _Act) -> dict:
    """Where the rule set refuses a late request outright (SD Art. 33), the refusal says so."""
    rule = step.effective.get("admissibility.missed_review_deadline") or {}
    return dict(rule) if rule.get("refuse") else {}


def _request_review(step: _Act) -> None:
    _within(step, "review_request", "a review request")
    step.case["review_requested_on"] = step.on.isoformat()
    for name in ("body", "reason"):
        if step.payload.get(name):
            step.detail[name] = step.payload[name]
    _offer_extension(step, "review")


def _offer_extension(step: _Act, name: str) -> None:
    """Where the pinned rule set lets step `name` be extended (BJ Art. 40: review), the case carries
    `extendable:<name>` until the extension is taken: the action is offered only then, and once."""
    limit = _limit(step, name)
    if limit is not None and limit.extension is not None:
        step.petition.flags = sorted(set(step.petition.flags) | {f"{procedure.EXTENDABLE}{name}"})


def _extend_review(step: _Act) -> None:
    """The review body extends its own review period, within the rule set's bound (BJ Art. 40: 30 days)."""
    limit = _limit(step, "review")
    days = _extension_days(step, limit.extension if limit else None, "the review period")
    step.case["extensions"] = {**step.case.get("extensions", {}), "review": days}
    step.detail.update(days=days, reason=step.payload["reason"], bound=limit.extension.days,
                       basis=limit.extension.basis)


def _review_opinion(step: _Act) -> None:
    _outcome(step, OPINION_OUTCOMES)
    answered = _payload_date(step, "answered_on")
    step.case["review_answered_on"] = answered.isoformat()
    step.detail["answered_on"] = answered.isoformat()


def _request_rereview(step: _Act) -> None:
    _within(step, "rereview_request", "a re-review request")
    step.case["rereview_requested_on"] = step.on.isoformat()
    if step.payload.get("body"):
        step.detail["body"] = step.payload["body"]


def _hearing_start(step: _Act) -> None:
    # The hearing is on file from its first day; hearing_end moves its end (both ends are not counted).
    step.case["hearings"] = [*step.case.get("hearings", []), {"start": step.on.isoformat(), "end": step.on.isoformat()}]


def _hearing_end(step: _Act) -> None:
    hearings = step.case["hearings"]
    hearings[-1]["end"] = step.on.isoformat()
    step.detail["hearing"] = dict(hearings[-1])


def _rereview_opinion(step: _Act) -> None:
    _outcome(step, OPINION_OUTCOMES)


def _close(step: _Act) -> None:
    _satisfaction(step)


def _migrate(step: _Act) -> None:
    petition = step.petition
    target = step.payload.get("to") or effective_or_error(step.library, petition.jurisdiction_code,
                                                          petition.received_on).version_label
    if not isinstance(target, str):
        raise _invalid(Problem("to", "not_a_version", "a version label is a string (000000@2022.1+...+371321@2024.1)"))
    if target == petition.ruleset_version:
        raise Invalid("nothing_to_migrate", f"the case is already pinned to {target}", [{"version": target}])
    step.effective = pinned_effective(step.library, target, petition.jurisdiction_code, petition.received_on)
    step.detail.update({"from": petition.ruleset_version, "to": target, "reason": step.payload["reason"]})
    petition.ruleset_version = target
    petition.flags = sorted(set(petition.flags) | {"migrated"})


HANDLERS: dict[str, Callable[[_Act], None]] = {
    "transfer": _transfer, "assign": _assign, "separate": _separate, "object": _object, "accept": _accept,
    "refuse": _refuse, "report": _report, "supervise": _supervise, "answer_supervision": _answer_supervision,
    "request_extension": _request_extension, "approve_extension": _approve_extension,
    "deny_extension": _deny_extension, "extend_review": _extend_review,
    "conclude": _conclude, "request_review": _request_review, "review_opinion": _review_opinion,
    "request_rereview": _request_rereview, "hearing_start": _hearing_start, "hearing_end": _hearing_end,
    "rereview_opinion": _rereview_opinion, "close": _close, "migrate": _migrate, "rate": _rate,
}
