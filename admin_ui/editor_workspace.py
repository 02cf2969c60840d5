"""What the draft editor shows: the working text, its forms, its issues at their lines with the bounds, the results."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from xinfang.config import ConfigError, NoRuleSetInForce, bundled_rules_dir, today_in_china
from xinfang.config.yaml_source import load_yaml
from xinfang.server.accounts import has_role
from xinfang.server.rulesets import lifecycle
from xinfang.server.rulesets.draft_checks import check_text, draft_name
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.store.models import RuleSetDraft, RuleSetVersionRecord
from xinfang.server.web.auth import current_user

from .editor_forms import ORDER, EditorForms, FormProblem, form_edits, new_item_edits
from .editor_scenarios import sample_scenarios
from .editor_yaml import EditError, apply_edits, nodes_of, path_at
from .ruleset_view import BoundRef


def rules_paths() -> list:
    return [current_app.config.get("RULES_DIR") or bundled_rules_dir()]


@dataclass
class IssueView:
    """An issue as the page lists it: line and column, the key path there, what is wrong in Chinese (the English
    `xinfang validate` line folded away beside it), the bounds on it."""

    line: int | None
    col: int | None
    path: str
    message: str
    summary: str
    bounds: list[BoundRef]
    field_id: str | None = None


def read_own(text: str) -> dict | None:
    try:
        data = load_yaml("draft", text=text).data
    except ConfigError:
        return None
    return data if isinstance(data, dict) else None


def working_text(draft: RuleSetDraft, form, *, include_new: bool) -> tuple[str, list[FormProblem]]:
    """The text the officer is looking at: the posted YAML with the form fields they changed applied to it."""
    text = form.get("yaml_text")
    text = draft.yaml_text if text is None else text
    if "\r" not in draft.yaml_text:
        text = text.replace("\r\n", "\n")
    base = read_own(form.get("form_base") or text)
    own = read_own(text)
    if base is None or own is None:  # the forms are shown only for a text that reads: nothing to apply
        return text, []
    edits, problems = form_edits(form, base, own)
    if include_new:
        more, more_problems = new_item_edits(form)
        edits, problems = edits + more, problems + more_problems
    try:
        return apply_edits(text, edits, order=ORDER), problems
    except EditError as err:
        return text, problems + [FormProblem("", str(err))]


def changed_lines(old: str, new: str) -> list[int]:
    """The 1-based lines of `new` that differ from `old` (the YAML editor marks them)."""
    import difflib
    out = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old.splitlines(), new.splitlines()).get_opcodes():
        if tag in ("replace", "insert"):
            out += range(j1 + 1, j2 + 1)
    return out


@dataclass
class Workspace:
    """Everything the editor page and its fragments render for one draft."""

    draft: RuleSetDraft
    text: str
    scenarios: str
    forms: EditorForms | None
    issues: list[IssueView]
    problems: list[FormProblem] = field(default_factory=list)
    warnings: list[IssueView] = field(default_factory=list)  # shown, never blocking (a category at a kind of body)
    report: dict[str, Any] | None = None
    impact: dict[str, Any] | None = None
    message: str = ""
    message_kind: str = "success"
    conflict: dict[str, Any] | None = None
    changed: list[int] = field(default_factory=list)
    submitted: Any = None
    base: RuleSetVersionRecord | None = None
    can_edit: bool = False
    can_approve: bool = False
    today: dt.date = field(default_factory=today_in_china)
    confirm_failing: bool = False  # the last submit or approval was refused for failing scenarios: ask to confirm
    offered: dict[str, str] = field(default_factory=dict)  # the title and change note the officer last sent

    def proposed(self, key: str) -> str:
        """What the submit form offers for `title` or `change_note`: what was sent, else the draft's own words,
        except a change note copied from the version it started from (the new one must say what changed)."""
        if key in self.offered:
            return self.offered[key]
        own = self.forms.own if self.forms else {}
        value = own.get(key)
        value = value.strip() if isinstance(value, str) else ""
        if key == "change_note" and self.base is not None and value == (self.base.change_note or "").strip():
            return ""
        day = own.get("effective_from")
        if key == "title" and self.base is not None and value == (self.base.title or "") and isinstance(day, dt.date):
            return re.sub(r"（\d{4}）", f"（{day.year}）", value)  # the version before's year is no longer this one's
        return value

    @property
    def dirty(self) -> bool:
        return self.text != self.draft.yaml_text

    @property
    def blocked(self) -> str:
        """Why the draft cannot be submitted now ('' when it can)."""
        if self.dirty:
            return "有未保存的修改：先保存草稿。"
        if self.issues:
            return f"草稿有 {len(self.issues)} 个问题：全部修正后才能提交审批。"
        return ""

    @property
    def invalid_fields(self) -> set[str]:
        return {i.field_id for i in self.issues if i.field_id} | {p.name for p in self.problems}

    @property
    def effective_from(self) -> Any:
        own = self.forms.own if self.forms else {}
        return own.get("effective_from")

    @property
    def approve_from(self) -> dt.date:
        """The date the approval form proposes: the draft's first day, unless that has passed."""
        day = self.effective_from
        return day if isinstance(day, dt.date) and day > self.today else self.today


def parent_effective(code: str, day: dt.date):
    library = library_of(current_app)
    jurisdiction = library.tree.get(code)
    if jurisdiction.parent is None:
        return None
    try:
        return library.effective(jurisdiction.parent, day)
    except NoRuleSetInForce:
        return None


def build(draft: RuleSetDraft, text: str | None = None, scenarios: str | None = None, **extra) -> Workspace:
    """The workspace of `draft` showing `text` (default: as saved), checked as it stands."""
    session = get_session()
    text = draft.yaml_text if text is None else text
    own = read_own(text)
    day = own.get("effective_from") if own and isinstance(own.get("effective_from"), dt.date) else today_in_china()
    library = library_of(current_app)
    forms = EditorForms(own, parent_effective(draft.jurisdiction_code, day), library.tree) if own is not None else None
    checked = check_text(session, draft.jurisdiction_code, text, draft_name(draft))
    if scenarios is None:
        names = {row.key: row.label for row in forms.tracks()} if forms else {}
        scenarios = sample_scenarios(library, draft.jurisdiction_code, day, rules_paths(), names)
    user = current_user()
    nodes = _nodes(text)  # parsed once, for the issues and the warnings
    ws = Workspace(draft, text, scenarios, forms, issue_views(checked.issues, text, forms, nodes),
                   warnings=issue_views(checked.warnings, text, forms, nodes),
                   submitted=lifecycle.submission(session, draft),
                   base=session.get(RuleSetVersionRecord, draft.base_version_id) if draft.base_version_id else None,
                   can_edit=has_role(user, "policy_officer"), can_approve=has_role(user, "approver"), **extra)
    return ws


def _nodes(text: str) -> dict:
    try:
        return nodes_of(text)
    except EditError:
        return {}


def issue_views(issues, text: str, forms: EditorForms | None, nodes: dict | None = None) -> list[IssueView]:
    nodes = _nodes(text) if nodes is None else nodes
    views = []
    for issue in issues:
        pos = issue.position
        path = path_at(nodes, pos.line, pos.col) if pos and nodes else None
        dotted = ".".join(map(str, path)) if path else ""
        summary = issue.chinese or "规则集有问题"
        bounds = forms.bounds(path) if forms and path else []
        field_id = "f-" + "-".join(map(str, path)) if path else None
        views.append(IssueView(pos.line if pos else None, pos.col if pos else None, dotted, issue.message, summary,
                               bounds, field_id))
    return views
