"""One version of one jurisdiction's rule set: a loaded YAML document and its header."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import ConfigIssue, Position
from .yaml_source import Path_, YamlDocument

# Keys that describe the document itself; they are never inherited.
HEADER_KEYS = frozenset(
    {"jurisdiction", "version", "effective_from", "effective_until", "title", "basis", "change_note", "remove", "bounds"}
)


@dataclass(frozen=True)
class Source:
    """Where a value of an effective rule set was written: the file position and the version it belongs to."""

    file: str
    line: int
    col: int
    jurisdiction: str
    version: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col} ({self.jurisdiction} {self.version})"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "col": self.col,
                "jurisdiction": self.jurisdiction, "version": self.version}


@dataclass(frozen=True, eq=False)
class RuleSetVersion:
    """A schema-valid rule-set document with its header read out; identity is the object itself."""

    doc: YamlDocument
    code: str
    version: str
    effective_from: dt.date
    effective_until: dt.date | None

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def name(self) -> str:
        return self.doc.data["jurisdiction"].get("name", "")

    @property
    def level(self) -> str:
        return self.doc.data["jurisdiction"]["level"]

    @property
    def declared_parent(self) -> str | None:
        return self.doc.data["jurisdiction"].get("parent")

    @property
    def label(self) -> str:
        """`371321@2024.1`: how decisions and pins name this version."""
        return f"{self.code}@{self.version}"

    @property
    def display_name(self) -> str:
        """沂南县2024年版 (沂南县2024年第2版 for 2024.2): how people and printed notices name the version."""
        year, _, number = self.version.partition(".")
        if not (year.isdigit() and len(year) == 4):
            return f"{self.name}{self.version}版"
        return f"{self.name}{year}年版" if number in ("", "1") else f"{self.name}{year}年第{number}版"

    @property
    def citation(self) -> str:
        """依据《沂南县信访工作实施办法（2024）》: the document, by its title, that a decision rests on."""
        title = str(self.data.get("title") or "").strip("《》")
        return f"《{title}》" if title else self.display_name

    def position(self, path: Path_) -> Position:
        return self.doc.position(path)

    def key_position(self, path: Path_) -> Position:
        return self.doc.key_positions.get(path) or self.doc.position(path)

    def source(self, path: Path_) -> Source:
        pos = self.doc.position(path)
        return Source(pos.file, pos.line, pos.col, self.code, self.version)

    def issue(self, path: Path_, message: str, *, at_key: bool = False, chinese: str = "") -> ConfigIssue:
        return ConfigIssue(self.key_position(path) if at_key else self.position(path), message, chinese)

    def in_force_on(self, day: dt.date, next_from: dt.date | None) -> bool:
        """In force from its effective date until its end date, or until the next version starts."""
        if day < self.effective_from:
            return False
        if self.effective_until is not None and day > self.effective_until:
            return False
        return next_from is None or day < next_from

    @cached_property
    def own_bounds(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.data.get("bounds") or {})

    @cached_property
    def removals(self) -> list[str]:
        return list(self.doc.data.get("remove") or [])


def read_version(doc: YamlDocument, canonical_code) -> RuleSetVersion:
    """Read the header of a schema-valid document (the schema guarantees the keys and their types)."""
    head = doc.data["jurisdiction"]
    return RuleSetVersion(
        doc=doc,
        code=canonical_code(head["code"]),
        version=str(doc.data["version"]),
        effective_from=doc.data["effective_from"],
        effective_until=doc.data.get("effective_until"),
    )
