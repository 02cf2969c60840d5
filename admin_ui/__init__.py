"""The admin pages (htmx): `init_app(app)` registers them, their static files, CSRF protection and htmx."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, make_response, redirect, render_template, request, url_for
from htmx_flask import Htmx

from . import labels
from .audit_detail import audit_detail

bp = Blueprint("admin_ui", __name__, static_folder="static", static_url_path="/assets",
               template_folder="templates")


@bp.get("/")
def home():
    from xinfang.server.web.auth import current_user
    user = current_user()
    if user is None:  # after signing in, back here: each role to where it starts
        return redirect(url_for("sign_in.sign_in"))
    return redirect(landing(user))


def landing(user) -> str:
    """Each role starts on its work: the approver its queue, the officer its rule set, the supervisor its dashboard,
    a unit its inbox (the cases it handles), the petition office's clerk the intake form; anyone else the tree."""
    roles = set(user.roles)
    if "admin" in roles:
        return url_for("jurisdictions.tree")
    if "approver" in roles:
        return url_for("approvals.queue")
    if "policy_officer" in roles:
        return url_for("ruleset_history.history", code=user.jurisdiction_code)
    if "supervisor" in roles:
        return url_for("dashboard.home")
    if "clerk" in roles:
        return url_for("intake.new") if _of_the_office(user) else url_for("case_list.index", unit=user.unit)
    return url_for("jurisdictions.tree")


def _of_the_office(user) -> bool:
    from xinfang.config import NoRuleSetInForce, today_in_china
    from xinfang.server.cases.permissions import is_office
    from xinfang.server.rulesets.library_store import library_of
    try:
        units = library_of(current_app._get_current_object()).effective(user.jurisdiction_code,
                                                                        today_in_china()).get("units") or {}
    except (LookupError, NoRuleSetInForce):
        units = {}
    return is_office(user, units)


def page_or_fragment(page: str, fragment: str, **context):
    """The whole page, or only its fragment when htmx asks (not when it restores history); `Vary: HX-Request`."""
    partial = request.htmx and not request.htmx.history_restore_request
    response = make_response(render_template(fragment if partial else page, **context))
    response.vary.add("HX-Request")
    return response


def jurisdiction_name(code: str) -> str:
    from xinfang.server.rulesets.library_store import library_of
    try:
        return library_of(current_app._get_current_object()).tree.get(code).name
    except (LookupError, ValueError):
        return code


def init_app(app: Flask) -> None:
    from xinfang.server.web.auth import current_user

    from xinfang.server.web.errors import set_error_page

    from . import csrf, jurisdictions, sign_in
    from .error_pages import error_page
    from .people import person
    Htmx(app)  # request.htmx on every request
    set_error_page(app, error_page)
    csrf.init_app(app)
    app.jinja_env.globals.update(current_user=current_user, labels=labels, jurisdiction_name=jurisdiction_name)
    app.jinja_env.filters.update(beijing=labels.beijing, beijing_date=labels.beijing_date, person=person,
                               audit_detail=lambda detail: audit_detail(detail, person))
    app.register_blueprint(bp)
    app.register_blueprint(sign_in.bp)
    app.register_blueprint(jurisdictions.bp)
    from . import case_labels, case_page, cases, intake, orders  # intake, work orders, case lists, files (一案一档)
    app.jinja_env.globals["case_labels"] = case_labels
    for blueprint in (intake.bp, orders.bp, cases.bp, case_page.bp):
        app.register_blueprint(blueprint)
    from . import approvals, editor, editor_history  # the rule-set editor: drafts, versions, diffs, audit, approvals
    app.register_blueprint(approvals.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(editor_history.bp)
    from . import dashboard  # supervisors' dashboards: indicators as charts, escalations to act on
    app.register_blueprint(dashboard.bp)
    from . import public_pages  # the petitioner's side (网上信访), no account
    app.register_blueprint(public_pages.bp)
