"""The workflow's actions as forms on the case page: who may take them, their fields, and the payload they post."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinfang.config import EffectiveRuleSet, RuleSetLibrary, procedure
from xinfang.server.cases import permissions
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

    @property
    def label(self) -> str:
        return PAYLOAD_FIELDS.get(self.name, self.name)

    def required(self, action: str) -> bool:
        return self.name in procedure.action(action).required


def _choices(values: tuple[str, ...], table: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, table.get(v, v)) for v in values)


_OPINION = Field("opinion", "textarea", hint="写入处理意见书")
_ANSWERED = Field("answered_on", "date", hint="信访人收到书面意见之日，复查（复核）请求期限自次日起算；不填为办理日期")
_SATISFACTION = Field("satisfaction", "select", _choices(SATISFACTION, SATISFACTION_LABELS))
ACTION_HELP = {
    "accept": "出具受理告知书（《信访工作条例》第二十三条）",
    "refuse": "出具不予受理告知书，写明理由（《信访工作条例》第二十三条）",
    "transfer": "转送有权处理的机关、单位（《信访工作条例》第二十二条）",
    "extend": "经审批延长办理期限（《信访工作条例》第三十四条）",
    "conclude": "出具信访处理意见书（《信访工作条例》第三十二条）",
}


def fields_of(action: str, effective: EffectiveRuleSet, approvers: list[tuple[str, str]]) -> list[Field]:
    """The inputs of an action's form (besides the legal date and a note every action takes)."""
    units = tuple((k, v.get("name", k)) for k, v in (effective.get("units") or {}).items())
    return {
        "refuse": [Field("reason", "textarea", hint="不填则用规则集判定的不予受理理由")],
        "transfer": [Field("unit", "select", units)],
        "object": [Field("reason", "textarea")],
        "extend": [Field("days", "number"), Field("approver", "select", tuple(approvers)), Field("reason", "textarea")],
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


def available(user: User | None, petition: Petition) -> list[str]:
    """The actions the stage allows that this user may take."""
    return [a for a in allowed_actions(petition) if may_act(user, petition, a)]


def approvers_for(db: Session, library: RuleSetLibrary, code: str) -> list[tuple[str, str]]:
    """(username, name) of the active approvers with authority over jurisdiction `code` (it or a level above)."""
    return [(u.username, u.display_name) for u in permissions.approvers_for(db, library.tree, code)]


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
