"""The petitioner's JSON API under /api/v1/public (网上信访, no account): submit, follow, rate, ask for review.

A thin adapter over server/cases/public.py. No sign-in: a case is opened by its number and the query code
given at submission (header X-Query-Code); wrong codes are throttled (server/web/throttle.py) and answered
exactly as an unknown number is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from xinfang.server.cases import public
from xinfang.server.cases.errors import CaseNotFound
from xinfang.server.cases.transactions import committed
from xinfang.server.cases.real_name import ChecksumVerifier, IdentityVerifier
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session

from . import throttle
from .errors import ApiError, error_response, known_jurisdiction

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")

QUERY_CODE_HEADER = "X-Query-Code"


def verifier_for(app: Flask, code: str) -> IdentityVerifier:
    """The identity verifier of `code`: the nearest one configured (PUBLIC_IDENTITY_VERIFIERS, jurisdiction code →
    verifier) on the way up the tree, else the default check of the numbers themselves."""
    configured: Mapping[str, IdentityVerifier] = app.config.get("PUBLIC_IDENTITY_VERIFIERS") or {}
    for node in reversed(library_of(app).tree.ancestors(code)):
        if node.code in configured:
            return configured[node.code]
    return ChecksumVerifier()


def _body(*allowed: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise ApiError(422, "invalid_payload", f"unknown field(s) {', '.join(unknown)}; the fields are "
                                               f"{', '.join(allowed)}", [f"{k}: unknown field" for k in unknown])
    return body


def _jurisdiction(body: Mapping[str, Any]) -> str:
    if "jurisdiction" not in body or "case" not in body:
        missing = [k for k in ("jurisdiction", "case") if k not in body]
        raise ApiError(422, "invalid_payload", f"{', '.join(missing)}: required", [f"{k}: required" for k in missing])
    return known_jurisdiction(library_of(current_app), body["jurisdiction"], 422).code


def _anonymous(body: Mapping[str, Any]) -> bool:
    """`"anonymous": true`: an accusation without the accuser's identity, where the rule set accepts one."""
    value = body.get("anonymous", False)
    if not isinstance(value, bool):
        raise ApiError(422, "invalid_payload", "anonymous: true or false", ["anonymous: true or false"])
    return value


def _committed(work):
    return committed(get_session(), work)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # a query code, a petitioner's case: never cached
    return response


@bp.post("/petitions")
def submit():
    """Submit a petition online; 201 with its number, its query code (shown this once) and its first deadlines."""
    body = _body("jurisdiction", "case", "anonymous")
    code = _jurisdiction(body)
    library = library_of(current_app)
    anonymous = _anonymous(body)
    done = _committed(lambda: public.submit(get_session(), library, code, body["case"],
                                            verifier=verifier_for(current_app, code), anonymous=anonymous))
    response = jsonify(number=done.petition.number, query_code=done.query_code,
                       deadlines=public.first_deadlines(done.petition))
    response.status_code = 201
    return _no_store(response)


@bp.post("/petitions/preview")
def preview():
    """What would happen on sending: the category, the unit, the deadlines, and an earlier case of the same matter."""
    body = _body("jurisdiction", "case", "anonymous")
    code = _jurisdiction(body)
    if not isinstance(body["case"], Mapping):
        raise ApiError(422, "invalid_case", "case: expected an object", ["case: expected an object"])
    return _no_store(jsonify(public.preview(get_session(), library_of(current_app), code, body["case"],
                                            verifier=verifier_for(current_app, code), anonymous=_anonymous(body))))


def opened(number: str, code: str | None):
    """The case behind number and query code; a wrong code counts against the number and the address.

    Raises throttle.Throttled past the limit (before the code is checked), CaseNotFound for a wrong code or number.
    The public pages (admin_ui/public_pages.py) open cases through this too.
    """
    throttle.check_query(number)
    try:
        return public.open_case(get_session(), number, code)
    except CaseNotFound:
        throttle.failed_query(number)
        raise


@bp.errorhandler(throttle.Throttled)
def _throttled(refusal: throttle.Throttled):
    response, status = error_response(429, "too_many_attempts", f"too many wrong query codes: try again in "
                                      f"{refusal.retry_after} seconds", [{"retry_after": refusal.retry_after}])
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response, status


def _view(petition, status: int = 200):
    response = jsonify(public.petitioner_view(library_of(current_app), petition))
    response.status_code = status
    return _no_store(response)


@bp.get("/petitions/<number>")
def track(number: str):
    """查询/跟踪: the stage, deadlines, notices, the answer and the events a petitioner sees."""
    return _view(opened(number, request.headers.get(QUERY_CODE_HEADER)))


@bp.post("/petitions/<number>/rating")
def rating(number: str):
    """评价: once the case is answered, one rating a case."""
    body = _body("satisfied", "comment", "rating")
    if "satisfied" not in body:
        raise ApiError(422, "invalid_payload", "satisfied: required", ["satisfied: required"])
    petition = opened(number, request.headers.get(QUERY_CODE_HEADER))
    library = library_of(current_app)
    done = _committed(lambda: public.rate(get_session(), library, petition, satisfied=body["satisfied"],
                                          comment=body.get("comment"), rating=body.get("rating")))
    return _view(done, 201)


@bp.post("/petitions/<number>/review-request")
def review_request(number: str):
    """申请复查 (Art. 35) within the window, to the body one level above."""
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = [k for k in body if k != "reason"]
    if unknown:
        raise ApiError(422, "invalid_payload", f"unknown field(s) {', '.join(unknown)}; the fields are reason")
    petition = opened(number, request.headers.get(QUERY_CODE_HEADER))
    library = library_of(current_app)
    done = _committed(lambda: public.request_review(get_session(), library, petition, reason=body.get("reason")))
    return _view(done, 201)
