"""Rule-set files into the database (jurisdictions and published versions, exact text) and back out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import ConfigError, RuleSetLibrary, RuleSetVersion
from xinfang.config.yaml_source import load_yaml
from xinfang.server.store import db
from xinfang.server.store.models import AuditLog, Jurisdiction, RuleSetVersionRecord, content_hash

__all__ = ["ImportConflict", "ImportReport", "ensure_database", "export_version", "import_library",
           "version_text", "write_version"]

IMPORT_ACTOR = "xinfang-import"


class ImportConflict(Exception):
    """Rule-set files that disagree with versions already published in the database; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    jurisdictions_added: list[str] = field(default_factory=list)
    jurisdictions_updated: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    versions_present: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.jurisdictions_added or self.jurisdictions_updated or self.versions_added)

    def __str__(self) -> str:
        if not self.changed:
            return f"rule sets: all {len(self.versions_present)} versions already in the database"
        parts = [f"imported {len(self.versions_added)} rule-set versions"]
        if self.versions_added:
            parts[0] += " (" + ", ".join(self.versions_added) + ")"
        parts.append(f"{len(self.versions_present)} already present")
        parts.append(f"{len(self.jurisdictions_added)} jurisdictions added")
        if self.jurisdictions_updated:
            parts.append(f"{len(self.jurisdictions_updated)} updated")
        return "rule sets: " + ", ".join(parts)


def version_text(version: RuleSetVersion) -> str:
    """The exact text of a version's file, checked to still be the document the library validated.

    Decoded as UTF-8 without newline translation, so encoding it again gives the file's bytes.
    """
    file = version.file
    try:
        raw = Path(file).read_bytes()
    except OSError as err:
        raise ImportConflict([f"{file}: cannot read the rule-set file: {err.strerror or err}"]) from None
    text = raw.decode("utf-8")  # load_yaml accepted this file, so it is UTF-8
    try:
        reread = load_yaml(file, text=text).data
    except ConfigError as err:
        reread = err
    if reread != version.data:
        raise ImportConflict([f"{file}: the file changed after the rule sets were loaded and validated; "
                              f"load them again"])
    return text


def import_library(session: Session, library: RuleSetLibrary, *, actor: str = IMPORT_ACTOR) -> ImportReport:
    """Store the library's jurisdictions (with every ancestor) and versions, each with its exact YAML text.

    Idempotent: what is already stored with the same text is left alone. A file whose text differs
    from the version published under the same jurisdiction and version label, or a new version
    starting the same day as a stored one, raises ImportConflict before anything is written.
    The caller commits.
    """
    report = ImportReport()
    versions = sorted(library.all_versions(), key=lambda v: (v.code, v.effective_from))
    stored = {(r.jurisdiction_code, r.version): r for r in session.scalars(select(RuleSetVersionRecord))}
    starts = {(r.jurisdiction_code, r.effective_from): r for r in stored.values()}
    problems: list[str] = []
    new: list[tuple[RuleSetVersion, str, str]] = []
    for version in versions:
        try:
            text = version_text(version)
        except ImportConflict as err:
            problems += err.problems
            continue
        digest = content_hash(text)
        record = stored.get((version.code, version.version))
        if record is None:
            clash = starts.get((version.code, version.effective_from))
            if clash is not None:
                problems.append(
                    f"{version.file}: version {version.label} starts on {version.effective_from}, the same day as "
                    f"{clash.label}, already published in the database: two versions would be in force that day")
            else:
                new.append((version, text, digest))
        elif record.content_hash != digest:
            problems.append(
                f"{version.file}: {version.label} is already published with different content "
                f"(sha256 {record.content_hash[:12]}…, the file has {digest[:12]}…); published versions are "
                f"immutable: give the changed rule set a new version label and effective date")
        else:
            report.versions_present.append(version.label)
    if problems:
        raise ImportConflict(problems)

    _store_jurisdictions(session, library, report)
    for version, text, digest in new:
        data = version.data
        session.add(RuleSetVersionRecord(
            jurisdiction_code=version.code, version=version.version, effective_from=version.effective_from,
            effective_until=version.effective_until, title=data.get("title"), change_note=data.get("change_note"),
            yaml_text=text, content_hash=digest, author=actor, approver=actor))
        report.versions_added.append(version.label)
    if report.changed:
        session.add(AuditLog(actor=actor, action="import_rulesets", object_type="ruleset_library", object_id="-",
                             detail={"versions_added": report.versions_added,
                                     "jurisdictions_added": report.jurisdictions_added,
                                     "jurisdictions_updated": report.jurisdictions_updated}))
    session.flush()
    return report


def _store_jurisdictions(session: Session, library: RuleSetLibrary, report: ImportReport) -> None:
    """The jurisdictions with rule sets and their ancestors, parents before children."""
    wanted = {j.code: j for code in library.codes() for j in library.tree.ancestors(code)}
    stored = {j.code: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(wanted)))}
    for code, j in sorted(wanted.items(), key=lambda item: len(library.tree.ancestors(item[0]))):
        row = stored.get(code)
        if row is None:
            session.add(Jurisdiction(code=j.code, name=j.name, level=j.level, parent_code=j.parent))
            report.jurisdictions_added.append(code)
        elif (row.name, row.level, row.parent_code) != (j.name, j.level, j.parent):
            row.name, row.level, row.parent_code = j.name, j.level, j.parent
            report.jurisdictions_updated.append(code)
        session.flush()  # parents exist before their children refer to them


def export_version(session: Session, code: str, version: str) -> str:
    """The exact YAML text of a published version; raises LookupError when there is none."""
    text = session.scalar(select(RuleSetVersionRecord.yaml_text).where(
        RuleSetVersionRecord.jurisdiction_code == code, RuleSetVersionRecord.version == version))
    if text is None:
        raise LookupError(f"no published rule-set version {code}@{version} in the database")
    return text


def write_version(session: Session, code: str, version: str, path: str | os.PathLike) -> Path:
    """Write a published version to `path`, byte for byte the text it was published with."""
    path = Path(path)
    path.write_bytes(export_version(session, code, version).encode("utf-8"))
    return path


def ensure_database(url: str, library: RuleSetLibrary) -> tuple[db.UpgradeResult, ImportReport]:
    """What `xinfang serve` does first: upgrade the database to the newest schema, import missing rule sets."""
    upgraded = db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            report = import_library(session, library)
    finally:
        engine.dispose()
    return upgraded, report
