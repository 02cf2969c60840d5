"""The case API under /api/v1: register, list, view, act on cases, read their file; evaluate without storing.

A thin adapter over the case service (server/cases/): it reads the request, passes the signed-in user
as the actor, and answers the service's refusals as JSON errors (server/web/errors.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import select

from xinfang.config import CHINA, NoRuleSetInForce, today_in_china
from xinfang.config.procedure import STAGE_NAMES
from xinfang.rules.calendar import parse_day
from xinfang.rules.case_input import CaseError
from xinfang.rules.decide import evaluate
from xinfang.server.cases import queries, workflow
from xinfang.server.cases.queries import CaseFilters
from xinfang.server.cases.registration import case_error
from xinfang.server.cases.transactions import committed
from xinfang.server.cases.visibility import visible_case
from xinfang.server.cases.workflow import act, register_case, timeline
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.case_tables import CaseEscalation, Petition
from xinfang.server.store.db import get_session

from .auth import current_user, login_required
from .errors import ApiError, known_jurisdiction

bp = Blueprint("cases", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 200


def _body(*allowed: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise ApiError(422, "invalid_payload", f"unknown field(s) {', '.join(unknown)}; the fields are "
                                               f"{', '.join(allowed)}", [f"{k}: unknown field" for k in unknown])
    return body


def _date(value: Any, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as err:
        raise ApiError(400, "bad_date", f"{name}={err}") from None


def _code(raw: Any, status: int = 422) -> str:
    """A jurisdiction named in a body (422 when unknown) or in a query (404 when unknown)."""
    return known_jurisdiction(library_of(current_app), raw, status).code


def _case_response(petition: Petition, status: int = 200, **extra: Any):
    response = jsonify(visible_case(petition, current_user(), in_list=False) | extra)
    response.status_code = status
    response.headers["ETag"] = f'"{petition.revision}"'
    return response


@bp.post("/cases")
@login_required
def create_case():
    """Register a petition (Art. 21); the same Idempotency-Key and body answer 200 with the first case."""
    body = _body("jurisdiction", "case")
    user = current_user()
    code = _code(body["jurisdiction"]) if body.get("jurisdiction") else None
    if "case" not in body:
        raise ApiError(422, "invalid_payload", "case: required field is missing", ["case: required field is missing"])
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
    library = library_of(current_app)
    result = committed(get_session(), lambda: register_case(get_session(), library, body["case"], actor=user,
                                                            jurisdiction_code=code, idempotency_key=key))
    response = _case_response(result.petition, 201 if result.created else 200)
    response.headers["Location"] = url_for(".get_case", case_id=result.petition.id)
    return response


def _filters(args) -> tuple[CaseFilters, int, int]:
    """The list's filters from the query string, refusing (400) what cannot be used."""
    code = _code(args["jurisdiction"], 404) if "jurisdiction" in args else current_user().jurisdiction_code
    stages: tuple[str, ...] = ()
    if "stage" in args:
        stages = tuple(args["stage"].split(","))
        bad = [s for s in stages if s not in STAGE_NAMES]
        if bad:
            raise ApiError(400, "bad_stage", f"unknown stage(s) {', '.join(bad)}; stages are {', '.join(STAGE_NAMES)}")
    overdue = {"true": True, "1": True, "false": False, "0": False, None: None}
    if args.get("overdue") not in overdue:
        raise ApiError(400, "bad_parameter", "overdue must be true or false")
    filters = CaseFilters(
        jurisdiction=code, at=_date(args.get("at"), "at") or today_in_china(), stages=stages,
        track=args.get("track") or "", flag=args.get("flag") or "",
        due_within=_int(args["due_within"], "due_within", 0, 3650) if args.get("due_within") else None,
        overdue=overdue[args.get("overdue")], now=None if args.get("at") else dt.datetime.now(CHINA))
    return (filters, _int(args.get("page", "1"), "page", 1, 10**6),
            _int(args.get("per_page", "50"), "per_page", 1, MAX_PER_PAGE))


@bp.get("/cases")
@login_required
def list_cases():
    """Cases in scope, newest first; filters: jurisdiction (and below), stage, track, flag, due_within, overdue."""
    filters, page, per_page = _filters(request.args)
    user = current_user()
    found = queries.list_cases(get_session(), library_of(current_app), user, filters, page=page, per_page=per_page)
    return jsonify(items=[visible_case(p, user, in_list=True) for p in found.items], page=found.page,
                   per_page=found.per_page, total=found.total)


def _int(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_parameter", f"{name} must be between {low} and {high}")
    return value


def _scoped_case(case_id: int) -> Petition:
    return workflow.get_case(get_session(), library_of(current_app), current_user(), case_id)


@bp.get("/cases/<int:case_id>")
@login_required
def get_case(case_id: int):
    """The case view, with what the user may see of it (visible_case), its escalations, and its revision as ETag."""
    petition = _scoped_case(case_id)
    rows = get_session().scalars(select(CaseEscalation).where(CaseEscalation.petition_id == petition.id)
                                 .order_by(CaseEscalation.due_on, CaseEscalation.step))
    escalations = [{"step": e.step, "watch": e.watch, "action": e.action, "flag": e.flag, "target": e.target,
                    "letter": e.letter, "due_on": e.due_on.isoformat(),
                    "fired_at": e.fired_at.isoformat() if e.fired_at else None, "rule": e.rule, "source": e.source}
                   for e in rows]
    return _case_response(petition, escalations=escalations)


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiError(400, "bad_if_match", f"If-Match {raw!r} is not a case revision (the ETag, e.g. \"3\")")
    return int(tag)


@bp.post("/cases/<int:case_id>/actions/<action>")
@login_required
def case_action(case_id: int, action: str):
    """Take one action on a case; `on` in the body is its legal date (default today). If-Match guards the revision."""
    expected = _if_match()
    payload = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    on = _date(payload.pop("on", None), "on")
    db = get_session()
    try:
        petition = act(db, library_of(current_app), case_id, action, payload, actor=current_user(), on=on,
                       expected_revision=expected)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return _case_response(petition)


@bp.get("/cases/<int:case_id>/events")
@login_required
def case_events(case_id: int):
    """The case's file (一案一档): its events in order, each with the deadlines as they stood after it."""
    petition = _scoped_case(case_id)
    return jsonify(number=petition.number, items=timeline(get_session(), petition.id, current_user()))


@bp.post("/evaluate")
def evaluate_case():
    """The Decision JSON for a case under the rule set in force on its received_on, stored nowhere.

    Open to anyone, as the published rule sets it applies are (README "Who reads what"); without sign-in the
    body names the jurisdiction, signed in it defaults to the user's.
    """
    body = _body("jurisdiction", "case", "at")
    user = current_user()
    if not body.get("jurisdiction") and user is None:
        raise ApiError(422, "invalid_payload", "jurisdiction: required field is missing (not signed in)",
                       ["jurisdiction: required field is missing"])
    code = _code(body.get("jurisdiction") or user.jurisdiction_code)
    if "case" not in body:
        raise ApiError(422, "invalid_payload", "case: required field is missing", ["case: required field is missing"])
    try:
        decision = evaluate(library_of(current_app), code, body["case"], at=_date(body.get("at"), "at"))
    except CaseError as err:
        raise case_error(err) from None
    except NoRuleSetInForce as err:
        raise ApiError(422, "no_ruleset_in_force", str(err)) from None
    return jsonify(decision)
