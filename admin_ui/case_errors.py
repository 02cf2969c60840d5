"""The workflow's refusals (ApiError, in English for the API) told to clerks in Chinese, naming deadlines and bases."""

from __future__ import annotations

import re

from xinfang.server.web.errors import ApiError

from . import labels
from .case_labels import ACTIONS, STAGES

PAYLOAD_FIELDS = {
    "reason": "理由", "unit": "转送单位", "unit_name": "单位名称", "days": "延长天数", "approver": "审批人",
    "requester": "申请人", "outcome": "办理结果", "answered_on": "送达日期", "opinion": "处理意见",
    "satisfaction": "满意度评价", "body": "请求内容", "to": "规则集版本", "note": "备注", "on": "办理日期",
}
_FIELD = re.compile(r"^([a-z_]+): ")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _field_problem(text: str) -> str:
    """`days: required field is missing` → 延长天数为必填项; anything else keeps its words after the field's name."""
    m = _FIELD.match(text)
    name = PAYLOAD_FIELDS.get(m.group(1), m.group(1)) if m else ""
    rest = text[m.end():] if m else text
    if "required field is missing" in rest:
        return f"{name}为必填项"
    if "not a date" in rest:
        return f"{name}应为日期（年-月-日）"
    if "is before the action's date" in rest:
        return f"{name}不能早于办理日期"
    if "is not one of" in rest:
        return f"{name}不是可选的值"
    if "not a whole number" in rest:
        return f"{name}应为不小于1的整数"
    return f"{name}：{rest}" if name else rest


def action_error(err: ApiError, action: str) -> str:
    """One Chinese sentence for a refused action."""
    what = ACTIONS.get(action, action)
    details = err.details or []
    first = details[0] if details and isinstance(details[0], dict) else {}
    if err.code == "deadline_passed":
        step = labels.label(labels.STEPS, first.get("step"))
        extra = err.message.split("; ", 1)[1] if "; " in err.message else ""
        return (f"{what}已超过期限：{step}期限已于 {first.get('deadline')} 届满（{first.get('source')}）"
                + (f"。{extra}" if extra else ""))
    if err.code == "action_not_allowed":
        allowed = "、".join(ACTIONS.get(a, a) for a in first.get("allowed", [])) or "无（已结案）"
        return f"当前阶段为“{STAGES.get(first.get('stage'), first.get('stage'))}”，不能{what}；现在可以：{allowed}"
    if err.code == "self_approval":
        return "延期须由申请人以外的审批人批准，申请人不能批准自己的延期（《信访工作条例》第三十四条）"
    if err.code == "extension_above_bound":
        if first:
            return f"延长{first.get('days')}日超过上限：最多延长{first.get('bound')}日（{first.get('source')}）"
        return "所适用的规则集不允许延长办理期限"
    if err.code == "accused_unit":
        return "检举控告事项不得转送被检举控告的单位（《信访工作条例》第三十条、第四十六条第五项），请选择其他单位"
    if err.code == "invalid_date":
        return "；".join(_date_problem(d) for d in details) or "办理日期有误"
    if err.code == "invalid_payload":
        problems = [d for d in details if isinstance(d, str)] or [err.message.split(": ", 1)[-1]
                                                                  if err.message.startswith(f"{action}: ")
                                                                  else err.message]
        return "；".join(_field_problem(p) for p in problems)
    if err.code == "invalid_approver":
        return "所选审批人不是对本案有审批权的在职审批人"
    if err.code == "precondition_failed":
        return "案卷在您打开之后已被他人更新，本次操作未执行：请查看最新案卷后重新操作"
    if err.code == "nothing_to_migrate":
        return "本案已适用施行中的规则集版本，无须改用"
    if err.code == "pinned_version_missing":
        return "本案适用的规则集版本已不在库中：请重新载入该版本，或改用新版"
    if err.code == "invalid_case":
        return "案件数据有误：" + "；".join(str(d) for d in details)
    return f"{what}未完成：{err.message}"


def _date_problem(text: str) -> str:
    m = re.search(r"on: (\S+) is in the future \(today is (\S+)", str(text))
    if m:
        return f"办理日期 {m.group(1)} 晚于今天（{m.group(2)}）"
    m = re.search(r"on: (\S+) is before the file's last event on (\S+)", str(text))
    if m:
        return f"办理日期 {m.group(1)} 早于案卷中最后一项记录的日期 {m.group(2)}"
    return str(text)


def registration_error(form, err: ApiError) -> None:
    """Put a refused registration's problems on the form: beside a field when they name one, else above it."""
    if err.code == "online_daily_limit":
        first = (err.details or [{}])[0]
        form.general.append(f"该信访人 {first.get('on')} 已通过网上信访提出{first.get('count')}件，"
                            f"每人每日最多{first.get('limit')}件，本件不予登记")
        return
    if err.code != "invalid_case":
        form.general.append(f"未能登记：{err.message}")
        return
    paths = {f["path"] for f in form.definition["fields"]}
    for detail in err.details or [err.message]:
        path, _, message = str(detail).partition(": ")
        if path in paths and _CJK.search(message):
            form.problems.setdefault(path, message)
        else:
            form.general.append(f"未能登记：{detail}")
