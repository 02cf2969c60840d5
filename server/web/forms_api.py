"""The clerks' form definitions under /api/v1: computed from the rule set in force, so they change with it."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, request

from xinfang.config import EffectiveRuleSet, NoRuleSetInForce, UnknownJurisdiction, today_in_china
from xinfang.rules.calendar import parse_day
from xinfang.server.cases.forms import UnknownCategory, UnknownIntake, form_definition
from xinfang.server.rulesets.library_store import library_of

from .errors import ApiError

bp = Blueprint("forms_api", __name__, url_prefix="/api/v1")


def query_date(name: str, default: dt.date) -> dt.date:
    """A YYYY-MM-DD query parameter; a malformed one is the client's error (400), never a 500."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return parse_day(raw)
    except ValueError as err:
        raise ApiError(400, "bad_date", f"query parameter {name}={err}",
                       [{"field": name, "message": "应为日期（年-月-日）"}]) from None


def effective_or_404(code: str, at: dt.date) -> EffectiveRuleSet:
    """The effective rule set, with the API's 404s for an unknown jurisdiction or a date before any rule set."""
    try:
        return library_of(current_app).effective(code, at)
    except (UnknownJurisdiction, ValueError) as err:
        raise ApiError(404, "unknown_jurisdiction", str(err)) from None
    except NoRuleSetInForce as err:
        raise ApiError(404, "no_ruleset_in_force", str(err)) from None


@bp.get("/jurisdictions/<code>/forms")
def forms(code: str):
    """The intake channels and categories a clerk can choose from, on `?at=DATE` (default today)."""
    effective = effective_or_404(code, query_date("at", today_in_china()))
    data = effective.data
    j = effective.jurisdiction
    return jsonify(
        jurisdiction={"code": j.code, "name": j.name, "level": j.level},
        at=effective.at.isoformat(), ruleset_version=effective.version_label,
        intakes=[{"code": c, "name": spec.get("name", c)}
                 for c, spec in data.get("intake", {}).get("channels", {}).items()],
        categories=[{"code": c, "name": spec.get("name"), "has_form_fields": bool(spec.get("form_fields"))}
                    for c, spec in data.get("classification", {}).get("categories", {}).items()],
    )


@bp.get("/jurisdictions/<code>/forms/<intake>")
def form(code: str, intake: str):
    """The form for an intake channel and `?category=`, from the rule set in force on `?at=` (default today)."""
    effective = effective_or_404(code, query_date("at", today_in_china()))
    category = request.args.get("category") or None
    try:
        return jsonify(form_definition(effective, intake, category))
    except UnknownIntake as err:
        raise ApiError(404, "unknown_intake", str(err)) from None
    except UnknownCategory as err:
        raise ApiError(404, "unknown_category", str(err), [{"field": "category", "message": "规则集中没有该分类"}]) from None
