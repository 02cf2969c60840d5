"""A library of rule sets read from files: validated as a whole, indexed by jurisdiction and date."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from .bounds import Bound, check_version, collect_bounds
from .effective import EffectiveRuleSet, NoRuleSetInForce
from .errors import ConfigError, ConfigIssue
from .inheritance import Merged, merge_chain
from .jurisdictions import (
    LEVELS,
    NATIONAL_CODE,
    Jurisdiction,
    JurisdictionTree,
    UnknownJurisdiction,
    canonical_code,
    national_tree,
)
from .references import reference_problems
from .validate_schema import schema_issues
from .versions import RuleSetVersion, read_version
from .yaml_source import Path_, load_yaml

RULESET_SUFFIXES = (".yaml", ".yml")
# Scenario tests live beside the rule sets, in folders of this name; they are not rule sets.
SCENARIO_DIR = "scenarios"


def bundled_rules_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("rulesets")))


def find_ruleset_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The rule-set files named, and those under the folders named, in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in RULESET_SUFFIXES
                            and SCENARIO_DIR not in p.relative_to(path).parts)
        else:
            found.append(path)
    return found


def display_name(path: Path) -> str:
    """A path as people read it in messages: relative to the working directory when below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


class RuleSetLibrary:
    """Every version of every rule set read from a set of files, with the jurisdiction tree they extend."""

    def __init__(self, versions: Sequence[RuleSetVersion], tree: JurisdictionTree) -> None:
        self.tree = tree
        self._versions: dict[str, list[RuleSetVersion]] = {}
        for version in sorted(versions, key=lambda v: (v.code, v.effective_from)):
            self._versions.setdefault(version.code, []).append(version)
        self._merged: dict[tuple[int, ...], Merged] = {}  # by the ids of a chain's versions (held by the library)
        self._chains: dict[tuple[int, ...], tuple[Merged, tuple[Bound, ...]]] = {}

    @classmethod
    def load(cls, paths: Iterable[str | os.PathLike]) -> RuleSetLibrary:
        """Load and validate; any issue at all raises ConfigError listing every issue."""
        library, issues = cls.collect(paths)
        if issues:
            raise ConfigError(issues)
        return library

    @classmethod
    def collect(cls, paths: Iterable[str | os.PathLike],
                background: Iterable[str | os.PathLike] | RuleSetLibrary = ()
                ) -> tuple[RuleSetLibrary, list[ConfigIssue]]:
        """Load what can be loaded and return it with every issue found in `paths`, in file and line order.

        `background` rule sets (the bundled ones, say, or a library: the versions published in a
        database) supply the levels above and are not reported on; a file in `paths` replaces a
        background version of the same jurisdiction and version.
        """
        paths = list(paths)
        files = find_ruleset_files(paths)
        names = {display_name(f) for f in files}
        issues: list[ConfigIssue] = []
        if not files:
            issues.append(ConfigIssue(None, "no rule-set files (*.yaml) found in " + ", ".join(map(str, paths))))
        versions, load_issues = _load_versions(files)
        if isinstance(background, RuleSetLibrary):
            more = [v for v in background.all_versions() if v.file not in names]
        else:
            chosen = {f.resolve() for f in files}
            more, _ = _load_versions([f for f in find_ruleset_files(background) if f.resolve() not in chosen])
        return cls._assemble(versions, more, names, issues + load_issues)

    @classmethod
    def collect_texts(cls, texts: Iterable[tuple[str, str]],
                      background: Iterable[tuple[str, str]] | RuleSetLibrary = (), *,
                      also_report: Iterable[str] = ()) -> tuple[RuleSetLibrary, list[ConfigIssue]]:
        """collect() over (name, YAML text) pairs, for rule sets kept in a database rather than in files.

        Each name stands for a file in positions and sources (`db:371321@2024.1`); a background pair
        named like one in `texts` is left out, and a text replaces a background version of the same
        jurisdiction and version, as a file does. A library as `background` lends its versions as
        they are, unparsed: a draft checked against every published version costs one parse.
        `also_report` names background versions whose issues are returned too (the levels below a
        new version, which it must not break).
        """
        texts = list(texts)
        names = {name for name, _ in texts}
        versions, issues = _read_versions(texts)
        if isinstance(background, RuleSetLibrary):
            more = [v for v in background.all_versions() if v.file not in names]
        else:
            more, _ = _read_versions((name, text) for name, text in background if name not in names)
        return cls._assemble(versions, more, names | set(also_report), issues)

    @classmethod
    def _assemble(cls, versions: list[RuleSetVersion], more: list[RuleSetVersion], reported: set[str],
                  issues: list[ConfigIssue]) -> tuple[RuleSetLibrary, list[ConfigIssue]]:
        """The library of `versions` over the background `more`, with the issues of the sources in `reported`."""
        replaced = {(v.code, v.version) for v in versions}
        versions += [v for v in more if (v.code, v.version) not in replaced]
        tree, tree_issues = _extend_tree(versions)
        issues += tree_issues
        library = cls([v for v in versions if v.code in tree], tree)
        issues += library._check_dates() + library._check_inheritance()
        issues = [i for i in issues if i.position is None or i.position.file in reported]
        return library, sorted(set(issues), key=_issue_order)

    # Lookups

    def codes(self) -> list[str]:
        """Jurisdictions that have rule sets of their own."""
        return list(self._versions)

    def versions(self, code: str | int) -> list[RuleSetVersion]:
        return list(self._versions.get(canonical_code(code), []))

    def all_versions(self) -> list[RuleSetVersion]:
        return [v for versions in self._versions.values() for v in versions]

    def version_in_force(self, code: str | int, at: dt.date) -> RuleSetVersion | None:
        return self._in_force(canonical_code(code), at)

    def _in_force(self, code: str, at: dt.date) -> RuleSetVersion | None:
        versions = self._versions.get(code)
        if not versions:
            return None
        for i, version in enumerate(versions):
            next_from = versions[i + 1].effective_from if i + 1 < len(versions) else None
            if version.in_force_on(at, next_from):
                return version
        return None

    def chain(self, code: str | int, at: dt.date) -> tuple[RuleSetVersion, ...]:
        """The versions in force on `at` from the nation down to `code`; a level without one adds nothing."""
        found = (self._in_force(j.code, at) for j in self.tree.ancestors(code))
        return tuple(v for v in found if v is not None)

    def effective(self, code: str | int, at: dt.date) -> EffectiveRuleSet:
        """The effective rule set of a jurisdiction on a date; raises UnknownJurisdiction or NoRuleSetInForce.

        What depends on the chain of versions alone (the merge, the bounds in force) is computed once
        per chain and shared: a call costs the lookup of the chain in force that day.
        """
        jurisdiction = self.tree.get(code)
        chain = self.chain(jurisdiction.code, at)
        if not chain or chain[0].code != NATIONAL_CODE:
            raise NoRuleSetInForce(self._nothing_in_force(jurisdiction, at))
        merged, bounds = self._resolved(chain)
        return EffectiveRuleSet(jurisdiction, at, chain, merged, bounds)

    def _merge(self, chain: tuple[RuleSetVersion, ...]) -> Merged:
        key = tuple(map(id, chain))
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = merge_chain(chain)
        return merged

    def _resolved(self, chain: tuple[RuleSetVersion, ...]) -> tuple[Merged, tuple[Bound, ...]]:
        """The merge and the bounds of a chain, once per chain (collecting bounds cost ~20-30 µs a call)."""
        key = tuple(map(id, chain))
        found = self._chains.get(key)
        if found is None:
            found = self._chains[key] = (self._merge(chain), tuple(collect_bounds(chain)))
        return found

    def _nothing_in_force(self, jurisdiction: Jurisdiction, at: dt.date) -> str:
        national = self._versions.get(NATIONAL_CODE, [])
        where = f"{jurisdiction.name} ({jurisdiction.code})"
        if not national:
            return f"no national rule set is loaded, so {where} has no rule set on {at}"
        first = national[0]
        if at < first.effective_from:
            return (f"no rule set is in force for {where} on {at}: the earliest national version, "
                    f"{first.data.get('title', first.version)} ({first.label}), takes effect on {first.effective_from}")
        return f"no national rule set is in force on {at} (see the effective dates in {first.file})"

    # Validation of the whole library

    def _check_dates(self) -> list[ConfigIssue]:
        """Versions of one jurisdiction: distinct version names, no two in force on the same day."""
        issues = []
        for versions in self._versions.values():
            seen: dict[str, RuleSetVersion] = {}
            for version in versions:
                if version.version in seen:
                    first = seen[version.version]
                    issues.append(version.issue(("version",), (
                        f"version '{version.version}' of {version.code} is already defined in {first.file}"),
                        chinese=f"版本号 {version.version} 已经用过（{first.display_name}）：请改用新的版本号"))
                seen.setdefault(version.version, version)
            # Each clash is told in both files: only the files being validated are reported on, and the
            # new version may be either one of the pair (a background version can start later).
            for earlier, later in zip(versions, versions[1:]):
                if later.effective_from == earlier.effective_from:
                    for this, other in ((later, earlier), (earlier, later)):
                        issues.append(this.issue(("effective_from",), (
                            f"effective_from {this.effective_from} is the same as version {other.version} in "
                            f"{other.file}: two versions of {this.code} would be in force on the same day"),
                            chinese=f"施行日期 {this.effective_from} 与{other.display_name}相同：同一天不能有两个版本施行"))
                elif earlier.effective_until is not None and earlier.effective_until >= later.effective_from:
                    issues.append(later.issue(("effective_from",), (
                        f"effective dates overlap: this version starts {later.effective_from} but version "
                        f"{earlier.version} ({earlier.file}) runs until {earlier.effective_until}"),
                        chinese=f"施行期间与{earlier.display_name}重叠：本版本 {later.effective_from} 起施行，"
                                f"{earlier.display_name}施行到 {earlier.effective_until}"))
                    issues.append(earlier.issue(("effective_until",), (
                        f"effective dates overlap: this version runs until {earlier.effective_until} but version "
                        f"{later.version} ({later.file}) starts {later.effective_from}"),
                        chinese=f"施行期间与{later.display_name}重叠：本版本施行到 {earlier.effective_until}，"
                                f"{later.display_name} {later.effective_from} 起施行"))
            for version in versions:
                if version.effective_until is not None and version.effective_until < version.effective_from:
                    issues.append(version.issue(("effective_until",), (
                        f"effective_until {version.effective_until} is before effective_from {version.effective_from}"),
                        chinese=f"废止日期 {version.effective_until} 早于施行日期 {version.effective_from}"))
        return issues

    def _check_inheritance(self) -> list[ConfigIssue]:
        """Each version against the levels above it, on every day the chain above it changes."""
        issues: list[ConfigIssue] = []
        for version in self.all_versions():
            ancestors = self.tree.ancestors(version.code)[:-1]
            seen: set[tuple] = set()  # a problem that persists after the chain above changes is told once
            for day in self._change_days(version, ancestors):
                above = tuple(v for v in (self.version_in_force(a.code, day) for a in ancestors) if v is not None)
                if version.code != NATIONAL_CODE and (not above or above[0].code != NATIONAL_CODE):
                    issues.append(version.issue(("effective_from",), (
                        f"no national rule set is in force on {day}, when this version is in force"),
                        chinese=f"{day} 没有施行中的全国规则集，而本版本那天施行"))
                    continue
                inherited, merged = self._merge(above), self._merge(above + (version,))
                found = (merged.issues + check_version(version, collect_bounds(above), inherited, merged)
                         + self._new_reference_issues(version, inherited, merged))
                for issue in found:
                    if (issue.position, issue.message) in seen:
                        continue
                    seen.add((issue.position, issue.message))
                    if day != version.effective_from:
                        issue = ConfigIssue(issue.position, f"{issue.message} (in force from {day})",
                                            issue.chinese and f"{issue.chinese}（自{day}起）")
                    issues.append(issue)
        return issues

    def _change_days(self, version: RuleSetVersion, ancestors: list[Jurisdiction]) -> list[dt.date]:
        """The version's first day and every later day in its life on which a level above changes version."""
        own = self._versions[version.code]
        i = own.index(version)
        end = own[i + 1].effective_from if i + 1 < len(own) else None
        if version.effective_until is not None:
            after = version.effective_until + dt.timedelta(days=1)
            end = min(end, after) if end else after
        days = {version.effective_from}
        for ancestor in ancestors:
            for above in self._versions.get(ancestor.code, []):
                starts = [above.effective_from]
                if above.effective_until is not None:
                    starts.append(above.effective_until + dt.timedelta(days=1))
                days.update(d for d in starts if version.effective_from < d and (end is None or d < end))
        return sorted(days)

    def _new_reference_issues(self, version: RuleSetVersion, inherited: Merged, merged: Merged) -> list[ConfigIssue]:
        """Reference problems this version brings in (those it inherits are the level above's to fix), told at
        the line of this version they rest on: the reference, else what it refers to (a unit's changed type)."""
        before = set(reference_problems(inherited.data)) if inherited.data else set()

        def mine(path: Path_ | None) -> bool:
            source = merged.sources.get(path) if path else None
            return source is not None and (source.jurisdiction, source.version) == (version.code, version.version)

        issues = []
        for problem in reference_problems(merged.data):
            if problem in before:
                continue
            path, message = problem.path, problem.message
            if not mine(path) and mine(problem.cause):
                path, message = problem.cause, problem.cause_message
            at = path if mine(path) else (("remove", 0) if version.removals else ("jurisdiction",))
            issues.append(version.issue(at, f"{'.'.join(map(str, path))}: {message}",
                                        chinese=problem.chinese or "引用了不存在的单位、分类或项目"))
        return issues


def _load_versions(files: list[Path]) -> tuple[list[RuleSetVersion], list[ConfigIssue]]:
    """Read and schema-check each file; a file with any issue yields no version."""
    missing = [ConfigIssue(None, f"{file}: no such file") for file in files if not file.exists()]
    versions, issues = _read_versions((display_name(file), None) for file in files if file.exists())
    return versions, missing + issues


def _read_versions(sources: Iterable[tuple[str, str | None]]) -> tuple[list[RuleSetVersion], list[ConfigIssue]]:
    """Parse and schema-check (name, text) pairs, a None text read from the file `name`; any issue drops the source."""
    versions: list[RuleSetVersion] = []
    issues: list[ConfigIssue] = []
    for name, text in sources:
        try:
            doc = load_yaml(name, text=text)
        except ConfigError as err:
            issues += err.issues
            continue
        found = schema_issues(doc)
        if found:
            issues += found
            continue
        try:
            versions.append(read_version(doc, canonical_code))
        except ValueError as err:
            issues.append(ConfigIssue(doc.position(("jurisdiction", "code")), str(err)))
    return versions, issues


def _extend_tree(versions: list[RuleSetVersion]) -> tuple[JurisdictionTree, list[ConfigIssue]]:
    """The national tree plus the jurisdictions rule sets declare; parents must exist and form no cycle."""
    base = national_tree()
    issues: list[ConfigIssue] = []
    declared: dict[str, RuleSetVersion] = {}
    for version in versions:
        if version.code in base:
            known = base.get(version.code)
            if version.level != known.level:
                issues.append(version.issue(("jurisdiction", "level"), (
                    f"jurisdiction {version.code} is {known.name}, a {known.level}, not a {version.level}")))
            parent = version.declared_parent
            if parent is not None and _canonical_or_none(parent) != known.parent:
                issues.append(version.issue(("jurisdiction", "parent"), (
                    f"the parent of {known.name} ({version.code}) is {known.parent}, not {parent}")))
        elif version.declared_parent is None:
            issues.append(version.issue(("jurisdiction", "code"), (
                f"jurisdiction {version.code} is not in the national division data; "
                f"a new jurisdiction must name its parent (jurisdiction.parent)")))
        else:
            declared.setdefault(version.code, version)
    if not declared:
        return base, issues
    tree = base.copy()
    pending = dict(declared)
    while pending:
        added = False
        for code, version in list(pending.items()):
            parent = _canonical_or_none(version.declared_parent)
            if parent in tree:
                try:
                    tree.add(Jurisdiction(code, version.name, version.level, parent))
                except ValueError as err:
                    issues.append(version.issue(("jurisdiction",), str(err)))
                del pending[code]
                added = True
        if not added:
            break
    for code, version in pending.items():
        parent = _canonical_or_none(version.declared_parent)
        cycle = _cycle(code, declared)
        message = (f"jurisdiction parents form a cycle: {' → '.join(cycle)}" if cycle else
                   f"parent {version.declared_parent} of {code} does not exist in the division data or any rule set")
        issues.append(version.issue(("jurisdiction", "parent"), message))
    return tree, issues


def _cycle(start: str, declared: dict[str, RuleSetVersion]) -> list[str] | None:
    seen: list[str] = []
    code: str | None = start
    while code in declared and code not in seen:
        seen.append(code)
        code = _canonical_or_none(declared[code].declared_parent)
    return seen[seen.index(code):] + [code] if code in seen else None


def _canonical_or_none(code) -> str | None:
    try:
        return canonical_code(code)
    except (ValueError, TypeError):
        return None


def _issue_order(issue: ConfigIssue):
    pos = issue.position
    return (pos is None, pos.file if pos else "", pos.line if pos else 0, pos.col if pos else 0, issue.message)


@functools.cache
def bundled_library() -> RuleSetLibrary:
    """The rule sets shipped with xinfang, loaded and validated once per process."""
    return RuleSetLibrary.load([bundled_rules_dir()])


__all__ = ["RuleSetLibrary", "bundled_library", "bundled_rules_dir", "find_ruleset_files", "UnknownJurisdiction",
           "NoRuleSetInForce", "LEVELS"]
