"""The supervisors' dashboards: indicators of a jurisdiction and period as charts, drill-down, escalations to act on."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for

from xinfang.config import NoRuleSetInForce, UnknownJurisdiction, today_in_china
from xinfang.server.cases.indicators import indicators
from xinfang.server.reports.assessment import assess
from xinfang.server.reports.periods import CADENCES
from xinfang.server.reports.service import kept_reports, scheduled_for
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.case_tables import CaseEscalation, Petition
from xinfang.server.store.db import get_session
from xinfang.server.store.report_tables import StoredReport
from xinfang.server.web.auth import current_user, in_scope

from . import page_or_fragment
from .access import forbidden, roles_required_page, safe_next
from .dashboard_data import (
    PRESETS,
    PeriodError,
    awaiting_escalations,
    intake_columns,
    intake_counts,
    mark_handled,
    parse_period,
    preset_period,
)
from .dashboard_view import charts_of, children_rows, tiles_of

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
REPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def _library():
    return library_of(current_app._get_current_object())


def _jurisdiction(code: str):
    try:
        return _library().tree.get(code)
    except (UnknownJurisdiction, LookupError, ValueError, TypeError):
        abort(make_response(render_template("error.html", status=404, title="没有这个行政区划",
                                            message=f"没有代码为“{code}”的行政区划。"), 404))


def _require_scope(jurisdiction) -> None:
    user = current_user()
    if not in_scope(user, jurisdiction.code):
        forbidden(f"{jurisdiction.name}（{jurisdiction.code}）不在您的督查范围内：您可以查看本级和下级的看板。")


@bp.get("")
@roles_required_page("supervisor")
def home():
    """The signed-in supervisor's own jurisdiction, with the query string kept."""
    return redirect(url_for("dashboard.show", code=current_user().jurisdiction_code, **request.args.to_dict()))


@bp.get("/<code>")
@roles_required_page("supervisor")
def show(code: str):
    """The dashboard of `code` over `?from=&to=` or `?preset=`; htmx gets `dashboard/_dashboard.html` alone."""
    jurisdiction = _jurisdiction(code)
    _require_scope(jurisdiction)
    today = today_in_china()
    try:
        period = parse_period(request.args, today)
    except PeriodError as err:
        return render_template("error.html", status=400, title="时段有误", message=str(err)), 400
    library, session = _library(), get_session()
    found = indicators(session, library, jurisdiction.code, period.start, period.end, as_of=today)
    unit, columns = intake_columns(counts := intake_counts(session, jurisdiction.code, period), period)
    awaiting, awaiting_total = awaiting_escalations(session, library, jurisdiction.code, today)
    children, empty_children = children_rows(found["children"])
    user = current_user()
    trail = [j for j in library.tree.ancestors(jurisdiction.code)[:-1] if in_scope(user, j.code)]
    presets = [(key, name, preset_period(key, today)) for key, name in PRESETS.items()]
    return page_or_fragment(
        "dashboard/page.html", "dashboard/_dashboard.html", jurisdiction=jurisdiction, period=period,
        presets=presets, today=today, found=found, tiles=tiles_of(found, _detects_repeats(jurisdiction.code, period)),
        charts=charts_of(found, counts, unit, columns, period), children=children, empty_children=empty_children,
        trail=trail, awaiting=awaiting, awaiting_total=awaiting_total, case_href=_case_href(),
        assessment=assess(session, library, jurisdiction.code, period.start, period.end, as_of=today))


def _detects_repeats(code: str, period) -> bool:
    try:
        return bool(_library().effective(code, period.end).get("intake.duplicates"))
    except (NoRuleSetInForce, LookupError, ValueError):
        return True  # nothing to say about it


def _case_href():
    """The case file page (一案一档, admin_ui/case_page.py) of a case; no link when that page is not served."""
    if "case_page.show" not in current_app.view_functions:
        return lambda petition_id: None
    return lambda petition_id: url_for("case_page.show", case_id=petition_id)


@bp.post("/escalations/<int:escalation_id>/handled")
@roles_required_page("supervisor")
def handled(escalation_id: int):
    """Mark a fired escalation handled (CSRF-checked like every POST); htmx gets the row back, others a redirect."""
    session = get_session()
    escalation = session.get(CaseEscalation, escalation_id) if 1 <= escalation_id < 2**31 else None
    if escalation is None or escalation.fired_at is None:
        abort(make_response(render_template("error.html", status=404, title="没有这项督办",
                                            message=f"没有编号为 {escalation_id} 的已触发督办事项。"), 404))
    petition = session.get(Petition, escalation.petition_id)
    _require_scope(_jurisdiction(petition.jurisdiction_code))
    note = request.form.get("note", "").strip()
    changed = mark_handled(session, escalation, current_user(), note, today_in_china())
    session.commit()
    message = (f"已将 {petition.number} 的督办事项标记为已处理。" if changed
               else f"{petition.number} 的这项督办此前已标记为已处理。")
    if request.htmx:
        response = make_response(render_template("dashboard/_handled_row.html", number=petition.number,
                                                 message=message, escalation=escalation))
        response.headers["HX-Trigger"] = "escalation-handled"
        return response
    flash(message, "success")
    back = safe_next(request.form.get("next")) or url_for("dashboard.show", code=petition.jurisdiction_code)
    return redirect(back, 303)


@bp.get("/<code>/reports")
@roles_required_page("supervisor")
def reports(code: str):
    """The reports kept for `code` (周调度, 月通报), newest first, each as XLSX and PDF."""
    jurisdiction = _jurisdiction(code)
    _require_scope(jurisdiction)
    return render_template("dashboard/reports.html", jurisdiction=jurisdiction, cadences=CADENCES,
                           scheduled=list(scheduled_for(_library(), jurisdiction.code, today_in_china()).values()),
                           stored=kept_reports(get_session(), _library(), jurisdiction.code, today_in_china()))


@bp.get("/<code>/reports/<int:report_id>.<any(xlsx, pdf):fmt>")
@roles_required_page("supervisor")
def report_file(code: str, report_id: int, fmt: str):
    """One kept report's file, named for the office (沂南县化解进度周调度-2024-W10.xlsx)."""
    jurisdiction = _jurisdiction(code)
    _require_scope(jurisdiction)
    stored = get_session().get(StoredReport, report_id) if 1 <= report_id < 2**31 else None
    if stored is None or stored.jurisdiction_code != jurisdiction.code:
        abort(make_response(render_template("error.html", status=404, title="没有这份报告",
                                            message=f"{jurisdiction.name}没有这份报告。"), 404))
    response = make_response(stored.xlsx if fmt == "xlsx" else stored.pdf)
    response.headers["Content-Type"] = REPORT_TYPES[fmt]
    filename = quote(f"{jurisdiction.name}{stored.name}-{stored.period}.{fmt}")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response
