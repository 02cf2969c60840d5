"""The effective rule set as the pages show it: rows of values, each with its sources and the bounds set above."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from xinfang.config import EffectiveRuleSet, JurisdictionTree, Source
from xinfang.config.assessment import DEDUCTIONS, INDICATORS
from xinfang.config.bounds import Bound
from xinfang.config.inheritance import get_path, walk_leaves
from xinfang.config.units import named_units

from . import labels

Path_ = tuple


def short_file(file: str) -> str:
    """`config/rulesets/371321_yinan/2024-01-01.yaml` → `371321_yinan/2024-01-01.yaml`."""
    parts = PurePath(file).parts
    return "/".join(parts[-2:])


@dataclass(frozen=True)
class SourceRef:
    """Where a value was written: 本级 (this jurisdiction) or the name of the level above, and file:line."""

    label: str
    name: str
    code: str
    version: str
    file: str
    line: int
    fields: tuple[str, ...] = ()

    @property
    def own(self) -> bool:
        return self.label == "本级"

    @property
    def location(self) -> str:
        return f"{short_file(self.file)}:{self.line}"

    @property
    def title(self) -> str:
        what = f"（{'、'.join(self.fields)}）" if self.fields else ""
        return f"{self.name} {self.version} 版 · {self.file}:{self.line}{what}"


@dataclass(frozen=True)
class BoundRef:
    """A bound or lock a level sets on the levels below it, with its article and where it is written."""

    path: str
    text: str
    basis: str
    set_by: str
    file: str
    line: int

    @property
    def location(self) -> str:
        return f"{short_file(self.file)}:{self.line}"


@dataclass
class Row:
    """One item of a section: its key, values, sources (main first), the bounds on it, the value above it replaced."""

    key: str
    label: str
    value: Any
    sources: list[SourceRef]
    bounds: list[BoundRef] = field(default_factory=list)
    own_bounds: list[BoundRef] = field(default_factory=list)
    above: Any = None
    children: list[Row] = field(default_factory=list)

    @property
    def source(self) -> SourceRef | None:
        return self.sources[0] if self.sources else None


def bound_text(dotted: str, spec: dict[str, Any]) -> str:
    """`不超过 60 日`, `不少于 5 个工作日`, `锁定，下级不得更改`."""
    unit = " " + labels.label(labels.DAY_UNITS, spec.get("unit", "calendar")) if dotted.endswith(".days") else ""
    parts = []
    if spec.get("locked"):
        parts.append("锁定，下级不得更改")
    if "max" in spec:
        parts.append(f"不超过 {spec['max']}{unit}")
    if "min" in spec:
        parts.append(f"不少于 {spec['min']}{unit}")
    return "；".join(parts) or "限制"


class RuleSetView:
    """Reads an EffectiveRuleSet for display; `parent` is the level above's on the same date (None at the top)."""

    def __init__(self, effective: EffectiveRuleSet, tree: JurisdictionTree, parent: EffectiveRuleSet | None):
        self.effective, self.tree, self.parent = effective, tree, parent
        self.code = effective.jurisdiction.code
        self.data = effective.data

    # Sources, bounds, values above

    def _ref(self, source: Source, fields: tuple[str, ...] = ()) -> SourceRef:
        own = source.jurisdiction == self.code
        name = self.tree.get(source.jurisdiction).name if source.jurisdiction in self.tree else source.jurisdiction
        return SourceRef("本级" if own else name, name, source.jurisdiction, source.version, source.file,
                         source.line, fields)

    def sources(self, prefix: Path_, main: Path_ | None = None) -> list[SourceRef]:
        """The distinct sources of the values under `prefix`, the one of `main` first."""
        leaves = [p for p, _ in walk_leaves(get_path(self.data, prefix), prefix)]
        if main is not None and main in leaves:
            leaves.remove(main)
            leaves.insert(0, main)
        found: dict[tuple, tuple[Source, list[str]]] = {}
        for path in leaves:
            source = self.effective.merged.sources.get(path)
            if source is not None:
                key = (source.jurisdiction, source.version, source.file)
                found.setdefault(key, (source, []))[1].append(".".join(map(str, path[len(prefix):])) or path[-1])
        return [self._ref(source, tuple(fields)) for source, fields in found.values()]

    def _bound_ref(self, bound: Bound) -> BoundRef:
        pos = bound.version.key_position(("bounds", bound.dotted))
        return BoundRef(bound.dotted, bound_text(bound.dotted, bound.spec), bound.spec.get("basis", ""),
                        f"{bound.version.name} {bound.version.version} 版", pos.file, pos.line)

    def bounds(self, prefix: Path_) -> tuple[list[BoundRef], list[BoundRef]]:
        """(bounds set by the levels above on values under `prefix`, bounds this level sets for those below)."""
        leaves = [p for p, _ in walk_leaves(get_path(self.data, prefix), prefix)] or [prefix]
        above, own = [], []
        for bound in self.effective.bounds:
            if any(bound.contains(p) for p in leaves):
                (own if bound.version.code == self.code else above).append(self._bound_ref(bound))
        return above, own

    def above(self, path: Path_) -> Any:
        """The value the level above has at `path`, when this level wrote a different one (else None)."""
        source = self.effective.merged.sources.get(path)
        if self.parent is None or source is None or source.jurisdiction != self.code:
            return None
        value = get_path(self.parent.data, path)
        return value if value != get_path(self.data, path) else None

    def row(self, prefix: Path_, label: str, main: str | None = None, **extra) -> Row:
        main_path = prefix + (main,) if main else None
        above, own = self.bounds(prefix)
        return Row(str(prefix[-1]), label, get_path(self.data, prefix), self.sources(prefix, main_path),
                   above, own, self.above(main_path) if main_path else None, **extra)

    # Sections

    def time_limits(self, prefix: Path_ = ("time_limits",)) -> list[Row]:
        steps = get_path(self.data, prefix) or {}
        return [self.row(prefix + (step,), labels.label(labels.STEPS, step), "days") for step in steps]

    def tracks(self) -> list[Row]:
        tracks = self.data.get("tracks") or {}
        ordered = sorted(tracks, key=lambda k: (-(tracks[k].get("priority") or 0), k))
        return [self.row(("tracks", key), tracks[key].get("name", key), "name",
                         children=self.time_limits(("tracks", key, "time_limits"))) for key in ordered]

    def categories(self) -> list[Row]:
        categories = get_path(self.data, ("classification", "categories")) or {}
        return [self.row(("classification", "categories", code), categories[code].get("name", code), "name")
                for code in sorted(categories)]

    def escalation_steps(self) -> list[Row]:
        steps = get_path(self.data, ("escalation", "steps")) or {}
        return [self.row(("escalation", "steps", key), steps[key].get("name", key), "name") for key in steps]

    def reports(self) -> list[Row]:
        reports = self.data.get("reports") or {}
        return [self.row(("reports", key), reports[key].get("name", key), "name") for key in reports]

    def assessment_items(self, part: str) -> list[Row]:
        """考评 indicators (`part="indicators"`) or deductions, labelled in Chinese."""
        names = INDICATORS if part == "indicators" else DEDUCTIONS
        items = get_path(self.data, ("assessment", part)) or {}
        main = "weight" if part == "indicators" else "points"
        return [self.row(("assessment", part, key), names.get(key, key), main) for key in items]

    def intake_channels(self) -> list[Row]:
        channels = get_path(self.data, ("intake", "channels")) or {}
        return [self.row(("intake", "channels", key), channels[key].get("name", key), "name") for key in channels]

    def intake_fields(self) -> list[Row]:
        fields = get_path(self.data, ("intake", "fields")) or {}
        return [self.row(("intake", "fields", key), fields[key].get("label", key), "label") for key in fields]

    def units(self) -> list[Row]:
        units = named_units(self.effective)  # the names this jurisdiction's cases go to (沂南县教育和体育局)
        return [self.row(("units", key), units[key].get("name") or key, "name") for key in units]

    def routing(self) -> list[Row]:
        routing = self.data.get("routing") or {}
        return [self.row(("routing", key), key, "unit") for key, value in routing.items() if value]

    def admissibility(self) -> list[Row]:
        rules = self.data.get("admissibility") or {}
        return [self.row(("admissibility", key), key, "refuse") for key in rules]

    def leaves(self) -> list[Row]:
        """Every value with its source: nothing of the rule set is left out of the page."""
        rows = []
        set_above = [b for b in self.effective.bounds if b.version.code != self.code]
        for path, value in walk_leaves(self.data):
            source = self.effective.merged.sources.get(path)
            above = [self._bound_ref(b) for b in set_above if b.contains(path)]
            rows.append(Row(".".join(map(str, path)), "", value, [self._ref(source)] if source else [], above,
                            above=self.above(path)))
        return rows

    # Helpers the templates use

    def unit_name(self, key: str | None) -> str:
        if not key:
            return ""
        unit = named_units(self.effective).get(key)
        return unit["name"] if unit and unit.get("name") else key

    def category_name(self, code: str) -> str:
        category = get_path(self.data, ("classification", "categories", code))
        return f"{code} {category['name']}" if category else code

    def field_label(self, key: str) -> str:
        found = get_path(self.data, ("intake", "fields", key))
        return found.get("label", key) if found else key
