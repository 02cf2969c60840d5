"""Clerks' intake forms computed from the effective rule set, and the server-side check of what a form submits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xinfang.config import EffectiveRuleSet
from xinfang.config.field_patterns import pattern_matches
from xinfang.config.units import unit_name
from xinfang.rules.case_input import is_iso_date

__all__ = ["UnknownCategory", "UnknownIntake", "form_definition", "form_problems", "SECTIONS"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Where a field's value sits in the case input. Case JSON's own fields keep their place (DESIGN.md);
# a field the engine does not read (facts, a county's parcel number) goes under `form`, which the
# case workflow keeps in the file and strips before evaluating.
PETITIONER_FIELDS = ("name", "id_number", "phone", "address")
CASE_FIELDS = ("text", "representatives")
FORM_OBJECT = "form"

SECTIONS = (("petitioner", "信访人"), ("request", "诉求"), ("classification", "分类"))
WIDGETS = {"string": "text", "text": "textarea", "integer": "number", "date": "date", "choice": "select",
           "boolean": "checkbox"}
# The procedure a category's channel leads to (Art. 22, 31): shown so the clerk sees where the case goes.
CHANNEL_NOTES = {
    "litigation": "涉法涉诉事项：诉访分离，导入诉讼程序，交政法机关依法处理",
    "arbitration": "应当通过仲裁解决的事项，导入仲裁程序",
    "party_appeal": "党员申诉事项，交党组织依照党内法规处理",
    "administrative": "可以通过行政复议、裁决、确认等程序解决的事项，导入相应程序",
    "duty": "要求履行法定职责的事项，交有权处理的机关依法履职",
    "discipline": "检举控告事项，交纪检监察机关处理，不得转交被检举控告的人员和单位",
}


class UnknownIntake(LookupError):
    """The rule set in force has no such intake channel (a county may remove one)."""


class UnknownCategory(LookupError):
    """The rule set in force has no such category."""


def form_definition(effective: EffectiveRuleSet, intake: str, category: str | None = None, *,
                    accusation: bool = False, anonymous: bool = False) -> dict[str, Any]:
    """The clerk's form for an intake channel (and category) under `effective`: JSON Schema plus layout.

    Everything is read from the rule set, so a newly published version changes the form without a
    release; the case workflow checks a registration against the definition of the version it pins.
    `accusation`: the request reads as one before a category is chosen, so the accused unit is asked for.
    `anonymous`: an accusation sent without the accuser's identity (public.anonymous_accusations): no field of
    the petitioner's section is asked for.
    """
    data = effective.data
    channels = data.get("intake", {}).get("channels", {})
    if intake not in channels:
        raise UnknownIntake(f"intake channel {intake!r} is not in the rule set in force "
                            f"({', '.join(channels) or 'none'})")
    categories = data.get("classification", {}).get("categories", {})
    if category is not None and category not in categories:
        raise UnknownCategory(f"category {category!r} is not in the rule set in force")
    channel = channels[intake]
    specs = data.get("intake", {}).get("fields", {})
    required = set(channel.get("required", ()))
    fields = [_field(effective, fid, specs.get(fid, {}), fid in required, "channel")
              for fid in channel.get("fields", ())]
    fields.insert(0, _received_on())
    fields.append(_category_field(categories, category))
    if accusation and category is None:
        fields.append(_accused_unit_field())
    if category is not None:
        spec = categories[category]
        if spec.get("kind") == "accusation":
            fields.append(_accused_unit_field())
        fields += [_field(effective, fid, specs.get(fid, {}), False, "category")
                   for fid in spec.get("form_fields", ()) if fid not in channel.get("fields", ())]
    group_visit = data.get("intake", {}).get("group_visit", {})
    for field in fields:
        if field["name"] == "representatives" and "max_representatives" in group_visit:
            field.update(maximum=group_visit["max_representatives"], maximum_basis=group_visit.get("basis"), unit="人")
    if anonymous:
        fields = [f for f in fields if f["section"] != "petitioner"]
    fields.sort(key=lambda f: [s for s, _ in SECTIONS].index(f["section"]))
    j = effective.jurisdiction
    return {
        "jurisdiction": {"code": j.code, "name": j.name, "level": j.level},
        "at": effective.at.isoformat(),
        "ruleset_version": effective.version_label,
        "intake": {"code": intake, "name": channel.get("name", intake), "basis": channel.get("basis")},
        "category": _category_json(effective, category) if category is not None else None,
        "schema": _schema(effective, intake, channel, category, fields),
        "sections": [{"id": sid, "title": title, "fields": [f["name"] for f in fields if f["section"] == sid]}
                     for sid, title in SECTIONS],
        "fields": fields,
    }


def _field(effective: EffectiveRuleSet, fid: str, spec: Mapping[str, Any], required: bool, origin: str) -> dict:
    kind = spec.get("type", "string")
    if fid in PETITIONER_FIELDS:
        path, section = f"petitioner.{fid}", "petitioner"
    elif fid in CASE_FIELDS:
        path, section = fid, "petitioner" if fid == "representatives" else "request"
    else:
        path = f"{FORM_OBJECT}.{fid}"
        section = "classification" if origin == "category" else ("petitioner" if spec.get("personal") else "request")
    source = effective.source_of(f"intake.fields.{fid}")
    return {
        "name": fid, "path": path, "label": spec.get("label", fid), "type": kind, "widget": WIDGETS[kind],
        "section": section, "required": required, "personal": bool(spec.get("personal", False)),
        "hint": spec.get("hint"), "pattern": spec.get("pattern"), "max_length": spec.get("max_length"),
        "minimum": spec.get("minimum"), "maximum": None, "maximum_basis": None, "unit": None,
        "options": [{"value": o, "label": o} for o in spec["options"]] if "options" in spec else None,
        "default": None, "basis": spec.get("basis"),
        "source": {"jurisdiction": source.jurisdiction, "version": source.version} if source else None,
    }


def _fixed(name: str, label: str, kind: str, section: str, **extra: Any) -> dict:
    """A field of the Case JSON itself (DESIGN.md) that every form carries, whatever the rule set lists."""
    field = {"name": name, "path": name, "label": label, "type": kind, "widget": WIDGETS[kind], "section": section,
             "required": False, "personal": False, "hint": None, "pattern": None, "max_length": None,
             "minimum": None, "maximum": None, "maximum_basis": None, "unit": None, "options": None,
             "default": None, "basis": None, "source": None}
    field.update(extra)
    return field


def _received_on() -> dict:
    # Case JSON requires it: every period of the case counts from it (the day itself not counted).
    return _fixed("received_on", "收到日期", "date", "request", required=True,
                  hint="信访事项收到之日；各项期限自次日起算", basis="《信访工作条例》第二十二条")


def _accused_unit_field() -> dict:
    return _fixed("accused_unit", "被检举控告的单位", "string", "classification", max_length=200,
                  hint="检举控告事项不得转交被检举控告的人员和单位", basis="《信访工作条例》第三十条、第四十六条第五项")


def _category_field(categories: Mapping[str, Any], chosen: str | None) -> dict:
    options = [{"value": code, "label": f"{code} {spec.get('name', '')}".strip()} for code, spec in categories.items()]
    hint = None if chosen else "不选则按信访请求的内容推荐分类"
    return _fixed("category", "内容分类", "choice", "classification", options=options, default=chosen,
                  required=chosen is not None, hint=hint)


def _category_json(effective: EffectiveRuleSet, code: str) -> dict:
    spec = effective.data["classification"]["categories"][code]
    kind = spec.get("kind", "appeal")
    channel = "discipline" if kind == "accusation" else spec.get("channel", "petition")
    unit = spec.get("unit")
    return {"code": code, "name": spec.get("name"), "kind": kind, "channel": channel, "unit": unit,
            "unit_name": unit_name(effective, unit) if unit else None,
            "note": CHANNEL_NOTES.get(channel), "basis": spec.get("basis")}


def _schema(effective: EffectiveRuleSet, intake: str, channel: Mapping, category: str | None,
            fields: list[dict]) -> dict:
    """Draft 2020-12 JSON Schema of the case input this form submits (fields nested at their `path`)."""
    j = effective.jurisdiction
    title = f"{j.name}{channel.get('name', intake)}登记表"
    if category is not None:
        title += f"（{effective.data['classification']['categories'][category].get('name', category)}）"
    root: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "title": title, "type": "object",
                            "properties": {"intake": {"const": intake, "default": intake, "title": "信访形式"}},
                            "required": []}
    for field in fields:
        *parents, leaf = field["path"].split(".")
        node = root
        for parent in parents:
            caption = "信访人" if parent == "petitioner" else "登记项"
            node = node["properties"].setdefault(parent, {"type": "object", "title": caption, "properties": {},
                                                          "required": []})
            if parent == FORM_OBJECT:
                node["additionalProperties"] = False
        node["properties"][leaf] = _property(field)
        if field["required"]:
            node["required"].append(leaf)
    for parent in ("petitioner", FORM_OBJECT):
        if root["properties"].get(parent, {}).get("required"):
            root["required"].append(parent)
    return _drop_empty_required(root)


def _property(field: Mapping[str, Any]) -> dict:
    kind = field["type"]
    prop: dict[str, Any] = {"title": field["label"]}
    if field["name"] == "category" and field["default"] is not None:
        prop.update(type="string", const=field["default"])
    elif kind in ("string", "text"):
        prop["type"] = "string"
        if field["required"]:
            prop["minLength"] = 1
    elif kind == "integer":
        prop["type"] = "integer"
    elif kind == "boolean":
        prop["type"] = "boolean"
    elif kind == "date":
        prop.update(type="string", format="date")
    elif kind == "choice":
        prop.update(type="string", enum=[o["value"] for o in field["options"] or ()])
    for key, keyword in (("max_length", "maxLength"), ("pattern", "pattern"), ("minimum", "minimum"),
                         ("maximum", "maximum"), ("hint", "description"), ("default", "default")):
        if field[key] is not None:
            prop[keyword] = field[key]
    if field["personal"]:
        prop["x-personal"] = True
    return prop


def _drop_empty_required(node: dict) -> dict:
    if node.get("required") == []:
        del node["required"]
    for sub in node.get("properties", {}).values():
        if isinstance(sub, dict) and "properties" in sub:
            _drop_empty_required(sub)
    return node


# Server-side enforcement: the same definition, field by field, in the clerk's words.

_MISSING = object()


def form_problems(definition: Mapping[str, Any], submitted: Any) -> list[dict[str, str]]:
    """Every problem of a submitted case input against a form definition: `[{"field", "message"}]`, [] when none.

    `field` is the value's dotted path in the case input (`petitioner.name`); messages are Chinese,
    one per field, for the clerk's form. The case workflow calls it at registration, so what the
    browser enforces is enforced on the server too, from the same rule-set version.
    """
    if not isinstance(submitted, Mapping):
        return [{"field": "case", "message": "登记内容应为一个对象"}]
    problems: list[dict[str, str]] = []
    bad_parents: set[str] = set()
    for parent, label in (("petitioner", "信访人信息"), (FORM_OBJECT, "登记项")):
        if parent in submitted and submitted[parent] is not None and not isinstance(submitted[parent], Mapping):
            problems.append({"field": parent, "message": f"{label}应为一个对象"})
            bad_parents.add(parent)
    intake = definition["intake"]["code"]
    if submitted.get("intake", intake) != intake:
        problems.append({"field": "intake", "message": f"信访形式应为{definition['intake']['name']}，与表单不符"})
    for field in definition["fields"]:
        if field["path"].split(".")[0] in bad_parents and "." in field["path"]:
            continue
        message = _field_problem(field, _lookup(submitted, field["path"]))
        if message:
            problems.append({"field": field["path"], "message": message})
    known = {f["path"].split(".", 1)[1] for f in definition["fields"] if f["path"].startswith(FORM_OBJECT + ".")}
    extra = submitted.get(FORM_OBJECT)
    if isinstance(extra, Mapping):
        problems += [{"field": f"{FORM_OBJECT}.{key}", "message": f"本表单没有“{key}”这一项"}
                     for key in extra if key not in known]
    return problems


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(obj, Mapping) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def _field_problem(field: Mapping[str, Any], value: Any) -> str | None:
    """The first thing wrong with one value, or None: required, then type, then the field's limits."""
    label = field["label"]
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        return f"{label}为必填项" if field["required"] else None
    kind = field["type"]
    if field["name"] == "category" and field["default"] is not None and value != field["default"]:
        return f"{label}应为{field['default']}，与表单不符（请按所选分类重新打开表单）"
    if kind in ("string", "text", "choice", "date") and not isinstance(value, str):
        return f"{label}应为文字"
    if kind == "integer" and not _is_integer(value):
        return f"{label}应为整数"
    if kind == "boolean" and not isinstance(value, bool):
        return f"{label}应为“是”或“否”"
    if kind == "date" and not is_iso_date(value):
        return f"{label}应为日期（年-月-日，如2024-05-01）"
    if kind == "choice" and value not in [o["value"] for o in field["options"] or ()]:
        return f"{label}应为以下之一：{'、'.join(o['value'] for o in field['options'] or ())}"
    if isinstance(value, str):
        if field["max_length"] is not None and len(value) > field["max_length"]:
            return f"{label}不得超过{field['max_length']}字"
        if field["pattern"] is not None and not pattern_matches(field["pattern"], value):  # RE2: linear time
            return f"{label}格式不正确" + (f"（{field['hint']}）" if field["hint"] else "")
        return None
    if isinstance(value, bool):
        return None
    if field["minimum"] is not None and value < field["minimum"]:
        return f"{label}不得小于{field['minimum']}"
    if field["maximum"] is not None and value > field["maximum"]:
        basis = f"（{field['maximum_basis']}）" if field["maximum_basis"] else ""
        return f"{label}不得超过{field['maximum']}{field['unit'] or ''}{basis}"
    return None


def _is_integer(value: Any) -> bool:
    # JSON Schema counts 5.0 as an integer, as the case input does.
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
