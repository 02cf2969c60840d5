"""Chinese labels of the case workflow: stages, actions, outcomes, flags, fired rules, countdowns."""

from __future__ import annotations

import datetime as dt

from xinfang.config import CHINA, procedure

STAGES = {s.name: s.label for s in procedure.STAGES}
# The events of a file: registration, each workflow action, a sweep's escalation.
ACTIONS = {"register": "登记"} | {a.name: a.label for a in procedure.ACTIONS} | {"escalation": "升级"}

OUTCOMES = {"support": "予以支持", "explain": "解释说明", "not_support": "不予支持", "mediated": "调解和解"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

# The flags a case carries (the engine's, registration's, the sweeps'); `flag:red` is the colour card.
FLAGS = {
    "flag:red": "红牌", "flag:yellow": "黄牌", "duplicate": "重复信访", "group_visit": "集体访",
    "litigation_separated": "诉访分离", "accusation_confidential": "检举控告保密", "accused_guard": "回避被检举单位", "anonymous": "匿名检举",
    "provisional": "含暂定期限", "objection": "有异议", "migrated": "已改用新版", "not_admissible": "不符合受理条件",
    "supervise": "督办", "leader_assigned": "领导包案", "letter": "督办函", "assigned": "交办件", "supervised": "督办中",
}
# Flags that only steer the workflow or the sweeps (which escalation fired, the mediation tier, an extension
# the rule set still allows): never shown as a mark on the case.
HIDDEN_FLAGS = ("escalation:", "tier:", procedure.EXTENDABLE)

TRACKS_FALLBACK = {"normal": "正常办"}

# Fired rules (the decision's trace): a rule id's prefix → what it decided.
RULE_KINDS = {
    "classify": "分类", "route": "去向", "track": "办理方式", "admissibility": "受理审查", "escalation": "升级",
    "limit": "时限", "tier": "层级", "mediation": "调解",
}
RULES = {
    "classify:given": "登记时选定的分类", "classify:keywords": "按关键词推荐的分类",
    "classify:default": "未匹配关键词，归入默认分类", "route:category": "按分类确定承办单位",
    "route:litigation": "涉法涉诉：交政法机关", "route:accusation": "检举控告：交纪检监察机关",
    "route:guard": "不得交被检举控告单位：改交上一级", "route:default": "属地管理、谁主管谁负责",
}

PROVISIONAL_NOTE = "暂定：该年度的节假日安排尚未公布，仅按周末计算，公布后重新计算"


def flag_label(flag: str) -> str:
    """A flag in Chinese; the sweeps' `overdue:<step>` and `warning:<step>` name their step."""
    from .labels import STEPS
    if flag in FLAGS:
        return FLAGS[flag]
    kind, _, step = flag.partition(":")
    if kind == "overdue" and step:
        return f"{STEPS.get(step, step)}超期"
    if kind == "warning" and step:
        return f"{STEPS.get(step, step)}预警"
    if kind == "escalated":
        return "已提交上级"
    return flag


def shown_flags(flags) -> list[str]:
    return [f for f in flags if not f.startswith(HIDDEN_FLAGS)]


def flag_tone(flag: str) -> str:
    """The colour a flag is shown in: red, yellow, or plain."""
    if flag == "flag:red" or flag.startswith("overdue:"):
        return "red"
    if flag == "flag:yellow" or flag.startswith("warning:"):
        return "yellow"
    return "plain"


def rule_label(rule: str) -> str:
    """What a fired rule decided, in Chinese: `track:urgent` → 办理方式 (the page adds the track's name)."""
    if rule in RULES:
        return RULES[rule]
    return RULE_KINDS.get(rule.partition(":")[0], rule)


def days_late(step: str, due: dt.date | str | None, done: dt.date | str | None) -> int:
    """How many days after its deadline a duty was done (0: in time, or a window, where nobody is late)."""
    if due is None or done is None or procedure.step(step).kind != "duty":
        return 0
    due, done = (dt.date.fromisoformat(v) if isinstance(v, str) else v for v in (due, done))
    return max((done - due).days, 0)


def countdown(due: dt.date | str | None, today: dt.date, due_at: dt.datetime | str | None = None) -> dict | None:
    """剩余N天 / 今日到期 / 超期N天, and the tone: red when overdue, yellow within 3 days, green otherwise.

    A deadline at a moment (流转不过夜: by 09:00) on `today`, the real today: 今日09:00前到期 until then, 已超期
    after it, so a case is red from 09:01 and not only the next day.
    """
    if due is None:
        return None
    if isinstance(due, str):
        due = dt.date.fromisoformat(due)
    days = (due - today).days
    if days < 0:
        return {"text": f"超期{-days}天", "tone": "red", "days": days}
    if days == 0:
        moment = _beijing(due_at)
        if moment is not None and today == dt.datetime.now(CHINA).date():
            if dt.datetime.now(CHINA) > moment:
                return {"text": f"已超期（应于{moment:%H:%M}前）", "tone": "red", "days": 0}
            return {"text": f"今日{moment:%H:%M}前到期", "tone": "yellow", "days": 0}
        return {"text": "今日到期", "tone": "yellow", "days": 0}
    return {"text": f"剩余{days}天", "tone": "yellow" if days <= 3 else "green", "days": days}


def moment_of(today: dt.date) -> dt.datetime | None:
    """Now, when `today` is the real today in Beijing: deadlines at a moment are compared with it; else None."""
    now = dt.datetime.now(CHINA)
    return now if now.date() == today else None


def due_moment(due_at: dt.datetime | str | None, suffix: str = "前") -> str:
    """A deadline at a moment as staff read it, in Beijing time: 12月9日 09:00 前 (empty for none)."""
    moment = _beijing(due_at)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M} {suffix}" if moment is not None else ""


def _beijing(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(CHINA)


def chinese_date(day: dt.date | str) -> str:
    """2024-06-03 → 2024年6月3日 (as written notices date things)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.year}年{day.month}月{day.day}日"
