"""The case service's refusals told to clerks in Chinese: from each refusal's code and details, never its English."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xinfang.server.cases.errors import CaseServiceError, Problem

from . import labels
from .case_labels import ACTIONS, STAGES, chinese_date

PAYLOAD_FIELDS = {
    "reason": "理由", "unit": "转送单位", "unit_name": "单位名称", "days": "延长天数", "approver": "审批人",
    "requester": "申请人", "outcome": "办理结果", "answered_on": "送达日期", "opinion": "处理意见",
    "satisfaction": "满意度评价", "body": "请求内容", "to": "规则集版本", "note": "备注", "on": "办理日期",
    "payload": "填写的内容", "progress": "办理情况", "answer": "督办反馈",
}

# Problem code → how a field's problem reads (the field's Chinese name is put first).
_PROBLEMS: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "missing": lambda name, v: f"{name}为必填项",
    "unknown": lambda name, v: f"{name}不是本操作可填写的项目",
    "not_a_date": lambda name, v: f"{name}应为日期（年-月-日）",
    "before_action": lambda name, v: f"{name}不能早于办理日期",
    "not_one_of": lambda name, v: f"{name}不是可选的值",
    "not_whole_number": lambda name, v: f"{name}应为不小于1的整数",
    "not_an_object": lambda name, v: "提交的内容格式有误",
    "not_a_version": lambda name, v: f"{name}格式有误",
    "not_a_unit": lambda name, v: f"{name}不是本辖区可以转送、交办的单位",
    "in_the_future": lambda name, v: f"{name} {v.get('on')} 晚于今天（{v.get('today')}）",
    "before_last_event": lambda name, v: f"{name} {v.get('on')} 早于案卷中最后一项记录的日期 {v.get('last')}",
}


def problem_text(problem: Problem) -> str:
    """One field's problem in Chinese; a rule set's form problem is already in the rule set's words."""
    if problem.code == "form":
        return problem.message
    name = PAYLOAD_FIELDS.get(problem.field, problem.field)
    say = _PROBLEMS.get(problem.code)
    return say(name, problem.values) if say else f"{name}填写有误"


def _deadline_passed(err: CaseServiceError, what: str) -> str:
    d = err.first
    text = (f"{what}已超过期限：{labels.label(labels.STEPS, d.get('step'))}期限已于"
            f"{chinese_date(d['deadline'])}届满" if d.get("deadline") else f"{what}已超过期限")
    if d.get("basis"):
        text += f"（{d['basis']}）"
    refusal = d.get("refusal")
    if refusal:
        text += f"。{refusal.get('reason', '')}（{refusal.get('basis', '')}）"
    return text


def _not_allowed(err: CaseServiceError, what: str) -> str:
    d = err.first
    allowed = "、".join(ACTIONS.get(a, a) for a in d.get("allowed", [])) or "无（已结案）"
    return f"当前阶段为“{STAGES.get(d.get('stage'), d.get('stage'))}”，不能{what}；现在可以：{allowed}"


def _extension(err: CaseServiceError, what: str) -> str:
    d = err.first
    if not d.get("bound"):
        return "所适用的规则集不允许延长办理期限"
    basis = f"（{d['basis']}）" if d.get("basis") else ""
    return f"延长{d.get('days')}日超过上限：最多延长{d.get('bound')}日{basis}"


def _approver(err: CaseServiceError, what: str) -> str:
    if err.first.get("reason") == "out_of_scope":
        return "所选审批人对本案所在的行政区划没有审批权"
    return "所选审批人不是在职的审批人"


def _daily_limit(err: CaseServiceError, what: str) -> str:
    d = err.first
    basis = f"（{d['basis']}）" if d.get("basis") else ""
    return (f"该信访人{chinese_date(d['on'])}已通过网上信访提出{d.get('count')}件，每人每日最多{d.get('limit')}件，"
            f"本件不予登记{basis}")


_WHOSE = {"office": "信访工作机构", "unit": "承办单位", "holder": "当前承办的机关、单位",
          "approver": "申请人以外的审批人", "above": "上一级机关"}


def _not_yours(err: CaseServiceError, what: str) -> str:
    return f"{what}应由{_WHOSE.get(err.first.get('acts_as'), '有权的机关、单位')}办理"


_MESSAGES: dict[str, Callable[[CaseServiceError, str], str]] = {
    "deadline_passed": _deadline_passed,
    "action_not_allowed": _not_allowed,
    "extension_above_bound": _extension,
    "invalid_approver": _approver,
    "online_daily_limit": _daily_limit,
    "self_approval": lambda e, w: "延期须由申请人以外的审批人批准，申请人不能审批自己的延期申请（《信访工作条例》第三十四条）",
    "accused_unit": lambda e, w: "检举控告事项不得转送被检举控告的单位（《信访工作条例》第三十条、第四十六条第五项），请选择其他单位",
    "precondition_failed": lambda e, w: "案卷在您打开之后已被他人更新，本次操作未执行：请查看最新案卷后重新操作",
    "nothing_to_migrate": lambda e, w: "本案已适用施行中的规则集版本，无须改用",
    "pinned_version_missing": lambda e, w: "本案适用的规则集版本已不在库中：请重新载入该版本，或改用新版",
    "invalid_ruleset_version": lambda e, w: "所选规则集版本不属于本案所在的行政区划或其上级",
    "not_yours": _not_yours,
    "litigation_separated": lambda e, w: "涉法涉诉事项应诉访分离，交政法机关依法处理，不予受理为信访事项"
                                         "（《信访工作条例》第二十二条第二款、第二十八条第二款）",
    "conflict_of_interest": lambda e, w: "本案检举控告您所在的单位，您不能办理（《信访工作条例》第四十六条第五项）",
    "out_of_scope": lambda e, w: "本案不属于您管辖的行政区划：您只能办理本级和下级的信访事项",
    "forbidden": lambda e, w: f"您没有{w}的权限",
    "unknown_action": lambda e, w: "没有这项操作",
    "case_not_found": lambda e, w: "没有这件信访事项",
    "unknown_jurisdiction": lambda e, w: "没有这个行政区划",
    "no_ruleset_in_force": lambda e, w: "所选日期没有施行的规则集",
    "idempotency_key_reused": lambda e, w: "该登记请求已提交过，内容不同：请重新填写后提交",
    "busy": lambda e, w: "系统正忙，本次操作未执行：请稍后再试",
    "order_not_found": lambda e, w: "没有这张工单",
    "order_decided": lambda e, w: "这张工单已" + ("登记为信访事项" if e.first.get("status") == "registered" else "关闭")
                                  + "，不能再次办理",
}


def _already_submitted(err: CaseServiceError, what: str) -> str:
    d = err.first
    return (f"您已于{chinese_date(d['received_on'])}提出过同一事项（信访事项编号 {d.get('number')}），本件不予重复登记："
            "请凭该件的编号和查询码查询办理情况（《信访工作条例》第十九条）")


def _not_offered_online(err: CaseServiceError, what: str) -> str:
    return "该类事项不在网上受理的范围内，请来信或来访反映"


# The refusals only a petitioner online meets (server/cases/online.py, public.py), in its words.
_MESSAGES.update({
    "already_submitted": _already_submitted,
    "online_intake_closed": lambda e, w: "本地暂未开通网上信访，请来信或来访反映",
    "online_only": lambda e, w: "网上提交的信访事项只能以网上信访形式登记",
    "category_not_online": _not_offered_online,
    "not_answered": lambda e, w: "该信访事项尚未办结答复，办结后才能评价",
    "petition_not_found": lambda e, w: "没有查到：信访事项编号或查询码不正确",
    "anonymous_not_allowed": lambda e, w: "本地不受理匿名检举控告，请填写真实身份信息",
    "anonymous_not_accusation": lambda e, w: "只有检举控告事项可以匿名提交；其他信访事项须实名，请取消匿名并填写身份信息",
    "anonymous_with_identity": lambda e, w: "匿名检举控告不填写身份信息",
})


def public_refusal(err: CaseServiceError, action: str = "register") -> str:
    """A refusal as the petitioner reads it: no stage names of the office's workflow, only what it may do."""
    if err.code == "action_not_allowed":
        return {"rate": "该信访事项现在不能评价：每件办结答复后评价一次",
                "request_review": "该信访事项现在不能申请复查"}.get(action, "现在不能办理这项操作")
    return refusal_text(err, action)


def refusal_text(err: CaseServiceError, action: str) -> str:
    """One Chinese sentence for a refused request (its field problems joined, when it has them)."""
    what = ACTIONS.get(action, action)
    if err.problems:
        return "；".join(problem_text(p) for p in err.problems)
    say = _MESSAGES.get(err.code)
    return say(err, what) if say else f"{what}未完成"


def registration_error(form, err: CaseServiceError) -> None:
    """Put a refused registration's problems on the form: beside a field when they name one, else above it."""
    names = {f["path"]: f["label"] for f in form.definition["fields"]}
    if not err.problems:
        form.general.append(refusal_text(err, "register"))
        return
    for problem in err.problems:
        if problem.code == "form" and problem.field in names:
            form.problems.setdefault(problem.field, problem.message)
        elif problem.code == "form":
            form.general.append(f"未能登记：{problem.message}")
        elif problem.field in names:  # what the engine found in the case, beside the field on the form
            form.problems.setdefault(problem.field, f"{names[problem.field]}填写有误")
        else:
            form.general.append(f"未能登记：{PAYLOAD_FIELDS.get(problem.field, '登记内容')}填写有误")
