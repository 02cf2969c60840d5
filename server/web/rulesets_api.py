"""The rule-set lifecycle API under /api/v1: versions, drafts (ETag / If-Match), checks, approval, rollback, audit."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import select

from xinfang.config import bundled_rules_dir, today_in_china
from xinfang.rules.calendar import parse_day
from xinfang.server.rulesets import lifecycle
from xinfang.server.rulesets.library_store import forget_current, library_of
from xinfang.server.store.db import get_session
from xinfang.server.store.models import RuleSetDraft, RuleSetVersionRecord

from .auth import current_user, require_scope, roles_required
from .errors import ApiError, error_response, known_jurisdiction

bp = Blueprint("rulesets", __name__, url_prefix="/api/v1")

EDITORS = ("policy_officer",)
READERS = ("policy_officer", "approver")
AUDITORS = ("policy_officer", "approver", "supervisor")
STATUS = ((lifecycle.NotFound, 404), (lifecycle.StaleRevision, 412), (lifecycle.InvalidDraft, 422),
          (lifecycle.BadText, 422), (lifecycle.FourEyes, 403), (lifecycle.LifecycleError, 409))


def lifecycle_errors(view: Callable) -> Callable:
    """Lifecycle refusals as JSON errors; a stale save also says the current revision in its ETag."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except lifecycle.NothingPublished as err:
            raise ApiError(409, "nothing_published", str(err)) from None
        except lifecycle.LifecycleError as err:
            status = next(code for kind, code in STATUS if isinstance(err, kind))
            response, _ = error_response(status, err.code, err.message, err.details)
            if isinstance(err, lifecycle.StaleRevision):
                response.set_etag(str(err.current_revision))
            return response, status
    return wrapped


def _actor() -> str:
    return current_user().username


def _code(raw: str) -> str:
    return known_jurisdiction(library_of(current_app), raw).code


def _body(*allowed: str) -> dict[str, Any]:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(422, "invalid_payload", f"unknown field(s) {', '.join(unknown)}; the fields are "
                                               f"{', '.join(allowed) or 'none'}",
                       [f"{k}: unknown field" for k in unknown])
    return body


def _date(value: Any, name: str, *, required: bool = False) -> dt.date | None:
    if value is None:
        if required:
            raise ApiError(422, "invalid_payload", f"{name} is required (YYYY-MM-DD)", [f"{name}: required"])
        return None
    try:
        return parse_day(value)
    except ValueError as err:
        raise ApiError(400, "bad_date", f"{name}={err}") from None


def _draft_in_scope(draft_id: int) -> RuleSetDraft:
    draft = lifecycle.get_draft(get_session(), draft_id)
    require_scope(draft.jurisdiction_code)
    return draft


def _draft_json(draft: RuleSetDraft, *, text: bool = True) -> dict[str, Any]:
    submitted = lifecycle.submission(get_session(), draft)
    body = {"id": draft.id, "jurisdiction": draft.jurisdiction_code, "base_version_id": draft.base_version_id,
            "revision": draft.revision, "author": draft.author, "created_at": draft.created_at.isoformat(),
            "updated_at": draft.updated_at.isoformat(),
            "submitted": {"by": submitted.actor, "at": submitted.at.isoformat(), "revision": draft.revision}
            if submitted else None}
    if text:
        body["yaml_text"] = draft.yaml_text
    return body


def _draft_response(draft: RuleSetDraft, status: int = 200) -> Response:
    response = jsonify(_draft_json(draft))
    response.status_code = status
    response.set_etag(str(draft.revision))
    return response


def _version_json(record: RuleSetVersionRecord, *, text: bool = False) -> dict[str, Any]:
    in_force = library_of(current_app).version_in_force(record.jurisdiction_code, today_in_china())
    body = {"id": record.id, "jurisdiction": record.jurisdiction_code, "version": record.version,
            "label": record.label, "effective_from": record.effective_from.isoformat(),
            "effective_until": record.effective_until.isoformat() if record.effective_until else None,
            "title": record.title, "change_note": record.change_note, "content_hash": record.content_hash,
            "author": record.author, "approver": record.approver, "published_at": record.published_at.isoformat(),
            "in_force": in_force is not None and in_force.version == record.version,
            "origin": lifecycle.version_origin(get_session(), record)}
    if text:
        body["yaml_text"] = record.yaml_text
    return body


def _commit() -> None:
    get_session().commit()


# Published versions

# Published versions are public law: anyone reads them, signed in or not, in any jurisdiction (README "Who reads
# what"); drafts, their checks and the audit log are for staff whose scope covers the jurisdiction.

@bp.get("/jurisdictions/<code>/versions")
def list_versions(code: str):
    """Every published version of a jurisdiction, by effective date."""
    code = _code(code)
    records = get_session().scalars(select(RuleSetVersionRecord).where(
        RuleSetVersionRecord.jurisdiction_code == code).order_by(RuleSetVersionRecord.effective_from))
    return jsonify(items=[_version_json(r) for r in records])


@bp.get("/versions/<int:version_id>")
@lifecycle_errors
def get_version(version_id: int):
    return jsonify(_version_json(lifecycle.get_version(get_session(), version_id), text=True))


@bp.get("/versions/<int:version_id>/export")
@lifecycle_errors
def export_version(version_id: int):
    """The YAML exactly as published, byte for byte (server/ruleset_import.export_version)."""
    from xinfang.server.rulesets.import_export import export_version as exported
    record = lifecycle.get_version(get_session(), version_id)
    text = exported(get_session(), record.jurisdiction_code, record.version)
    response = Response(text.encode("utf-8"), mimetype="application/yaml")
    name = f"{record.jurisdiction_code}_{record.effective_from}.yaml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.set_etag(record.content_hash)
    return response


@bp.post("/versions/<int:version_id>/rollback")
@roles_required("approver")
@lifecycle_errors
def rollback(version_id: int):
    """Publish this earlier version's text anew, as a new version from a new date (an approver's act)."""
    session = get_session()
    require_scope(lifecycle.get_version(session, version_id).jurisdiction_code)
    body = _body("effective_from", "version")
    label = body.get("version")
    if label is not None and not (isinstance(label, str) and 0 < len(label) <= 40):
        raise ApiError(422, "invalid_payload", "version must be a label of 1 to 40 characters",
                       ["version: not a label"])
    record = lifecycle.rollback(session, version_id, _actor(), effective_from=_date(
        body.get("effective_from"), "effective_from", required=True), version=label)
    _commit()
    forget_current()
    return jsonify(_version_json(record, text=True)), 201, {"Location": url_for(".get_version", version_id=record.id)}


# Drafts

@bp.get("/jurisdictions/<code>/drafts")
@roles_required(*READERS)
def list_drafts(code: str):
    code = _code(code)
    require_scope(code)
    drafts = get_session().scalars(select(RuleSetDraft).where(RuleSetDraft.jurisdiction_code == code)
                                   .order_by(RuleSetDraft.id))
    return jsonify(items=[_draft_json(d, text=False) for d in drafts])


@bp.post("/jurisdictions/<code>/drafts")
@roles_required(*EDITORS)
@lifecycle_errors
def create_draft(code: str):
    """A new draft with the text of the version in force today (or of `from_version`)."""
    code = _code(code)
    require_scope(code)
    base = _body("from_version").get("from_version")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise ApiError(422, "invalid_payload", "from_version must be a version id", ["from_version: not an integer"])
    draft = lifecycle.create_draft(get_session(), code, _actor(), from_version_id=base)
    _commit()
    response = _draft_response(draft, 201)
    response.headers["Location"] = url_for(".get_draft", draft_id=draft.id)
    return response


@bp.get("/drafts/<int:draft_id>")
@roles_required(*READERS)
@lifecycle_errors
def get_draft(draft_id: int):
    return _draft_response(_draft_in_scope(draft_id))


@bp.put("/drafts/<int:draft_id>")
@roles_required(*EDITORS)
@lifecycle_errors
def update_draft(draft_id: int):
    """Save the draft's text over the revision named in If-Match; a stale one is 412 with both texts."""
    draft = _draft_in_scope(draft_id)
    expected = _if_match(draft)
    if request.mimetype in ("application/yaml", "text/yaml", "application/x-yaml", "text/plain"):
        text = request.get_data(as_text=True)
    else:
        text = _body("yaml_text").get("yaml_text")
    if not isinstance(text, str):
        raise ApiError(422, "invalid_payload", "send the rule set as {\"yaml_text\": ...} or as an application/yaml "
                                               "body", ["yaml_text: required"])
    draft = lifecycle.update_draft(get_session(), draft_id, text, expected, _actor())
    _commit()
    return _draft_response(draft)


def _if_match(draft: RuleSetDraft) -> int:
    """The revision the client last read, from If-Match; required, since a blind save could lose another's."""
    tags = request.if_match
    if not tags or tags.star_tag:
        raise ApiError(428, "if_match_required", "send If-Match with the draft's ETag (its revision) from your "
                                                 "last GET, so a newer save is never overwritten",
                       [{"current_revision": draft.revision}])
    named = tags.as_set(include_weak=True)
    if str(draft.revision) in named:
        return draft.revision
    digits = [int(t) for t in named if t.isdigit()]
    return digits[0] if digits else -1


@bp.post("/drafts/<int:draft_id>/validate")
@roles_required(*READERS)
@lifecycle_errors
def validate_draft(draft_id: int):
    draft = _draft_in_scope(draft_id)
    issues = lifecycle.validate_draft(get_session(), draft.id, _actor())
    _commit()
    return jsonify(draft_id=draft.id, revision=draft.revision, valid=not issues,
                   issues=[lifecycle.issue_json(i) for i in issues])


@bp.post("/drafts/<int:draft_id>/test")
@roles_required(*READERS)
@lifecycle_errors
def test_draft(draft_id: int):
    """The jurisdiction's scenario tests, plus `scenarios` (scenario-file YAML) sent along, on the draft."""
    draft = _draft_in_scope(draft_id)
    extra = _body("scenarios").get("scenarios")
    if extra is not None and not isinstance(extra, str):
        raise ApiError(422, "invalid_payload", "scenarios must be the YAML text of a scenario file",
                       ["scenarios: not a string"])
    rules = current_app.config.get("RULES_DIR") or bundled_rules_dir()
    report = lifecycle.run_draft_tests(get_session(), draft.id, _actor(), [rules], extra)
    _commit()
    return jsonify(draft_id=draft.id, revision=draft.revision, **report)


@bp.get("/drafts/<int:draft_id>/impact")
@roles_required(*READERS)
@lifecycle_errors
def impact(draft_id: int):
    draft = _draft_in_scope(draft_id)
    report = lifecycle.impact(get_session(), draft.id, _actor())
    _commit()
    return jsonify(draft_id=draft.id, revision=draft.revision, **report)


@bp.get("/drafts/<int:draft_id>/diff")
@roles_required(*READERS)
@lifecycle_errors
def diff(draft_id: int):
    draft = _draft_in_scope(draft_id)
    raw = request.args.get("against", draft.base_version_id)
    try:
        against = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "bad_parameter", "give ?against=<version id> (the draft has no base version)"
                       if raw is None else f"against={raw!r} is not a version id") from None
    report = lifecycle.diff(get_session(), draft.id, against, _actor())
    _commit()
    return jsonify(draft_id=draft.id, revision=draft.revision, **report)


@bp.post("/drafts/<int:draft_id>/submit")
@roles_required(*EDITORS)
@lifecycle_errors
def submit(draft_id: int):
    """Ask a second officer to approve the draft as it is now (If-Match, when sent, must be its revision); a body's
    `title` and `change_note` are written into the text first (the new version's own words)."""
    draft = _draft_in_scope(draft_id)
    _same_revision(draft)
    body = _body("title", "change_note")
    lifecycle.submit(get_session(), draft.id, _actor(), title=body.get("title"), change_note=body.get("change_note"))
    _commit()
    return _draft_response(draft)


@bp.post("/drafts/<int:draft_id>/approve")
@roles_required("approver")
@lifecycle_errors
def approve(draft_id: int):
    """The second officer approves: the submitted text is published from `effective_from`."""
    draft = _draft_in_scope(draft_id)
    _same_revision(draft)
    body = _body("effective_from")
    record = lifecycle.approve(get_session(), draft.id, _actor(),
                               effective_from=_date(body.get("effective_from"), "effective_from", required=True))
    _commit()
    forget_current()
    return jsonify(_version_json(record, text=True)), 201, {"Location": url_for(".get_version", version_id=record.id)}


def _same_revision(draft: RuleSetDraft) -> None:
    if request.if_match and not request.if_match.star_tag and \
            str(draft.revision) not in request.if_match.as_set(include_weak=True):
        raise ApiError(412, "stale_revision", f"draft {draft.id} is at revision {draft.revision}, not the one you "
                                              f"read; read it again", [{"current_revision": draft.revision}])


@bp.get("/jurisdictions/<code>/audit")
@roles_required(*AUDITORS)
def audit(code: str):
    """Every lifecycle action on the jurisdiction's drafts and versions, oldest first."""
    code = _code(code)
    require_scope(code)
    rows = lifecycle.audit_trail(get_session(), code)
    return jsonify(items=[{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                           "object_type": r.object_type, "object_id": r.object_id, "detail": r.detail} for r in rows])
