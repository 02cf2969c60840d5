"""A rule set's life: draft, edit, check, submit, approve by a second officer, publish, roll back; all audited."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xinfang.config import ConfigError, ConfigIssue, UnknownJurisdiction, canonical_code, today_in_china
from xinfang.server.store.models import AuditLog, Jurisdiction, RuleSetDraft, RuleSetVersionRecord, content_hash

from . import draft_checks
from .draft_checks import Checked, NothingPublished, check_text, draft_name, issue_json
from .text import set_header, with_comment

__all__ = ["DRAFT", "MAX_TEXT_BYTES", "VERSION", "BadText", "FourEyes", "InvalidDraft", "LifecycleError", "NotFound",
           "FailingScenarios", "NothingPublished", "Refused", "StaleRevision", "approve", "audit", "audit_trail", "checked_draft",
           "create_draft", "diff", "get_draft", "get_version", "impact", "rollback", "run_draft_tests", "submission",
           "submit", "update_draft", "validate_draft", "version_origin"]

DRAFT, VERSION = "ruleset_draft", "ruleset_version"
MAX_TEXT_BYTES = 2_000_000  # what load_yaml reads at most


class LifecycleError(Exception):
    """A refused action; `code` is the API's error code, `details` what the caller needs to act on it."""

    code = "refused"

    def __init__(self, message: str, details: list | None = None, *, chinese: str | None = None) -> None:
        super().__init__(message)
        self.message, self.details = message, details or []
        self.chinese = chinese  # what the editor page says, when the refusal has words for officers


class FailingScenarios(LifecycleError):
    """Scenario tests fail with the draft in place: submitting or publishing it anyway needs saying so."""

    code = "failing_scenarios"


class NotFound(LifecycleError):
    code = "not_found"


class Refused(LifecycleError):
    """The action does not fit the state: not submitted, changed since, a date in the past, already published."""


class FourEyes(LifecycleError):
    """Publishing needs a second officer: not the author, not the submitter, not an editor of the draft."""

    code = "second_officer_required"


class BadText(LifecycleError):
    """A text that cannot be stored as a rule set at all: not Unicode text, a NUL, too large."""

    code = "invalid_text"


class InvalidDraft(LifecycleError):
    code = "invalid_ruleset"

    def __init__(self, message: str, issues: Iterable[ConfigIssue]) -> None:
        super().__init__(message, [issue_json(i) for i in issues])


class StaleRevision(LifecycleError):
    """A save over a newer one: nothing is written, and both texts go back so the officer can merge."""

    code = "stale_revision"

    def __init__(self, draft: RuleSetDraft, stale_text: str, expected: int) -> None:
        super().__init__(f"draft {draft.id} is at revision {draft.revision}, not {expected}: someone saved it "
                         f"meanwhile; merge your text into theirs and save again", [{
                             "current_revision": draft.revision, "current_text": draft.yaml_text,
                             "your_revision": expected, "your_text": stale_text}])
        self.current_revision = draft.revision


def audit(session: Session, actor: str, action: str, object_type: str, object_id: int | str, jurisdiction: str,
          **detail: Any) -> AuditLog:
    """One audit row; `jurisdiction` is kept in `detail` so a jurisdiction's trail is one query."""
    row = AuditLog(actor=actor, action=action, object_type=object_type, object_id=str(object_id),
                   detail={"jurisdiction": jurisdiction, **detail})
    session.add(row)
    return row


def audit_trail(session: Session, code: str) -> list[AuditLog]:
    """Every lifecycle action on the drafts and versions of a jurisdiction, oldest first."""
    return list(session.scalars(select(AuditLog).where(
        AuditLog.object_type.in_((DRAFT, VERSION)), AuditLog.detail["jurisdiction"].as_string() == code)
        .order_by(AuditLog.id)))


def _draft_rows(session: Session, draft_id: int, action: str) -> list[AuditLog]:
    """The draft's rows of `action`, since it was created: SQLite gives a new draft the id of the last one
    if that was published (deleted), and that one's submission or editors are not the new draft's."""
    where = (AuditLog.object_type == DRAFT, AuditLog.object_id == str(draft_id))
    created = session.scalar(select(func.max(AuditLog.id)).where(*where, AuditLog.action == "create_draft"))
    return list(session.scalars(select(AuditLog).where(*where, AuditLog.action == action,
                                                       AuditLog.id >= (created or 0)).order_by(AuditLog.id)))


# Lookups

_MAX_ID = 2**63 - 1  # beyond it SQLite cannot even compare: no such row


def get_draft(session: Session, draft_id: int) -> RuleSetDraft:
    draft = session.get(RuleSetDraft, draft_id) if 0 < draft_id <= _MAX_ID else None
    if draft is None:
        published = _draft_rows(session, draft_id, "approve")
        if published:
            raise NotFound(f"draft {draft_id} was published as version {published[-1].detail['version_id']}")
        raise NotFound(f"no rule-set draft {draft_id}")
    return draft


def get_version(session: Session, version_id: int) -> RuleSetVersionRecord:
    record = session.get(RuleSetVersionRecord, version_id) if 0 < version_id <= _MAX_ID else None
    if record is None:
        raise NotFound(f"no published rule-set version {version_id}")
    return record


def submission(session: Session, draft: RuleSetDraft) -> AuditLog | None:
    """The draft's submission for approval, while it still stands: the text is what was submitted."""
    rows = _draft_rows(session, draft.id, "submit")
    return rows[-1] if rows and rows[-1].detail.get("revision") == draft.revision else None


# Drafts

def create_draft(session: Session, code: str, author: str, *, from_version_id: int | None = None,
                 today: dt.date | None = None) -> RuleSetDraft:
    """A draft holding the text of the jurisdiction's version in force today (or of `from_version_id`).

    A jurisdiction without a version of its own starts from a header only: it inherits everything.
    """
    library = draft_checks.require_published(session)
    try:
        jurisdiction = library.tree.get(canonical_code(code))
    except (UnknownJurisdiction, ValueError) as err:
        raise NotFound(f"unknown jurisdiction {code}: {err}") from None
    today = today or today_in_china()
    if from_version_id is not None:
        base = get_version(session, from_version_id)
        if base.jurisdiction_code != jurisdiction.code:
            raise Refused(f"version {base.id} is {base.label}, not a version of {jurisdiction.code}")
    else:
        in_force = library.version_in_force(jurisdiction.code, today)
        base = None if in_force is None else session.scalar(select(RuleSetVersionRecord).where(
            RuleSetVersionRecord.jurisdiction_code == jurisdiction.code,
            RuleSetVersionRecord.version == in_force.version))
    text = base.yaml_text if base else _header_only(jurisdiction, today + dt.timedelta(days=1))
    _ensure_jurisdictions(session, library, jurisdiction.code)
    draft = RuleSetDraft(jurisdiction_code=jurisdiction.code, base_version_id=base.id if base else None,
                         yaml_text=text, author=author)
    session.add(draft)
    session.flush()
    audit(session, author, "create_draft", DRAFT, draft.id, jurisdiction.code, revision=draft.revision,
          base_version_id=draft.base_version_id, base=base.label if base else None)
    return draft


def _header_only(jurisdiction, start: dt.date) -> str:
    return (f'jurisdiction:\n  code: "{jurisdiction.code}"\n  name: {jurisdiction.name}\n'
            f'  level: {jurisdiction.level}\n'
            f'version: "{start.year}.1"\neffective_from: {start.isoformat()}\ntitle: {jurisdiction.name}信访工作规则\n')


def _ensure_jurisdictions(session: Session, library, code: str) -> None:
    """The jurisdiction and its ancestors as rows (a draft refers to one), parents first."""
    for j in library.tree.ancestors(code):
        if session.get(Jurisdiction, j.code) is None:
            session.add(Jurisdiction(code=j.code, name=j.name, level=j.level, parent_code=j.parent))
            session.flush()


def update_draft(session: Session, draft_id: int, yaml_text: str, expected_revision: int, actor: str
                 ) -> RuleSetDraft:
    """Save a new text over `expected_revision`; a newer save raises StaleRevision carrying both texts.

    A save that loses the race at the database rolls the session's transaction back.
    """
    draft = get_draft(session, draft_id)
    try:
        size = len(yaml_text.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise BadText(f"the text is not Unicode text: {err.reason} at character {err.start}") from None
    if size > MAX_TEXT_BYTES or "\x00" in yaml_text:
        raise BadText(f"the text has a NUL character, or is larger than {MAX_TEXT_BYTES} bytes")
    if draft.revision != expected_revision:
        raise StaleRevision(draft, yaml_text, expected_revision)
    changed = draft.yaml_text != yaml_text
    draft.yaml_text = yaml_text
    try:
        session.flush()  # UPDATE … WHERE revision = expected: a save that slipped in between is caught here
    except StaleDataError:
        session.rollback()
        raise StaleRevision(get_draft(session, draft_id), yaml_text, expected_revision) from None
    audit(session, actor, "update_draft", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          changed=changed, content_hash=content_hash(yaml_text))
    return draft


def checked_draft(session: Session, draft: RuleSetDraft) -> Checked:
    """The draft checked against the published versions, with the library it makes."""
    return check_text(session, draft.jurisdiction_code, draft.yaml_text, draft_name(draft))


def usable(checked: Checked, draft: RuleSetDraft) -> Checked:
    """The check, if the draft can be decided with at all (it reads as a rule set of its own jurisdiction)."""
    if checked.version is None or checked.version.code != draft.jurisdiction_code:
        raise InvalidDraft(f"draft {draft.id} cannot be read as a rule set of {draft.jurisdiction_code}; "
                           f"fix the issues first", checked.issues)
    return checked


def validate_draft(session: Session, draft_id: int, actor: str) -> list[ConfigIssue]:
    """The draft's issues, each at its line and column (see draft_checks.check_text for what is checked)."""
    draft = get_draft(session, draft_id)
    issues = checked_draft(session, draft).issues
    audit(session, actor, "validate_draft", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          issues=len(issues))
    return issues


def run_draft_tests(session: Session, draft_id: int, actor: str, scenario_paths: Iterable[str | os.PathLike],
                    extra: str | None = None) -> dict[str, Any]:
    """The jurisdiction's scenario tests (and `extra` scenario YAML) decided with the draft in place."""
    draft = get_draft(session, draft_id)
    checked = usable(checked_draft(session, draft), draft)
    try:
        report = draft_checks.run_scenarios(checked, draft.jurisdiction_code, scenario_paths, extra,
                                            f"draft-{draft.id}-scenarios.yaml")
    except ConfigError as err:
        raise InvalidDraft("the scenarios sent are not valid", err.issues) from None
    audit(session, actor, "test_draft", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          passed=report["passed"], failed=report["failed"])
    return report


def impact(session: Session, draft_id: int, actor: str) -> dict[str, Any]:
    """The open cases of the draft's jurisdiction and below it would change (draft_checks.impact)."""
    draft = get_draft(session, draft_id)
    checked = usable(checked_draft(session, draft), draft)
    report = draft_checks.impact(session, checked, draft.jurisdiction_code)
    audit(session, actor, "impact_preview", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          open_cases=report["open_cases"], changed_cases=report["changed_cases"])
    return report


def diff(session: Session, draft_id: int, against_id: int, actor: str) -> dict[str, Any]:
    """The draft against a published version: its text, and every effective value that differs."""
    draft = get_draft(session, draft_id)
    record = get_version(session, against_id)
    checked = checked_draft(session, draft)
    structural = None
    if checked.version is not None and checked.version.code == draft.jurisdiction_code:
        published = draft_checks.require_published(session)
        try:
            old = published.effective(record.jurisdiction_code, record.effective_from)
            new = checked.library.effective(draft.jurisdiction_code, checked.version.effective_from)
            structural = draft_checks.structural_diff(old, new)
        except LookupError:  # no national version in force on one of the days: only the text compares
            structural = None
    audit(session, actor, "diff_draft", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          against=record.id)
    return {"against": record.id, "against_label": record.label, "text": draft_checks.text_diff(record, draft),
            "values": structural, "issues": [issue_json(i) for i in checked.issues]}


# Approval and publication

def submit(session: Session, draft_id: int, actor: str, *, title: str | None = None, change_note: str | None = None,
           scenario_paths: Iterable[str | os.PathLike] | None = None, confirm_failing: bool = False,
           today: dt.date | None = None) -> AuditLog:
    """Ask for approval of the draft as it is now; refused while it has any issue. An edit withdraws it.

    `title` and `change_note`, when given, are written into the text first: a new version says what it is and
    what changed, never the version before's words. With `scenario_paths`, the jurisdiction's scenario tests run
    on the draft, and failing ones refuse it unless `confirm_failing`; the audit row keeps how many failed.
    """
    draft = get_draft(session, draft_id)
    if title is not None or change_note is not None:
        _describe(session, draft, actor, title, change_note)
    checked = usable(checked_draft(session, draft), draft)
    if checked.issues:
        raise InvalidDraft(f"draft {draft.id} has {len(checked.issues)} issue(s); fix them before submitting",
                           checked.issues)
    _not_in_the_past(checked.version.effective_from, today)
    _says_what_changed(session, draft, checked)
    failing = _failing_scenarios(checked, draft, scenario_paths, confirm_failing)
    return audit(session, actor, "submit", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
                 content_hash=content_hash(draft.yaml_text), version=checked.version.version,
                 effective_from=checked.version.effective_from.isoformat(),
                 **({"failed": len(failing)} if scenario_paths is not None else {}))


def _describe(session: Session, draft: RuleSetDraft, actor: str, title: str | None, change_note: str | None) -> None:
    """Write the new version's title and change note into the draft (an edit of the author's, audited as one)."""
    if not all(isinstance(value, str | None) for value in (title, change_note)):
        raise Refused("the title and change note are text", [{"field": "change_note"}])
    title, change_note = (title or "").strip(), (change_note or "").strip()
    if not title:
        raise Refused("a new version needs a title", [{"field": "title"}], chinese="请填写新版本的名称。")
    if not change_note:
        raise Refused("a new version needs a change note", [{"field": "change_note"}],
                      chinese="请填写修改说明：这一版改了什么、为什么改。")
    try:
        text = set_header(draft.yaml_text, title=title, change_note=change_note)
    except ValueError as err:
        raise Refused(f"cannot set the title and change note: {err}", [{"field": "change_note"}],
                      chinese="规则集的名称或修改说明写法特殊，无法自动改写：请在规则集文本中直接修改。") from None
    if text != draft.yaml_text:
        update_draft(session, draft.id, text, draft.revision, actor)


def _says_what_changed(session: Session, draft: RuleSetDraft, checked: Checked) -> None:
    """A new version's change note is its own: the version it started from's note, copied, is refused."""
    base = session.get(RuleSetVersionRecord, draft.base_version_id) if draft.base_version_id else None
    note = checked.version.data.get("change_note")
    if base is not None and base.change_note and str(note or "").strip() == base.change_note.strip():
        raise Refused(f"the change note is that of version {base.version}: say what this version changes",
                      [{"field": "change_note"}], chinese=f"修改说明与上一版（{base.version}）相同：请写明这一版改了什么。")


def _failing_scenarios(checked: Checked, draft: RuleSetDraft, scenario_paths: Iterable[str | os.PathLike] | None,
                       confirmed: bool) -> list[dict[str, Any]]:
    if scenario_paths is None:
        return []
    report = draft_checks.run_scenarios(checked, draft.jurisdiction_code, scenario_paths)
    failing = [r for r in report["scenarios"] if not r["passed"]]
    if failing and not confirmed:
        names = "、".join(r["name"] for r in failing[:3]) + ("等" if len(failing) > 3 else "")
        raise FailingScenarios(f"{len(failing)} scenario test(s) fail with the draft; confirm to go on",
                               [{"scenario": r["name"], "line": r.get("line")} for r in failing],
                               chinese=f"有 {len(failing)} 个场景测试未通过（{names}）：请先修改草稿，"
                                       f"或确认这些结果是本次修改有意为之后再继续。")
    return failing


def approve(session: Session, draft_id: int, actor: str, *, effective_from: dt.date | None = None,
            scenario_paths: Iterable[str | os.PathLike] | None = None, confirm_failing: bool = False,
            today: dt.date | None = None) -> RuleSetVersionRecord:
    """The second officer's approval: publishes the submitted text, from `effective_from` if given.

    The approver must be neither the draft's author, nor its submitter, nor anyone who edited it.
    The draft is consumed: the published version replaces it. With `scenario_paths`, as submit().
    """
    draft = get_draft(session, draft_id)
    submitted = submission(session, draft)
    if submitted is None:
        raise Refused(f"draft {draft.id} is not submitted for approval, or was edited after it was submitted",
                      chinese="草稿尚未提交审批，或提交后又被修改过。")
    editors = {row.actor for row in _draft_rows(session, draft.id, "update_draft")}
    for who, role in ((draft.author, "wrote"), (submitted.actor, "submitted")):
        if actor == who:
            raise FourEyes(f"{actor} {role} draft {draft.id}: a second officer must approve it")
    if actor in editors:
        raise FourEyes(f"{actor} edited draft {draft.id}: a second officer must approve it")
    if scenario_paths is not None:
        _failing_scenarios(usable(checked_draft(session, draft), draft), draft, scenario_paths, confirm_failing)
    text = draft.yaml_text
    if effective_from is not None:
        _not_in_the_past(effective_from, today)  # said first: a past date would also fail the checks of that day
        try:
            text = set_header(text, effective_from=effective_from)
        except ValueError as err:
            raise Refused(f"cannot set the effective date: {err}") from None
    record = _publish(session, draft.jurisdiction_code, text, draft_name(draft), author=draft.author, approver=actor,
                      today=today)
    audit(session, actor, "approve", DRAFT, draft.id, draft.jurisdiction_code, revision=draft.revision,
          version_id=record.id, submitted_by=submitted.actor)
    audit(session, actor, "publish", VERSION, record.id, record.jurisdiction_code, label=record.label,
          effective_from=record.effective_from.isoformat(), content_hash=record.content_hash, draft_id=draft.id,
          author=record.author, submitted_by=submitted.actor)
    session.delete(draft)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Refused(f"draft {draft_id} changed while it was being approved; nothing was published") from None
    return record


def rollback(session: Session, version_id: int, actor: str, *, effective_from: dt.date,
             version: str | None = None, today: dt.date | None = None) -> RuleSetVersionRecord:
    """Publish an earlier version's text anew, under a new label from a new date; the header is all that changes."""
    old = get_version(session, version_id)
    label = version or _rollback_label(session, old)
    try:
        text = set_header(old.yaml_text, version=label, effective_from=effective_from, drop_until=True)
    except ValueError as err:
        raise Refused(f"cannot republish {old.label}: {err}") from None
    text = with_comment(text, f"回退（rollback）：重新发布 {old.label}（版本 {old.id}）的内容，自 {effective_from} 起施行")
    record = _publish(session, old.jurisdiction_code, text, f"rollback:{old.id}", author=old.author, approver=actor,
                      today=today)
    audit(session, actor, "rollback", VERSION, record.id, record.jurisdiction_code, label=record.label,
          effective_from=record.effective_from.isoformat(), content_hash=record.content_hash,
          rollback_of=old.id, rollback_of_label=old.label)
    session.flush()
    return record


def _rollback_label(session: Session, old: RuleSetVersionRecord) -> str:
    taken = set(session.scalars(select(RuleSetVersionRecord.version).where(
        RuleSetVersionRecord.jurisdiction_code == old.jurisdiction_code)))
    n = 1
    while f"{old.version}-r{n}" in taken:
        n += 1
    return f"{old.version}-r{n}"


def _not_in_the_past(day: dt.date, today: dt.date | None) -> None:
    today = today or today_in_china()
    if day < today:
        raise Refused(f"effective_from {day} is in the past (today is {today}): a new version cannot change the "
                      f"rules cases were already decided under")


def _publish(session: Session, code: str, text: str, name: str, *, author: str, approver: str,
             today: dt.date | None) -> RuleSetVersionRecord:
    """Store `text` as a published version after the full check; refused on any issue (dates included)."""
    checked = check_text(session, code, text, name)
    if checked.version is None or checked.issues:
        raise InvalidDraft("the rule set cannot be published: it has issues", checked.issues)
    v = checked.version
    _not_in_the_past(v.effective_from, today)
    record = RuleSetVersionRecord(
        jurisdiction_code=code, version=v.version, effective_from=v.effective_from,
        effective_until=v.effective_until, title=v.data.get("title"), change_note=v.data.get("change_note"),
        yaml_text=text, content_hash=content_hash(text), author=author, approver=approver)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Refused(f"version {v.version} of {code} was published meanwhile") from None
    return record


def version_origin(session: Session, record: RuleSetVersionRecord) -> dict[str, Any] | None:
    """How a version came to be published (the audit row of its publish or rollback); None for an import."""
    row = session.scalar(select(AuditLog).where(
        AuditLog.object_type == VERSION, AuditLog.object_id == str(record.id),
        AuditLog.action.in_(("publish", "rollback"))).order_by(AuditLog.id))
    if row is None:
        return None
    return {"action": row.action, "by": row.actor, "at": row.at.isoformat(), "draft_id": row.detail.get("draft_id"),
            "rollback_of": row.detail.get("rollback_of")}

