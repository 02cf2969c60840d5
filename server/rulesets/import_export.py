"""Rule-set files into the database (jurisdictions and published versions, exact text) and back out."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import ConfigError, RuleSetLibrary, RuleSetVersion, bundled_rules_dir, canonical_code
from xinfang.config.library import display_name, find_ruleset_files
from xinfang.config.yaml_source import load_yaml
from xinfang.server.store import db
from xinfang.server.store.models import AuditLog, Jurisdiction, RuleSetVersionRecord, content_hash

from .library_store import published_library

__all__ = ["Conflict", "ExportRefused", "FilesOverPublished", "ImportConflict", "ImportReport", "ensure_database",
           "export_path", "export_version", "files_over_published", "import_files", "import_library",
           "published_versions", "version_text", "write_version", "write_versions"]

IMPORT_ACTOR = "xinfang-import"


class ImportConflict(Exception):
    """Rule-set files that disagree with versions already published in the database, or are not valid over
    them; nothing was imported. `problems` are the lines to show, each naming the file (and line)."""

    code = "import_refused"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Conflict:
    """A file that would change a published version: `file:line` and the published version it disagrees with."""

    file: str
    line: int
    published: str  # the label of the published version, `371321@2024.1`
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ImportReport:
    jurisdictions_added: list[str] = field(default_factory=list)
    jurisdictions_updated: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    versions_present: list[str] = field(default_factory=list)
    kept: list[Conflict] = field(default_factory=list)  # files left out: their published version stays in force

    @property
    def changed(self) -> bool:
        return bool(self.jurisdictions_added or self.jurisdictions_updated or self.versions_added)

    def __str__(self) -> str:
        kept = (f", {len(self.kept)} changed file(s) not imported: the published versions stay in force"
                if self.kept else "")
        if not self.changed:
            return f"rule sets: all {len(self.versions_present)} versions already in the database" + kept
        parts = [f"imported {len(self.versions_added)} rule-set versions"]
        if self.versions_added:
            parts[0] += " (" + ", ".join(self.versions_added) + ")"
        parts.append(f"{len(self.versions_present)} already present")
        parts.append(f"{len(self.jurisdictions_added)} jurisdictions added")
        if self.jurisdictions_updated:
            parts.append(f"{len(self.jurisdictions_updated)} updated")
        return "rule sets: " + ", ".join(parts) + kept


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
    new, present, conflicts, problems = _sort_out(session, library.all_versions())
    if conflicts or problems:
        raise ImportConflict(problems + [str(c) for c in conflicts])
    return _store(session, library, new, present, actor=actor)


@dataclass
class FilesOverPublished:
    """Rule-set files read over the versions published in a database, as `xinfang import` would store them."""

    library: RuleSetLibrary  # the published versions with the files' in place
    new: list[tuple[RuleSetVersion, str]]  # file versions not published yet, with their exact text
    present: list[RuleSetVersion]  # file versions published with the same text
    conflicts: list[Conflict]  # file versions that would change a published one
    problems: list[str]  # everything else wrong with the files: issues at file:line:col, unreadable files

    @property
    def refusals(self) -> list[str]:
        return self.problems + [str(c) for c in self.conflicts]


def files_over_published(session: Session, paths: Iterable[str | os.PathLike]) -> FilesOverPublished:
    """The files under `paths` checked as `xinfang validate` checks them, the published versions as the levels
    above (a county folder on its own is enough), and sorted into new, already published and conflicting.

    Writes nothing: `xinfang resolve --rules DIR --database URL` decides with the library it gives.
    """
    paths = list(paths)
    published = published_library(session)
    library, issues = RuleSetLibrary.collect(paths, background=published if published is not None else ())
    names = {display_name(f) for f in find_ruleset_files(paths)}
    new, present, conflicts, problems = _sort_out(session, [v for v in library.all_versions() if v.file in names])
    return FilesOverPublished(library, new, present, conflicts, [str(i) for i in issues] + problems)


def import_files(session: Session, paths: Iterable[str | os.PathLike], *, keep_published: bool = False,
                 actor: str = IMPORT_ACTOR) -> ImportReport:
    """`xinfang import DIR`: the rule-set files under `paths` as published versions; the caller commits.

    Refused as a whole (ImportConflict, nothing written) when a file is not valid over the published
    versions or would change one. With `keep_published` (what `xinfang serve` does at start) a file
    that would change a published version is left out instead, listed in the report's `kept`: the
    database is the record of what is in force, and an edited bundled file does not stop the clerks.
    """
    paths = list(paths)
    files = find_ruleset_files(paths)
    over = files_over_published(session, paths)
    kept: list[Conflict] = []
    if keep_published and over.conflicts:
        kept = over.conflicts
        left_out = {c.file for c in kept}
        rest = [f for f in files if display_name(f) not in left_out]
        over = files_over_published(session, rest) if rest else None
    report = ImportReport(kept=kept)
    if over is None:
        return report
    if over.refusals:
        raise ImportConflict(over.refusals)
    stored = _store(session, over.library, over.new, over.present, actor=actor)
    stored.kept = kept
    return stored


def _sort_out(session: Session, versions: Iterable[RuleSetVersion]
              ) -> tuple[list[tuple[RuleSetVersion, str]], list[RuleSetVersion], list[Conflict], list[str]]:
    """Versions read from files against the stored ones: new (with their text), present, conflicting, unreadable."""
    stored = {(r.jurisdiction_code, r.version): r for r in session.scalars(select(RuleSetVersionRecord))}
    starts = {(r.jurisdiction_code, r.effective_from): r for r in stored.values()}
    new: list[tuple[RuleSetVersion, str]] = []
    present: list[RuleSetVersion] = []
    conflicts: list[Conflict] = []
    problems: list[str] = []
    for version in sorted(versions, key=lambda v: (v.code, v.effective_from)):
        try:
            text = version_text(version)
        except ImportConflict as err:
            problems += err.problems
            continue
        record = stored.get((version.code, version.version))
        if record is None:
            clash = starts.get((version.code, version.effective_from))
            if clash is None:
                new.append((version, text))
            else:
                conflicts.append(Conflict(
                    version.file, version.position(("effective_from",)).line, clash.label,
                    f"version {version.label} starts on {version.effective_from}, the same day as {clash.label}, "
                    f"already published in the database: two versions would be in force that day"))
        elif record.content_hash != content_hash(text):
            conflicts.append(Conflict(
                version.file, _first_difference(text, record.yaml_text), record.label,
                f"{version.label} is already published with different content (published "
                f"{record.published_at:%Y-%m-%d} by {record.approver}; the file first differs from it on this "
                f"line); published versions are immutable: give the changed rule set a new version label "
                f"and effective date (`xinfang export {version.code} --version {version.version}` writes the "
                f"published text)"))
        else:
            present.append(version)
    return new, present, conflicts, problems


def _first_difference(text: str, published: str) -> int:
    """The first line of `text` that is not the same line of `published` (1-based, at most its last line)."""
    ours, theirs = text.splitlines(keepends=True), published.splitlines(keepends=True)
    for number, (line, other) in enumerate(zip(ours, theirs), 1):
        if line != other:
            return number
    return max(1, min(len(ours), len(theirs) + 1))


def _store(session: Session, library: RuleSetLibrary, new: list[tuple[RuleSetVersion, str]],
           present: list[RuleSetVersion], *, actor: str) -> ImportReport:
    """Write the new versions (and the jurisdictions of the library) as published; audited once."""
    report = ImportReport(versions_present=[v.label for v in present])
    _store_jurisdictions(session, library, report)
    for version, text in new:
        data = version.data
        session.add(RuleSetVersionRecord(
            jurisdiction_code=version.code, version=version.version, effective_from=version.effective_from,
            effective_until=version.effective_until, title=data.get("title"), change_note=data.get("change_note"),
            yaml_text=text, content_hash=content_hash(text), author=actor, approver=actor))
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


class ExportRefused(LookupError):
    """What `xinfang export` cannot do as asked: nothing published under that code or label, several versions
    for one text, a different file where a version would be written."""

    code = "export_refused"


def published_versions(session: Session, code: str, version: str | None = None) -> list[RuleSetVersionRecord]:
    """The published versions of jurisdiction `code` (only the one labelled `version` if given), oldest first.

    Raises ValueError for a code that is not a GB/T 2260 code, ExportRefused when nothing matches.
    """
    code = canonical_code(code)
    records = list(session.scalars(select(RuleSetVersionRecord).where(RuleSetVersionRecord.jurisdiction_code == code)
                                   .order_by(RuleSetVersionRecord.effective_from)))
    chosen = [r for r in records if version is None or r.version == version]
    if not chosen:
        published = f" (published: {', '.join(r.version for r in records)})" if records else ""
        what = f"rule-set version {code}@{version}" if version is not None else f"rule-set version of {code}"
        raise ExportRefused(f"no published {what} in the database{published}")
    return chosen


def export_version(session: Session, code: str, version: str | None = None) -> str:
    """The exact YAML text of a published version (`version` may be left out when `code` has only one)."""
    records = published_versions(session, code, version)
    if len(records) > 1:
        raise ExportRefused(f"{records[0].jurisdiction_code} has {len(records)} published versions "
                            f"({', '.join(r.version for r in records)}): choose one with --version, "
                            f"or write them all with --out DIR")
    return records[0].yaml_text


def write_version(session: Session, code: str, version: str, path: str | os.PathLike) -> Path:
    """Write a published version to `path`, byte for byte the text it was published with."""
    path = Path(path)
    path.write_bytes(export_version(session, code, version).encode("utf-8"))
    return path


def export_path(record: RuleSetVersionRecord) -> Path:
    """Where a version goes in an export folder, laid out as the bundled files are: the jurisdiction's bundled
    folder if it has one (`371321_yinan`), else its code, then its first day: `371321_yinan/2024-01-01.yaml`."""
    bundled = sorted(p.name for p in bundled_rules_dir().glob(f"{record.jurisdiction_code}_*") if p.is_dir())
    return Path(bundled[0] if bundled else record.jurisdiction_code) / f"{record.effective_from.isoformat()}.yaml"


def write_versions(session: Session, code: str, out: str | os.PathLike, version: str | None = None) -> list[Path]:
    """`xinfang export CODE --out DIR`: each published version of `code` (or `version`) as a file under `out`,
    byte for byte its published text, so `xinfang import DIR` finds them all already published.

    A file already there with the same bytes is left as it is; one with other bytes is not overwritten:
    ExportRefused, before anything is written.
    """
    targets = [(Path(out) / export_path(r), r.yaml_text.encode("utf-8"))
               for r in published_versions(session, code, version)]
    in_the_way = [path for path, data in targets if path.exists() and path.read_bytes() != data]
    if in_the_way:
        raise ExportRefused("; ".join(f"{path} exists and is not the published text" for path in in_the_way)
                            + ": remove it, or export to another folder")
    for path, data in targets:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return [path for path, _ in targets]


def ensure_database(url: str, rules: RuleSetLibrary | Iterable[str | os.PathLike] = ()
                    ) -> tuple[db.UpgradeResult, ImportReport]:
    """What `xinfang serve` does first: upgrade the database to the newest schema, import the rule-set files
    under the paths `rules` (or those a library was read from; default: the bundled ones) that it lacks.
    A file that would change a published version is left out, listed in the report's `kept`
    (import_files with keep_published)."""
    paths = [v.file for v in rules.all_versions()] if isinstance(rules, RuleSetLibrary) else list(rules)
    upgraded = db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            report = import_files(session, paths or [bundled_rules_dir()], keep_published=True)
    finally:
        engine.dispose()
    return upgraded, report
