"""What decide() needs of one effective rule set, read once per version: categories, units, tracks, limits, calendar."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from xinfang.config import EffectiveRuleSet
from xinfang.config.jurisdictions import LEVELS
from xinfang.config.units import named_units

from .calendar import HolidayTable, LegalCalendar, calendar_for
from .compiler import CompiledRuleSet, default_compiler
from .deadlines import Limit, Periods, steps
from .durable_adapter import DurableAdapter
from .guard import guard_routes, place_names

TIER_LEVELS = ("village", "township", "county")
_CACHE_SIZE = 64
_OUTCOMES = 4096  # (rules fired, category) pairs remembered per plan; a few dozen occur in practice


@dataclass(frozen=True, slots=True)
class Category:
    """A category as decide() reads it, the format's defaults filled in (kind appeal, channel petition)."""

    code: str
    kind: str
    channel: str
    unit: str | None
    level: str | None
    keywords: tuple[str, ...]  # in the order the rule set lists them


class Limits(NamedTuple):
    """The limits in force for one track and tier, with the deadline steps they configure."""

    table: dict[str, Limit]
    steps: tuple  # deadlines.steps(table, admissible=True)
    refused_steps: tuple  # deadlines.steps(table, admissible=False)
    extension: Limit | None


class Outcome(NamedTuple):
    """What the rules that fired and the category decide, whatever else the case says: read once per
    such pair and shared, so nothing here is handed out without a copy (decide copies `route` and
    each trace entry's source)."""

    refusals: tuple[str, ...]  # admissibility rule ids, in trace order
    route: dict[str, str]  # before the accused guard, which depends on the case
    entries: tuple[tuple[str, dict], ...]  # (rule, source) of the trace after classify: refusals, the route
    # entries, then the tracks that fired (else the default track) and the tiers
    route_entries: int  # how many entries the refusals and the route take: the guard's entry goes after them
    track: str | None
    tier: str | None
    limits: Limits
    steps: tuple  # limits.steps, or limits.refused_steps when a refusal fired
    flags: tuple[str, ...]  # tier:<id>, not_admissible


@dataclass(eq=False)
class Plan:
    """One effective rule set read for deciding; immutable after construction except its memos (limits,
    outcomes, classifications), which only ever add what the rule set itself determines."""

    effective: EffectiveRuleSet
    compiled: CompiledRuleSet
    adapter: DurableAdapter  # where `compiled` is registered (fetching the default takes the engine's lock)
    periods: Periods  # the rule set's calendar, its period ends memoised
    categories: dict[str, Category]
    default_category: str
    routes: dict[str, dict[str, str]]  # rule id ("route:...") → {"unit", "name", "level"}
    guard_routes: dict[str, dict[str, str]]  # accused unit's level → the discipline body one level up
    places: dict[str, tuple[str, ...]]  # level → names of the case's jurisdiction and its ancestors
    unit_types: dict[str, str | None]  # unit id → type (discipline, competent, ...)
    tracks: list[tuple[str, int]]  # (id, priority) in definition order, those with a `when`
    default_track: str | None
    tiers: list[str]  # ids, lowest level first (Yuanjiang: the lowest level mediates first)
    reasons: dict[str, str]  # admissibility rule id → "reason（basis）"
    max_representatives: tuple[int, str] | None  # (bound, basis)
    sources: dict[str, dict[str, Any]]  # rule id (and "classify:keywords:<code>" ...) → {"file", "line"}
    keyword_categories: dict[str, tuple[str, ...]]  # keyword → the categories listing it, in definition order
    category_index: dict[str, int]  # code → position in definition order
    longer_keywords: dict[str, tuple[str, ...]]  # keyword → the longer keywords that contain it (征地 → 征地拆迁)
    base_limits: dict[str, Limit]
    overrides: dict[str, dict[str, Limit]]  # "track:<id>" / "tier:<id>" → step → Limit
    version_label: str = ""
    _limits: dict[tuple, Limits] = field(default_factory=dict)
    _outcomes: dict[tuple, Outcome] = field(default_factory=dict)
    # decide._classify's memos: matched keywords → those inside longer matched ones; counted keywords → category
    keywords_inside: dict[tuple[str, ...], dict[str, list[str]]] = field(default_factory=dict)
    classified: dict[tuple[str, ...], tuple] = field(default_factory=dict)

    def limits(self, track: str | None, tier: str | None) -> Limits:
        """The rule set's limits, overridden by the track's, then by the tier's (the more local choice)."""
        key = (track, tier)
        found = self._limits.get(key)
        if found is None:
            table = dict(self.base_limits)
            for owner in (f"track:{track}", f"tier:{tier}"):
                table.update(self.overrides.get(owner, {}))
            found = self._limits[key] = Limits(table, steps(table, True), steps(table, False), table.get("extension"))
        return found

    def outcome(self, fired: frozenset[str], category: str) -> Outcome:
        """The Outcome of the rules that fired for a case of `category` (memoised: few pairs ever occur)."""
        key = (fired, category)
        found = self._outcomes.get(key)
        if found is None:
            if len(self._outcomes) >= _OUTCOMES:
                self._outcomes.clear()
            found = self._outcomes[key] = self._read_outcome(fired, category)
        return found

    def _read_outcome(self, fired: frozenset[str], category: str) -> Outcome:
        order = self.compiled.order
        ordered = sorted(fired, key=order.__getitem__)  # admissibility, route, track, tier
        sources = self.sources
        refusals = tuple(r for r in ordered if r.startswith("admissibility:"))
        head = [(r, sources.get(r, {})) for r in refusals]
        routes = [r for r in ordered if r.startswith("route:")]
        head += [(r, sources.get(r, {})) for r in routes]
        # Accusation, litigation, the first local rule, the category's unit, the default (the guard is decide's).
        if routes:
            route = self.routes[routes[0]]
        elif f"route:category:{category}" in self.routes:
            route = self.routes[f"route:category:{category}"]
            head.append(("route:category", sources.get(f"route:category:{category}", {})))
        else:
            route = self.routes["route:default"]
            head.append(("route:default", sources.get("route:default", {})))
        best = None  # the matching track of highest priority (ties: definition order), else the default
        for candidate, priority in self.tracks:
            if f"track:{candidate}" in fired and (best is None or priority > best[1]):
                best = (candidate, priority)
        track = best[0] if best else self.default_track
        tail = [(r, sources.get(r, {})) for r in ordered if r.startswith("track:")]
        if track is not None and f"track:{track}" not in fired:  # no track matched: the default
            tail.append((f"track:{track}", sources.get(f"track:{track}:default", {})))
        tail += [(r, sources.get(r, {})) for r in ordered if r.startswith("tier:")]
        tier = next((t for t in self.tiers if f"tier:{t}" in fired), None)
        limits = self.limits(track, tier)
        flags = ((f"tier:{tier}",) if tier is not None else ()) + (("not_admissible",) if refusals else ())
        return Outcome(refusals, route, tuple(head + tail), len(head), track, tier, limits,
                       limits.refused_steps if refusals else limits.steps, flags)

    def source(self, key: str) -> dict[str, Any]:
        """{"file", "line"} of a rule, a fresh dict each time: decisions are handed out and may be changed."""
        found = self.sources.get(key)
        return dict(found) if found else {}


def _file_line(effective: EffectiveRuleSet, path: str) -> dict[str, Any]:
    """{"file", "line"} where `path` was written (a mapping known by its entries: its first entry)."""
    src = effective.written_at(path)
    return {"file": src.file, "line": src.line} if src else {}


def _where(effective: EffectiveRuleSet, path: str) -> str:
    src = effective.source_of(path)
    return f"{src.file}:{src.line}" if src else path


def _absolute(level: str | None, own: str) -> str:
    """A route level as the format writes it (same, above, or absolute) made absolute for this jurisdiction."""
    if level in (None, "same"):
        return own
    if level == "above":
        return LEVELS[max(LEVELS.index(own) - 1, 0)]
    return level


def _limits(effective: EffectiveRuleSet, table: Mapping[str, Any], prefix: str) -> dict[str, Limit]:
    """Step → Limit of one holder of time limits (a step written in a track or tier replaces the whole step,
    its extension included)."""
    return {step: _limit(effective, spec, f"{prefix}.{step}") for step, spec in (table or {}).items()}


def _limit(effective: EffectiveRuleSet, spec: Mapping[str, Any], path: str) -> Limit:
    if spec.get("hours") is not None:  # 流转不过夜: counted from the time received (rules/calendar.hours_end)
        return Limit(0, "calendar", _where(effective, f"{path}.hours"), str(spec.get("basis") or ""),
                     hours=int(spec["hours"]))
    extension = spec.get("extension")
    by = spec.get("by")
    return Limit(int(spec["days"]), spec.get("unit", "calendar"), _where(effective, f"{path}.days"),
                 str(spec.get("basis") or ""), bool(spec.get("paused_by_hearings", False)),
                 _limit(effective, extension, f"{path}.extension") if extension else None,
                 by=dt.time.fromisoformat(by) if by else None)


def _calendar(data: Mapping[str, Any]) -> LegalCalendar:
    section = data.get("calendar") or {}
    tables = [HolidayTable(int(year), spec.get("rest_days") or (), spec.get("working_days") or ())
              for year, spec in (section.get("holiday_tables") or {}).items()]
    return calendar_for(tables, section.get("extra_rest_days") or (), section.get("extra_working_days") or ())


def build_plan(effective: EffectiveRuleSet) -> Plan:
    data, own = effective.data, effective.jurisdiction.level
    compiler = default_compiler()
    compiled = compiler.compile(effective)
    units = named_units(effective)  # real names: 沂南县's 14 is 临沂市生态环境局沂南县分局, 沅江市's 沅江市生态环境局

    def route(unit: str | None, level: str | None) -> dict[str, str]:
        spec = units.get(unit) or {}
        return {"unit": unit, "name": spec.get("name") or unit, "level": _absolute(level or spec.get("level"), own)}

    classification = data.get("classification") or {}
    categories = {
        str(code): Category(str(code), spec.get("kind", "appeal"), spec.get("channel", "petition"), spec.get("unit"),
                            spec.get("level"), tuple(map(str, spec.get("keywords") or ())))
        for code, spec in (classification.get("categories") or {}).items()}
    routing = data.get("routing") or {}
    routes = {"route:default": route((routing.get("default") or {}).get("unit"),
                                     (routing.get("default") or {}).get("level"))}
    for kind in ("accusation", "litigation"):
        if (routing.get(kind) or {}).get("unit"):
            routes[f"route:{kind}"] = route(routing[kind]["unit"], routing[kind].get("level"))
    for rule_id, path in compiled.paths.items():
        if path.startswith("routing.rules."):
            rule = routing["rules"][path.split(".")[2]]
            routes[rule_id] = route(rule.get("unit"), rule.get("level"))
    for code, category in categories.items():
        if category.unit:
            routes[f"route:category:{code}"] = route(category.unit, category.level)
    tracks_spec = data.get("tracks") or {}
    defaults = [t for t, spec in tracks_spec.items() if spec.get("default")]
    tiers_spec = (data.get("mediation") or {}).get("tiers") or {}
    tiers = sorted((t for t in tiers_spec if f"tier:{t}" in compiled.rules),
                   key=lambda t: TIER_LEVELS.index(tiers_spec[t]["level"]) if tiers_spec[t].get("level")
                   in TIER_LEVELS else len(TIER_LEVELS))
    admissibility = data.get("admissibility") or {}
    reasons = {f"admissibility:{rule}": f"{spec.get('reason', rule)}（{spec['basis']}）" if spec.get("basis")
               else spec.get("reason", rule) for rule, spec in admissibility.items()}
    group = (data.get("intake") or {}).get("group_visit") or {}
    overrides = {f"track:{t}": _limits(effective, spec.get("time_limits"), f"tracks.{t}.time_limits")
                 for t, spec in tracks_spec.items()}
    overrides |= {f"tier:{t}": _limits(effective, spec.get("time_limits"), f"mediation.tiers.{t}.time_limits")
                  for t, spec in tiers_spec.items()}
    paths = dict(compiled.paths) | {"route:guard": "routing.accusation.never_to_accused",
                                    "route:default": "routing.default.unit",
                                    "classify:default": "classification.default_category"}
    for code in categories:
        paths |= {f"classify:given:{code}": f"classification.categories.{code}",
                  f"classify:keywords:{code}": f"classification.categories.{code}.keywords",
                  f"route:category:{code}": f"classification.categories.{code}.unit"}
    paths |= {f"track:{t}:default": f"tracks.{t}.default" for t in defaults}
    sources = {key: _file_line(effective, path) for key, path in paths.items()}
    keyword_categories: dict[str, tuple[str, ...]] = {}
    for code, category in categories.items():
        for word in category.keywords:
            keyword_categories[word] = keyword_categories.get(word, ()) + (code,)
    return Plan(
        effective=effective, compiled=compiled, adapter=compiler.adapter, periods=Periods(_calendar(data)), categories=categories,
        default_category=str(classification.get("default_category", "")), routes=routes,
        guard_routes=guard_routes(effective), places=place_names(effective),
        unit_types={unit: spec.get("type") for unit, spec in units.items()},
        tracks=[(t, int(tracks_spec[t].get("priority", 0))) for t in tracks_spec if f"track:{t}" in compiled.rules],
        default_track=defaults[0] if defaults else None, tiers=tiers, reasons=reasons,
        max_representatives=(int(group["max_representatives"]), group.get("basis", ""))
        if "max_representatives" in group else None,
        version_label=effective.version_label, sources=sources, keyword_categories=keyword_categories,
        category_index={code: i for i, code in enumerate(categories)},
        longer_keywords={w: longer for w in keyword_categories
                         if (longer := tuple(k for k in keyword_categories if w in k and w != k))},
        base_limits=_limits(effective, data.get("time_limits"), "time_limits"),
        overrides=overrides)


_cache: dict[tuple[str, int], tuple[object, Plan]] = {}
_lock = threading.Lock()


def plan_for(effective: EffectiveRuleSet) -> Plan:
    """The plan of an effective rule set, cached by jurisdiction and the identity of its merged data.

    The library merges each chain of versions once, so the merged object stands for the chain.
    """
    merged = effective.merged
    key = (effective.jurisdiction.code, id(merged))
    hit = _cache.get(key)
    if hit is not None and hit[0] is merged:
        return hit[1]
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is merged:
            return hit[1]
        plan = build_plan(effective)
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (merged, plan)
        return plan


def forget(effective: EffectiveRuleSet) -> bool:
    """Drop the plans of a draft's effective rule set and release its engine ruleset (True if freed)."""
    merged = effective.merged
    with _lock:
        for key in [k for k, (m, _) in _cache.items() if m is merged]:
            del _cache[key]
    return default_compiler().release(effective)
