"""The clerk's intake form as the page holds it: the rule set's definition, the values typed, the case they make."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xinfang.config import EffectiveRuleSet, NoRuleSetInForce, RuleSetLibrary, today_in_china
from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.decide import decide
from xinfang.server.cases.forms import UnknownCategory, form_definition, form_problems

# The order the clerk picks the channel in (the rule set may lack some; a county may remove one).
INTAKE_ORDER = ("letter", "visit", "online", "phone", "fax", "hotline")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
MAX_TEXT = 50_000  # what the engine takes (Case JSON); the form's own limit is checked on registration


@dataclass
class IntakeForm:
    """One rendering of the form: the definition for (channel, category) and the values and problems shown in it."""

    effective: EffectiveRuleSet
    intake: str
    category: str | None
    received_on: str
    definition: dict[str, Any]
    extra_names: set[str]  # fields the category adds (shown in the part swapped on a category change)
    values: dict[str, Any] = field(default_factory=dict)  # path → the text typed (or the checkbox state)
    problems: dict[str, str] = field(default_factory=dict)  # path → message
    general: list[str] = field(default_factory=list)  # problems not of one field

    @property
    def intakes(self) -> list[tuple[str, str]]:
        channels = self.effective.data.get("intake", {}).get("channels", {})
        ordered = [c for c in INTAKE_ORDER if c in channels] + [c for c in channels if c not in INTAKE_ORDER]
        return [(c, channels[c].get("name", c)) for c in ordered]

    @property
    def categories(self) -> list[tuple[str, str]]:
        found = self.effective.data.get("classification", {}).get("categories", {})
        return [(code, spec.get("name", code)) for code, spec in found.items()]

    def sections(self) -> list[tuple[str, str, list[dict]]]:
        """(id, title, fields) of the fields every category has; the category's own are `extra_fields()`."""
        shown = [f for f in self.definition["fields"] if f["name"] not in self.extra_names and f["name"] != "category"]
        return [(s["id"], s["title"], [f for f in shown if f["name"] in s["fields"]])
                for s in self.definition["sections"]]

    def extra_fields(self) -> list[dict]:
        return [f for f in self.definition["fields"] if f["name"] in self.extra_names]

    @property
    def category_field(self) -> dict:
        return next(f for f in self.definition["fields"] if f["name"] == "category")


def parse_day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def build_form(library: RuleSetLibrary, code: str, values: Mapping[str, Any], *, anonymous: bool = False) -> IntakeForm:
    """The form for the channel, category and day in `values` (each falling back to what the rule set has).

    Computed per request from the library in force, so a version an officer publishes shows at once.
    Raises NoRuleSetInForce when the jurisdiction has no rule set on that day. `anonymous`: a petitioner's
    anonymous accusation online, which asks nothing of the petitioner (forms.form_definition).
    """
    received_on = (values.get("received_on") or "").strip() or today_in_china().isoformat()
    day = parse_day(received_on) or today_in_china()
    effective = library.effective(code, day)
    channels = effective.data.get("intake", {}).get("channels", {})
    intake = values.get("intake") if values.get("intake") in channels else _first_intake(channels)
    category = (values.get("category") or "").strip() or None
    try:
        base = form_definition(effective, intake, None, anonymous=anonymous)
        definition = form_definition(effective, intake, category, anonymous=anonymous) if category else base
    except UnknownCategory:  # not (or no longer) a category of the rule set in force: choose again
        category, definition = None, base
    if category is None and (anonymous or reads_as_accusation(effective, intake, values.get("text"))):
        definition = form_definition(effective, intake, None, accusation=True, anonymous=anonymous)
    extra = {f["name"] for f in definition["fields"]} - {f["name"] for f in base["fields"]}
    kept = {k: v for k, v in values.items() if isinstance(v, str | bool)}
    kept.update(intake=intake, category=category or "", received_on=received_on)
    return IntakeForm(effective, intake, category, received_on, definition, extra, kept)


def reads_as_accusation(effective: EffectiveRuleSet, intake: str, text: Any) -> bool:
    """Whether the rule set classifies the request typed so far as an accusation (检举控告), before any category
    is chosen: the form then asks for the accused unit at once, which routing must never reach (Art. 22 ¶2)."""
    if not isinstance(text, str) or not text.strip():
        return False
    try:
        case = parse_case({"received_on": effective.at.isoformat(), "intake": intake, "text": text[:MAX_TEXT]})
        return decide(effective, case)["kind"] == "accusation"
    except CaseError:
        return False


def _first_intake(channels: Mapping[str, Any]) -> str:
    for code in ("visit", *INTAKE_ORDER):
        if code in channels:
            return code
    if not channels:
        raise NoRuleSetInForce("the rule set in force has no intake channel")
    return next(iter(channels))


def case_from_values(form: IntakeForm) -> dict[str, Any]:
    """The Case JSON the form's values make: typed where they can be, else as typed (so the check says why)."""
    case: dict[str, Any] = {"intake": form.intake}
    for spec in form.definition["fields"]:
        value = _typed(spec, form.values.get(spec["path"]))
        if value is None:
            continue
        node = case
        *parents, leaf = spec["path"].split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return case


def _typed(spec: Mapping[str, Any], raw: Any) -> Any:
    if spec["type"] == "boolean":
        return True if raw in (True, "on", "true", "1") else None
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip() if spec["type"] != "text" else raw.strip("\n")
    if spec["type"] == "integer" and _INTEGER.match(text):
        return int(text)
    return text


def check(form: IntakeForm, case: Mapping[str, Any]) -> bool:
    """Put the rule set's problems with the case beside their fields (server.cases.forms.form_problems); True when none."""
    for problem in form_problems(form.definition, case):
        form.problems.setdefault(problem["field"], problem["message"])
    received = parse_day(form.received_on)
    if received is None:
        form.problems.setdefault("received_on", "收到日期应为日期（年-月-日，如2024-05-01）")
    elif received > today_in_china():
        form.problems.setdefault("received_on", f"收到日期不能晚于今天（{today_in_china().isoformat()}）")
    known = {f["path"] for f in form.definition["fields"]}
    form.general += [form.problems.pop(path) for path in list(form.problems) if path not in known]
    return not form.problems and not form.general
