"""Cross-references inside an effective rule set: every unit, category, field and step named must exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from .bounds import expand
from .inheritance import get_path
from .limit_holders import limit_holders
from .procedure import EXTENSIONS, STEPS, step
from .units import PLACEHOLDER
from .yaml_source import Path_, dump_path

# Art. 22 ¶2, 30: accusations go to discipline and supervision bodies, whatever a local rule says.
ACCUSATION_UNIT_TYPE = "discipline"


class Problem(NamedTuple):
    """A dangling or forbidden reference: the referring value's path and what is wrong with it.

    `cause` is a second path the problem rests on (the `type` of the unit referred to), with the
    message as told there: a level that changed only the cause is told at the line it changed.
    """

    path: Path_
    message: str
    cause: Path_ | None = None
    cause_message: str = ""
    chinese: str = ""  # for the editor; empty: the editor says only that a reference is wrong


def reference_problems(data: dict[str, Any]) -> Iterator[Problem]:
    """Each dangling or forbidden reference of an effective rule set."""
    units = data.get("units", {})
    classification = data.get("classification", {})
    categories = classification.get("categories", {})
    kinds = classification.get("kinds", {})
    intake = data.get("intake", {})
    fields = intake.get("fields", {})
    steps = data.get("time_limits", {})

    def unit_ref(path: Path_, unit: Any) -> Iterator[Problem]:
        if unit is not None and unit not in units:
            yield Problem(path, f"unit '{unit}' is not defined in units (defined: {', '.join(units) or 'none'})",
                          chinese=f"单位 {unit} 没有在 units 中定义")

    def not_discipline(path: Path_, unit: str, sends: str, rule: str, basis: str) -> Problem:
        """`sends` accusations to `unit`, which is no discipline body: told at the reference and at the unit's type."""
        kind = _shown(units[unit].get("type"))
        return Problem(path, f"{sends} '{unit}', a unit of type {kind}, not a discipline body: {rule} ({basis})",
                       ("units", unit, "type"),
                       f"{kind} is not a discipline body, and {sends} this unit ({dump_path(path)}): {rule} ({basis})",
                       f"检举控告只能交纪检监察机关：{units[unit].get('name') or unit} 不是纪检监察机关（{basis}）")

    for unit, spec in units.items():  # a name is text, or a template of the case's jurisdiction (config.units)
        named = [(("units", unit, "name"), spec.get("name"))]
        named += [(("units", unit, "names", level), text) for level, text in (spec.get("names") or {}).items()]
        for path, text in named:
            rest = text.replace(PLACEHOLDER, "") if isinstance(text, str) else ""
            if "{" in rest or "}" in rest:
                yield Problem(path, f"'{text}': the only placeholder of a unit's name is {PLACEHOLDER} (the case's "
                                    f"jurisdiction: {PLACEHOLDER}生态环境局)",
                              chinese=f"单位名称“{text}”中只能用 {PLACEHOLDER} 代表信访事项所在辖区（如 {PLACEHOLDER}生态环境局）")
    for code, category in categories.items():
        base = ("classification", "categories", code)
        yield from unit_ref(base + ("unit",), category.get("unit"))
        kind = category.get("kind", "appeal")
        if kinds and kind not in kinds:
            yield Problem(base + ("kind",), f"kind '{kind}' is not defined in classification.kinds",
                          chinese=f"类型 {kind} 没有在 classification.kinds 中定义")
        for i, field in enumerate(category.get("form_fields", [])):
            if field not in fields:
                yield Problem(base + ("form_fields", i), f"form field '{field}' is not defined in intake.fields",
                              chinese=f"表单项 {field} 没有在 intake.fields 中定义")
    default = classification.get("default_category")
    if default is not None and default not in categories:
        yield Problem(("classification", "default_category"), f"default category '{default}' is not defined")

    routing = data.get("routing", {})
    for key in ("accusation", "litigation", "default"):
        if key in routing:
            yield from unit_ref(("routing", key, "unit"), routing[key].get("unit"))
    accusation_unit = routing.get("accusation", {}).get("unit")
    if accusation_unit in units and units[accusation_unit].get("type") != ACCUSATION_UNIT_TYPE:
        yield not_discipline(("routing", "accusation", "unit"), accusation_unit, "accusations go to",
                             f"accusations must go to a discipline body (type: {ACCUSATION_UNIT_TYPE})",
                             "《信访工作条例》第二十二条第二款、第三十条")
    for rule_id, rule in routing.get("rules", {}).items():
        path = ("routing", "rules", rule_id, "unit")
        yield from unit_ref(path, rule.get("unit"))
        if _may_catch_accusations(rule.get("when", {}), categories) and rule.get("unit") in units \
                and units[rule["unit"]].get("type") != ACCUSATION_UNIT_TYPE:
            yield not_discipline(path, rule["unit"], f"routing rule '{rule_id}' can send accusations to",
                                 "accusations never go to the accused", "《信访工作条例》第三十条、第四十六条第五项")

    for channel_id, channel in intake.get("channels", {}).items():
        base = ("intake", "channels", channel_id)
        for key in ("fields", "required"):
            for i, field in enumerate(channel.get(key, [])):
                if field not in fields:
                    yield Problem(base + (key, i), f"field '{field}' is not defined in intake.fields")
        for i, field in enumerate(channel.get("required", [])):
            if field in fields and field not in channel.get("fields", []):
                yield Problem(base + ("required", i), f"required field '{field}' is not among this channel's fields")

    for section in ("tracks", "mediation"):
        items = data.get(section, {}) if section == "tracks" else data.get(section, {}).get("tiers", {})
        for item_id, item in items.items():
            base = (section, item_id) if section == "tracks" else (section, "tiers", item_id)
            for step in item.get("time_limits", {}):
                if step not in steps:
                    yield Problem(base + ("time_limits", step), f"step '{step}' has no time limit in time_limits")
            for i, code in enumerate(item.get("when", {}).get("categories", [])):
                if code not in categories:
                    yield Problem(base + ("when", "categories", i), f"category '{code}' is not defined")
    tracks = data.get("tracks", {})
    if tracks and sum(1 for t in tracks.values() if t.get("default")) != 1:
        yield Problem(("tracks",), "exactly one track must be the default (default: true)")

    yield from _hours_where_no_time(data)

    for step_id, step in data.get("escalation", {}).get("steps", {}).items():
        watch = step.get("watch")
        if watch is not None and watch not in steps:
            yield Problem(("escalation", "steps", step_id, "watch"), f"step '{watch}' has no time limit in time_limits")


def _hours_where_no_time(data: dict[str, Any]) -> Iterator[Problem]:
    """A limit in hours counts from the time the clock started: only the steps started when the petition is
    received have one (received_at); the later stages are dated by day, so they count in days."""
    untimed = {s.name: s.label for s in STEPS if s.starts != "received_on"}
    untimed |= {key: f"{step(lengthened).label}的延长" for key, lengthened in EXTENSIONS.items()}
    timed = [s for s in STEPS if s.starts == "received_on"]
    for holder in limit_holders():
        for place in expand(data, holder):
            for name, limit in (get_path(data, place) or {}).items():
                if name in untimed and isinstance(limit, dict) and "hours" in limit:
                    yield Problem(place + (name, "hours"),
                                  f"{name} starts on a date without a time, so its limit is counted in days, not hours "
                                  f"(only the steps started when the petition is received may be: "
                                  f"{', '.join(s.name for s in timed)})",
                                  chinese=f"“{untimed[name]}”从某一日起算，没有具体时刻，期限只能按日计，不能按小时计"
                                          f"（只有从收到信访事项时起算的{'、'.join(s.label for s in timed)}可以按小时计）")


def _may_catch_accusations(when: dict[str, Any], categories: dict[str, Any]) -> bool:
    if "accusation" in when.get("kinds", []):
        return True
    return any(categories.get(code, {}).get("kind") == "accusation" for code in when.get("categories", []))


def _shown(value: Any) -> str:
    return "(none)" if value is None else f"'{value}'"
