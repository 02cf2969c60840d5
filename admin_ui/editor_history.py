"""A rule set's history pages: versions and drafts, a new draft, side-by-side diffs, rollback, the audit log.

The published versions are public law, open to anyone; drafts show only to those `reads_drafts` lets in.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from xinfang.config import UnknownJurisdiction, today_in_china
from xinfang.config.yaml_source import load_yaml
from xinfang.server.accounts import has_role
from xinfang.server.rulesets import lifecycle
from xinfang.server.rulesets.draft_checks import check_text, draft_name, structural_diff
from xinfang.server.rulesets.library_store import forget_current, library_of
from xinfang.server.rulesets.text import set_header
from xinfang.server.store.db import get_session
from xinfang.server.store.models import RuleSetDraft, RuleSetVersionRecord
from xinfang.server.web.auth import current_user, in_scope

from .access import forbidden, reads_drafts, roles_required_page
from .editor_diff import counts, side_by_side

bp = Blueprint("ruleset_history", __name__, url_prefix="/rulesets")

ACTIONS = {"create_draft": "新建草稿", "update_draft": "保存草稿", "validate_draft": "校验", "test_draft": "场景测试",
           "impact_preview": "影响预览", "diff_draft": "比较", "submit": "提交审批", "approve": "批准",
           "publish": "发布", "rollback": "回退", "import": "导入"}


def _jurisdiction(code: str):
    try:
        return library_of(current_app).tree.get(code)
    except (UnknownJurisdiction, ValueError, TypeError):
        abort(make_response(render_template("error.html", status=404, title="没有这个行政区划",
                                            message=f"没有代码为“{code}”的行政区划。"), 404))


def _versions(code: str) -> list[RuleSetVersionRecord]:
    return list(get_session().scalars(select(RuleSetVersionRecord).where(
        RuleSetVersionRecord.jurisdiction_code == code).order_by(RuleSetVersionRecord.effective_from)))


def _drafts(code: str) -> list[RuleSetDraft]:
    return list(get_session().scalars(select(RuleSetDraft).where(RuleSetDraft.jurisdiction_code == code)
                                      .order_by(RuleSetDraft.id)))


@bp.get("/<code>")
def history(code: str):
    """Published versions (in force, rollback), drafts in progress, a new draft, and two texts to compare."""
    jurisdiction = _jurisdiction(code)
    user, session = current_user(), get_session()
    editable = reads_drafts(user, jurisdiction.code)
    in_force = library_of(current_app).version_in_force(jurisdiction.code, today_in_china())
    drafts = _drafts(jurisdiction.code) if editable else []
    return render_template("editor/history.html", node=jurisdiction, versions=_versions(jurisdiction.code),
                           drafts=[(d, lifecycle.submission(session, d)) for d in drafts], editable=editable,
                           in_force=in_force.version if in_force else None, today=today_in_china(),
                           can_edit=editable and has_role(user, "policy_officer"),
                           can_approve=editable and has_role(user, "approver"))


@bp.post("/<code>/drafts")
@roles_required_page("policy_officer")
def new_draft(code: str):
    """A draft from the version in force (or `from_version`), with a new version label and tomorrow as its first day."""
    jurisdiction = _jurisdiction(code)
    if not in_scope(current_user(), jurisdiction.code):
        forbidden(f"{jurisdiction.name}（{jurisdiction.code}）不在您的管辖范围内：只能为本级和下级起草。")
    session = get_session()
    base = request.form.get("from_version", type=int)
    try:
        draft = lifecycle.create_draft(session, jurisdiction.code, current_user().username, from_version_id=base)
        start = today_in_china() + dt.timedelta(days=1)
        label = _new_label(jurisdiction.code, start.year)
        try:
            text = set_header(draft.yaml_text, version=label, effective_from=start, drop_until=True)
            draft = lifecycle.update_draft(session, draft.id, text, draft.revision, current_user().username)
            note = f"版本号已设为 {label}，施行日期设为 {start}，可在“基本信息”中修改。"
        except ValueError:
            note = "请在“基本信息”中填写新的版本号和施行日期。"
        session.commit()
    except lifecycle.LifecycleError as err:
        session.rollback()
        flash(f"无法新建草稿：{err.message}", "error")
        return redirect(url_for(".history", code=jurisdiction.code))
    flash(f"已新建草稿 {draft.id}。{note}", "success")
    return redirect(url_for("editor.draft", draft_id=draft.id))


def _new_label(code: str, year: int) -> str:
    taken = {v.version for v in _versions(code)}
    n = 1
    while f"{year}.{n}" in taken:
        n += 1
    return f"{year}.{n}"


@bp.get("/versions/<int:version_id>")
def version(version_id: int):
    """One published version's text, line by line, as it was published."""
    record = _version(version_id)
    return render_template("editor/version.html", record=record, origin=lifecycle.version_origin(get_session(), record),
                           node=_jurisdiction(record.jurisdiction_code), lines=record.yaml_text.splitlines())


def _version(version_id: int) -> RuleSetVersionRecord:
    try:
        record = lifecycle.get_version(get_session(), version_id)
    except lifecycle.NotFound:
        abort(make_response(render_template("error.html", status=404, title="没有这个版本",
                                            message=f"没有已发布的版本 {version_id}。"), 404))
    _jurisdiction(record.jurisdiction_code)
    return record


@bp.post("/versions/<int:version_id>/rollback")
@roles_required_page("approver")
def rollback(version_id: int):
    """Publish an earlier version's text anew from a date the approver sets (a new version; the old stays)."""
    record = _version(version_id)
    if not in_scope(current_user(), record.jurisdiction_code):
        forbidden("只能回退本级和下级的规则集。")
    session = get_session()
    try:
        day = dt.date.fromisoformat(request.form.get("effective_from", ""))
        new = lifecycle.rollback(session, record.id, current_user().username, effective_from=day)
        session.commit()
    except ValueError:
        flash("请填写回退后的施行日期（如 2026-12-01）。", "error")
    except lifecycle.LifecycleError as err:
        session.rollback()
        flash(f"不能回退：{err.message}", "error")
    else:
        forget_current()
        flash(f"已回退：重新发布 {record.label} 的内容为 {new.label}，自 {new.effective_from} 起施行。", "success")
    return redirect(url_for(".history", code=record.jurisdiction_code))


@bp.get("/<code>/diff")
def diff(code: str):
    """Two texts side by side (`?old=v12&new=d3`: v a version, d a draft), and every effective value that differs."""
    jurisdiction = _jurisdiction(code)
    versions = _versions(jurisdiction.code)
    drafts = _drafts(jurisdiction.code) if reads_drafts(current_user(), jurisdiction.code) else []
    choices = [(f"v{v.id}", f"版本 {v.version}（{v.effective_from} 起）") for v in reversed(versions)] + \
              [(f"d{d.id}", f"草稿 {d.id}（修订 {d.revision}）") for d in drafts]
    old_key = request.args.get("old") or (choices[1][0] if len(choices) > 1 else "")
    new_key = request.args.get("new") or (choices[0][0] if choices else "")
    old, new = _text_of(old_key, jurisdiction.code), _text_of(new_key, jurisdiction.code)
    rows = side_by_side(old[1], new[1]) if old and new else []
    values = _values(jurisdiction.code, old, new) if old and new else None
    return render_template("editor/diff.html", node=jurisdiction, choices=choices, old_key=old_key, new_key=new_key,
                           old=old, new=new, rows=rows, counts=counts(rows), values=values)


def _text_of(key: str, code: str):
    """(label, text, effective day, name in issues) of `v<id>` or `d<id>` of this jurisdiction, else None."""
    kind, raw = key[:1], key[1:]
    if not raw.isdigit():
        return None
    session = get_session()
    if kind == "v":
        record = session.get(RuleSetVersionRecord, int(raw))
        if record is None or record.jurisdiction_code != code:
            return None
        return f"版本 {record.version}", record.yaml_text, record.effective_from, None
    if kind == "d" and reads_drafts(current_user(), code):
        draft = session.get(RuleSetDraft, int(raw))
        if draft is None or draft.jurisdiction_code != code:
            return None
        try:
            day = load_yaml("d", text=draft.yaml_text).data.get("effective_from")
        except Exception:  # an unreadable draft: its text still compares
            day = None
        return f"草稿 {draft.id}", draft.yaml_text, day, draft_name(draft)
    return None


def _values(code: str, old, new):
    """The effective values that differ between the two, each rule set in force on its own first day."""
    session = get_session()
    try:
        effectives = []
        for _, text, day, name in (old, new):
            library = check_text(session, code, text, name).library if name else library_of(current_app)
            effectives.append(library.effective(code, day))
        return structural_diff(*effectives)
    except Exception:  # a draft that does not read, a day with no version: the text diff still shows
        return None


@bp.get("/<code>/audit")
@roles_required_page("policy_officer", "approver", "supervisor")
def audit(code: str):
    """Every lifecycle action on the jurisdiction's drafts and versions, newest first."""
    jurisdiction = _jurisdiction(code)
    if not in_scope(current_user(), jurisdiction.code):
        forbidden(f"{jurisdiction.name}（{jurisdiction.code}）不在您的管辖范围内。")
    rows = list(reversed(lifecycle.audit_trail(get_session(), jurisdiction.code)))
    return render_template("editor/audit.html", node=jurisdiction, rows=rows, actions=ACTIONS)
