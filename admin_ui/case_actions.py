"""The workflow's actions as forms on the case page: who may take them, their fields, and the payload they post."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xinfang.config import EffectiveRuleSet, JurisdictionTree, RuleSetLibrary, procedure
from xinfang.config.units import destinations
from xinfang.server.cases.permissions import may_act
from xinfang.server.cases.workflow import OPINION_OUTCOMES, OUTCOMES, SATISFACTION, allowed_actions
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import User

from .case_errors import PAYLOAD_FIELDS
from .case_labels import ACTIONS
from .case_labels import OUTCOMES as OUTCOME_LABELS
from .case_labels import SATISFACTION as SATISFACTION_LABELS


@dataclass(frozen=True)
class Field:
    """One input of an action's form."""

    name: str
    widget: str  # text, textarea, number, date, select
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    named: str = ""  # the action's own word for the field (交办's unit is the 承办单位), else the payload's

    @property
    def label(self) -> str:
        return self.named or PAYLOAD_FIELDS.get(self.name, self.name)

    def required(self, action: str) -> bool:
        return self.name in procedure.action(action).required


def _choices(values: tuple[str, ...], table: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, table.get(v, v)) for v in values)


_OPINION = Field("opinion", "textarea", hint="写入处理意见书")
_ANSWERED = Field("answered_on", "date", hint="信访人收到书面意见之日，复查（复核）请求期限自次日起算；不填为办理日期")
_SATISFACTION = Field("satisfaction", "select", _choices(SATISFACTION, SATISFACTION_LABELS))
# What each action does, in the regulation's words (its article is the procedure table's).
_DOES = {
    "transfer": "转送有权处理的机关、单位，并告知信访人", "assign": "交办承办单位，承办单位按期反馈办理情况",
    "separate": "涉法涉诉事项交政法机关依法处理，退出信访程序", "object": "承办单位认为不属本单位办理的，提出异议退回",
    "accept": "出具受理告知书", "refuse": "出具不予受理告知书，写明理由", "report": "向交办机关反馈办理情况",
    "supervise": "发督办函，督促承办单位依法办理", "answer_supervision": "书面反馈督办事项的办理情况",
    "request_extension": "说明理由，申请延长办理期限", "approve_extension": "由申请人以外的审批人批准延期",
    "deny_extension": "不予批准延期，按原期限办结", "conclude": "出具信访处理意见书",
    "extend_review": "情况复杂的，经复查机关负责人批准，在规定的天数内延长复查期限",
}
ACTION_HELP = {a.name: f"{_DOES[a.name]}（{a.article}）" for a in procedure.ACTIONS if a.name in _DOES}


def fields_of(action: str, effective: EffectiveRuleSet, library: RuleSetLibrary | None = None) -> list[Field]:
    """The inputs of an action's form (besides the legal date and a note every action takes); 转送、交办 offer the
    real units of the case's jurisdiction and of those directly below it (config.units.destinations)."""
    units = tuple((d.key, d.name) for d in destinations(effective, library)) if action in ("transfer", "assign") else ()
    return {
        "transfer": [Field("unit", "select", units)],
        "assign": [Field("unit", "select", units, named="承办单位")],
        "separate": [Field("reason", "textarea", hint="告知信访人依法向人民法院、人民检察院或者公安机关提出")],
        "refuse": [Field("reason", "textarea", hint="不填则用规则集判定的不予受理理由")],
        "object": [Field("reason", "textarea")],
        "report": [Field("progress", "textarea")],
        "supervise": [Field("reason", "textarea", hint="写入督办函")],
        "answer_supervision": [Field("answer", "textarea")],
        "request_extension": [Field("days", "number"), Field("reason", "textarea")],
        "extend_review": [Field("days", "number"), Field("reason", "textarea")],
        "deny_extension": [Field("reason", "textarea")],
        "conclude": [Field("outcome", "select", _choices(OUTCOMES, OUTCOME_LABELS)), _OPINION, _ANSWERED,
                     _SATISFACTION],
        "request_review": [Field("body", "textarea")],
        "review_opinion": [Field("outcome", "select", _choices(OPINION_OUTCOMES, OUTCOME_LABELS)), _OPINION,
                           _ANSWERED],
        "request_rereview": [Field("body", "textarea")],
        "rereview_opinion": [Field("outcome", "select", _choices(OPINION_OUTCOMES, OUTCOME_LABELS)), _OPINION],
        "close": [_SATISFACTION],
        "migrate": [Field("reason", "textarea")],
    }.get(action, [])


def available(user: User | None, petition: Petition, tree: JurisdictionTree,
              effective: EffectiveRuleSet | None) -> list[str]:
    """The actions the stage allows that this user may take (server.cases.permissions decides, as on posting)."""
    units = (effective.get("units") or {}) if effective is not None else {}
    return [a for a in allowed_actions(petition) if may_act(user, petition, a, tree, units)]


def payload_from(action: str, form: Mapping[str, str]) -> tuple[dict[str, Any], dt.date | None, list[str]]:
    """The action's payload, its legal date (None: today) and the problems found before asking the workflow."""
    problems: list[str] = []
    required, optional = procedure.action(action).required, procedure.action(action).optional
    payload: dict[str, Any] = {}
    for name in (*required, *optional, "note"):
        value = (form.get(name) or "").strip()
        if value:
            payload[name] = value
    if "days" in payload:
        if payload["days"].isdigit() and int(payload["days"]) >= 1:
            payload["days"] = int(payload["days"])
        else:
            problems.append("延长天数应为不小于1的整数")
    on = None
    raw = (form.get("on") or "").strip()
    if raw:
        try:
            on = dt.date.fromisoformat(raw)
        except ValueError:
            problems.append("办理日期应为日期（年-月-日）")
    return payload, on, problems


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
