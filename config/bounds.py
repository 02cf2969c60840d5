"""Superior-law checks: the bounds and locks a level imposes on every level below it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigIssue
from .inheritance import Merged, get_path, parse_path, walk_leaves
from .versions import HEADER_KEYS, RuleSetVersion
from .yaml_source import Path_, dump_path

# The longest run of rest days a working-day period can meet besides weekends (Spring Festival, National Day).
LONGEST_HOLIDAY_RUN = 7


@dataclass(frozen=True)
class Bound:
    """One entry of a `bounds` section, with the version that set it."""

    dotted: str
    pattern: Path_
    spec: dict[str, Any]
    version: RuleSetVersion

    @property
    def unit(self) -> str:
        return self.spec.get("unit", "calendar")

    def origin(self) -> str:
        pos = self.version.key_position(("bounds", self.dotted))
        return (f"set by {self.version.name} ({self.version.label}) at {pos.file}:{pos.line}, "
                f"{self.spec.get('basis', 'no basis given')}")

    def matches(self, path: Path_) -> bool:
        return len(path) == len(self.pattern) and all(p in ("*", k) for p, k in zip(self.pattern, path))

    def covers(self, path: Path_) -> bool:
        """True when `path` is this bound's path or lies above or below it (removing a parent removes the value)."""
        n = min(len(path), len(self.pattern))
        return all(p in ("*", k) for p, k in zip(self.pattern[:n], path[:n]))


def collect_bounds(chain: Sequence[RuleSetVersion]) -> list[Bound]:
    return [Bound(dotted, parse_path(dotted), spec, version)
            for version in chain for dotted, spec in version.own_bounds.items()]


def longest_calendar_span(days: int, unit: str | None) -> int:
    """Calendar days a period can last at most: a working-day period also spans weekends and a holiday run."""
    if unit != "working":
        return days
    return days + 2 * math.ceil(days / 5) + LONGEST_HOLIDAY_RUN


def fewest_working_days(days: int, unit: str | None) -> int:
    """Working days a period holds at least: a calendar-day period may lose weekends and a holiday run."""
    if unit == "working":
        return days
    return max(0, days - 2 * math.ceil(days / 7) - LONGEST_HOLIDAY_RUN)


def expand(data: Any, pattern: Path_, prefix: Path_ = ()) -> Iterator[Path_]:
    """The concrete paths present in `data` that a pattern with `*` matches."""
    if not pattern:
        yield prefix
        return
    if not isinstance(data, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = data.keys() if head == "*" else ([head] if head in data else [])
    for key in keys:
        yield from expand(data[key], rest, prefix + (key,))


def check_version(version: RuleSetVersion, ancestor_bounds: list[Bound], inherited: Merged, merged: Merged,
                  when: str = "") -> list[ConfigIssue]:
    """Check one version against the bounds in force above it (and its own), given the merges with and without it."""
    issues: list[ConfigIssue] = []
    own = collect_bounds([version])
    suffix = f" (in force from {when})" if when else ""
    issues += _check_locks(version, ancestor_bounds, inherited, suffix)
    issues += _check_limits(version, ancestor_bounds + own, merged, suffix)
    issues += _check_loosening(version, ancestor_bounds, own)
    return issues


def _own_leaves(version: RuleSetVersion) -> Iterator[tuple[Path_, Any]]:
    for key, value in version.data.items():
        if key not in HEADER_KEYS:
            yield from walk_leaves(value, (key,))


def _check_locks(version: RuleSetVersion, bounds: list[Bound], inherited: Merged, suffix: str) -> list[ConfigIssue]:
    issues = []
    for bound in (b for b in bounds if b.spec.get("locked")):
        for path, value in _own_leaves(version):
            if bound.matches(path) and get_path(inherited.data, path, value) != value:
                issues.append(version.issue(path, (
                    f"{dump_path(path)}: {value!r} changes a locked item; it is locked at "
                    f"{get_path(inherited.data, path)!r}, {bound.origin()}{suffix}")))
        for index, dotted in enumerate(version.removals):
            if bound.covers(parse_path(dotted)):
                issues.append(version.issue(("remove", index), (
                    f"remove: '{dotted}' would remove the locked item {bound.dotted}, {bound.origin()}{suffix}")))
    return issues


def _check_limits(version: RuleSetVersion, bounds: list[Bound], merged: Merged, suffix: str) -> list[ConfigIssue]:
    issues = []
    for bound in (b for b in bounds if "max" in b.spec or "min" in b.spec):
        for path in expand(merged.data, bound.pattern):
            value = get_path(merged.data, path)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            source = merged.sources.get(path)
            set_here = source is not None and (source.jurisdiction, source.version) == (version.code, version.version)
            if not set_here and bound.version is not version:
                continue  # an inherited value answers to the level that set it
            message = _limit_violation(path, value, bound, get_path(merged.data, path[:-1] + ("unit",)))
            if message:
                at = path if set_here else ("bounds", bound.dotted)
                inherited_note = "" if set_here else f" (inherited from {source.jurisdiction} {source.version})"
                issues.append(version.issue(at, message + inherited_note + suffix, at_key=not set_here))
    return issues


def _limit_violation(path: Path_, value: int | float, bound: Bound, value_unit: Any) -> str | None:
    is_days = path[-1] == "days"
    unit = value_unit if is_days else None
    noun = f" {unit or 'calendar'} days" if is_days else ""
    high, low = bound.spec.get("max"), bound.spec.get("min")
    if high is not None:
        measured = longest_calendar_span(value, unit) if is_days and bound.unit == "calendar" else value
        if measured > high:
            span = f" (up to {measured} calendar days)" if measured != value else ""
            return f"{dump_path(path)}: {value}{noun}{span} is above the bound of {high}, {bound.origin()}"
    if low is not None:
        measured = fewest_working_days(value, unit) if is_days and bound.unit == "working" else value
        if measured < low:
            span = f" (as few as {measured} working days)" if measured != value else ""
            return f"{dump_path(path)}: {value}{noun}{span} is below the bound of {low}, {bound.origin()}"
    return None


def _check_loosening(version: RuleSetVersion, ancestor_bounds: list[Bound], own: list[Bound]) -> list[ConfigIssue]:
    issues = []
    for mine in own:
        at = ("bounds", mine.dotted)
        for theirs in (b for b in ancestor_bounds if b.dotted == mine.dotted):
            if "max" in mine.spec and "max" in theirs.spec and mine.spec["max"] > theirs.spec["max"]:
                issues.append(version.issue(at, f"bounds.{mine.dotted}: max {mine.spec['max']} loosens the bound of "
                                                f"{theirs.spec['max']}, {theirs.origin()}", at_key=True))
            if "min" in mine.spec and "min" in theirs.spec and mine.spec["min"] < theirs.spec["min"]:
                issues.append(version.issue(at, f"bounds.{mine.dotted}: min {mine.spec['min']} loosens the bound of "
                                                f"{theirs.spec['min']}, {theirs.origin()}", at_key=True))
            if theirs.spec.get("locked") and mine.spec.get("locked") is False:
                issues.append(version.issue(at, f"bounds.{mine.dotted}: cannot unlock an item locked "
                                                f"{theirs.origin()}", at_key=True))
    return issues
