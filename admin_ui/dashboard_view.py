"""The dashboard's pictures and tables from the indicators: rate tiles, bar and column charts, the children's rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from . import labels
from .charts import Bar, Column, bar_chart, column_chart, meter

__all__ = ["INDICATORS", "Tile", "charts_of", "children_rows", "percent", "tiles_of"]

# indicator → its name, what the numerator and denominator count, whether lower is better.
INDICATORS = {
    "on_time_acceptance": ("按期受理率", "按期受理或告知", "应受理", False),
    "on_time_conclusion": ("按期办结率", "按期办结", "应办结", False),
    "first_petition_resolution": ("初信初访一次性化解率", "办结后未申请复查", "已办结的初次信访", False),
    "repeat_petitions": ("重复信访率", "重复信访", "全部信访事项", True),
    "satisfaction": ("群众满意率", "满意和基本满意", "参与评价", False),
}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
TOP = 12  # rows a bar chart shows; the rest are summed into one (categories: 16, the national list's length)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class Tile:
    key: str
    name: str
    rate: str
    fraction: str
    gauge: Markup
    lower_is_better: bool
    note: str = ""


def tiles_of(found: dict[str, Any], detects_repeats: bool = True) -> list[Tile]:
    """The five rate tiles; `detects_repeats` False: the rule set in force marks no repeats (no intake.duplicates)."""
    tiles = []
    for key, (name, top, bottom, lower) in INDICATORS.items():
        value = found["indicators"][key]
        fraction = f"{top} {value['numerator']} / {bottom} {value['denominator']} 件"
        note = ""
        if key == "satisfaction":
            note = "、".join(f"{SATISFACTION[k]} {n}" for k, n in found["satisfaction_answers"].items())
        elif key == "repeat_petitions" and not detects_repeats:
            note = "本级施行的规则集未设智能判重，重复信访不作标记"
        tiles.append(Tile(key, name, percent(value["rate"]), fraction,
                          meter(value["rate"], label=name, tone="warn" if lower else "primary"), lower, note))
    return tiles


def _top(items: list[dict], label_of, top: int = TOP) -> list[tuple[str, int, int]]:
    """(label, count, denominator) of the largest items, the rest summed into “其他”."""
    rows = [(label_of(item), item["count"], item["denominator"]) for item in items if item["count"]]
    if len(rows) > top:
        rest = rows[top - 1:]
        rows = rows[:top - 1] + [(f"其他 {len(rest)} 项", sum(r[1] for r in rest), rest[0][2])]
    return rows


def _share_bars(rows: list[tuple[str, int, int]]) -> list[Bar]:
    return [Bar(label, n, f"{n} 件 · {percent(n / total if total else None)}") for label, n, total in rows]


def _unit_name(item: dict) -> str:
    return item.get("name") or item.get("unit") or "未指定单位"


def charts_of(found: dict[str, Any], counts: list[tuple], unit: str, columns: list[Column],
              period) -> dict[str, Markup]:
    """Every chart of the page, keyed by where it goes; each with a title and a description of all its values."""
    where = found["jurisdiction"]["name"]
    categories = _top(found["by_category"], lambda c: c.get("name") or c["category"], 16)
    units = _top(found["by_unit"], _unit_name)
    late = sorted((u for u in found["overdue_by_unit"] if u["denominator"]),
                  key=lambda u: (-u["numerator"], -(u["rate"] or 0), _unit_name(u)))[:TOP]
    intakes = Counter()
    for _, intake, n in counts:
        intakes[intake] += n
    total = sum(intakes.values())
    span = f"{period.start} 至 {period.end}"
    return {
        "intake_over_time": column_chart(columns, chart_id="chart-intake-time",
                                         title=f"{where}每{unit}登记的信访事项（{span}）"),
        "by_category": bar_chart(_share_bars(categories), chart_id="chart-category",
                                 title=f"{where}信访事项按内容分类（{span}）"),
        "by_unit": bar_chart(_share_bars(units), chart_id="chart-unit", title=f"{where}信访事项按承办单位（{span}）"),
        "overdue_by_unit": bar_chart(
            [Bar(_unit_name(u), u["numerator"], f"超期 {u['numerator']} / {u['denominator']} 件 · {percent(u['rate'])}")
             for u in late], chart_id="chart-overdue", title=f"{where}各单位超期事项（{span}）", tone="warn"),
        "by_intake": bar_chart(
            [Bar(labels.label(labels.INTAKES, k), n, f"{n} 件 · {percent(n / total if total else None)}")
             for k, n in intakes.most_common()], chart_id="chart-intake", title=f"{where}信访事项按信访形式（{span}）"),
    }


def children_rows(children: list[dict]) -> tuple[list[dict], int]:
    """The jurisdictions directly below with cases in the period, most cases first; and how many had none."""
    rows = sorted((c for c in children if c["cases"]), key=lambda c: (-c["cases"], c["jurisdiction"]["code"]))
    return rows, len(children) - len(rows)
