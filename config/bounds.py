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

    def contains(self, path: Path_) -> bool:
        """True when `path` is this bound's path or lies below it (a lock on a mapping locks all it holds)."""
        return len(path) >= len(self.pattern) and all(p in ("*", k) for p, k in zip(self.pattern, path))

    def overlaps(self, other: Bound) -> bool:
        """True when some concrete path matches both bounds' patterns (`tracks.*.x` and `tracks.normal.x`)."""
        return len(self.pattern) == len(other.pattern) and all(
            a == b or "*" in (a, b) for a, b in zip(self.pattern, other.pattern))

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
            if bound.contains(path) and get_path(inherited.data, path, value) != value:
                issues.append(version.issue(path, (
                    f"{dump_path(path)}: {_show(value)} changes a locked item; it is locked at "
                    f"{_show(get_path(inherited.data, path))}, {bound.origin()}{suffix}")))
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
    """A bound of this version may tighten, never loosen, any bound above that covers the same paths.

    Days are compared as values are (see _limit_violation): a working-day max at its longest calendar span
    against a calendar-day max, a calendar-day min at its fewest working days against a working-day min.
    """
    issues = []
    for mine in own:
        at = ("bounds", mine.dotted)
        is_days = mine.pattern[-1] == "days"
        for theirs in (b for b in ancestor_bounds if b.overlaps(mine)):
            where = "" if theirs.dotted == mine.dotted else f" on {theirs.dotted}"
            if "max" in mine.spec and "max" in theirs.spec:
                high = mine.spec["max"]
                measured = longest_calendar_span(high, mine.unit) if is_days and theirs.unit == "calendar" else high
                if measured > theirs.spec["max"]:
                    what = f"{high} working days (up to {measured} calendar days)" if measured != high else str(high)
                    issues.append(version.issue(at, f"bounds.{mine.dotted}: max {what} loosens the bound of "
                                                    f"{theirs.spec['max']}{where}, {theirs.origin()}", at_key=True))
            if "min" in mine.spec and "min" in theirs.spec:
                low = mine.spec["min"]
                measured = fewest_working_days(low, mine.unit) if is_days and theirs.unit == "working" else low
                if measured < theirs.spec["min"]:
                    what = f"{low} calendar days (as few as {measured} working days)" if measured != low else str(low)
                    issues.append(version.issue(at, f"bounds.{mine.dotted}: min {what} loosens the bound of "
                                                    f"{theirs.spec['min']}{where}, {theirs.origin()}", at_key=True))
            if theirs.spec.get("locked") and mine.spec.get("locked") is False:
                issues.append(version.issue(at, f"bounds.{mine.dotted}: cannot unlock an item locked "
                                                f"{theirs.origin()}", at_key=True))
    return issues


def _show(value: Any) -> str:
    """A value as it is written in YAML (true, not True), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)
