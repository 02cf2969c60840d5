"""考评: the indicators a scheme may weigh, its deductions, and the rules a level's scheme answers to.

A scheme (`assessment` in a rule set) is inherited like every section. What a level writes is checked
against what is in force above it: the weights in force sum to 100; a level may deduct more per overdue
case or 督办函 than the level above, never less; it may raise a target (lower it, for 重复信访率), never
loosen it.
"""

from __future__ import annotations

from .errors import ConfigIssue
from .inheritance import Merged, get_path, walk_leaves
from .versions import RuleSetVersion
from .yaml_source import dump_path

__all__ = ["DEDUCTIONS", "INDICATORS", "LOWER_IS_BETTER", "TOTAL_POINTS", "check_assessment"]

# The supervision indicators (server/cases/indicators.py HEADLINE) by their Chinese names.
INDICATORS = {
    "on_time_acceptance": "按期受理率",
    "on_time_conclusion": "按期办结率",
    "first_petition_resolution": "初信初访一次性化解率",
    "repeat_petitions": "重复信访率",
    "satisfaction": "群众满意率",
}
LOWER_IS_BETTER = frozenset({"repeat_petitions"})  # its target is a ceiling
DEDUCTIONS = {"overdue_case": "超期事项", "supervision_letter": "督办函"}
TOTAL_POINTS = 100


def check_assessment(version: RuleSetVersion, inherited: Merged, merged: Merged) -> list[ConfigIssue]:
    """What this version writes of `assessment`, against the scheme in force above it (see the module)."""
    written = dict(walk_leaves(version.data.get("assessment") or {}, ("assessment",)))
    if not written:
        return []
    issues = []
    if any(path[1] == "indicators" for path in written):
        issues += _weights(version, merged)
    for path, value in written.items():
        above = get_path(inherited.data, path)
        if not isinstance(above, (int, float)) or not isinstance(value, (int, float)):
            continue
        source = inherited.sources.get(path)
        where = f"{source.file}:{source.line} ({source.jurisdiction} {source.version})" if source else "the level above"
        if path[1] == "deductions" and path[-1] == "points" and value < above:
            what = DEDUCTIONS.get(path[2], path[2])
            issues.append(version.issue(path, (
                f"{dump_path(path)}: {value} is below the {above} points per {path[2]} in force above, set at {where}: "
                f"a level may deduct more, never less"), chinese=(
                f"每件{what}扣{_points(value)}分，低于上级规定的{_points(above)}分：下级只能多扣，不能少扣")))
        if path[1] == "indicators" and path[-1] == "target":
            ceiling = path[2] in LOWER_IS_BETTER
            if (value > above) if ceiling else (value < above):
                name = INDICATORS.get(path[2], path[2])
                word, zh = ("above", "高于") if ceiling else ("below", "低于")
                issues.append(version.issue(path, (
                    f"{dump_path(path)}: a target of {value}% is {word} the {above}% in force above, set at {where}: "
                    f"a level may set a stricter target, never a looser one"), chinese=(
                    f"{name}目标{_points(value)}%{zh}上级规定的{_points(above)}%：下级只能从严，不能放宽")))
    return issues


def _weights(version: RuleSetVersion, merged: Merged) -> list[ConfigIssue]:
    indicators = get_path(merged.data, ("assessment", "indicators"), {}) or {}
    weights = {name: spec.get("weight", 0) for name, spec in indicators.items()}
    total = sum(weights.values())
    if abs(total - TOTAL_POINTS) < 1e-9:
        return []
    parts = []
    for name, weight in weights.items():
        source = merged.sources.get(("assessment", "indicators", name, "weight"))
        parts.append(f"{name} {weight}" + (f" ({source.file}:{source.line})" if source else ""))
    shown = "、".join(f"{INDICATORS.get(name, name)}{_points(weight)}分" for name, weight in weights.items())
    return [version.issue(("assessment", "indicators"), (
        f"assessment.indicators: the weights in force sum to {_points(total)}, not {TOTAL_POINTS}: "
        + ", ".join(parts)), at_key=True, chinese=(
        f"考评指标的分值合计应为{TOTAL_POINTS}分，现为{_points(total)}分（{shown}）"))]


def _points(value: float) -> str:
    """20, 0.5: a number as a person writes it."""
    return f"{value:g}"
