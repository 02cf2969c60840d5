"""Where the format lets a step's time limit be written, read from the JSON Schema itself.

Every mapping whose schema is the time-limits definition holds limits: the rule set's own
`time_limits`, each track's and each mediation tier's, and any place the schema adds later. A bound
written on the rule set's own `time_limits` binds the same step in every holder (bounds.py), so a
new holder in the schema is bounded without anyone listing it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from .validate_schema import load_schema
from .yaml_source import Path_

__all__ = ["TIME_LIMITS_REF", "limit_holders", "limit_paths", "own_limits_holder", "split_at_holder"]

TIME_LIMITS_REF = "#/$defs/timeLimits"
ANY_KEY = "*"  # any key of a mapping whose keys the rule set chooses (track ids, tier ids)


@functools.cache
def limit_holders() -> tuple[Path_, ...]:
    """Path patterns of every place a step's limit can be written, the rule set's own first:
    `("time_limits",)`, `("tracks", "*", "time_limits")`, `("mediation", "tiers", "*", "time_limits")`."""
    schema = load_schema()
    found = sorted(set(_holders(schema, schema, (), ())), key=lambda path: (len(path), path))
    return tuple(found)


@functools.cache
def own_limits_holder() -> Path_:
    """The rule set's own `time_limits` (the one holder at the top level): a bound written there binds the
    step in every holder."""
    (own,) = (holder for holder in limit_holders() if len(holder) == 1)
    return own


def limit_paths(step: str) -> tuple[Path_, ...]:
    """Every path pattern where the limit of `step` can be written (`tracks.*.time_limits.route`, ...)."""
    return tuple(holder + (step,) for holder in limit_holders())


def split_at_holder(path: Path_) -> tuple[Path_, Path_] | None:
    """(the holder pattern `path` lies in, the rest below it), or None outside every holder.

    `path` may be concrete (`tracks.fast.time_limits.route.days`) or a pattern (`tracks.*.time_limits`).
    """
    for holder in limit_holders():
        if len(path) >= len(holder) and all(h in (ANY_KEY, k) for h, k in zip(holder, path)):
            return holder, tuple(path[len(holder):])
    return None


def _holders(schema: dict[str, Any], node: Any, path: Path_, refs: tuple[str, ...]) -> Iterator[Path_]:
    """Walk the schema's mappings (properties, any key) and yield the paths whose schema is TIME_LIMITS_REF."""
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if ref == TIME_LIMITS_REF:
        yield path
        return
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref not in refs:
        yield from _holders(schema, schema["$defs"][ref.rsplit("/", 1)[1]], path, refs + (ref,))
    for key, sub in (node.get("properties") or {}).items():
        yield from _holders(schema, sub, path + (key,), refs)
    for sub in [node.get("additionalProperties"), *(node.get("patternProperties") or {}).values()]:
        yield from _holders(schema, sub, path + (ANY_KEY,), refs)
    for combined in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(combined) or ():
            yield from _holders(schema, sub, path, refs)
