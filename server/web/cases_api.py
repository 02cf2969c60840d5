"""The case API under /api/v1: register, list, view, act on cases, read their file; evaluate without storing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from xinfang.config import NoRuleSetInForce, jurisdiction_prefix, procedure, today_in_china
from xinfang.config.procedure import STAGE_NAMES
from xinfang.rules.calendar import parse_day
from xinfang.rules.case_input import CaseError
from xinfang.rules.decide import evaluate
from xinfang.server.accounts import has_role
from xinfang.server.cases.registration import case_error
from xinfang.server.cases.visibility import is_accused_unit, visible_case
from xinfang.server.cases.workflow import ACTIONS, act, allowed_actions, get_petition, register_case, timeline
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, Petition
from xinfang.server.store.db import get_session
from xinfang.server.store.models import User

from .auth import current_user, login_required, require_scope, roles_required
from .errors import ApiError, known_jurisdiction

bp = Blueprint("cases", __name__, url_prefix="/api/v1")

_RETRIES = 3  # a registration that lost a race (same Idempotency-Key, SQLite's writer lock) is tried again
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


def _scoped_case(case_id: int) -> Petition:
    petition = get_petition(get_session(), case_id)
    require_scope(petition.jurisdiction_code)
    return petition


@bp.post("/cases")
@roles_required("clerk")
def create_case():
    """Register a petition (Art. 21); the same Idempotency-Key and body answer 200 with the first case."""
    body = _body("jurisdiction", "case")
    user = current_user()
    code = _code(body.get("jurisdiction") or user.jurisdiction_code)
    require_scope(code)
    if "case" not in body:
        raise ApiError(422, "invalid_payload", "case: required field is missing", ["case: required field is missing"])
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
    db = get_session()
    for attempt in range(1, _RETRIES + 1):
        try:
            result = register_case(db, library_of(current_app), body["case"], actor=user.username,
                                   jurisdiction_code=code, idempotency_key=key)
            db.commit()
            break
        except (IntegrityError, OperationalError):
            db.rollback()
            if attempt == _RETRIES:
                raise ApiError(503, "busy", "the case could not be registered for concurrent changes; try again")
        except Exception:
            db.rollback()
            raise
    require_scope(result.petition.jurisdiction_code)
    response = _case_response(result.petition, 201 if result.created else 200)
    response.headers["Location"] = url_for(".get_case", case_id=result.petition.id)
    return response


@bp.get("/cases")
@login_required
def list_cases():
    """Cases in scope, newest first; filters: jurisdiction (and below), stage, track, flag, due_within, overdue."""
    args, user = request.args, current_user()
    code = _code(args["jurisdiction"], 404) if "jurisdiction" in args else user.jurisdiction_code
    require_scope(code)
    query = select(Petition).where(Petition.jurisdiction_code.like(jurisdiction_prefix(code) + "%"))
    if "stage" in args:
        stages = args["stage"].split(",")
        bad = [s for s in stages if s not in STAGE_NAMES]
        if bad:
            raise ApiError(400, "bad_stage", f"unknown stage(s) {', '.join(bad)}; stages are {', '.join(STAGE_NAMES)}")
        query = query.where(Petition.stage.in_(stages))
    if args.get("track"):
        query = query.where(Petition.track == args["track"])
    if args.get("flag"):
        escaped = args["flag"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(Petition.flags, String).like(f'%"{escaped}"%', escape="\\"))
    at = _date(args.get("at"), "at") or today_in_china()
    running = (CaseDeadline.petition_id == Petition.id) & CaseDeadline.done_on.is_(None) & CaseDeadline.step.in_(
        procedure.DUTY_STEPS)
    if args.get("due_within"):
        days = _int(args["due_within"], "due_within", 0, 3650)
        query = query.where(exists().where(running, CaseDeadline.due_on >= at,
                                           CaseDeadline.due_on <= at + dt.timedelta(days=days)))
    if args.get("overdue") in ("true", "1"):
        query = query.where(exists().where(running, CaseDeadline.due_on < at))
    elif args.get("overdue") in ("false", "0"):
        query = query.where(~exists().where(running, CaseDeadline.due_on < at))
    elif args.get("overdue") is not None:
        raise ApiError(400, "bad_parameter", "overdue must be true or false")
    page = _int(args.get("page", "1"), "page", 1, 10**6)
    per_page = _int(args.get("per_page", "50"), "per_page", 1, MAX_PER_PAGE)
    db = get_session()
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    found = db.scalars(query.options(selectinload(Petition.deadlines))
                       .order_by(Petition.received_on.desc(), Petition.id.desc())
                       .offset((page - 1) * per_page).limit(per_page))
    return jsonify(items=[visible_case(p, user, in_list=True) for p in found], page=page, per_page=per_page,
                   total=total)


def _int(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_parameter", f"{name} must be between {low} and {high}")
    return value


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
    if action not in ACTIONS:
        raise ApiError(404, "unknown_action", f"no action {action!r}; the actions are {', '.join(ACTIONS)}")
    user = current_user()
    roles = procedure.action(action).roles
    if not has_role(user, *roles):
        raise ApiError(403, "forbidden", f"{action} needs the role {' or '.join(roles)}")
    expected = _if_match()
    petition = _scoped_case(case_id)
    if is_accused_unit(user, petition):
        raise ApiError(403, "conflict_of_interest", "the case accuses your unit: you may not act on it "
                                                   "(《信访工作条例》第四十六条第五项)")
    payload = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    on = _date(payload.pop("on", None), "on")
    if action == "extend" and action in allowed_actions(petition) and payload.get("approver"):
        _check_approver(str(payload["approver"]), petition)
    db = get_session()
    try:
        petition = act(db, library_of(current_app), case_id, action, payload, actor=user.username, on=on,
                       expected_revision=expected)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return _case_response(petition)


def _check_approver(username: str, petition: Petition) -> None:
    """Art. 34: the extension is approved by someone entitled to approve it, in scope (not the requester: workflow)."""
    approver = get_session().scalars(select(User).where(User.username == username)).first()
    if approver is None or not approver.active or not has_role(approver, "approver"):
        raise ApiError(422, "invalid_approver", f"approver {username!r} is no active user with the role approver")
    tree = library_of(current_app).tree
    if approver.jurisdiction_code not in {j.code for j in tree.ancestors(petition.jurisdiction_code)}:
        raise ApiError(422, "invalid_approver", f"approver {username!r} has no authority over "
                                                f"jurisdiction {petition.jurisdiction_code}")


@bp.get("/cases/<int:case_id>/events")
@login_required
def case_events(case_id: int):
    """The case's file (一案一档): its events in order, each with the deadlines as they stood after it."""
    petition = _scoped_case(case_id)
    return jsonify(number=petition.number, items=timeline(get_session(), petition.id))


@bp.post("/evaluate")
@login_required
def evaluate_case():
    """The Decision JSON for a case under the rule set in force on its received_on, stored nowhere."""
    body = _body("jurisdiction", "case", "at")
    code = _code(body.get("jurisdiction") or current_user().jurisdiction_code)
    if "case" not in body:
        raise ApiError(422, "invalid_payload", "case: required field is missing", ["case: required field is missing"])
    try:
        decision = evaluate(library_of(current_app), code, body["case"], at=_date(body.get("at"), "at"))
    except CaseError as err:
        raise case_error(err) from None
    except NoRuleSetInForce as err:
        raise ApiError(422, "no_ruleset_in_force", str(err)) from None
    return jsonify(decision)
