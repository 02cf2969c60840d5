"""Clerks' intake pages: the form of the rule set in force, checked on the server, previewed, then registered."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for

from xinfang.config import NoRuleSetInForce
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.visibility import visible_case
from xinfang.server.cases.workflow import register_case
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.web.auth import current_user

from . import page_or_fragment
from .access import roles_required_page
from .case_errors import registration_error
from .intake_form import IntakeForm, build_form, case_from_values, check
from .intake_preview import preview

bp = Blueprint("intake", __name__, url_prefix="/intake")


def _form(values) -> IntakeForm:
    """The form for the signed-in clerk's jurisdiction, or a page saying there is no rule set in force."""
    user = current_user()
    try:
        return build_form(library_of(current_app), user.jurisdiction_code, values)
    except NoRuleSetInForce as err:
        page = render_template("error.html", status=404, title="当日没有施行的规则集",
                               message=f"{user.jurisdiction_code} 在所选日期没有施行的规则集，无法登记：{err}")
        abort(make_response(page, 404))


def _render(form: IntakeForm, status: int = 200, *, with_preview: bool = True):
    shown = preview(get_session(), library_of(current_app), current_user(), form, case_from_values(form)) \
        if with_preview else None
    response = page_or_fragment("intake/new.html", "intake/_form.html", form=form, preview=shown)
    response.status_code = status
    return response


@bp.get("")
@roles_required_page("clerk")
def new():
    """An empty form for `?intake=` and `?category=` on `?received_on=` (default: visit, no category, today)."""
    return _render(_form(request.args.to_dict()), with_preview=False)


@bp.post("")
@roles_required_page("clerk")
def submit():
    """Register (the default), or re-render with the values kept: `intent=refresh|preview`, `adopt=<category>`."""
    values = request.form.to_dict()
    intent = values.pop("intent", "register")
    adopt = values.pop("adopt", None)
    if adopt:
        values["category"], intent = adopt, "refresh"
    form = _form(values)
    if intent != "register":
        return _render(form)
    case = case_from_values(form)
    if not check(form, case):
        return _render(form, 422)
    user, db = current_user(), get_session()
    try:
        result = register_case(db, library_of(current_app), case, actor=user)
        db.commit()
    except CaseServiceError as err:
        db.rollback()
        registration_error(form, err)
        return _render(form, 422)
    petition = result.petition
    note = "；与此前的信访事项重复" if visible_case(petition, user, in_list=True)["duplicate_of"] else ""
    flash(f"已登记，编号 {petition.number}{note}。", "success")
    response = redirect(url_for("case_page.show", case_id=petition.id), 303)
    if request.htmx:  # an htmx submit follows with a whole page
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("case_page.show", case_id=petition.id)
    return response


@bp.get("/fields")
@roles_required_page("clerk")
def fields():
    """The fields the chosen category adds (swapped in on a category change); without htmx, the whole form."""
    form = _form(request.args.to_dict())
    return page_or_fragment("intake/new.html", "intake/_category_fields.html", form=form, preview=None)


@bp.post("/preview")
@roles_required_page("clerk")
def live_preview():
    """The suggestion, route, deadlines and earlier petitions for the text typed so far (htmx, on keyup)."""
    form = _form(request.form.to_dict())
    shown = preview(get_session(), library_of(current_app), current_user(), form, case_from_values(form))
    return page_or_fragment("intake/new.html", "intake/_live_preview.html", form=form, preview=shown)
