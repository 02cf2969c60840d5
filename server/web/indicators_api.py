"""The supervisors' indicators under /api/v1: one jurisdiction and everything below it, over a period."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify

from xinfang.config import today_in_china
from xinfang.server.cases.indicators import indicators
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session

from .auth import require_scope, roles_required
from .errors import ApiError, known_jurisdiction
from .forms_api import query_date

bp = Blueprint("indicators_api", __name__, url_prefix="/api/v1")


@bp.get("/jurisdictions/<code>/indicators")
@roles_required("supervisor")
def jurisdiction_indicators(code: str):
    """Cases received `?from=` … `?to=` (default: this year so far); the user's scope must cover the jurisdiction."""
    library = library_of(current_app)
    jurisdiction = known_jurisdiction(library, code)
    require_scope(jurisdiction.code)
    today = today_in_china()
    end = query_date("to", today)
    start = query_date("from", dt.date(end.year, 1, 1))
    if start > end:
        raise ApiError(400, "bad_period", f"from {start} is after to {end}",
                       [{"field": "from", "message": "开始日期不得晚于结束日期"}])
    return jsonify(indicators(get_session(), library, jurisdiction.code, start, end, as_of=today))
