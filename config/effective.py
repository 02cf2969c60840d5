"""The effective rule set of one jurisdiction on one date: merged values, their sources, the bounds in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .bounds import Bound
from .inheritance import Merged, get_path, parse_path, walk_leaves
from .jurisdictions import Jurisdiction
from .versions import RuleSetVersion, Source
from .yaml_source import dump_path


class NoRuleSetInForce(LookupError):
    """No national version is in force on the date asked, so nothing can be inherited."""


@dataclass(frozen=True)
class EffectiveRuleSet:
    """What applies in a jurisdiction on a date. `data` is shared between jurisdictions: never mutate it."""

    jurisdiction: Jurisdiction
    at: dt.date
    chain: tuple[RuleSetVersion, ...]
    merged: Merged
    bounds: tuple[Bound, ...]

    @property
    def data(self) -> dict[str, Any]:
        return self.merged.data

    @property
    def version_label(self) -> str:
        """Names exactly the versions merged, e.g. `000000@2022.1+370000@2016.1+371321@2024.1`: what a case pins."""
        return "+".join(v.label for v in self.chain)

    @property
    def own_version(self) -> RuleSetVersion | None:
        """The jurisdiction's own version in force, if it has one (else it inherits everything)."""
        last = self.chain[-1]
        return last if last.code == self.jurisdiction.code else None

    def get(self, dotted: str, default: Any = None) -> Any:
        return get_path(self.data, parse_path(dotted), default)

    def source_of(self, dotted: str) -> Source | None:
        return self.merged.sources.get(parse_path(dotted))

    def written_at(self, dotted: str) -> Source | None:
        """Where an item was written: its source, or, for a mapping that only has sources for its entries
        (one placed whole inside a new section, such as a national escalation step or a track's `when`),
        its first entry."""
        path = parse_path(dotted)
        found = self.merged.sources.get(path)
        if found is None:
            inside = [s for p, s in self.merged.sources.items() if p[:len(path)] == path]
            found = min(inside, key=lambda s: (s.file, s.line, s.col), default=None)
        return found

    def to_json(self) -> dict[str, Any]:
        """The `xinfang resolve` output: the rule set, then the source of every value and the bounds in force.

        The top level is new on each call; the values under `chain`, `ruleset`, `sources` and `bounds` are
        built once per chain of versions and shared by every jurisdiction inheriting it: never mutate them.
        """
        j = self.jurisdiction
        parts = self.merged.json_parts
        if parts is None:
            parts = self.merged.json_parts = self._chain_json()
        return {
            "jurisdiction": {"code": j.code, "name": j.name, "level": j.level, "parent": j.parent},
            "at": self.at.isoformat(),
            "ruleset_version": self.version_label,
            "inherits": self.own_version is None,
            **parts,
        }

    def _chain_json(self) -> dict[str, Any]:
        """The parts of to_json() that depend on the chain of versions only (the same chain, the same merge)."""
        return {
            "chain": [{"jurisdiction": v.code, "name": v.name, "version": v.version,
                       "effective_from": v.effective_from.isoformat(),
                       "effective_until": v.effective_until.isoformat() if v.effective_until else None,
                       "title": v.data.get("title"), "file": v.file} for v in self.chain],
            "ruleset": _jsonable(self.data),
            "sources": {dump_path(path): self.merged.sources[path].to_json()
                        for path, _ in walk_leaves(self.data) if path in self.merged.sources},
            "bounds": [{"path": b.dotted, **_jsonable(b.spec), "set_by": b.version.label,
                        "file": b.version.file, "line": b.version.key_position(("bounds", b.dotted)).line}
                       for b in self.bounds],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
