"""The Case JSON (DESIGN.md) checked against case.schema.json and read into a typed, frozen Case."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from .calendar import BEIJING, FIRST_DAY, LAST_DAY, parse_day

SCHEMA_FILE = "case.schema.json"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# The stages of a case in the order they happen: each given date may not precede an earlier given one.
STAGES = ("received_on", "accepted_on", "answered_on", "review_requested_on", "review_answered_on",
          "rereview_requested_on")
# The office's own dates beside the stages (交办, its feedback, 督办 and its answer): each on or after the day
# received, and an answer on or after what it answers; a new 督办 may come after an answered one.
OFFICE_DATES = ("assigned_on", "feedback_on", "supervised_on", "supervision_answered_on")
_ANSWERS = (("feedback_on", "assigned_on"),)
_TYPE_NAMES = {"integer": "an integer", "string": "a string", "boolean": "true or false", "object": "an object",
               "array": "a list", "number": "a number", "null": "null"}


class CaseError(ValueError):
    """A case the engine must not see; `problems` holds one "field: message" line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Petitioner:
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    rereview_concluded: bool = False
    same_facts: bool = False
    pending_elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class Case:
    """A validated case: dates are dates, counts are ints; absent optional fields are None (hearings: ())."""

    received_on: dt.date
    intake: str
    text: str
    received_at: dt.datetime | None = None  # aware, Beijing time, on received_on: a limit in hours counts from it
    category: str | None = None
    kind: str | None = None
    accused_unit: str | None = None
    representatives: int | None = None
    petitioner: Petitioner | None = None
    receiving_level: str | None = None
    competent_level: str | None = None
    accepted_on: dt.date | None = None
    history: History = History()
    extension_days: int | None = None
    extensions: tuple[tuple[str, int], ...] = ()  # approved extensions of other steps: (step, days), BJ Art. 40
    answered_on: dt.date | None = None
    review_requested_on: dt.date | None = None
    review_answered_on: dt.date | None = None
    rereview_requested_on: dt.date | None = None
    hearings: tuple[tuple[dt.date, dt.date], ...] = ()
    assigned_on: dt.date | None = None
    feedback_on: dt.date | None = None
    supervised_on: dt.date | None = None
    supervision_answered_on: dt.date | None = None

    @property
    def extended(self) -> dict[str, int]:
        """Step → the approved extension of its period, in days (the handling period's is extension_days)."""
        return dict(self.extensions)


@functools.cache
def case_schema() -> dict[str, Any]:
    """The Case JSON schema (draft 2020-12), checked once per process."""
    schema = json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(case_schema())


def case_problems(obj: Any) -> list[str]:
    """Every problem with a Case JSON object, schema first, then dates and their order; [] when valid."""
    if not isinstance(obj, Mapping):
        return [f"case: expected an object, found {_describe(obj)}"]
    obj = dict(obj)
    if _certainly_valid(case_schema(), obj):
        return _order_problems(obj) + _time_problems(obj)
    problems = []
    for error in sorted(_validator().iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        problems += _messages(error)
    problems += _date_problems(obj)
    problems += _order_problems(obj)
    problems += _time_problems(obj)
    return problems


def _certainly_valid(schema: Mapping, value: Any) -> bool:
    """A fast walk of the schema keywords the case schema uses: True only when `value` satisfies them all.

    jsonschema takes ~0.3 ms per case, longer than deciding it; it still speaks for every case this
    walk does not vouch for (any problem, or a keyword the walk does not know), so messages stay its own.
    """
    for key, expected in schema.items():
        if key == "$ref":
            if not _certainly_valid(case_schema()["$defs"][expected.rsplit("/", 1)[1]], value):
                return False
        elif key == "type":
            if not _TYPE_CHECKS[expected](value):
                return False
        elif key == "enum":
            if value not in expected or isinstance(value, bool):
                return False
        elif key == "format":
            if expected != "date" or not is_iso_date(value):
                return False
        elif key == "properties":
            if any(k in value and not _certainly_valid(sub, value[k]) for k, sub in expected.items()):
                return False
        elif key == "additionalProperties":
            if expected is not False or not set(value) <= set(schema.get("properties", ())):
                return False
        elif key == "required":
            if not all(k in value for k in expected):
                return False
        elif key == "items":
            if not all(_certainly_valid(expected, item) for item in value):
                return False
        elif key in _BOUNDS:
            if not _BOUNDS[key](value, expected):
                return False
        elif key not in _ANNOTATIONS:
            return False
    return True


_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}
_BOUNDS = {
    "minimum": lambda v, bound: v >= bound,
    "maximum": lambda v, bound: v <= bound,
    "maxLength": lambda v, bound: len(v) <= bound,
    "maxItems": lambda v, bound: len(v) <= bound,
    "pattern": lambda v, pattern: re.search(pattern, v) is not None,
}
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})


def parse_case(obj: Mapping) -> Case:
    """A typed Case from Case JSON; raises CaseError listing every problem, before anything reaches the engine."""
    problems = case_problems(obj)
    if problems:
        raise CaseError(problems)
    d = dt.date.fromisoformat
    history = obj.get("history") or {}
    petitioner = obj.get("petitioner")
    return Case(
        received_on=d(obj["received_on"]),
        received_at=received_moment(obj["received_at"]) if obj.get("received_at") else None,
        intake=obj["intake"],
        text=obj["text"],
        category=obj.get("category"),
        kind=obj.get("kind"),
        accused_unit=obj.get("accused_unit"),
        representatives=_int(obj.get("representatives")),
        petitioner=Petitioner(**petitioner) if petitioner is not None else None,
        receiving_level=obj.get("receiving_level"),
        competent_level=obj.get("competent_level"),
        accepted_on=_date(obj.get("accepted_on")),
        history=History(**history),
        extension_days=_int(obj.get("extension_days")),
        extensions=tuple((step, int(days)) for step, days in (obj.get("extensions") or {}).items()),
        answered_on=_date(obj.get("answered_on")),
        review_requested_on=_date(obj.get("review_requested_on")),
        review_answered_on=_date(obj.get("review_answered_on")),
        rereview_requested_on=_date(obj.get("rereview_requested_on")),
        hearings=tuple((d(h["start"]), d(h["end"])) for h in obj.get("hearings") or ()),
        **{name: _date(obj.get(name)) for name in OFFICE_DATES},
    )


def _int(value: Any) -> int | None:
    # JSON Schema counts 8.0 as an integer; the engine must see the int 8.
    return None if value is None else int(value)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "case"


def _messages(error: jsonschema.ValidationError) -> list[str]:
    """One "field: message" line per schema error, in the words a clerk or integrator understands."""
    where, value, kind = _where(error.absolute_path), error.instance, error.validator
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        return [f"{_where([*error.absolute_path, key])}: unknown field (the fields here are: {', '.join(allowed)})"
                for key in value if key not in allowed]
    if kind == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        return [f"{_where([*error.absolute_path, name])}: required field is missing"]
    if kind == "type":
        return [f"{where}: expected {_TYPE_NAMES.get(error.validator_value, error.validator_value)}, "
                f"found {_describe(value)}"]
    if kind == "enum":
        return [f"{where}: {_describe(value)} is not one of {', '.join(error.validator_value)}"]
    if kind == "pattern" and error.schema.get("format") == "date":
        return []  # a date outside the range: _date_problems says which, once
    if kind == "pattern" and where == "received_at":
        return [f"{where}: {value!r} is not a date and time (2024-12-06T16:00:00+08:00, or 2024-12-06 16:00 in "
                f"Beijing time)"]
    if kind == "pattern":
        return [f"{where}: {value!r} is not a category code (1 to 8 letters or digits)"]
    if kind in ("minimum", "maximum"):
        word = "less than the minimum" if kind == "minimum" else "more than the maximum"
        return [f"{where}: {value} is {word} {error.validator_value}"]
    if kind in ("maxLength", "maxItems"):
        return [f"{where}: longer than the {error.validator_value} allowed"]
    return [f"{where}: {error.message}"]


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "null"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def is_iso_date(value: Any) -> bool:
    """A string in YYYY-MM-DD form that is a real date in the range cases are dated in (FIRST_DAY..LAST_DAY)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        parse_day(value)
    except ValueError:
        return False
    return True


def _date_fields(obj: dict) -> list[tuple[str, Any]]:
    fields = [(name, obj[name]) for name in (*STAGES, *OFFICE_DATES) if name in obj]
    hearings = obj.get("hearings")
    if isinstance(hearings, list):
        for i, hearing in enumerate(hearings):
            if isinstance(hearing, dict):
                fields += [(f"hearings[{i}].{end}", hearing[end]) for end in ("start", "end") if end in hearing]
    return fields


def _date_problems(obj: dict) -> list[str]:
    """Dates the schema let through as strings but that are no calendar day (the type errors are the schema's)."""
    return [_not_a_date(name, value) for name, value in _date_fields(obj)
            if isinstance(value, str) and not is_iso_date(value)]


def _not_a_date(where: str, value: str) -> str:
    """A real calendar day outside the range is told so; anything else is no date at all."""
    if _DATE.fullmatch(value):
        try:
            dt.date.fromisoformat(value)
            return f"{where}: {value!r} is not a date from {FIRST_DAY} to {LAST_DAY} (YYYY-MM-DD)"
        except ValueError:
            pass
    return f"{where}: {value!r} is not a date (YYYY-MM-DD)"


def received_moment(text: str) -> dt.datetime:
    """The instant a `received_at` names, in Beijing time (a time without a zone is Beijing's); ValueError if none."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment.astimezone(BEIJING)


def _time_problems(obj: dict) -> list[str]:
    """`received_at` is a real moment on the day `received_on` names, in Beijing time."""
    text = obj.get("received_at")
    if not isinstance(text, str) or not _case_schema_matches("datetime", text):
        return []
    try:
        moment = received_moment(text)
    except ValueError:
        return [f"received_at: {text!r} is not a date and time (2024-12-06T16:00:00+08:00)"]
    received = obj.get("received_on")
    if is_iso_date(received) and moment.date().isoformat() != received:
        return [f"received_at: {text} is on {moment.date()} in Beijing time, not on received_on {received}"]
    return []


def _case_schema_matches(definition: str, value: str) -> bool:
    return re.search(case_schema()["$defs"][definition]["pattern"], value) is not None


def _order_problems(obj: dict) -> list[str]:
    """Stages in time order, and hearings that end before they start (among the dates that are dates)."""
    problems, previous = [], None
    for name in STAGES:
        if is_iso_date(obj.get(name)):
            day = dt.date.fromisoformat(obj[name])
            if previous is not None and day < previous[1]:
                problems.append(f"{name}: {day} is before {previous[0]} {previous[1]}")
            previous = (name, day)
    received = obj.get("received_on")
    for name in OFFICE_DATES:
        if is_iso_date(obj.get(name)) and is_iso_date(received) and obj[name] < received:
            problems.append(f"{name}: {obj[name]} is before received_on {received}")
    for later, earlier in _ANSWERS:
        if is_iso_date(obj.get(later)) and is_iso_date(obj.get(earlier)) and obj[later] < obj[earlier]:
            problems.append(f"{later}: {obj[later]} is before {earlier} {obj[earlier]}")
    hearings = obj.get("hearings")
    for i, hearing in enumerate(hearings if isinstance(hearings, list) else ()):
        if isinstance(hearing, dict) and is_iso_date(hearing.get("start")) and is_iso_date(hearing.get("end")):
            start, end = dt.date.fromisoformat(hearing["start"]), dt.date.fromisoformat(hearing["end"])
            if end < start:
                problems.append(f"hearings[{i}]: end {end} is before start {start}")
    return problems
