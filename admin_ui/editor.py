"""The draft editor's pages: forms and YAML kept in sync, checks as one types, save with tests, impact, submit, approve."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from xinfang.server.rulesets import lifecycle
from xinfang.server.rulesets.library_store import forget_current
from xinfang.server.store.db import get_session
from xinfang.server.store.models import RuleSetDraft
from xinfang.server.web.auth import current_user, in_scope

from . import editor_workspace as workspace
from . import page_or_fragment
from .access import forbidden, roles_required_page
from .editor_diff import side_by_side
from .editor_forms import FormProblem, stale_fields
from .editor_scenarios import accept_actual
from .editor_yaml import EditError

bp = Blueprint("editor", __name__, url_prefix="/rulesets")

EDITORS = ("policy_officer",)
READERS = ("policy_officer", "approver")


CHANGES = {"admissible": "是否受理", "route": "承办单位", "track": "办理程序"}


@bp.app_template_global()
def change_label(field: str) -> str:
    """`deadlines.conclude` → 办理办结期限, for the impact preview."""
    from .labels import STEPS, label
    if field.startswith("deadlines."):
        return label(STEPS, field.split(".", 1)[1]) + "期限"
    return CHANGES.get(field, field)


@bp.app_template_global()
def change_value(value):
    """A route shows as its unit's name; other values as they are; absent as —."""
    if isinstance(value, dict):
        return value.get("name") or value.get("unit") or "—"
    return "—" if value is None else value


def _draft(draft_id: int) -> RuleSetDraft:
    """The draft, if it exists and lies in the user's scope (a county officer never opens another county's)."""
    try:
        draft = lifecycle.get_draft(get_session(), draft_id)
    except lifecycle.NotFound as err:
        page = render_template("error.html", status=404, title="没有这份草稿",
                               message=f"草稿 {draft_id} 不存在，或已经发布。（{err.message}）")
        from flask import abort
        abort(make_response(page, 404))
    if not in_scope(current_user(), draft.jurisdiction_code):
        forbidden(f"草稿 {draft_id} 属于{_name(draft.jurisdiction_code)}（{draft.jurisdiction_code}），"
                  f"不在您的管辖范围内：只能打开本级和下级的草稿。")
    return draft


def _name(code: str) -> str:
    from . import jurisdiction_name
    return jurisdiction_name(code)


def _render(ws: workspace.Workspace, status: int = 200):
    response = page_or_fragment("editor/draft.html", "editor/_workspace.html", ws=ws)
    response.status_code = status
    return response


def _actor() -> str:
    return current_user().username


@bp.get("/drafts/<int:draft_id>")
@roles_required_page(*READERS)
def draft(draft_id: int):
    """The editor: forms and YAML of the saved draft, its issues, sample scenarios, impact and approval."""
    return _render(workspace.build(_draft(draft_id)))


@bp.post("/drafts/<int:draft_id>/check")
@roles_required_page(*EDITORS)
def check(draft_id: int):
    """Validate the working text as typed (nothing saved): the issues, and the other side of the editor in sync.

    A change in a form field comes back as the new YAML (and the base the form now stands on); a change
    in the YAML comes back as the re-rendered forms. Without JavaScript the whole page comes back.
    """
    draft = _draft(draft_id)
    before = request.form.get("yaml_text", draft.yaml_text)
    text, problems = workspace.working_text(draft, request.form, include_new=False)
    ws = workspace.build(draft, text, request.form.get("scenarios"), problems=problems,
                         changed=workspace.changed_lines(before.replace("\r\n", "\n"), text))
    if not request.htmx:
        return _render(ws)
    trigger = request.headers.get("HX-Trigger-Name", "")
    source = "yaml" if trigger == "yaml_text" else "form"
    stale = stale_fields(ws.forms, request.form, trigger) if ws.forms and source == "form" else []
    response = make_response(render_template("editor/_check.html", ws=ws, source=source, stale=stale,
                                             yaml_changed=text != before.replace("\r\n", "\n")))
    response.vary.add("HX-Request")
    return response


@bp.post("/drafts/<int:draft_id>/save")
@roles_required_page(*EDITORS)
def save(draft_id: int):
    """Save the working text over the revision it was read at, then run the scenario tests on it.

    A save over a newer one saves nothing and shows both texts side by side (409): nothing is lost.
    """
    draft = _draft(draft_id)
    session = get_session()
    text, problems = workspace.working_text(draft, request.form, include_new=True)
    scenarios = request.form.get("scenarios")
    accept = request.form.get("accept", "")
    if accept and scenarios:
        line, _, actual = accept.partition("|")
        try:
            scenarios = accept_actual(scenarios.replace("\r\n", "\n"), int(line), actual)
        except (EditError, ValueError) as err:
            problems.append(FormProblem("scenarios", f"无法采用实际结果：{err}"))
    if problems:
        return _render(workspace.build(draft, text, scenarios, problems=problems,
                                       message="有填写错误，草稿没有保存。", message_kind="error"), 422)
    try:
        revision = int(request.form.get("revision", ""))
    except ValueError:
        revision = -1
    message = "没有修改，无需保存。"
    if text != draft.yaml_text:
        try:
            draft = lifecycle.update_draft(session, draft.id, text, revision, _actor())
            session.commit()
            message = f"已保存（修订 {draft.revision}）。"
        except lifecycle.StaleRevision:
            draft = _draft(draft_id)
            conflict = {"mine": text, "theirs": draft.yaml_text, "revision": revision,
                        "rows": side_by_side(draft.yaml_text, text)}
            return _render(workspace.build(draft, text, scenarios, conflict=conflict, message_kind="error",
                                           message=f"保存冲突：您编辑的是修订 {revision}，别人已保存为修订 "
                                                   f"{draft.revision}。您的文本没有丢失，仍在编辑器中。"), 409)
        except lifecycle.BadText as err:
            return _render(workspace.build(draft, text, scenarios, message=f"无法保存：{err.message}",
                                           message_kind="error"), 422)
    return _render(_tested(draft, scenarios, message))


def _tested(draft: RuleSetDraft, scenarios: str | None, message: str) -> workspace.Workspace:
    session = get_session()
    try:
        report = lifecycle.run_draft_tests(session, draft.id, _actor(), workspace.rules_paths(), scenarios)
        session.commit()
    except lifecycle.InvalidDraft as err:
        session.rollback()
        return workspace.build(draft, None, scenarios, message=f"{message}场景测试没有运行：{err.message}",
                               message_kind="error")
    failed = report["failed"]
    verdict = f"场景测试：{report['passed']} 个通过，{failed} 个失败。"
    return workspace.build(draft, None, scenarios, report=report, message=message + verdict,
                           message_kind="error" if failed else "success")


@bp.post("/drafts/<int:draft_id>/test")
@roles_required_page(*READERS)
def test(draft_id: int):
    """Run the scenario tests on the saved draft (with the scenarios sent), saving nothing: approvers use it."""
    return _render(_tested(_draft(draft_id), request.form.get("scenarios"), ""))


@bp.get("/drafts/<int:draft_id>/impact")
@roles_required_page(*READERS)
def impact(draft_id: int):
    """The open cases whose route, track or deadlines the saved draft would change (htmx: the table alone)."""
    draft = _draft(draft_id)
    session = get_session()
    try:
        report, error = lifecycle.impact(session, draft.id, _actor()), ""
        session.commit()
    except lifecycle.InvalidDraft as err:
        session.rollback()
        report, error = None, err.message
    response = page_or_fragment("editor/impact.html", "editor/_impact.html", draft=draft, impact=report, error=error)
    return response


@bp.post("/drafts/<int:draft_id>/submit")
@roles_required_page(*EDITORS)
def submit(draft_id: int):
    """Ask for approval with the new version's title and change note; refused (and the page says why) while the
    draft has any issue or was changed since; failing scenario tests need the officer's confirmation."""
    draft = _draft(draft_id)
    session = get_session()
    if request.form.get("revision") != str(draft.revision):
        return _render(workspace.build(draft, message="草稿在您打开之后又被保存过：请核对后再提交。",
                                       message_kind="error"), 409)
    try:
        lifecycle.submit(session, draft.id, _actor(), title=request.form.get("title"),
                         change_note=request.form.get("change_note"), scenario_paths=workspace.rules_paths(),
                         confirm_failing=request.form.get("confirm_failing") == "1")
        session.commit()
    except lifecycle.LifecycleError as err:
        session.rollback()
        return _render(_refused(draft_id, "不能提交审批", err), 422)
    flash(f"草稿 {draft.id} 已提交审批：请另一位审批人批准并发布。", "success")
    return redirect(url_for("editor.draft", draft_id=draft.id))


@bp.post("/drafts/<int:draft_id>/approve")
@roles_required_page("approver")
def approve(draft_id: int):
    """The second officer publishes the submitted draft from the effective date they set."""
    draft = _draft(draft_id)
    session = get_session()
    code = draft.jurisdiction_code
    try:
        effective_from = dt.date.fromisoformat(request.form.get("effective_from", ""))
    except ValueError:
        return _render(workspace.build(draft, message="请填写施行日期（如 2026-12-01）。", message_kind="error"), 422)
    if request.form.get("revision") != str(draft.revision):
        return _render(workspace.build(draft, message="草稿在您打开之后又被修改过：请重新审阅。",
                                       message_kind="error"), 409)
    try:
        record = lifecycle.approve(session, draft.id, _actor(), effective_from=effective_from,
                                   scenario_paths=workspace.rules_paths(),
                                   confirm_failing=request.form.get("confirm_failing") == "1")
        session.commit()
    except lifecycle.LifecycleError as err:
        session.rollback()
        return _render(_refused(draft_id, "不能发布", err), 403 if isinstance(err, lifecycle.FourEyes) else 422)
    forget_current()
    flash(f"已发布{record.title or ''}（{record.version}版），自 {record.effective_from} 起施行。", "success")
    return redirect(url_for("ruleset_history.history", code=code))


def _refused(draft_id: int, what: str, err: lifecycle.LifecycleError) -> workspace.Workspace:
    """The workspace again, saying why; after failing scenarios, with the box that confirms them."""
    return workspace.build(_draft(draft_id), message=f"{what}：{_reason(err)}", message_kind="error",
                           confirm_failing=isinstance(err, lifecycle.FailingScenarios),
                           offered={k: request.form.get(k, "") for k in ("title", "change_note")})


def _reason(err: lifecycle.LifecycleError) -> str:
    if err.chinese:
        return err.chinese
    if isinstance(err, lifecycle.InvalidDraft):
        return f"草稿有 {len(err.details)} 个问题（{err.details[0]['text'] if err.details else ''}）"
    if isinstance(err, lifecycle.FourEyes):
        return f"发布须由另一位审批人批准：起草、提交或修改过草稿的人不能批准（{err.message}）"
    return err.message
