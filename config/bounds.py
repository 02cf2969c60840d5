"""Superior-law checks: the bounds and locks a level imposes on every level below it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .assessment import check_assessment
from .errors import ConfigIssue
from .inheritance import Merged, get_path, parse_path, walk_leaves
from .limit_holders import limit_holders, own_limits_holder, split_at_holder
from .procedure import ALL_STEPS, EXTENSIONS, step
from .versions import HEADER_KEYS, RuleSetVersion
from .yaml_source import Path_, dump_path

# The levels whose rule sets state law that may provide an extension: the national regulation and a province's
# (a 地方性法规 such as 《北京市信访条例》, whose Art. 40 lets review be extended by 30 days).
LAW_GIVING_LEVELS = frozenset({"national", "province"})
# The longest run of rest days a working-day period can meet besides weekends (Spring Festival, National Day).
LONGEST_HOLIDAY_RUN = 7


@dataclass(frozen=True)
class Bound:
    """One entry of a `bounds` section, with the version that set it.

    `places` are the path patterns it binds: its own, and for a bound on the rule set's own
    `time_limits`, the same step in every holder the format has (tracks, mediation tiers: see
    limit_holders.py). `unit` is the unit of the law that sets it: the bound's `unit`, else the unit
    of the limit in force at the bounding level on that path (a floor of "5 working days" is written
    next to a limit of 5 working days), else calendar days.
    """

    dotted: str
    pattern: Path_
    spec: dict[str, Any]
    version: RuleSetVersion
    places: tuple[Path_, ...]
    unit: str

    def origin(self) -> str:
        pos = self.version.key_position(("bounds", self.dotted))
        return (f"set by {self.version.name} ({self.version.label}) at {pos.file}:{pos.line}, "
                f"{self.spec.get('basis', 'no basis given')}")

    def origin_zh(self) -> str:
        """临沂市2023年版规定，《信访工作条例》第三十四条: who set the bound and on what basis, in the officer's words."""
        return f"{self.version.display_name}规定，依据{self.spec.get('basis') or '未写明'}"

    def matches(self, path: Path_) -> bool:
        return any(_matches(place, path) for place in self.places)

    def contains(self, path: Path_) -> bool:
        """True when `path` is a path this bound binds or lies below one (a lock on a mapping locks all it holds)."""
        return any(_contains(place, path) for place in self.places)

    def overlaps(self, other: Bound) -> bool:
        """True when some concrete path is bound by both (`tracks.*.x` and `tracks.normal.x`; `time_limits.x`
        and `tracks.normal.time_limits.x`)."""
        return any(_overlap(a, b) for a in self.places for b in other.places)

    def covers(self, path: Path_) -> bool:
        """True when `path` is this bound's own path or lies above or below it (removing a parent removes the value).

        Only the bound's own pattern: removing a track's limit leaves the bounded limit of the rule set in force.
        """
        n = min(len(path), len(self.pattern))
        return _matches(self.pattern[:n], path[:n])


def _matches(pattern: Path_, path: Path_) -> bool:
    return len(path) == len(pattern) and all(p in ("*", k) for p, k in zip(pattern, path))


def _contains(pattern: Path_, path: Path_) -> bool:
    return len(path) >= len(pattern) and all(p in ("*", k) for p, k in zip(pattern, path))


def _overlap(a: Path_, b: Path_) -> bool:
    return len(a) == len(b) and all(x == y or "*" in (x, y) for x, y in zip(a, b))


def bound_places(pattern: Path_) -> tuple[Path_, ...]:
    """The path patterns a bound written at `pattern` binds, its own first: a bound on the rule set's own
    `time_limits` binds the step wherever the format lets a limit be written; any other bound, its path."""
    own = own_limits_holder()
    if pattern[:len(own)] != own:
        return (pattern,)
    rest = pattern[len(own):]
    return tuple(holder + rest for holder in limit_holders())


def collect_bounds(chain: Sequence[RuleSetVersion]) -> list[Bound]:
    """The bounds the versions of a chain (national first) set, in chain order."""
    datas = [version.data for version in chain]
    return [_bound(dotted, spec, version, datas[:i + 1])
            for i, version in enumerate(chain) for dotted, spec in version.own_bounds.items()]


def _bound(dotted: str, spec: dict[str, Any], version: RuleSetVersion, datas: Sequence[dict[str, Any]]) -> Bound:
    """A bound of `version`; `datas` are the rule sets in force at its level, the nearest last (for its unit)."""
    pattern = parse_path(dotted)
    return Bound(dotted, pattern, spec, version, bound_places(pattern), _law_unit(spec, pattern, datas))


def _law_unit(spec: dict[str, Any], pattern: Path_, datas: Sequence[dict[str, Any]]) -> str:
    """The unit a bound counts in: its own, else that of the limit in force at its level on its path."""
    if "unit" in spec:
        return spec["unit"]
    if pattern[-1:] == ("days",) and "*" not in pattern:
        for data in reversed(datas):
            unit = get_path(data, pattern[:-1] + ("unit",))
            if unit is not None:
                return unit
    return "calendar"


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
    own = [_bound(dotted, spec, version, [merged.data]) for dotted, spec in version.own_bounds.items()]
    suffix = f" (in force from {when})" if when else ""
    issues += _check_locks(version, ancestor_bounds, inherited, merged, suffix)
    issues += _check_limits(version, ancestor_bounds + own, merged, suffix)
    issues += _check_loosening(version, ancestor_bounds, own)
    issues += _check_new_extensions(version, ancestor_bounds)
    issues += check_assessment(version, inherited, merged)
    return issues


def _own_leaves(version: RuleSetVersion) -> Iterator[tuple[Path_, Any]]:
    for key, value in version.data.items():
        if key not in HEADER_KEYS:
            yield from walk_leaves(value, (key,))


# What a time limit means by a key it leaves out (a track's limit without `unit` counts calendar days).
_LIMIT_DEFAULTS = {"unit": "calendar"}
_MISSING = object()


def _check_locks(version: RuleSetVersion, bounds: list[Bound], inherited: Merged, merged: Merged,
                 suffix: str) -> list[ConfigIssue]:
    issues = []
    for bound in (b for b in bounds if b.spec.get("locked")):
        for path, value in _own_leaves(version):
            if bound.contains(path):
                locked = _locked_value(bound, path, inherited.data, value)
                if locked != value:
                    issues.append(version.issue(path, (
                        f"{dump_path(path)}: {_show(value)} changes a locked item; it is locked at "
                        f"{_show(locked)}, {bound.origin()}{suffix}"), chinese=(
                        f"改动了上级锁定的事项：这里写的是 {_show(value)}，上级锁定为 {_show(locked)}"
                        f"（{bound.origin_zh()}）")))
        issues += _locks_left_out(version, bound, inherited, merged, suffix)
        issues += _locked_days_in_hours(version, bound, suffix)
        for index, dotted in enumerate(version.removals):
            if bound.covers(parse_path(dotted)):
                issues.append(version.issue(("remove", index), (
                    f"remove: '{dotted}' would remove the locked item {bound.dotted}, {bound.origin()}{suffix}"),
                    chinese=f"删除了上级锁定的事项 {bound.dotted}（{bound.origin_zh()}）"))
    return issues


def _locked_days_in_hours(version: RuleSetVersion, bound: Bound, suffix: str) -> list[ConfigIssue]:
    """A lock on how a step counts its days (`time_limits.objection.unit: {locked: true}`) is broken by writing the
    step in hours, which counts no days at all."""
    if bound.pattern[-1] not in ("days", "unit", "by") or split_at_holder(bound.pattern) is None:
        return []
    issues = []
    for place in bound.places:
        for path in expand(version.data, place[:-1] + ("hours",)):
            issues.append(version.issue(path, (
                f"{dump_path(path)}: a limit in hours replaces {dump_path(place)}, a locked item, "
                f"{bound.origin()}{suffix}"), chinese=(
                f"改按小时计，就改动了上级锁定的按日计算方式（{bound.dotted}，{bound.origin_zh()}）")))
    return issues


def _locked_value(bound: Bound, path: Path_, inherited: dict[str, Any], default: Any) -> Any:
    """The value a lock keeps at `path`: the inherited one, else (in a track or tier) the rule set's own
    limit the lock was written on; `default` when neither exists (an item new here)."""
    found = get_path(inherited, path, _MISSING)
    if found is not _MISSING:
        return found
    split = split_at_holder(path)
    if split is None or _contains(bound.pattern, path):
        return default
    return get_path(inherited, own_limits_holder() + split[1], default)


def _locks_left_out(version: RuleSetVersion, bound: Bound, inherited: Merged, merged: Merged,
                    suffix: str) -> list[ConfigIssue]:
    """A limit this version writes in a track or tier without a locked key means the key's default there."""
    issues = []
    for place in bound.places[1:]:  # the places in tracks and tiers of a lock on the rule set's own limit
        key = place[-1]
        if key not in _LIMIT_DEFAULTS:
            continue
        for limit in expand(version.data, place[:-1]):
            written = get_path(merged.data, limit, {})
            if key in written or written.get("hours") is not None:  # a limit in hours counts no days
                continue
            locked = _locked_value(bound, limit + (key,), inherited.data, _LIMIT_DEFAULTS[key])
            if locked != _LIMIT_DEFAULTS[key]:
                issues.append(version.issue(limit, (
                    f"{dump_path(limit)}: leaving out {key} means {_show(_LIMIT_DEFAULTS[key])}, which changes a "
                    f"locked item; {dump_path(limit + (key,))} is locked at {_show(locked)}, {bound.origin()}{suffix}"),
                    at_key=True, chinese=(f"没有写 {key}，就是 {_show(_LIMIT_DEFAULTS[key])}，改动了上级锁定的事项："
                                          f"上级锁定为 {_show(locked)}（{bound.origin_zh()}）")))
    return issues


def _check_limits(version: RuleSetVersion, bounds: list[Bound], merged: Merged, suffix: str) -> list[ConfigIssue]:
    """Every value a bound binds, wherever the format lets it be written, against the bound.

    A value two bounds of one level bind (`time_limits.conclude.days` and `tracks.*.time_limits.conclude.days`)
    is told once per side, naming the bound written for its place when there is one.
    """
    issues = []
    bound_at = [(place != bound.pattern, path, bound) for bound in bounds if "max" in bound.spec or "min" in bound.spec
                for place in bound.places for counted in _counted_as(place) for path in expand(merged.data, counted)]
    told: set[tuple] = set()
    for _, path, bound in sorted(bound_at, key=lambda entry: entry[0]):
        value = get_path(merged.data, path)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        source = merged.sources.get(path)
        set_here = source is not None and (source.jurisdiction, source.version) == (version.code, version.version)
        if not set_here and bound.version is not version:
            continue  # an inherited value answers to the level that set it
        limit = get_path(merged.data, path[:-1], {})
        if path[-1] != bound.places[0][-1]:  # a limit in hours under a bound in days, or the other way round
            found = _other_measure_violation(path, value, bound, limit)
        else:
            found = _limit_violation(path, value, bound, limit.get("unit"), limit.get("by"))
        if found is None or (path, id(bound.version), found[0]) in told:
            continue
        told.add((path, id(bound.version), found[0]))
        at = path if set_here else ("bounds", bound.dotted)
        inherited_note = "" if set_here else f" (inherited from {source.jurisdiction} {source.version})"
        issues.append(version.issue(at, found[1] + inherited_note + suffix, at_key=not set_here,
                                    chinese=found[2] + ("" if set_here else "（这个数值是从上级继承的）")))
    return issues


def _counted_as(place: Path_) -> tuple[Path_, ...]:
    """A bound on a limit's days binds it written in hours too, and one in hours binds it in days (流转不过夜)."""
    other = {"days": "hours", "hours": "days"}.get(place[-1])
    if other is None or split_at_holder(place) is None:
        return (place,)
    return place, place[:-1] + (other,)


def longest_hours(limit: dict[str, Any]) -> int:
    """How many hours a limit can last at most from the moment the clock starts (received at 00:00).

    In hours: its hours (an end on a rest day moves on, as a calendar-day period's does, Art. 203). In days:
    to the end of its last day at its longest calendar span, or to its `by` hour on that day.
    """
    if limit.get("hours") is not None:
        return int(limit["hours"])
    span = longest_calendar_span(int(limit["days"]), limit.get("unit"))
    by = limit.get("by")
    if by:
        hour, minute = (int(part) for part in str(by).split(":"))
        return span * 24 + hour + (1 if minute else 0)
    return (span + 1) * 24


def _hours_as_days(hours: int, bound: str) -> int:
    """An hours limit measured as days: at most ceil(hours / 24) days after the day received (a max), at least
    hours // 24 whole days (a min), those fewest as working days against a working-day floor."""
    if bound == "max":
        return math.ceil(hours / 24)
    return hours // 24


def _other_measure_violation(path: Path_, value: int, bound: Bound, limit: dict[str, Any]
                             ) -> tuple[str, str, str] | None:
    """A limit written in hours against a bound in days, or in days against a bound in hours."""
    high, low = bound.spec.get("max"), bound.spec.get("min")
    if path[-1] == "hours":
        shown, shown_zh = f"{value} hours", f"{value}小时"
        if high is not None and _hours_as_days(value, "max") > high:
            measured = _hours_as_days(value, "max")
            return "max", (f"{dump_path(path)}: {shown} (up to {_days(measured, 'calendar')}) is above the bound of "
                           f"{_days(high, bound.unit)}, {bound.origin()}"), (
                f"{shown_zh}（最长可达{_days_zh(measured, 'calendar')}）超过上级规定的上限{_days_zh(high, bound.unit)}"
                f"（{bound.origin_zh()}）")
        if low is not None:
            whole = _hours_as_days(value, "min")
            measured = fewest_working_days(whole, "calendar") if bound.unit == "working" else whole
            if measured < low:
                return "min", (f"{dump_path(path)}: {shown} (as few as {_days(measured, bound.unit)}) is below the "
                               f"bound of {_days(low, bound.unit)}, {bound.origin()}"), (
                    f"{shown_zh}（最少只有{_days_zh(measured, bound.unit)}）低于上级规定的下限{_days_zh(low, bound.unit)}"
                    f"（{bound.origin_zh()}）")
        return None
    if high is not None and longest_hours(limit) > high:
        unit = limit.get("unit") or "calendar"
        measured = longest_hours(limit)
        return "max", (f"{dump_path(path)}: {_days(value, unit)} (up to {measured} hours) is above the bound of "
                       f"{high} hours, {bound.origin()}"), (
            f"{_days_zh(value, unit)}（最长可达{measured}小时）超过上级规定的上限{high}小时（{bound.origin_zh()}）")
    return None


def _limit_violation(path: Path_, value: int | float, bound: Bound, value_unit: Any,
                     by: Any = None) -> tuple[str, str, str] | None:
    """("max" or "min", the message, in Chinese) when `value` breaks the bound, compared in the bound's unit.

    A limit in days that ends at an hour of its last day (`by: "09:00"`) counts that day in full against a
    ceiling and not at all against a floor.
    """
    is_days = path[-1] == "days"
    unit = (value_unit or "calendar") if is_days else None

    def shown(count: int | float, counted_in: str | None) -> str:
        return _days(count, counted_in) if is_days else str(count)

    def shown_zh(count: int | float, counted_in: str | None) -> str:
        return _days_zh(count, counted_in) if is_days else str(count)

    high, low = bound.spec.get("max"), bound.spec.get("min")
    if high is not None:
        measured = longest_calendar_span(value, unit) if is_days and bound.unit == "calendar" else value
        if measured > high:
            span = f" (up to {_days(measured, 'calendar')})" if measured != value else ""
            span_zh = f"（最长可达{_days_zh(measured, 'calendar')}）" if measured != value else ""
            return "max", (f"{dump_path(path)}: {shown(value, unit)}{span} is above the bound of "
                           f"{shown(high, bound.unit)}, {bound.origin()}"), (
                f"{shown_zh(value, unit)}{span_zh}超过上级规定的上限{shown_zh(high, bound.unit)}（{bound.origin_zh()}）")
    if low is not None:
        counted = value - 1 if is_days and by and value > 0 else value
        measured = fewest_working_days(counted, unit) if is_days and bound.unit == "working" else counted
        if measured < low:
            span = f" (as few as {_days(measured, bound.unit)})" if measured != value else ""
            span_zh = f"（最少只有{_days_zh(measured, bound.unit)}）" if measured != value else ""
            return "min", (f"{dump_path(path)}: {shown(value, unit)}{span} is below the bound of "
                           f"{shown(low, bound.unit)}, {bound.origin()}"), (
                f"{shown_zh(value, unit)}{span_zh}低于上级规定的下限{shown_zh(low, bound.unit)}（{bound.origin_zh()}）")
    return None


def _days(count: int | float, unit: str | None) -> str:
    """`1 calendar day`, `5 working days`."""
    return f"{count} {unit or 'calendar'} day{'' if count == 1 else 's'}"


def _days_zh(count: int | float, unit: str | None) -> str:
    """`1个自然日`, `5个工作日`."""
    return f"{count}个{'工作日' if unit == 'working' else '自然日'}"


def _check_loosening(version: RuleSetVersion, ancestor_bounds: list[Bound], own: list[Bound]) -> list[ConfigIssue]:
    """A bound of this version may tighten, never loosen, any bound above that binds some of the same paths.

    Days are compared as values are (see _limit_violation): a working-day max at its longest calendar span
    against a calendar-day max, a calendar-day min at its fewest working days against a working-day min.
    Two bounds of one level on the same paths are answered once, naming the one written for the same place.
    """
    issues = []
    for mine in own:
        at = ("bounds", mine.dotted)
        is_days = mine.pattern[-1] == "days"
        told: set[tuple] = set()
        above = sorted((b for b in ancestor_bounds if b.overlaps(mine)),
                       key=lambda b: not _overlap(b.pattern, mine.pattern))  # the one on the same place first
        for theirs in above:
            where = "" if theirs.dotted == mine.dotted else f" on {theirs.dotted}"
            level = id(theirs.version)
            if "max" in mine.spec and "max" in theirs.spec and ("max", level) not in told:
                high = mine.spec["max"]
                measured = longest_calendar_span(high, mine.unit) if is_days and theirs.unit == "calendar" else high
                if measured > theirs.spec["max"]:
                    told.add(("max", level))
                    what = f"{high} working days (up to {measured} calendar days)" if measured != high else str(high)
                    issues.append(version.issue(at, f"bounds.{mine.dotted}: max {what} loosens the bound of "
                                                    f"{theirs.spec['max']}{where}, {theirs.origin()}", at_key=True,
                                                chinese=f"本级的上限 {high} 放宽了上级的上限 {theirs.spec['max']}"
                                                        f"（{theirs.origin_zh()}）：下级只能收紧，不能放宽"))
            if "min" in mine.spec and "min" in theirs.spec and ("min", level) not in told:
                low = mine.spec["min"]
                measured = fewest_working_days(low, mine.unit) if is_days and theirs.unit == "working" else low
                if measured < theirs.spec["min"]:
                    told.add(("min", level))
                    what = f"{low} calendar days (as few as {measured} working days)" if measured != low else str(low)
                    issues.append(version.issue(at, f"bounds.{mine.dotted}: min {what} loosens the bound of "
                                                    f"{theirs.spec['min']}{where}, {theirs.origin()}", at_key=True,
                                                chinese=f"本级的下限 {low} 放宽了上级的下限 {theirs.spec['min']}"
                                                        f"（{theirs.origin_zh()}）：下级只能收紧，不能放宽"))
            if theirs.spec.get("locked") and mine.spec.get("locked") is False:
                issues.append(version.issue(at, f"bounds.{mine.dotted}: cannot unlock an item locked "
                                                f"{theirs.origin()}", at_key=True,
                                            chinese=f"不能解除上级锁定的事项（{theirs.origin_zh()}）"))
    return issues


def _check_new_extensions(version: RuleSetVersion, ancestor_bounds: list[Bound]) -> list[ConfigIssue]:
    """Below the province, an extension of a step is admitted only where a law above provides and bounds one.

    An extension lengthens the limit the law sets; the national regulation provides one for handling
    (Art. 34, `time_limits.extension`), a province's law may provide others (BJ Art. 40: review). A
    city, county or township writing an extension no level above bounds would loosen the step.
    """
    if version.level in LAW_GIVING_LEVELS:
        return []
    issues = []
    for path, _ in _own_leaves(version):
        split = split_at_holder(path)
        if split is None or split[1][-2:] != ("extension", "days"):
            continue
        if not any("max" in bound.spec and bound.matches(path) for bound in ancestor_bounds):
            step_name = EXTENSIONS.get(split[1][0], split[1][0])
            issues.append(version.issue(path, (
                f"{dump_path(path)}: no level above provides an extension of {step_name}, so none may be written here: "
                f"an extension is provided, and bounded, by the national regulation or a province's law "
                f"(《信访工作条例》第三十四条: handling; 《北京市信访条例》第四十条: review)"), chinese=(
                f"上级没有规定“{step(step_name).label if step_name in ALL_STEPS else step_name}”可以延长，本级不能写延长期限：延长期限由《信访工作条例》"
                f"第三十四条（办理）或省级信访条例（如《北京市信访条例》第四十条：复查）规定并限定")))
    return issues


def _show(value: Any) -> str:
    """A value as it is written in YAML (true, not True), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)
