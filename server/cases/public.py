"""The petitioner's side of the case service (网上信访): submit with a real name, follow by number and query code,
rate the answer, ask for review. Everything goes through register_case and workflow.act as a petitioner actor.

A query code is shown once, at submission, and kept only as a blind index; a wrong code and an unknown number are
the same refusal, so nobody learns which numbers exist.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import RuleSetLibrary, procedure, today_in_china
from xinfang.config.units import unit_name
from xinfang.server.accounts import petitioner_actor
from xinfang.server.store.case_tables import Petition, QueryCode
from xinfang.server.store.data_keys import blind_index

from . import workflow
from .case_file import effective_or_error, pinned_effective
from .errors import CaseNotFound, Invalid, NotAllowedNow, Problem
from .online import public_settings
from .real_name import IdentityVerifier, verify_petitioner
from .registration import register_case

__all__ = ["PETITIONER_EVENTS", "PETITIONER_STEPS", "Submitted", "first_deadlines", "open_case", "petitioner_view", "rate", "request_review", "review_body",
           "submit"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a phone
CODE_LENGTH = 12  # 60 bits: with the throttle on wrong codes, never guessed

# The events a petitioner sees, and which of their words: what was done for it and told to it, never the units'
# exchanges among themselves (objections, progress reports, supervision), internal notes or who did it.
PETITIONER_EVENTS: dict[str, tuple[str, ...]] = {
    "register": (), "transfer": ("unit_name",), "assign": ("unit_name",), "separate": ("unit_name", "reason"),
    "accept": ("notice",), "refuse": ("reason", "notice"), "approve_extension": ("days",),
    "conclude": ("outcome", "opinion", "answered_on"), "rate": ("satisfaction",), "request_review": ("body", "reason"),
    "review_opinion": ("outcome", "opinion", "answered_on"), "request_rereview": ("body", "reason"),
    "hearing_start": (), "hearing_end": ("hearing",), "rereview_opinion": ("outcome", "opinion"), "close": (),
}

# The deadlines a petitioner is told: the office's duties to it and its own windows, not the units' among themselves.
PETITIONER_STEPS = frozenset(s.name for s in procedure.STEPS if s.holder != "unit")


@dataclass(frozen=True)
class Submitted:
    petition: Petition
    query_code: str  # shown once; only its blind index is stored


def _code_hash(number: str, code: str) -> str:
    return blind_index(f"query-code:{number}:{code.strip().upper()}")


def submit(db: Session, library: RuleSetLibrary, jurisdiction_code: str, case_json: Any, *,
           verifier: IdentityVerifier, anonymous: bool = False) -> Submitted:
    """Register a petition submitted online today, by a verified petitioner, and give it a query code.

    The case is online and received today whatever the request says otherwise (refused if it says so);
    register_case applies the rule set's form, online section, daily limit and 智能判重. `anonymous`: an
    accusation without the accuser's identity, where the rule set accepts one; the query code is then the only
    way back to it. The caller commits.
    """
    if not isinstance(case_json, Mapping):
        raise Invalid("invalid_case", "case: expected an object", problems=[Problem("case", "not_an_object",
                                                                                     "case must be an object")])
    today = today_in_china()
    problems = [Problem(k, "fixed", f"a petition submitted online is {k} {v} (leave it out)")
                for k, v in (("intake", "online"), ("received_on", today.isoformat()))
                if k in case_json and str(case_json[k]) != v]
    if problems:
        raise Invalid("invalid_case", "; ".join(map(str, problems)), problems=problems)
    case = {**case_json, "intake": "online", "received_on": today.isoformat()}
    if not anonymous:
        verify_petitioner(case.get("petitioner"), jurisdiction_code, verifier)
    registered = register_case(db, library, case, actor=petitioner_actor(jurisdiction_code),
                               jurisdiction_code=jurisdiction_code, anonymous=anonymous)
    petition = registered.petition
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    db.add(QueryCode(petition_id=petition.id, code_hash=_code_hash(petition.number, code)))
    db.flush()
    return Submitted(petition, code)


def first_deadlines(petition: Petition) -> dict[str, dict[str, Any]]:
    """The deadlines a petitioner is told on submission: step → its date and whether it is provisional."""
    return {k: {"date": v["date"], "provisional": v["provisional"]}
            for k, v in (petition.decision.get("deadlines") or {}).items() if k in PETITIONER_STEPS}


def open_case(db: Session, number: str, code: str | None) -> Petition:
    """The case with this number, if `code` is its query code; else the same CaseNotFound as for no such case."""
    found = db.execute(select(Petition, QueryCode.code_hash).join(QueryCode, QueryCode.petition_id == Petition.id)
                       .where(Petition.number == str(number)[:40])).first() if number else None
    expected = found[1] if found else _code_hash("-", "-")
    if not (code and hmac.compare_digest(expected, _code_hash(str(number), str(code)))) or found is None:
        raise CaseNotFound("petition_not_found", "no petition has this number and query code",
                           [{"number": str(number)[:40]}])
    return found[0]


def review_body(library: RuleSetLibrary, petition: Petition) -> str:
    """Art. 35: the review goes to the body one level above the one that handled the case."""
    node = library.tree.get(petition.jurisdiction_code)
    above = library.tree.get(node.parent).name if node.parent else node.name
    return f"原办理机关、单位的上一级机关、单位（{above}）"


def _petitioner(petition: Petition):
    """The petitioner actor of this case alone (server/cases/permissions.own_case)."""
    return petitioner_actor(petition.jurisdiction_code, petition.number)


def rate(db: Session, library: RuleSetLibrary, petition: Petition, *, satisfied: Any, comment: Any = None,
         rating: Any = None) -> Petition:
    """评价: once the case is answered, one rating (满意 / 基本满意 / 不满意) with a comment, through workflow.act."""
    if not isinstance(satisfied, bool):
        raise Invalid("invalid_payload", "satisfied: true or false",
                      problems=[Problem("satisfied", "not_a_boolean", "satisfied must be true or false")])
    if petition.outcome is None:
        raise NotAllowedNow("not_answered", f"case {petition.number} has no answer yet to rate",
                            [{"number": petition.number, "stage": petition.stage}])
    answer = rating if rating is not None else ("satisfied" if satisfied else "unsatisfied")
    if (answer == "unsatisfied") == satisfied:
        raise Invalid("invalid_payload", f"rating {answer!r} contradicts satisfied={satisfied}",
                      problems=[Problem("rating", "contradicts", f"{answer!r} and satisfied={satisfied}")])
    payload = {"satisfaction": answer, **({"comment": str(comment)} if comment not in (None, "") else {})}
    return workflow.act(db, library, petition.id, "rate", payload, actor=_petitioner(petition))


def request_review(db: Session, library: RuleSetLibrary, petition: Petition, *, reason: Any = None) -> Petition:
    """申请复查 (Art. 35) within the window, to the body above, through workflow.act (which refuses it late)."""
    payload = {"body": review_body(library, petition), **({"reason": str(reason)} if reason not in (None, "") else {})}
    return workflow.act(db, library, petition.id, "request_review", payload, actor=_petitioner(petition))


def _effective(library: RuleSetLibrary, petition: Petition):
    return pinned_effective(library, petition.ruleset_version, petition.jurisdiction_code, petition.received_on)


def petitioner_view(library: RuleSetLibrary, petition: Petition) -> dict[str, Any]:
    """The case as its petitioner sees it: stage, every deadline with its date, notices, the answer, what it may do
    now, and the events of PETITIONER_EVENTS with only their petitioner-facing words."""
    effective = _effective(library, petition)
    events = [{"action": e.action, "on": e.on.isoformat(), "stage": e.stage_after,
               "detail": {k: v for k, v in (e.detail or {}).items() if k in PETITIONER_EVENTS[e.action]}}
              for e in petition.events if e.action in PETITIONER_EVENTS]
    answer = next(({"outcome": e.detail.get("outcome"), "opinion": e.detail.get("opinion"),
                    "answered_on": e.detail.get("answered_on", e.on.isoformat())}
                   for e in reversed(petition.events) if e.action == "conclude"), None)
    rating = next(({"satisfaction": e.detail.get("satisfaction"), "on": e.on.isoformat()}
                   for e in petition.events if e.action == "rate"), None)
    allowed = workflow.allowed_actions(petition, _petitioner(petition))
    review_deadline = next((d for d in petition.deadlines if d.step == "review_request"), None)
    review_open = ("request_review" in allowed and review_deadline is not None
                   and review_deadline.done_on is None and today_in_china() <= review_deadline.due_on)
    category = ((effective.get("classification") or {}).get("categories") or {}).get(petition.category) or {}
    return {
        "number": petition.number, "jurisdiction": petition.jurisdiction_code,
        "jurisdiction_name": library.tree.get(petition.jurisdiction_code).name,
        "received_on": petition.received_on.isoformat(), "stage": petition.stage, "kind": petition.kind,
        "category": petition.category, "category_name": category.get("name"),
        "deadlines": [{"step": d.step, "date": d.due_on.isoformat(), "provisional": d.provisional,
                       "done_on": d.done_on.isoformat() if d.done_on else None}
                      for d in sorted(petition.deadlines, key=lambda d: (d.due_on, d.step))
                      if d.step in PETITIONER_STEPS],
        "notices": [{"name": e["detail"]["notice"], "on": e["on"]} for e in events if e["detail"].get("notice")],
        "answer": answer, "rating": rating,
        "rating_scale": list(public_settings(effective)["rating_scale"]),
        "may_rate": rating is None and answer is not None and "rate" in allowed,
        "review": {"open": review_open, "until": review_deadline.due_on.isoformat() if review_deadline else None,
                   "body": review_body(library, petition)},
        "events": events,
    }


def preview(db: Session, library: RuleSetLibrary, jurisdiction_code: str, case_json: Mapping[str, Any], *,
            verifier: IdentityVerifier, anonymous: bool = False):
    """What the petitioner is shown before sending (as the clerk's preview): the category suggested, the unit it
    goes to, the first deadlines, and whether it has raised this matter already (its own earlier case only)."""
    from xinfang.rules.case_input import CaseError, parse_case
    from xinfang.rules.decide import decide

    from .case_file import engine_input
    from .identity import petitioner_key
    from .online import check_anonymous, earlier_same_matter, same_person
    from .registration import case_error
    today = today_in_china()
    case = {**case_json, "intake": "online", "received_on": today.isoformat()}
    if not anonymous:
        verify_petitioner(case.get("petitioner"), jurisdiction_code, verifier)
    effective = effective_or_error(library, jurisdiction_code, today)
    try:
        decision = decide(effective, parse_case(engine_input(case)))
    except CaseError as err:
        raise case_error(err) from None
    if anonymous:
        check_anonymous(effective, petitioner_actor(jurisdiction_code), decision["kind"], case)
    confidential = decision["kind"] == "accusation"
    earlier = None if confidential else earlier_same_matter(
        db, effective, key=petitioner_key(case.get("petitioner")), category=decision["category"], received_on=today,
        case_json=case, confidential=False)
    if earlier is not None and not same_person(earlier, case.get("petitioner")):
        earlier = None
    category = ((effective.get("classification") or {}).get("categories") or {}).get(decision["category"]) or {}
    unit = (decision.get("route") or {}).get("unit")
    return {"category": decision["category"], "category_name": category.get("name"), "kind": decision["kind"],
            "channel": decision["channel"], "route_unit_name": unit_name(effective, unit),
            "deadlines": {k: {"date": v["date"], "provisional": v["provisional"]}
                          for k, v in (decision.get("deadlines") or {}).items() if k in PETITIONER_STEPS},
            "already_submitted": {"number": earlier.number, "received_on": earlier.received_on.isoformat()}
            if earlier is not None else None}
