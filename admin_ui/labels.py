"""Chinese labels for the English identifiers of rule sets (levels, steps, units of time, channels, actions)."""

from __future__ import annotations

from xinfang.config import procedure
from xinfang.server.reports import periods as report_periods

REPORT_KINDS = {"weekly_dispatch": "周调度", "monthly_bulletin": "月通报"}
CADENCES = report_periods.CADENCES
LEVELS = {"national": "全国", "province": "省级", "city": "市级", "county": "县级", "township": "乡级"}

STEPS = {s.name: s.label for s in procedure.STEPS} | {"extension": "延长办理"}
STEP_ARTICLES = {s.name: s.article for s in procedure.STEPS}

DAY_UNITS = {"calendar": "日", "working": "个工作日"}
DAY_UNIT_NAMES = {"calendar": "日历日", "working": "工作日"}

INTAKES = {"letter": "来信", "visit": "走访", "online": "网上信访", "phone": "来电", "fax": "传真", "hotline": "热线"}

KINDS = {"suggestion": "建议意见类", "accusation": "检举控告类", "appeal": "申诉求决类"}

CHANNELS = {
    "petition": "信访程序", "litigation": "诉讼程序", "arbitration": "仲裁", "party_appeal": "党员申诉",
    "administrative": "行政程序", "duty": "履行法定职责", "discipline": "纪检监察",
}

MEASURES = {m.name: m.label for m in procedure.MEASURES}  # escalation measures
TARGETS = procedure.TARGETS

FLAGS = {"yellow": "黄牌", "red": "红牌"}

ROLES = {"admin": "系统管理员", "policy_officer": "政策专员", "approver": "审批人", "clerk": "登记员",
         "supervisor": "督查员", "discipline": "纪检监察", "source_system": "工单接口"}

FIELD_TYPES = {"string": "文本", "text": "长文本", "integer": "整数", "number": "数值", "date": "日期",
               "boolean": "是/否", "choice": "选项"}


def label(table: dict[str, str], key) -> str:
    """The Chinese label of `key` in `table`, else the key itself (a rule set may add its own)."""
    return table.get(key, str(key)) if key is not None else ""


def beijing(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as staff read it: Beijing time (Asia/Shanghai), never UTC; an ISO string is read first."""
    import datetime as dt

    from xinfang.config import CHINA
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:  # stored instants are UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA).strftime(fmt)


def beijing_date(moment) -> str:
    return beijing(moment, "%Y-%m-%d")
