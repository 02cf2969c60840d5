"""Merging a chain of versions (national first) into one effective rule set that remembers every value's source."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigIssue
from .versions import HEADER_KEYS, RuleSetVersion, Source
from .yaml_source import Path_, dump_path


def parse_path(dotted: str) -> Path_:
    """`time_limits.conclude.days` → ("time_limits", "conclude", "days"); keys never contain dots (schema)."""
    return tuple(dotted.split("."))


def walk_leaves(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every leaf (a scalar, or a list taken whole) under a value, with its path."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from walk_leaves(sub, path + (key,))
    else:
        yield path, value


def get_path(data: Any, path: Path_, default: Any = None) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


@dataclass
class Merged:
    """The merge result: plain data, the source of every leaf, and the issues found while merging."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[Path_, Source] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)
    # The chain-dependent part of EffectiveRuleSet.to_json(), built on first use: every jurisdiction
    # that inherits the same chain (most counties inherit the national one alone) shares it.
    json_parts: dict[str, Any] | None = field(default=None, repr=False, compare=False)


def merge_chain(chain: Sequence[RuleSetVersion]) -> Merged:
    """Mappings merge key by key; scalars and lists replace; `remove` deletes inherited keys explicitly.

    Everything placed in the result is a copy, so merging mutates only the result, never a version's data.
    """
    merged = Merged()
    for version in chain:
        _apply_removals(merged, version)
        for key, value in version.data.items():
            if key not in HEADER_KEYS:
                _merge_value(merged, merged.data, key, value, (key,), version)
    return merged


# A step's limit is counted in days or in hours: a level that writes one drops the other's keys it inherits
# (沂南 writing `route: {hours: 16}` under 临沂's `route: {days: 7, unit: calendar}` means 16 hours, nothing else).
_IN_DAYS = ("days", "unit", "by", "extension")
_ALTERNATIVES = {"hours": _IN_DAYS, "days": ("hours",)}


def _merge_value(merged: Merged, target: dict, key: str, value: Any, path: Path_, version: RuleSetVersion) -> None:
    old = target.get(key)
    if isinstance(value, dict) and isinstance(old, dict):
        merged.sources[path] = version.source(path)
        if len(path) >= 2 and path[-2] == "time_limits":
            for written, dropped in _ALTERNATIVES.items():
                if written in value:
                    for other in dropped:
                        if other in old and other not in value:
                            gone = old.pop(other)
                            merged.sources.pop(path + (other,), None)
                            if isinstance(gone, dict):
                                _forget_sources(merged, gone, path + (other,))
        for sub_key, sub_value in value.items():
            _merge_value(merged, old, sub_key, sub_value, path + (sub_key,), version)
        return
    if isinstance(old, dict):
        _forget_sources(merged, old, path)
    target[key] = _copy(value)
    merged.sources[path] = version.source(path)
    if isinstance(value, dict):
        for leaf_path, _ in walk_leaves(value, path):
            merged.sources[leaf_path] = version.source(leaf_path)


def _apply_removals(merged: Merged, version: RuleSetVersion) -> None:
    for index, dotted in enumerate(version.removals):
        path = parse_path(dotted)
        parent = get_path(merged.data, path[:-1])
        if not isinstance(parent, dict) or path[-1] not in parent:
            merged.issues.append(version.issue(
                ("remove", index), f"remove: '{dotted}' is not inherited from the level above, so there is nothing to remove",
                chinese=f"要删除的 {dotted} 不是从上级继承的，没有可删除的内容"))
            continue
        removed = parent.pop(path[-1])
        if isinstance(removed, dict):
            _forget_sources(merged, removed, path)
        merged.sources.pop(path, None)


def _forget_sources(merged: Merged, old: dict, path: Path_) -> None:
    for key, sub in old.items():
        sub_path = path + (key,)
        merged.sources.pop(sub_path, None)
        if isinstance(sub, dict):
            _forget_sources(merged, sub, sub_path)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


__all__ = ["Merged", "merge_chain", "parse_path", "walk_leaves", "get_path", "dump_path"]
