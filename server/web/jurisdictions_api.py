"""The JSON API under /api/v1: jurisdictions and their effective rule sets (more arrives with the server issue)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, request

from xinfang.config import NoRuleSetInForce, UnknownJurisdiction, today_in_china
from xinfang.rules.calendar import parse_day
from xinfang.server.rulesets.library_store import library_of

from .errors import ApiError, known_jurisdiction

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _date_arg(name: str) -> dt.date:
    raw = request.args.get(name)
    if raw is None:
        return today_in_china()
    try:
        return parse_day(raw)
    except ValueError as err:
        raise ApiError(400, "bad_date", f"query parameter {name}={err}") from None


def _jurisdiction_json(j) -> dict:
    library = library_of(current_app)
    return {"code": j.code, "name": j.name, "level": j.level, "parent": j.parent,
            "has_own_ruleset": bool(library.versions(j.code))}


@bp.get("/jurisdictions")
def jurisdictions():
    """Search the national tree by name or code prefix (`?q=沂南`); without q, those with their own rule sets."""
    library = library_of(current_app)
    query = request.args.get("q", "").strip()
    found = library.tree.search(query) if query else [library.tree.get(c) for c in library.codes()]
    return jsonify(items=[_jurisdiction_json(j) for j in found])


@bp.get("/jurisdictions/<code>")
def jurisdiction(code: str):
    library = library_of(current_app)
    j = known_jurisdiction(library, code)
    body = _jurisdiction_json(j)
    body["ancestors"] = [a.code for a in library.tree.ancestors(j.code)[:-1]]
    body["versions"] = [{"version": v.version, "effective_from": v.effective_from.isoformat(),
                         "effective_until": v.effective_until.isoformat() if v.effective_until else None,
                         "title": v.data.get("title")} for v in library.versions(j.code)]
    return jsonify(body)


@bp.get("/jurisdictions/<code>/ruleset")
def effective_ruleset(code: str):
    """The effective rule set on `?at=DATE` (default today), with the source of every value."""
    library = library_of(current_app)
    try:
        effective = library.effective(code, _date_arg("at"))
    except (UnknownJurisdiction, ValueError) as err:
        raise ApiError(404, "unknown_jurisdiction", str(err))
    except NoRuleSetInForce as err:
        raise ApiError(404, "no_ruleset_in_force", str(err))
    return jsonify(effective.to_json())
