"""The case file page's content: what visibility lets the user see, labelled from the pinned rule set."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import EffectiveRuleSet, RuleSetLibrary
from xinfang.config.units import unit_name
from xinfang.rules.plan import plan_for
from xinfang.server.accounts import has_role
from xinfang.server.cases.case_file import pinned_effective
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.visibility import may_see_material, visible_case, visible_original
from xinfang.server.cases.workflow import timeline
from xinfang.server.store.case_tables import CaseEscalation, Petition
from xinfang.server.store.models import User

from . import case_actions, labels, notices
from .case_labels import (ACTIONS, OUTCOMES, SATISFACTION, STAGES, countdown, days_late, flag_label, flag_tone,
                          rule_label, shown_flags)

PETITIONER = (("name", "姓名"), ("id_number", "身份证号码"), ("phone", "联系电话"), ("address", "住址"))
EVENT_FIELDS = {
    "number": "编号", "ruleset_version": "规则集版本", "duplicate_of": "重复于", "notice": "文书", "reason": "理由",
    "unit_name": "转送单位", "outcome": "办理结果", "opinion": "处理意见", "answered_on": "送达日期",
    "satisfaction": "满意度", "days": "延长天数", "approver": "审批人", "requester": "申请人", "bound": "延期上限（日）",
    "body": "请求内容", "from": "原版本", "to": "新版本", "note": "备注", "step": "升级步骤", "flag": "标识",
    "order": "来源工单",
}


def pinned(library: RuleSetLibrary, petition: Petition) -> EffectiveRuleSet | None:
    """The rule set the case is pinned to, else the one in force on its day (for labels only), else None."""
    try:
        return pinned_effective(library, petition.ruleset_version, petition.jurisdiction_code, petition.received_on)
    except CaseServiceError:
        try:
            return library.effective(petition.jurisdiction_code, petition.received_on)
        except LookupError:
            return None


def _get(effective: EffectiveRuleSet | None, dotted: str) -> Any:
    return (effective.get(dotted) if effective is not None else None) or {}


def deadline_basis(effective: EffectiveRuleSet | None, petition: Petition, step: str) -> str:
    """The law a deadline rests on, as staff read it: the limit's basis, and an approved extension's (Art. 34)."""
    if effective is None:
        return ""
    decision = petition.decision or {}
    tier = next((f.removeprefix("tier:") for f in decision.get("flags", ()) if f.startswith("tier:")), None)
    limits = plan_for(effective).limits(decision.get("track"), tier)
    limit = limits.table.get(step)
    text = limit.basis if limit else ""
    case = petition.case_json or {}
    days = case.get("extension_days") if step == "conclude" else (case.get("extensions") or {}).get(step)
    extension = limits.extension if step == "conclude" else (limit.extension if limit else None)
    if days:
        text += f"；经批准延长{days}日" + (f"（{extension.basis}）" if extension and extension.basis else "")
    return text


def _trace(view: dict, effective: EffectiveRuleSet | None) -> list[dict[str, Any]]:
    rows = []
    for entry in view["decision"].get("trace", []):
        rule, source = entry["rule"], entry.get("source") or {}
        kind, _, rest = rule.partition(":")
        detail = ""
        if entry.get("matched"):
            detail = "匹配：" + "、".join(entry["matched"])
        elif kind == "track":
            detail = _get(effective, f"tracks.{rest}").get("name", "")
        elif kind == "escalation":
            detail = _get(effective, f"escalation.steps.{rest}").get("name", "")
        elif kind == "admissibility":
            detail = _get(effective, f"admissibility.{rest}").get("reason", "")
        where = f"{source['file']}:{source['line']}" if source.get("file") else ""
        rows.append({"rule": rule, "label": rule_label(rule), "detail": detail, "where": where})
    return rows


def version_name(library: RuleSetLibrary, label: str) -> str:
    """A pin (`000000@2022.1+…+371321@2024.1`) as people name it: its most local version, 沂南县2024年版."""
    code, _, version = str(label).rpartition("+")[-1].partition("@")
    try:
        found = next((v for v in library.versions(code) if v.version == version), None)
    except (LookupError, ValueError):
        found = None
    return found.display_name if found else f"{version}版"


def _events(db: Session, library: RuleSetLibrary, petition: Petition, user: User,
            effective) -> list[dict[str, Any]]:
    out = []
    for event in timeline(db, petition.id, user):  # each detail as the user may see it
        items = []
        for key, value in event["detail"].items():
            if key not in EVENT_FIELDS or value in (None, ""):
                continue
            if key == "outcome":
                value = OUTCOMES.get(value, value)
            elif key == "satisfaction":
                value = SATISFACTION.get(value, value)
            elif key == "step":
                value = _get(effective, f"escalation.steps.{value}").get("name", value)
            elif key == "flag":
                value = labels.label(labels.FLAGS, value)
            elif key == "ruleset_version" or (event["action"] == "migrate" and key in ("from", "to")):
                value = version_name(library, value)
            elif key == "to":
                value = labels.label(labels.TARGETS, value)
            elif key == "order" and isinstance(value, dict):  # a work order confirmed as a petition matter
                value = (f"{value.get('source_name', '')}工单 {value.get('order_id', '')}，来源收到日期"
                         f"{value.get('received_on', '')}，视同信访事项登记")
            items.append((EVENT_FIELDS[key], value))
        out.append({**event, "label": ACTIONS.get(event["action"], event["action"]), "items": items,
                    "stage_before_label": STAGES.get(event["stage_before"], event["stage_before"] or ""),
                    "stage_after_label": STAGES.get(event["stage_after"], event["stage_after"])})
    return out


def context(db: Session, library: RuleSetLibrary, petition: Petition, user: User, today: dt.date) -> dict[str, Any]:
    """Everything the case page shows, each part already limited to what `user` may see."""
    view = visible_case(petition, user, in_list=False)
    material = may_see_material(petition, user)
    effective = pinned(library, petition)
    fields = _get(effective, "intake.fields")
    form_items = [(fields.get(k, {}).get("label", k), v) for k, v in (view["case"].get("form") or {}).items()]
    deadlines = [{**d, "label": labels.label(labels.STEPS, d["step"]),
                  "basis": deadline_basis(effective, petition, d["step"]),
                  "countdown": countdown(d["due_on"], today, d.get("due_at")) if d["done_on"] is None else None,
                  "late": days_late(d["step"], d["due_on"], d["done_on"])}
                 for d in view["deadlines"]]
    escalations = db.scalars(select(CaseEscalation).where(CaseEscalation.petition_id == petition.id)
                             .order_by(CaseEscalation.due_on, CaseEscalation.step))
    actions = [{"action": a, "label": case_actions.action_label(a), "help": case_actions.ACTION_HELP.get(a, ""),
                "fields": case_actions.fields_of(a, effective, library) if effective else []}
               for a in case_actions.available(user, petition, library.tree, effective)]
    original = visible_original(petition, user)
    return {
        "petition": petition, "view": view, "material": material, "effective": effective, "today": today,
        "route_unit_name": unit_name(effective, petition.route_unit, library) if effective else petition.route_unit,
        "category_name": _get(effective, f"classification.categories.{petition.category}").get("name", ""),
        "track_name": _get(effective, f"tracks.{petition.track}").get("name", petition.track or ""),
        "petitioner": [(label, view["petitioner"][k]) for k, label in PETITIONER
                       if view["petitioner"] and view["petitioner"].get(k)],
        "form_items": form_items, "trace": _trace(view, effective), "deadlines": deadlines,
        "escalations": [{"row": e, "name": _get(effective, f"escalation.steps.{e.step}").get("name", e.step),
                         "basis": _get(effective, f"escalation.steps.{e.step}").get("basis", "")}
                        for e in escalations],
        "version": {"name": effective.chain[-1].display_name, "citation": effective.chain[-1].citation}
        if effective else None,
        "sources_shown": has_role(user, "policy_officer"),  # file:line, for who tunes the rule set
        "events": _events(db, library, petition, user, effective), "actions": actions,
        "notices": notices.available(petition) if material else [],
        "flags": [{"label": flag_label(f), "tone": flag_tone(f)} for f in shown_flags(view["flags"])],
        "original": original,
    }
