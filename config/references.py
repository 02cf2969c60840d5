"""Cross-references inside an effective rule set: every unit, category, field and step named must exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .yaml_source import Path_

# Art. 22 ¶2, 30: accusations go to discipline and supervision bodies, whatever a local rule says.
ACCUSATION_UNIT_TYPE = "discipline"


def reference_problems(data: dict[str, Any]) -> Iterator[tuple[Path_, str]]:
    """(path of the referring value, message) for each dangling or forbidden reference."""
    units = data.get("units", {})
    classification = data.get("classification", {})
    categories = classification.get("categories", {})
    kinds = classification.get("kinds", {})
    intake = data.get("intake", {})
    fields = intake.get("fields", {})
    steps = data.get("time_limits", {})

    def unit_ref(path: Path_, unit: Any) -> Iterator[tuple[Path_, str]]:
        if unit is not None and unit not in units:
            yield path, f"unit '{unit}' is not defined in units (defined: {', '.join(units) or 'none'})"

    for code, category in categories.items():
        base = ("classification", "categories", code)
        yield from unit_ref(base + ("unit",), category.get("unit"))
        kind = category.get("kind", "appeal")
        if kinds and kind not in kinds:
            yield base + ("kind",), f"kind '{kind}' is not defined in classification.kinds"
        for i, field in enumerate(category.get("form_fields", [])):
            if field not in fields:
                yield base + ("form_fields", i), f"form field '{field}' is not defined in intake.fields"
    default = classification.get("default_category")
    if default is not None and default not in categories:
        yield ("classification", "default_category"), f"default category '{default}' is not defined"

    routing = data.get("routing", {})
    for key in ("accusation", "litigation", "default"):
        if key in routing:
            yield from unit_ref(("routing", key, "unit"), routing[key].get("unit"))
    accusation_unit = routing.get("accusation", {}).get("unit")
    if accusation_unit in units and units[accusation_unit].get("type") != ACCUSATION_UNIT_TYPE:
        yield ("routing", "accusation", "unit"), (
            f"accusations must go to a discipline body (type: discipline), not '{accusation_unit}' "
            f"(《信访工作条例》第二十二条第二款、第三十条)")
    for rule_id, rule in routing.get("rules", {}).items():
        path = ("routing", "rules", rule_id, "unit")
        yield from unit_ref(path, rule.get("unit"))
        if _may_catch_accusations(rule.get("when", {}), categories) and rule.get("unit") in units \
                and units[rule["unit"]].get("type") != ACCUSATION_UNIT_TYPE:
            yield path, (f"routing rule '{rule_id}' can send accusations to '{rule['unit']}', which is not a "
                         f"discipline body: accusations never go to the accused (《信访工作条例》第三十条、第四十六条第五项)")

    for channel_id, channel in intake.get("channels", {}).items():
        base = ("intake", "channels", channel_id)
        for key in ("fields", "required"):
            for i, field in enumerate(channel.get(key, [])):
                if field not in fields:
                    yield base + (key, i), f"field '{field}' is not defined in intake.fields"
        for i, field in enumerate(channel.get("required", [])):
            if field in fields and field not in channel.get("fields", []):
                yield base + ("required", i), f"required field '{field}' is not among this channel's fields"

    for section in ("tracks", "mediation"):
        items = data.get(section, {}) if section == "tracks" else data.get(section, {}).get("tiers", {})
        for item_id, item in items.items():
            base = (section, item_id) if section == "tracks" else (section, "tiers", item_id)
            for step in item.get("time_limits", {}):
                if step not in steps:
                    yield base + ("time_limits", step), f"step '{step}' has no time limit in time_limits"
            for i, code in enumerate(item.get("when", {}).get("categories", [])):
                if code not in categories:
                    yield base + ("when", "categories", i), f"category '{code}' is not defined"
    tracks = data.get("tracks", {})
    if tracks and sum(1 for t in tracks.values() if t.get("default")) != 1:
        yield ("tracks",), "exactly one track must be the default (default: true)"

    for step_id, step in data.get("escalation", {}).get("steps", {}).items():
        watch = step.get("watch")
        if watch is not None and watch not in steps:
            yield ("escalation", "steps", step_id, "watch"), f"step '{watch}' has no time limit in time_limits"


def _may_catch_accusations(when: dict[str, Any], categories: dict[str, Any]) -> bool:
    if "accusation" in when.get("kinds", []):
        return True
    return any(categories.get(code, {}).get("kind") == "accusation" for code in when.get("categories", []))
