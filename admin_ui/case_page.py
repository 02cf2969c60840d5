"""The case file page (一案一档): decision, deadlines, timeline, actions posting to the workflow, notices as PDF."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for

from xinfang.config import today_in_china
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.permissions import routed_to_unit
from xinfang.server.cases.visibility import may_see_material, visible_case
from xinfang.server.cases.workflow import ACTIONS, act
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.db import get_session
from xinfang.server.web.auth import current_user, in_scope

from . import case_actions, case_view, notices, page_or_fragment
from .access import READ_ROLES, forbidden, roles_required_page
from .case_errors import refusal_text

bp = Blueprint("case_page", __name__, url_prefix="/cases")


def _petition(case_id: int) -> Petition:
    """The case, if it is in the user's scope (403 beyond it, 404 when there is none)."""
    petition = get_session().get(Petition, case_id) if 0 < case_id < 2**31 else None
    if petition is None:
        abort(make_response(render_template("error.html", status=404, title="没有这件信访事项",
                                            message=f"没有编号为 {case_id} 的信访事项。"), 404))
    if not (in_scope(current_user(), petition.jurisdiction_code) or routed_to_unit(current_user(), petition)):
        forbidden(f"信访事项 {petition.number} 不属于您管辖的行政区划：您只能查看本级和下级的信访事项。")
    return petition


def _page(petition: Petition, status: int = 200, **extra):
    ctx = case_view.context(get_session(), library_of(current_app), petition, current_user(), today_in_china())
    response = page_or_fragment("cases/file.html", "cases/_file.html", **ctx, **extra)
    response.status_code = status
    return response


@bp.get("/<int:case_id>")
@roles_required_page(*READ_ROLES)
def show(case_id: int):
    """The file: facts, the decision with the rules that fired, deadlines, escalations, timeline, actions, notices."""
    return _page(_petition(case_id))


@bp.post("/<int:case_id>/actions/<action>")
@roles_required_page(*READ_ROLES)
def take_action(case_id: int, action: str):
    """One workflow action (server.cases.workflow.act checks who may) from its form; a refusal is told in Chinese."""
    petition = _petition(case_id)
    if action not in ACTIONS:
        abort(404)
    payload, on, problems = case_actions.payload_from(action, request.form)
    revision = request.form.get("revision", "")
    db = get_session()
    if not problems:
        try:
            act(db, library_of(current_app), petition.id, action, payload, actor=current_user(), on=on,
                expected_revision=int(revision) if revision.isdigit() else None)
            db.commit()
        except CaseServiceError as err:
            db.rollback()
            if err.kind == "forbidden":
                forbidden(f"您不能对信访事项 {petition.number} 执行“{case_actions.action_label(action)}”："
                          f"{refusal_text(err, action)}。")
            problems.append(refusal_text(err, action))
    if problems:  # htmx swaps only 2xx answers: it gets the file with the refusal as 200, a plain form 422
        return _page(db.get(Petition, case_id), 200 if request.htmx else 422, failed=action, problems=problems,
                     posted=request.form)
    message = f"已{case_actions.action_label(action)}。"
    if not request.htmx:
        flash(message, "success")
        return redirect(url_for(".show", case_id=case_id), 303)
    return _page(petition, done=message)


def _notice(case_id: int, kind: str):
    petition = _petition(case_id)
    user = current_user()
    if kind not in notices.KINDS:
        abort(404)
    if not may_see_material(petition, user):
        forbidden("检举控告事项的文书含信访人身份，仅纪检监察机关可以查看和打印。")
    effective = case_view.pinned(library_of(current_app), petition)
    view = visible_case(petition, user, in_list=False)
    notice = notices.build(petition, view, effective, kind) if effective else None
    if notice is None:
        abort(make_response(render_template("error.html", status=404, title="尚未出具该文书",
                                            message=f"信访事项 {petition.number} 尚未出具{notices.KINDS[kind][0]}。"),
                            404))
    return petition, notice


@bp.get("/<int:case_id>/notices/<kind>")
@roles_required_page(*READ_ROLES)
def notice(case_id: int, kind: str):
    """A notice as a printable page, with a link to its PDF."""
    petition, found = _notice(case_id, kind)
    return render_template("cases/notice.html", petition=petition, notice=found)


@bp.get("/<int:case_id>/notices/<kind>.pdf")
@roles_required_page(*READ_ROLES)
def notice_pdf(case_id: int, kind: str):
    """The notice as a PDF download (reportlab, built-in Chinese font)."""
    petition, found = _notice(case_id, kind)
    response = make_response(notices.to_pdf(found))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{petition.number}-{kind}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
