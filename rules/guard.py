"""The accused-unit guard (N22 Art. 30, 46(5)): an accusation never goes to the unit it accuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xinfang.config import EffectiveRuleSet, UnknownJurisdiction, national_tree
from xinfang.config.jurisdictions import LEVELS
from xinfang.config.units import places, resolve_unit

# Words that name a discipline and supervision body, however a petitioner abbreviates it (县纪委监委, 纪检组).
DISCIPLINE_WORDS = ("纪律检查", "纪委", "监委", "纪检", "监察")
# A place written as a bare level word: 县纪委 is the county's, 市纪委监委 the city's.
LEVEL_WORDS = {"省": "province", "自治区": "province", "市": "city", "州": "city", "盟": "city", "县": "county",
               "区": "county", "旗": "county", "县级": "county", "乡": "township", "镇": "township",
               "街道": "township"}


def above(level: str) -> str:
    """The level one up (the nation has none above it: it stays national)."""
    return LEVELS[max(LEVELS.index(level) - 1, 0)]


def place_names(effective: EffectiveRuleSet) -> dict[str, tuple[str, ...]]:
    """Level → the names of the case's jurisdiction and its ancestors at that level (沂南县, 临沂市, 山东省)."""
    names: dict[str, set[str]] = {}
    try:
        ancestors = national_tree().ancestors(effective.jurisdiction.code)
    except UnknownJurisdiction:  # a zone a rule set declares: its chain still names the levels above
        ancestors = []
    for place in [*ancestors, effective.jurisdiction]:
        names.setdefault(place.level, set()).add(place.name)
    for version in effective.chain:
        if version.name:
            names.setdefault(version.level, set()).add(version.name)
    return {level: tuple(sorted(found)) for level, found in names.items()}


def guard_routes(effective: EffectiveRuleSet) -> dict[str, dict[str, str]]:
    """Accused level → the discipline body one level up, as the versions at that level or above name it.

    The unit is the accusation unit those levels define (locked to the national one); its name is the
    nearest such level's (Yinan's county commission accused → 临沂市纪委监委), else the national template filled in
    with the place at that level (中共沅江市纪律检查委员会… above a township of 沅江市).
    """
    routes = {}
    where = places(effective)
    for level in LEVELS:
        target = above(level)
        versions = [v for v in effective.chain if LEVELS.index(v.level) <= LEVELS.index(target)]
        unit = _last(versions, ("routing", "accusation", "unit")) or effective.get("routing.accusation.unit")
        spec = {key: _last(versions, ("units", unit, key)) for key in ("name", "names", "lowest")}
        if target not in where:  # below the case's own level, a place it cannot name: the case's own body
            spec, target_place = dict(effective.get(f"units.{unit}") or {}), effective.jurisdiction.level
        else:
            target_place = target
        name = resolve_unit(spec, target_place, where)["name"] or unit
        routes[level] = {"unit": unit, "name": name, "level": target}
    return routes


def _last(versions: list, path: tuple[str, ...]) -> Any:
    for version in reversed(versions):
        value: Any = version.data
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def names_accused(route: Mapping[str, str], unit_type: str | None, accused: str,
                  places: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether `accused` (as the petitioner wrote it) is the unit of `route`.

    Either the names agree (equal, or one contains the other, trimmed), or the route is a discipline
    body and the accused is a discipline body of the same place: 沂南县纪委监委, 县纪委, 纪委监委 (no place:
    the local one) are all the county commission of 沂南县. In doubt the guard holds: routing one level
    up is lawful, routing to the accused is not.
    """
    accused = accused.strip()
    if not accused:
        return False
    for name in (route.get("unit"), route.get("name")):
        name = (name or "").strip()
        if name and (accused in name or name in accused):
            return True
    if unit_type != "discipline":
        return False
    marks = [accused.find(word) for word in DISCIPLINE_WORDS if word in accused]
    if not marks:
        return False
    place = accused[:min(marks)].strip().removeprefix("中共").strip()
    level = route.get("level")
    if not place or LEVEL_WORDS.get(place) == level:
        return True
    return any(place in name or name in place for name in places.get(level, ()))
