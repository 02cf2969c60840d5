"""The approver's queue: every draft submitted in its scope and waiting for a second officer, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from sqlalchemy import select

from xinfang.config import ConfigError
from xinfang.config.yaml_source import load_yaml
from xinfang.server.rulesets import lifecycle
from xinfang.server.store.db import get_session
from xinfang.server.store.models import AuditLog, RuleSetDraft
from xinfang.server.web.auth import current_user

from .access import reads_drafts, roles_required_page

bp = Blueprint("approvals", __name__, url_prefix="/rulesets")


@dataclass(frozen=True)
class Waiting:
    draft: RuleSetDraft
    submitted: AuditLog
    header: dict  # the submitted text's title, change note, version and first day

    @property
    def failed(self) -> int | None:
        return self.submitted.detail.get("failed")


def waiting(user) -> list[Waiting]:
    """The drafts the user may approve (its jurisdiction and those below) whose submission still stands."""
    session = get_session()
    rows = []
    for draft in session.scalars(select(RuleSetDraft).order_by(RuleSetDraft.id)):
        if not reads_drafts(user, draft.jurisdiction_code):
            continue
        submitted = lifecycle.submission(session, draft)
        if submitted is not None:
            rows.append(Waiting(draft, submitted, _header(draft.yaml_text)))
    return sorted(rows, key=lambda w: w.submitted.at)


def _header(text: str) -> dict:
    try:
        data = load_yaml("draft", text=text).data
    except ConfigError:
        return {}
    return {k: data.get(k) for k in ("title", "change_note", "version", "effective_from")} if isinstance(data, dict) \
        else {}


@bp.get("/approvals")
@roles_required_page("approver")
def queue():
    """Where an approver starts: what waits for its approval, each a click from the draft and its check."""
    return render_template("editor/approvals.html", rows=waiting(current_user()))
