"""The editor's structured forms: fields built from a draft's own values and the level above, and posted fields as edits."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from xinfang.config import EffectiveRuleSet, JurisdictionTree
from xinfang.config.assessment import DEDUCTIONS, INDICATORS
from xinfang.config.inheritance import get_path
from xinfang.config.jurisdictions import LEVELS
from xinfang.config.procedure import LIMIT_KEYS, MEASURES, TARGETS
from xinfang.config.units import places, resolve_unit

from . import labels
from .editor_yaml import REMOVE
from .ruleset_view import BoundRef, bound_text

Path_ = tuple
STEPS = list(LIMIT_KEYS)
TRACK_STEPS = ["route", "notify", "conclude", "extension"]
SECTIONS = ["jurisdiction", "version", "effective_from", "effective_until", "title", "basis", "change_note",
            "calendar", "units", "classification", "routing", "admissibility", "time_limits", "tracks", "mediation",
            "escalation", "intake", "public", "reports", "assessment", "bounds", "remove"]
ORDER = {(): SECTIONS, ("time_limits",): STEPS, ("tracks", "*", "time_limits"): STEPS,
         ("assessment",): ["name", "indicators", "deductions", "basis"],
         ("assessment", "indicators"): list(INDICATORS), ("assessment", "deductions"): list(DEDUCTIONS)}
ACTIONS = [m.name for m in MEASURES]
FIELD_TYPES = ["string", "text", "integer", "date", "choice", "boolean"]
_KEY = re.compile(r"[0-9A-Za-z_]{1,40}")
_SPLIT = re.compile(r"[,，、;；\n]+")


class FormProblem(ValueError):
    """A posted value that cannot be read (not a number, not a date): shown beside its field, nothing applied."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


@dataclass
class Field:
    """One input: its form name (`f:path:type`), the value this level writes, and what it would inherit."""

    path: Path_
    type: str
    label: str
    value: Any = None
    inherited: str = ""
    choices: list[tuple[str, str]] | None = None
    bounds: list[BoundRef] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"f:{'.'.join(map(str, self.path))}:{self.type}"

    @property
    def id(self) -> str:
        return "f-" + "-".join(map(str, self.path))

    @property
    def shown(self) -> str:
        """The value as the input shows it."""
        if self.value is None:
            return ""
        if isinstance(self.value, list):
            return "、".join(map(str, self.value))
        if isinstance(self.value, bool):
            return "true" if self.value else ""
        return str(self.value)


@dataclass
class Row:
    """An item of a section (a step, a category, a track): its fields, whether this level writes it, defaults."""

    key: str
    label: str
    fields: list[Field]
    own: bool
    inherited_from: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)  # filled in when the row is first written here
    children: list[Row] = field(default_factory=list)

    @property
    def path(self) -> Path_:
        return self.fields[0].path[:-1] if self.fields else ()


class EditorForms:
    """The forms of a draft: `own` is the draft text's data, `parent` the level above's effective rule set."""

    def __init__(self, own: dict[str, Any], parent: EffectiveRuleSet | None, tree: JurisdictionTree) -> None:
        self.own, self.parent, self.tree = own or {}, parent, tree
        self.above = parent.data if parent is not None else {}
        self.default_basis = f"《{self.own.get('title')}》" if self.own.get("title") else ""

    # Helpers

    def merged(self, path: Path_) -> Any:
        """This level's value at `path`, else the one it inherits."""
        own = get_path(self.own, path)
        return own if own is not None else get_path(self.above, path)

    def source_name(self, path: Path_) -> str:
        if self.parent is None:
            return ""
        source = self.parent.merged.sources.get(path)
        if source is None:
            return ""
        return self.tree.get(source.jurisdiction).name if source.jurisdiction in self.tree else source.jurisdiction

    def bounds(self, path: Path_) -> list[BoundRef]:
        if self.parent is None:
            return []
        found = []
        for bound in self.parent.bounds:
            if bound.matches(path) or (bound.contains(path) and bound.spec.get("locked")):
                pos = bound.version.key_position(("bounds", bound.dotted))
                found.append(BoundRef(bound.dotted, bound_text(bound.dotted, bound.spec), bound.spec.get("basis", ""),
                                      f"{bound.version.name} {bound.version.version} 版", pos.file, pos.line))
        return found

    def field(self, path: Path_, type_: str, label: str, inherited: Any = None, choices=None) -> Field:
        above = get_path(self.above, path) if inherited is None else inherited
        return Field(path, type_, label, get_path(self.own, path), _show(above), choices, self.bounds(path))

    # Sections

    def header(self) -> list[Field]:
        return [Field(("version",), "str", "版本号", self.own.get("version")),
                Field(("effective_from",), "date", "施行日期", self.own.get("effective_from")),
                Field(("title",), "str", "名称", self.own.get("title")),
                Field(("change_note",), "text", "修改说明", self.own.get("change_note"))]

    def time_limits(self, prefix: Path_ = ("time_limits",), steps=None, general: bool = True) -> list[Row]:
        rows = []
        for step in steps or STEPS:
            path = prefix + (step,)
            above = get_path(self.above, path)
            if not general and above is None:
                above = self.merged(("time_limits", step))
                note = "按通用时限"
            else:
                note = self.source_name(path + ("days",))
            rows.append(Row(step, labels.label(labels.STEPS, step), [
                self.field(path + ("days",), "int", "天数", _period(above) if above else "—"),
                self.field(path + ("unit",), "choice", "计算方式", (above or {}).get("unit", "calendar"),
                           list(labels.DAY_UNIT_NAMES.items())),
                self.field(path + ("by",), "str", "截止时刻", (above or {}).get("by") or "—"),
                self.field(path + ("basis",), "str", "依据", (above or {}).get("basis", ""))],
                get_path(self.own, path) is not None, note,
                {"unit": (above or {}).get("unit", "calendar"), "basis": self.default_basis}))
        return rows

    def _keys(self, path: Path_) -> list[str]:
        above, own = get_path(self.above, path) or {}, get_path(self.own, path) or {}
        return list(above) + [k for k in own if k not in above]

    def tracks(self) -> list[Row]:
        rows = []
        for key in self._keys(("tracks",)):
            p = ("tracks", key)
            fields = [self.field(p + ("name",), "str", "名称"), self.field(p + ("priority",), "int", "优先级"),
                      self.field(p + ("when", "intakes"), "set", "登记渠道", choices=list(labels.INTAKES.items())),
                      self.field(p + ("when", "categories"), "list", "分类代码"),
                      self.field(p + ("when", "keywords"), "list", "关键词")]
            row = Row(key, str(self.merged(p + ("name",)) or key), fields, get_path(self.own, p) is not None,
                      self.source_name(p + ("name",)))
            row.children = self.time_limits(p + ("time_limits",), TRACK_STEPS, general=False)
            rows.append(row)
        return rows

    def unit_choices(self) -> list[tuple[str, str]]:
        """Each unit by the name this jurisdiction's cases go to (the template filled in: 沂南县卫生健康局)."""
        units = {**(self.above.get("units") or {}), **(self.own.get("units") or {})}
        place = self.own.get("jurisdiction") or {}
        level = place.get("level") if place.get("level") in LEVELS else None
        where = {**(places(self.parent) if self.parent is not None else {}),
                 **({level: str(place.get("name") or "")} if level else {})}
        named = []
        for key in units:
            spec = {**(get_path(self.above, ("units", key)) or {}), **(get_path(self.own, ("units", key)) or {})}
            name = resolve_unit(spec, level, where)["name"] if level else self.merged(("units", key, "name"))
            named.append((key, name or key))
        return named

    def categories(self) -> list[Row]:
        path = ("classification", "categories")
        units = self.unit_choices()
        return [Row(code, str(self.merged(path + (code, "name")) or code), [
            self.field(path + (code, "name"), "str", "名称"),
            self.field(path + (code, "unit"), "choice", "承办单位", choices=units),
            self.field(path + (code, "keywords"), "list", "关键词")],
            get_path(self.own, path + (code,)) is not None, self.source_name(path + (code, "name")))
            for code in sorted(self._keys(path))]

    def escalation(self) -> list[Row]:
        path = ("escalation", "steps")
        rows = []
        for key in self._keys(path):
            p = path + (key,)
            rows.append(Row(key, str(self.merged(p + ("name",)) or key), [
                self.field(p + ("name",), "str", "名称"),
                self.field(p + ("watch",), "choice", "监测环节", choices=list(labels.STEPS.items())),
                self.field(p + ("before_days",), "int", "到期前（日）"),
                self.field(p + ("after_days",), "int", "超期后（日）"),
                self.field(p + ("open_days",), "int", "受理满（日）"),
                self.field(p + ("action",), "choice", "措施", choices=[(a, labels.label(labels.MEASURES, a)) for a in ACTIONS]),
                self.field(p + ("flag",), "choice", "标识", choices=list(labels.FLAGS.items())),
                self.field(p + ("to",), "choice", "送达", choices=list(TARGETS.items())),
                self.field(p + ("letter",), "bool", "发督办函")],
                get_path(self.own, p) is not None, self.source_name(p + ("name",))))
        return rows

    def intake_fields(self) -> list[Row]:
        path = ("intake", "fields")
        types = [(t, labels.label(labels.FIELD_TYPES, t)) for t in FIELD_TYPES]
        return [Row(key, str(self.merged(path + (key, "label")) or key), [
            self.field(path + (key, "label"), "str", "名称"),
            self.field(path + (key, "type"), "choice", "类型", choices=types),
            self.field(path + (key, "max_length"), "int", "最多字数"),
            self.field(path + (key, "hint"), "str", "提示"),
            self.field(path + (key, "options"), "list", "选项")],
            get_path(self.own, path + (key,)) is not None, self.source_name(path + (key, "label")))
            for key in self._keys(path)]

    def assessment(self) -> tuple[Field, list[Row], list[Row]]:
        """考评: the scheme's name, each indicator's points and target, and the points lost per overdue case and per
        督办函. An item first written here is written whole, with what it inherits (the schema needs both numbers)."""
        indicators, deductions = [], []
        for key, label in INDICATORS.items():
            p = ("assessment", "indicators", key)
            above = get_path(self.above, p) or {}
            indicators.append(Row(key, label, [
                self.field(p + ("weight",), "num", "分值"), self.field(p + ("target",), "num", "目标（%）"),
                self.field(p + ("basis",), "str", "依据")], get_path(self.own, p) is not None,
                self.source_name(p + ("weight",)), _defaults(above, ("weight", "target"), self.default_basis)))
        for key, label in DEDUCTIONS.items():
            p = ("assessment", "deductions", key)
            above = get_path(self.above, p) or {}
            deductions.append(Row(key, label, [
                self.field(p + ("points",), "num", "每件扣分"), self.field(p + ("basis",), "str", "依据")],
                get_path(self.own, p) is not None, self.source_name(p + ("points",)),
                _defaults(above, ("points",), self.default_basis)))
        return self.field(("assessment", "name"), "str", "名称"), indicators, deductions

    def group_visit(self) -> Field:
        return self.field(("intake", "group_visit", "max_representatives"), "int", "集体访代表人数上限")

    def all_fields(self) -> list[Field]:
        """Every input of the forms (to bring those a change in another field rewrote up to date)."""
        name, indicators, deductions = self.assessment()
        rows = self.time_limits() + self.tracks() + self.categories() + self.escalation() + self.intake_fields()
        rows += [child for row in rows for child in row.children] + indicators + deductions
        return self.header() + [f for row in rows for f in row.fields] + [self.group_visit(), name]


def stale_fields(forms: EditorForms, form, trigger: str) -> list[Field]:
    """The fields whose posted value no longer matches the text (a whole row written with its defaults)."""
    stale = []
    for f in forms.all_fields():
        if f.name == trigger or f.name not in form:
            continue
        try:
            posted = read_value(f.type, form.getlist(f.name), f.name)
        except FormProblem:
            continue
        if not _same(f.type, posted, f.value):
            stale.append(f)
    return stale


# New items: a key and a few fields, applied on save (`new:<section>:<attr>`)

NEW_ITEMS = {
    "category": (("classification", "categories"), {"name": "str", "unit": "choice", "keywords": "list"}),
    "track": (("tracks",), {"name": "str", "priority": "int", "keywords": "list"}),
    "escalation": (("escalation", "steps"), {"name": "str", "watch": "choice", "after_days": "int",
                                             "action": "choice"}),
    "field": (("intake", "fields"), {"label": "str", "type": "choice", "hint": "str"}),
}


def _show(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return "、".join(labels.label(labels.INTAKES, v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _defaults(above: dict, keys: tuple[str, ...], basis: str) -> dict[str, Any]:
    """What a row first written at this level starts from: the numbers it inherits, and this level's basis."""
    return {**{k: above[k] for k in keys if above.get(k) is not None}, "basis": basis}


def _period(value: dict) -> str:
    """15 日, 1 日 09:00 前, 16 小时 (流转不过夜): a limit as the form shows what it inherits."""
    if isinstance(value, dict) and value.get("hours") is not None:
        return f"{value['hours']} 小时"
    if not isinstance(value, dict) or "days" not in value:
        return "—"
    period = f"{value['days']} {labels.label(labels.DAY_UNITS, value.get('unit', 'calendar'))}"
    return f"{period} {value['by']} 前" if value.get("by") else period


# Reading posted forms

def read_value(type_: str, raw: list[str], name: str) -> Any:
    """A posted field as the value the YAML holds (None: empty). Raises FormProblem for an unreadable one."""
    values = [r for r in raw]
    text = (values[-1] if values else "").strip()
    if type_ == "set":
        return [v for v in values if v] or None
    if type_ == "bool":
        return True if "true" in values else None
    if not text:
        return None
    if type_ == "int":
        if not re.fullmatch(r"-?\d{1,6}", text):
            raise FormProblem(name, f"“{text}”不是整数")
        return int(text)
    if type_ == "num":  # points and percentages: 25, 0.5, 97.5
        if not re.fullmatch(r"-?\d{1,6}(\.\d{1,3})?", text):
            raise FormProblem(name, f"“{text}”不是数字")
        number = float(text)
        return int(number) if number.is_integer() else number
    if type_ == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FormProblem(name, f"“{text}”不是日期（写成 2026-12-01）") from None
    if type_ == "list":
        return [part.strip() for part in _SPLIT.split(text) if part.strip()]
    if type_ == "text":
        return (values[-1] or "").strip().replace("\r\n", "\n")
    return text


def _same(type_: str, posted: Any, base: Any) -> bool:
    if type_ == "set":
        return set(posted or ()) == set(base or ())
    if type_ == "bool":
        return bool(posted) == bool(base)
    if type_ == "list" and isinstance(base, list):
        return posted == [str(b) for b in base]
    return posted == base


def form_edits(form, base_own: dict, working_own: dict) -> tuple[list[tuple[Path_, Any]], list[FormProblem]]:
    """The edits the posted `f:` fields ask for: those whose value differs from the form's base text.

    A row this level does not write yet is written whole, with its posted defaults (`d:` fields:
    the inherited unit, a basis), so a new limit reads `conclude: {days: 30, unit: calendar, basis: …}`.
    """
    edits: dict[Path_, Any] = {}
    problems = []
    for name in form:
        if not name.startswith("f:"):
            continue
        dotted, _, type_ = name[2:].rpartition(":")
        path = tuple(dotted.split("."))
        if not dotted or not all(_KEY.fullmatch(k) for k in path):
            continue
        try:
            value = read_value(type_, form.getlist(name), name)
        except FormProblem as problem:
            problems.append(problem)
            continue
        base = get_path(base_own, path)
        if _same(type_, value, base):
            continue
        if value is None and type_ in ("str", "date") and path in (("version",), ("effective_from",)):
            continue  # the header keeps its required keys: an emptied box changes nothing
        edits[path] = REMOVE if value is None else value
    return _whole_rows(edits, form, working_own), problems


def _whole_rows(edits: dict[Path_, Any], form, working_own: dict) -> list[tuple[Path_, Any]]:
    out: list[tuple[Path_, Any]] = []
    grouped: dict[Path_, dict] = {}
    for path, value in edits.items():
        row = path[:-1]
        prefix = f"d:{'.'.join(row)}."
        if value is not REMOVE and len(path) > 2 and get_path(working_own, row) is None and \
                any(k.startswith(prefix) for k in form):
            grouped.setdefault(row, {})[path[-1]] = value
        else:
            out.append((path, value))
    for row, values in grouped.items():
        prefix = f"d:{'.'.join(row)}."
        defaults = {k[len(prefix):]: _default(form.get(k)) for k in form if k.startswith(prefix) and form.get(k)}
        whole = {k: values[k] if k in values else defaults[k] for k in _ROW_ORDER if k in values or k in defaults}
        whole.update({k: v for k, v in {**defaults, **values}.items() if k not in whole})
        out.append((row, whole))
    return out


_ROW_ORDER = ("days", "unit", "weight", "target", "points", "basis")  # as the bundled rule sets write a row


def _default(text: str) -> Any:
    """A posted default as the YAML holds it: an inherited number stays a number."""
    return read_value("num", [text], "") if re.fullmatch(r"-?\d{1,6}(\.\d{1,3})?", text) else text


def new_item_edits(form) -> tuple[list[tuple[Path_, Any]], list[FormProblem]]:
    """The items added with the `new:` rows (a category, a track, an escalation step, an intake field)."""
    edits, problems = [], []
    for kind, (path, attrs) in NEW_ITEMS.items():
        key = (form.get(f"new:{kind}:key") or "").strip()
        if not key:
            continue
        if not _KEY.fullmatch(key):
            problems.append(FormProblem(f"new:{kind}:key", f"代码“{key}”只能由字母、数字和下划线组成"))
            continue
        item = {}
        for attr, type_ in attrs.items():
            try:
                value = read_value(type_, form.getlist(f"new:{kind}:{attr}"), f"new:{kind}:{attr}")
            except FormProblem as problem:
                problems.append(problem)
                continue
            if value is not None:
                item[attr] = value
        edits.append((path + (key,), item))
    return edits, problems
