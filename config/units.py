"""Units by their real names: a unit's name is a template the case's jurisdiction fills in (`{jurisdiction}教育局`).

The national baseline names each department once for every jurisdiction (`{jurisdiction}生态环境局` is
沅江市生态环境局 in 沅江市); a level whose unit has a particular name writes it out (沂南县: 临沂市生态环境局
沂南县分局). `names` gives a level its own form (生态环境部 for the nation, 生态环境厅 for a province), and
`lowest` says a unit sits no lower than that level: a township's case goes to its county's unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .effective import EffectiveRuleSet
from .errors import ConfigIssue, Position
from .inheritance import get_path
from .jurisdictions import LEVELS, UnknownJurisdiction, national_tree

if TYPE_CHECKING:
    from .library import RuleSetLibrary

PLACEHOLDER = "{jurisdiction}"
# A city-level entry of the national tree that is no city (config.jurisdictions.Jurisdiction, on `name`).
_NO_CITY = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def places(effective: EffectiveRuleSet) -> dict[str, str]:
    """Level → the name of the case's jurisdiction or its ancestor at that level (沂南县, 临沂市, 山东省, 全国)."""
    found: dict[str, str] = {}
    for version in effective.chain:
        if version.name:
            found[version.level] = version.name
    try:
        for place in national_tree().ancestors(effective.jurisdiction.code):
            found[place.level] = place.name
        if "province" in found and found.get("city") in {found["province"] + word for word in _NO_CITY}:
            found["city"] = found["province"]  # 北京市市辖区, 湖北省省直辖县级行政区划: the province stands in
    except UnknownJurisdiction:  # a zone a rule set declares: its chain names the levels above
        pass
    found[effective.jurisdiction.level] = effective.jurisdiction.name
    return found


def resolve_unit(spec: Mapping[str, Any], level: str, where: Mapping[str, str]) -> dict[str, Any]:
    """One unit of a case in a jurisdiction of `level` (`where`: level → place name): a copy with its real name,
    and the level it sits at when `lowest` lifts it above the case's own level.

    `names` gives the template's form at a level (生态环境厅); a name written out without the placeholder is kept.
    The unit sits at its own `level` when that is absolute (沂南县's units: county, for its townships' cases
    too), one up for `above`, else at the case's level; `lowest` lifts it no lower than that level.
    """
    unit = dict(spec)
    sits = sits_at(spec, level, where)
    if sits != _written_level(spec.get("level"), level):
        unit["level"] = sits
    template = str(spec.get("name") or "")
    if PLACEHOLDER in template or not template:  # a name written out (草尾镇综治中心) is that unit's at every level
        template = str((spec.get("names") or {}).get(sits) or template)
    unit["name"] = template.replace(PLACEHOLDER, where.get(sits, ""))
    return unit


def sits_at(spec: Mapping[str, Any], level: str, where: Mapping[str, str]) -> str:
    """The level a unit of a case at `level` sits at: its own absolute `level`, or the case's, lifted to `lowest`."""
    sits = _written_level(spec.get("level"), level)
    lowest = spec.get("lowest")
    if lowest in LEVELS and LEVELS.index(sits) > LEVELS.index(lowest) and lowest in where:
        return lowest
    return sits


def _written_level(written: str | None, level: str) -> str:
    if written in LEVELS:
        return written
    if written == "above":
        return LEVELS[max(LEVELS.index(level) - 1, 0)]
    return level


def named_units(effective: EffectiveRuleSet) -> dict[str, dict[str, Any]]:
    """Unit id → the unit as this jurisdiction's cases go to it, its name filled in (copies: change them freely)."""
    where = places(effective)
    level = effective.jurisdiction.level
    return {unit: resolve_unit(spec, level, where) for unit, spec in (effective.get("units") or {}).items()}


def unit_name(effective: EffectiveRuleSet, unit: str | None, library: RuleSetLibrary | None = None) -> str:
    """The real name of one unit of this jurisdiction, or of one below (`<code>:<id>`, read with `library`);
    the id itself when no rule set defines it."""
    if not unit:
        return ""
    code, _, below = unit.rpartition(":")
    if code and library is not None:
        try:
            effective, unit = library.effective(code, effective.at), below
        except (LookupError, ValueError):
            return unit
    spec = (effective.get("units") or {}).get(unit)
    if spec is None:
        return unit
    return resolve_unit(spec, effective.jurisdiction.level, places(effective))["name"] or unit


def unit_names(library: RuleSetLibrary, codes, at) -> dict[str, str]:
    """Unit id → real name over `codes`' rule sets in force on `at`, the first code's first; each unit also by
    `<code>:<id>`, as a case routed to a unit below names it. What a table of units (月通报, 考评) labels rows with."""
    names: dict[str, str] = {}
    for i, code in enumerate(codes):
        try:
            effective = library.effective(code, at)
        except (LookupError, ValueError):  # no rule set in force there, or no such jurisdiction
            continue
        for unit, spec in named_units(effective).items():
            name = spec.get("name") or unit
            names.setdefault(unit, name)
            if i:
                names.setdefault(f"{code}:{unit}", name)
    return names


def is_generic(spec: Mapping[str, Any] | None) -> bool:
    """A kind of body (有权处理的机关、单位, 仲裁机构), not a unit a case can be handed to."""
    return bool((spec or {}).get("generic"))


# Bodies of another procedure (Art. 31(1)-(4)): the petitioner is told to go to them; no case is handed to them.
_TOLD_WHERE = ("arbitration", "party", "administrative")


def _handed_cases(spec: Mapping[str, Any]) -> bool:
    return not is_generic(spec) and spec.get("type") not in _TOLD_WHERE


@dataclass(frozen=True)
class Destination:
    """A unit a case is transferred or assigned to (转送、交办, Art. 22): of the case's jurisdiction or one below."""

    key: str  # the unit's id in the case's jurisdiction; "<code>:<id>" for a unit of a jurisdiction below
    name: str
    jurisdiction: str  # the code of the jurisdiction whose rule set defines it


def destinations(effective: EffectiveRuleSet, library: RuleSetLibrary | None = None) -> list[Destination]:
    """The real units a case of this jurisdiction goes to: its own units, then those sitting in each jurisdiction
    directly below (界湖街道党政综合办公室 under 沂南县). Never a kind of body (generic), nor a body of another procedure
    (仲裁, 党员申诉, 行政复议: told where, Art. 31), nor the receiving office itself."""
    code = effective.jurisdiction.code
    found = [Destination(unit, spec["name"] or unit, code) for unit, spec in named_units(effective).items()
             if _handed_cases(spec) and spec.get("type") != "petition_office"]
    if library is None:
        return found
    try:
        children = library.tree.children(code)
    except (LookupError, ValueError):
        children = []
    for child in children:
        try:
            below = library.effective(child.code, effective.at)
        except (LookupError, ValueError):  # no rule set in force there that day
            continue
        where = places(below)
        for unit, spec in (below.get("units") or {}).items():
            if _handed_cases(spec) and sits_at(spec, child.level, where) == child.level:
                name = resolve_unit(spec, child.level, where)["name"] or unit
                found.append(Destination(f"{child.code}:{unit}", name, child.code))
    return found


# Channels of the petition procedure (Art. 31(5), (6), Art. 29): their cases are handed to a unit. The others go
# the way the law gives them (litigation, arbitration, …), and accusations to the discipline body (Art. 30).
_HANDED_TO_A_UNIT = ("petition", "duty")
_ROUTING_ARTICLE = "《信访工作条例》第二十一条、第二十二条"


def catch_all_warnings(library: RuleSetLibrary, files: set[str]) -> list[ConfigIssue]:
    """Warnings (not errors: the rule set still validates) where a version in `files` leaves a category of the
    petition procedure, or a local routing rule, at a kind of body (有权处理的机关、单位) rather than a real unit,
    each at the line in the officer's file where the catch-all is written (else where the category is)."""
    found: list[ConfigIssue] = []
    for version in library.all_versions():
        if version.file not in files:
            continue
        try:
            effective = library.effective(version.code, version.effective_from)
        except (LookupError, ValueError):
            continue
        found += _catch_alls(effective, version)
    return sorted(set(found), key=lambda i: (i.position or Position("", 0, 0), i.message))


def _catch_alls(effective: EffectiveRuleSet, version) -> list[ConfigIssue]:
    units = named_units(effective)
    routing = effective.get("routing") or {}
    default = (routing.get("default") or {}).get("unit")
    out = []
    for code, spec in ((effective.get("classification") or {}).get("categories") or {}).items():
        if spec.get("kind") == "accusation" or spec.get("channel", "petition") not in _HANDED_TO_A_UNIT:
            continue
        unit = spec.get("unit") or default
        if is_generic(units.get(unit)):
            written = (("classification", "categories", code, "unit") if spec.get("unit")
                       else ("routing", "default", "unit"))
            what = f"分类“{code} {spec.get('name', '')}”"
            out.append(_warning(effective, version, written, ("classification", "categories", code), what,
                                f"category {code}", units[unit]["name"]))
    for rule, spec in (routing.get("rules") or {}).items():
        if is_generic(units.get(spec.get("unit"))):
            path = ("routing", "rules", rule, "unit")
            out.append(_warning(effective, version, path, path, f"转送规则 {rule}", f"routing rule {rule}",
                                units[spec["unit"]]["name"]))
    return out


def _warning(effective: EffectiveRuleSet, version, written: tuple, own: tuple, what: str, what_en: str,
             name: str) -> ConfigIssue:
    source = effective.source_of(".".join(written))
    if source is not None and source.file == version.file:
        position, inherited = Position(source.file, source.line, source.col), ""
    else:
        has_own = get_path(version.data, own) is not None
        position = version.key_position(own) if has_own else version.key_position(("jurisdiction",))
        inherited = f"（继承自 {source.file}:{source.line}）" if source is not None else ""
    return ConfigIssue(
        position,
        f"warning: {what_en} goes to '{name}', a kind of body, not a unit: name the unit that handles it "
        f"(units.<id>.name, {_ROUTING_ARTICLE})",
        f"提示：{what}交“{name}”{inherited}，这是泛指的一类机关，不是具体单位：请写明承办单位（{_ROUTING_ARTICLE}）")
