"""A report as a document: a title, a few lines, and tables with Chinese headings, ready for XLSX and PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xinfang.config.assessment import INDICATORS

from .assessment import Assessment
from .figures import DUE_SOON_DAYS, Bulletin, Dispatch
from .periods import Period

__all__ = ["BELOW", "Document", "Table", "bulletin_document", "dispatch_document", "percent"]

BELOW = {"national": "各省（区、市）", "province": "各市", "city": "各县（市、区）", "county": "各乡镇（街道）",
         "township": "各村（社区）"}


@dataclass
class Table:
    heading: str
    columns: list[str]
    rows: list[list[Any]]
    widths: list[float] = field(default_factory=list)  # relative widths; equal when empty
    empty: str = "本期无。"


@dataclass
class Document:
    title: str
    subtitle: str
    lines: list[str]
    tables: list[Table]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _days_left(days: int | None) -> str:
    if days is None:
        return "—"
    return f"超期{-days}日" if days < 0 else ("今日到期" if days == 0 else f"{days}日")


def _head(name: str, jurisdiction, spec: dict[str, Any], period: Period,
          notes: list[str]) -> tuple[str, str, list[str]]:
    lines = [f"报送：{spec['audience']}"] if spec.get("audience") else []
    lines.append(f"统计截至{period.end.year}年{period.end.month}月{period.end.day}日（北京时间）。" + "".join(notes))
    return f"{jurisdiction.name}{name}", period.title, lines


def dispatch_document(jurisdiction, spec: dict[str, Any], period: Period, found: Dispatch) -> Document:
    """周调度: the units' open cases, each open case with its days left, the escalations fired in the period."""
    title, subtitle, lines = _head(spec["name"], jurisdiction, spec, period, [
        f"在办事项指期末仍有办理期限在运行的事项；临期指{DUE_SOON_DAYS}日内到期。"])
    total_open = sum(u["open"] for u in found.units)
    total_overdue = sum(u["overdue"] for u in found.units)
    lines.append(f"期末在办{total_open}件，其中超期{total_overdue}件；本期触发督办、预警{len(found.escalations)}项，"
                 f"其中督办函{sum(e['letter'] for e in found.escalations)}件。")
    units = Table("一、各承办单位在办情况", ["承办单位", "在办", "超期", "临期", "最近期限剩余", "本期督办预警", "其中督办函"],
                  [[u["name"], u["open"], u["overdue"], u["due_soon"], _days_left(u["fewest_days_left"]),
                    u["escalations"], u["letters"]] for u in found.units], [5, 1, 1, 1, 1.6, 1.4, 1.2])
    cases = Table("二、在办事项剩余天数（按到期先后）",
                  ["序号", "信访事项编号", "承办单位", "问题分类", "在办环节", "到期日", "剩余天数"],
                  [[i, c["number"], c["unit_name"], c["category"], c["step"], c["due_on"].isoformat(),
                    _days_left(c["days_left"])] for i, c in enumerate(found.cases, 1)],
                  [0.7, 2.6, 3.8, 1.8, 1.4, 1.5, 1.2])
    fired = Table("三、本期触发的督办、预警", ["信访事项编号", "承办单位", "督办、预警事项", "触发日期", "督办函"],
                  [[e["number"], e["unit_name"], e["step"], e["fired_on"].isoformat(), "是" if e["letter"] else "否"]
                   for e in found.escalations], [2.6, 3.4, 4, 1.5, 0.9])
    return Document(title, subtitle, lines, [units, cases, fired])


def _indicator_table(heading: str, label: str, rows: list[dict[str, Any]], ranks: dict[str, int]) -> Table:
    columns = ["排名", label, "件数（上期）"]
    for name in INDICATORS.values():
        columns += [name, "上期"]
    body = []
    for row in rows:
        before = row.get("before") or {}
        cells = [ranks.get(row["key"], "—"), row["name"] or "未列明单位", f"{row['cases']}（{before.get('cases', 0)}）"]
        for key in INDICATORS:
            cells += [percent(row["indicators"][key]["rate"]),
                      percent(((before.get("indicators") or {}).get(key) or {}).get("rate"))]
        body.append(cells)
    return Table(heading, columns, body, [0.7, 4, 1.3] + [1.1, 1.1] * len(INDICATORS))


def _score_table(heading: str, label: str, scored) -> Table:
    return Table(heading, ["排名", label, "得分", "扣分", "扣分原因"],
                 [[s.rank, s.name, s.points, round(100 - s.points, 2), s.reasons] for s in scored],
                 [0.7, 4, 1, 1, 9])


def bulletin_document(jurisdiction, spec: dict[str, Any], period: Period, found: Bulletin) -> Document:
    """月通报: the indicators by unit and by jurisdiction below with the period before beside them, ranked by 考评."""
    before = found.previous.title if found.previous else "上期"
    title, subtitle, lines = _head(spec["name"], jurisdiction, spec, period, [
        f"指标按本期登记的信访事项统计，“上期”为{before}。"])
    assessment: Assessment | None = found.assessment
    below = BELOW.get(jurisdiction.level, "各下级")
    unit_ranks = {s.key: s.rank for s in assessment.units} if assessment else {}
    child_ranks = {s.key: s.rank for s in assessment.jurisdictions} if assessment else {}
    tables = [_indicator_table("一、各承办单位主要指标", "承办单位", found.units, unit_ranks),
              _indicator_table(f"二、{below}主要指标", "行政区划", found.jurisdictions, child_ranks)]
    if assessment is None:
        lines.append("本级规则集未规定考评办法，不作考评排名。")
    else:
        lines.append(f"考评依据：{assessment.name}（满分100分，未达目标按差距比例扣分，超期事项、督办函按件扣分）。")
        tables += [_score_table(f"三、{assessment.name}：各承办单位得分排名", "承办单位", assessment.units),
                   _score_table(f"四、{assessment.name}：{below}得分排名", "行政区划", assessment.jurisdictions)]
    return Document(title, subtitle, lines, tables)
