"""The petitioner's pages under /public/ (网上信访, no account): choose the place, fill in its online form, see where
it goes before sending, keep the number and query code, follow the case, rate the answer, ask for review.

Plain HTML forms that work without JavaScript, on a phone first. The same case service as the JSON API
(server/cases/public.py); a number and query code travel only in POST bodies, never in a URL or a redirect.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, make_response, render_template, request

from xinfang.config import NoRuleSetInForce, RuleSetLibrary, UnknownJurisdiction, today_in_china
from xinfang.server.cases import public
from xinfang.server.cases.errors import CaseNotFound, CaseServiceError
from xinfang.server.cases.online import public_settings
from xinfang.server.cases.transactions import committed
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.web import throttle
from xinfang.server.web.public_api import opened, verifier_for

from . import notices
from .case_errors import public_refusal, registration_error
from .intake_form import IntakeForm, build_form, case_from_values, check

bp = Blueprint("public_pages", __name__, url_prefix="/public")

NOT_FOUND = "没有查到：信访事项编号或查询码不正确。请核对提交时页面上显示的编号和查询码。"


def _page(template: str, status: int = 200, **context):
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"  # a petitioner's case or query code: never cached
    return response


def _library() -> RuleSetLibrary:
    return library_of(current_app)


def _online(library: RuleSetLibrary, code: str) -> bool:
    """Whether petitions may be submitted online in `code` today (its rule set's public.online_intake)."""
    try:
        return bool(public_settings(library.effective(code, today_in_china()))["online_intake"])
    except (NoRuleSetInForce, UnknownJurisdiction, ValueError):
        return False


def open_places(library: RuleSetLibrary) -> list[dict[str, Any]]:
    """The places taking petitions online, each with the places below it that do too (a city and its counties)."""
    places = []
    for code in library.codes():
        if not _online(library, code):
            continue
        node = library.tree.get(code)
        below = [c for c in library.tree.children(code) if _online(library, c.code)]
        places.append({"code": node.code, "name": node.name, "below": below})
    return places


@bp.get("/")
def home():
    """Where to submit (the places open online, a search by name) and the way to follow a case."""
    library = _library()
    query = (request.args.get("q") or "").strip()[:40]
    found = [{"code": j.code, "name": j.name, "path": "".join(a.name for a in library.tree.ancestors(j.code)[1:-1]),
              "open": _online(library, j.code)} for j in library.tree.search(query, limit=20)] if query else None
    return _page("public/home.html", places=open_places(library), query=query, found=found)


def _place(code: str):
    """The jurisdiction of the URL, if it takes petitions online today; else a page saying it does not."""
    library = _library()
    try:
        node = library.tree.get(code)
    except (UnknownJurisdiction, ValueError):
        abort(_page("public/closed.html", 404, name=None))
    if not _online(library, node.code):
        abort(_page("public/closed.html", 404, name=node.name))
    return library, node


def _form(library: RuleSetLibrary, code: str, values: dict[str, Any], anonymous: bool
          ) -> tuple[IntakeForm, list[tuple[str, str]]]:
    """The rule set's online form for today, and the categories a petitioner may choose (those offered online)."""
    values = {k: v for k, v in values.items() if k not in ("received_on", "intake", "csrf_token")}
    form = build_form(library, code, {**values, "intake": "online"}, anonymous=anonymous)
    offered = public_settings(form.effective).get("categories")
    return form, [(c, name) for c, name in form.categories if not offered or c in offered]


def _refused(form: IntakeForm, err: CaseServiceError) -> None:
    """A refusal on the form: the identity check's words beside their fields, the rest above the form."""
    if err.code == "identity_not_verified":
        known = {f["path"] for f in form.definition["fields"]}
        for problem in err.problems:
            if problem.field in known:
                form.problems.setdefault(problem.field, problem.message)
            else:
                form.general.append(problem.message)
    elif err.code in ("invalid_case", "invalid_form"):
        registration_error(form, err)
    else:
        form.general.append(public_refusal(err))


@bp.route("/<code>/new", methods=["GET", "POST"])
def new(code: str):
    """The online form; `intent=preview` shows the category, the unit and the deadlines before sending."""
    library, node = _place(code)
    values = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
    intent = values.pop("intent", "preview" if request.method == "POST" else None)
    may_be_anonymous = public_settings(library.effective(node.code, today_in_china()))["anonymous_accusations"]
    anonymous = may_be_anonymous and values.pop("anonymous", None) == "on"
    form, categories = _form(library, node.code, values, anonymous)

    def page(status: int = 200, preview=None):
        return _page("public/new.html", status, form=form, categories=categories, place=node, preview=preview,
                     may_be_anonymous=may_be_anonymous, anonymous=anonymous)
    if request.method == "GET":
        return page()
    case = case_from_values(form)
    verifier = verifier_for(current_app, node.code)
    if not check(form, case):
        return page(422)
    db = get_session()
    try:
        if intent != "submit":
            return page(preview=public.preview(db, library, node.code, case, verifier=verifier, anonymous=anonymous))
        done = committed(db, lambda: public.submit(db, library, node.code, case, verifier=verifier,
                                                   anonymous=anonymous))
    except CaseServiceError as err:
        _refused(form, err)
        return page(422)
    return _page("public/receipt.html", 201, place=node, number=done.petition.number, query_code=done.query_code,
                 view=public.petitioner_view(library, done.petition), anonymous=anonymous)


def _opened_from_form():
    """The case whose number and query code the form posted; or the refusal page (the same for both wrongs)."""
    number = (request.form.get("number") or "").strip()[:40]
    code = (request.form.get("query_code") or "").strip()[:40]
    if not number or not code:
        abort(_page("public/track.html", 422, number=number, problem="请填写信访事项编号和查询码。"))
    try:
        return opened(number, code), code
    except throttle.Throttled as refusal:
        minutes = max(1, -(-refusal.retry_after // 60))
        page = _page("public/track.html", 429, number=number,
                     problem=f"查询码错误次数过多，请{minutes}分钟后再试。")
        page.headers["Retry-After"] = str(refusal.retry_after)
        abort(page)
    except CaseNotFound:
        abort(_page("public/track.html", 404, number=number, problem=NOT_FOUND))


def _case_page(petition, code: str, status: int = 200, *, done: str | None = None, problem: str | None = None):
    return _page("public/case.html", status, view=public.petitioner_view(_library(), petition), query_code=code,
                 documents=notices.available(petition), done=done, problem=problem)


@bp.route("/track", methods=["GET", "POST"])
def track():
    """查询: the case behind a number and its query code (posted, so neither lands in a URL or a log)."""
    if request.method == "GET":
        return _page("public/track.html", number="", problem=None)
    petition, code = _opened_from_form()
    return _case_page(petition, code)


@bp.post("/track/rating")
def rate():
    """评价: one rating once the case is answered; an unsatisfied petitioner is offered the review request."""
    petition, code = _opened_from_form()
    rating = request.form.get("rating") or ""
    if rating not in public_settings(_effective_of(petition))["rating_scale"]:
        return _case_page(petition, code, 422, problem="请选择满意、基本满意或不满意。")
    db, library = get_session(), _library()
    try:
        petition = committed(db, lambda: public.rate(db, library, petition, satisfied=rating != "unsatisfied",
                                                     rating=rating, comment=request.form.get("comment")))
    except CaseServiceError as err:
        return _case_page(petition, code, 422, problem=public_refusal(err, "rate"))
    return _case_page(petition, code, done="评价已提交，谢谢。")


@bp.post("/track/review")
def review():
    """申请复查 (Art. 35): within the window, to the body one level above."""
    petition, code = _opened_from_form()
    db, library = get_session(), _library()
    try:
        petition = committed(db, lambda: public.request_review(db, library, petition,
                                                               reason=request.form.get("reason")))
    except CaseServiceError as err:
        return _case_page(petition, code, 422, problem=public_refusal(err, "request_review"))
    return _case_page(petition, code, done=f"复查申请已提交，由{public.review_body(library, petition)}办理。")


@bp.post("/track/notice")
def notice():
    """A written notice of the case (受理告知书 once accepted, 信访处理意见书 once answered) as a PDF."""
    petition, _ = _opened_from_form()
    kind = request.form.get("kind") or ""
    effective = _effective_of(petition)
    view = {"deadlines": [{"step": d.step, "due_on": d.due_on} for d in petition.deadlines],
            "petitioner": {"name": (petition.case_json.get("petitioner") or {}).get("name")}}
    found = notices.build(petition, view, effective, kind) if kind in notices.KINDS else None
    if found is None:
        abort(_page("public/track.html", 404, number=petition.number, problem="该文书尚未出具。"))
    response = make_response(notices.to_pdf(found))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{petition.number}-{kind}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _effective_of(petition):
    from xinfang.server.cases.case_file import pinned_effective
    return pinned_effective(_library(), petition.ruleset_version, petition.jurisdiction_code, petition.received_on)
