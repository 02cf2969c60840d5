"""Units by their real names: a unit's name is a template the case's jurisdiction fills in (`{jurisdiction}教育局`).

The national baseline names each department once for every jurisdiction (`{jurisdiction}生态环境局` is
沅江市生态环境局 in 沅江市); a level whose unit has a particular name writes it out (沂南县: 临沂市生态环境局
沂南县分局). `names` gives a level its own form (生态环境部 for the nation, 生态环境厅 for a province), and
`lowest` says a unit sits no lower than that level: a township's case goes to its county's unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .effective import EffectiveRuleSet
from .jurisdictions import LEVELS, UnknownJurisdiction, national_tree

PLACEHOLDER = "{jurisdiction}"


def places(effective: EffectiveRuleSet) -> dict[str, str]:
    """Level → the name of the case's jurisdiction or its ancestor at that level (沂南县, 临沂市, 山东省, 全国)."""
    found: dict[str, str] = {}
    for version in effective.chain:
        if version.name:
            found[version.level] = version.name
    try:
        for place in national_tree().ancestors(effective.jurisdiction.code):
            found[place.level] = place.name
    except UnknownJurisdiction:  # a zone a rule set declares: its chain names the levels above
        pass
    found[effective.jurisdiction.level] = effective.jurisdiction.name
    return found


def resolve_unit(spec: Mapping[str, Any], level: str, where: Mapping[str, str]) -> dict[str, Any]:
    """One unit of a case in a jurisdiction of `level` (`where`: level → place name): a copy with its real name,
    and the level it sits at when `lowest` lifts it above the case's own level."""
    unit = dict(spec)
    lowest = spec.get("lowest")
    if lowest in LEVELS and LEVELS.index(level) > LEVELS.index(lowest) and lowest in where:
        level = lowest
        if not spec.get("level"):
            unit["level"] = lowest
    template = str((spec.get("names") or {}).get(level) or spec.get("name") or "")
    unit["name"] = template.replace(PLACEHOLDER, where.get(level, ""))
    return unit


def named_units(effective: EffectiveRuleSet) -> dict[str, dict[str, Any]]:
    """Unit id → the unit as this jurisdiction's cases go to it, its name filled in (copies: change them freely)."""
    where = places(effective)
    level = effective.jurisdiction.level
    return {unit: resolve_unit(spec, level, where) for unit, spec in (effective.get("units") or {}).items()}


def unit_name(effective: EffectiveRuleSet, unit: str | None) -> str:
    """The real name of one unit of this jurisdiction (the id itself when the rule set does not define it)."""
    if not unit:
        return ""
    spec = (effective.get("units") or {}).get(unit)
    if spec is None:
        return unit
    return resolve_unit(spec, effective.jurisdiction.level, places(effective))["name"] or unit


def is_generic(spec: Mapping[str, Any] | None) -> bool:
    """A kind of body (有权处理的机关、单位, 仲裁机构), not a unit a case can be handed to."""
    return bool((spec or {}).get("generic"))
