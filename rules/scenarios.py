"""YAML scenario tests of rule sets (docs/scenarios.md): loaded, decided by evaluate(), compared path by path."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xinfang.config import ConfigError, ConfigIssue, NoRuleSetInForce, RuleSetLibrary, UnknownJurisdiction
from xinfang.config.jurisdictions import canonical_code
from xinfang.config.library import RULESET_SUFFIXES, SCENARIO_DIR, display_name
from xinfang.config.yaml_source import YamlDocument, load_yaml

from .case_input import CaseError
from .decide import evaluate

FILE_KEYS = ("jurisdiction", "scenarios")
SCENARIO_KEYS = ("name", "case", "at", "expect", "expect_flags", "expect_error")
_FOLDER_CODE = re.compile(r"([0-9]{6}|[0-9]{9})(_.*)?")
_ABSENT = object()


@dataclass(frozen=True)
class Expectation:
    path: str  # dotted path into the Decision JSON
    value: Any  # YAML dates already ISO strings
    line: int


@dataclass(frozen=True)
class Scenario:
    """One scenario as written; lines point into `file` so a failure names where to look."""

    file: str
    line: int
    name: str
    jurisdiction: str
    case: dict
    at: dt.date | None = None
    expect: tuple[Expectation, ...] = ()
    flags: tuple[str, ...] = ()
    flags_line: int = 0
    error: str | None = None
    error_line: int = 0

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name}"


@dataclass(frozen=True)
class Failure:
    """One difference between what a scenario expects and what the engine decided."""

    file: str
    line: int
    name: str
    path: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.name}: {self.path}: expected {self.expected}, got {self.actual}"


@dataclass
class Report:
    """What `xinfang test` prints: one line per failure (and per issue of an invalid file), then the summary."""

    passed: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


# --- loading ---------------------------------------------------------------------------------------

def scenario_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files named, and the YAML files inside `scenarios` folders under the folders named."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        inside = SCENARIO_DIR in path.resolve().parts
        found += sorted(p for p in path.rglob("*") if p.suffix in RULESET_SUFFIXES and p.is_file()
                        and (inside or SCENARIO_DIR in p.relative_to(path).parts[:-1]))
    return found


def folder_code(path: Path) -> str | None:
    """The code a folder name starts with (`371300_linyi/scenarios/x.yaml` → 371300): the default jurisdiction."""
    for parent in Path(os.path.abspath(path)).parents:
        match = _FOLDER_CODE.fullmatch(parent.name)
        if match:
            return match.group(1)
    return None


def load_scenarios(path: str | os.PathLike, *, text: str | None = None) -> list[Scenario]:
    """The scenarios of one file; raises ConfigError naming FILE:LINE:COL of every problem."""
    doc = load_yaml(display_name(Path(path)), text=text)
    issues: list[ConfigIssue] = []

    def issue(where: tuple, message: str, *, key: bool = False) -> None:
        at = doc.key_positions.get(where) if key else None
        issues.append(ConfigIssue(at or doc.position(where), message))

    data = doc.data
    if not isinstance(data, Mapping):
        raise ConfigError(ConfigIssue(doc.position(()), "a scenario file is a mapping with `scenarios:`"))
    for key in data:
        if key not in FILE_KEYS:
            issue((key,), f"unknown key {key!r} (a scenario file has: {', '.join(FILE_KEYS)})", key=True)
    code = _jurisdiction(doc, Path(path), issue)
    items = data.get("scenarios")
    if not isinstance(items, list) or not items:
        issue(("scenarios",) if "scenarios" in data else (), "`scenarios` must be a non-empty list of scenarios")
        items = []
    found, names = [], {}
    for i, item in enumerate(items):
        scenario = _scenario(doc, i, item, code, issue)
        if scenario is None:
            continue
        if scenario.name in names:
            issue(("scenarios", i, "name"), f"scenario name {scenario.name!r} is used twice (first on line "
                                            f"{names[scenario.name]})")
        names.setdefault(scenario.name, scenario.line)
        found.append(scenario)
    if issues:
        raise ConfigError(issues)
    return found


def _jurisdiction(doc: YamlDocument, path: Path, issue) -> str:
    written = doc.data.get("jurisdiction")
    if written is None:
        code = folder_code(path)
        if code is None:
            issue((), "no jurisdiction: write `jurisdiction: \"CODE\"` (the folder name has no code prefix)")
        return code or ""
    if not isinstance(written, str):
        issue(("jurisdiction",), f"jurisdiction must be a quoted code such as \"371321\", not {written!r}")
        return ""
    try:
        return canonical_code(written)
    except ValueError as err:
        issue(("jurisdiction",), str(err))
        return ""


def _scenario(doc: YamlDocument, i: int, item: Any, code: str, issue) -> Scenario | None:
    where = ("scenarios", i)
    if not isinstance(item, Mapping):
        issue(where, "a scenario is a mapping with name, case and expect (or expect_error)")
        return None
    unknown = [k for k in item if k not in SCENARIO_KEYS]
    for key in unknown:
        issue(where + (key,), f"unknown key {key!r} (a scenario has: {', '.join(SCENARIO_KEYS)})", key=True)
    bad = len(unknown)
    name, case, at = item.get("name"), item.get("case"), item.get("at")
    expect, flags, error = item.get("expect"), item.get("expect_flags"), item.get("expect_error")
    checks = [
        (isinstance(name, str) and name.strip(), "name", "every scenario needs a `name`: a sentence saying what the rule is"),
        (isinstance(case, Mapping), "case", "`case` must be a mapping: the Case JSON, YAML dates allowed"),
        (at is None or _as_date(at) is not None, "at", "`at` must be a date (YYYY-MM-DD)"),
        (expect is None or isinstance(expect, Mapping) and all(_is_path(p) for p in expect), "expect",
         "`expect` must map dotted paths into the decision (deadlines.conclude.date) to values"),
        (flags is None or isinstance(flags, list) and all(isinstance(f, str) for f in flags), "expect_flags",
         "`expect_flags` must be a list of flags"),
        (error is None or isinstance(error, str) and error, "expect_error",
         "`expect_error` must be the text the refusal contains"),
        (error is None or expect is None and flags is None, "expect_error",
         "`expect_error` replaces `expect` and `expect_flags`: a refused case has no decision to compare"),
        (expect is not None or flags is not None or error is not None, None,
         "the scenario checks nothing: give `expect`, `expect_flags` or `expect_error`"),
    ]
    for ok, key, message in checks:
        if not ok:
            issue(where + ((key,) if key in item else ()), message)
            bad += 1
    if bad or not code:
        return None
    line = doc.position(where).line
    return Scenario(
        file=doc.file, line=line, name=name.strip(), jurisdiction=code, case=_plain(case), at=_as_date(at),
        expect=tuple(Expectation(p, _plain(v), doc.key_positions[where + ("expect", p)].line)
                     for p, v in (expect or {}).items()),
        flags=tuple(flags or ()), flags_line=_key_line(doc, where, "expect_flags", line),
        error=error, error_line=_key_line(doc, where, "expect_error", line))


def _key_line(doc: YamlDocument, where: tuple, key: str, default: int) -> int:
    found = doc.key_positions.get(where + (key,))
    return found.line if found else default


def _is_path(path: Any) -> bool:
    return isinstance(path, str) and all(path.split("."))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """YAML values as JSON values: dates become ISO strings (the Case JSON and the decision write them so)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# --- running ---------------------------------------------------------------------------------------

def run_scenario(library: RuleSetLibrary, s: Scenario) -> list[Failure]:
    """The differences between a scenario's expectations and the decision; [] when it passes."""
    def fail(line: int, path: str, expected: str, actual: str) -> list[Failure]:
        return [Failure(s.file, line, s.name, path, expected, actual)]

    try:
        decision = evaluate(library, s.jurisdiction, s.case, at=s.at)  # with `at`, the escalations due
    except CaseError as err:
        refusal = "; ".join(err.problems)
        if s.error is None:
            return fail(s.line, "case", "a decision", f"the case refused: {refusal}")
        if s.error in str(err):
            return []
        return fail(s.error_line, "expect_error", f"a refusal containing {_show(s.error)}", f"refused: {refusal}")
    except (UnknownJurisdiction, NoRuleSetInForce) as err:
        return fail(s.line, "jurisdiction", f"a rule set in force in {s.jurisdiction}", str(err))
    if s.error is not None:
        return fail(s.error_line, "expect_error", f"a refusal containing {_show(s.error)}",
                    f"a decision (admissible: {_show(decision.get('admissible'))})")
    failures = []
    for e in s.expect:
        actual = lookup(decision, e.path)
        if not _matches(e.value, actual):
            failures += fail(e.line, e.path, _show(e.value), "(absent)" if actual is _ABSENT else _show(actual))
    missing = [f for f in s.flags if f not in decision.get("flags", ())]
    if missing:
        failures += fail(s.flags_line, "flags", f"to include {_show(missing)}", _show(decision.get("flags")))
    return failures


def lookup(decision: Any, path: str) -> Any:
    """The value at a dotted path (`deadlines.conclude.date`, `trace.0.rule`), or _ABSENT."""
    value = decision
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _ABSENT
    return value


def _matches(expected: Any, actual: Any) -> bool:
    # null expects "absent or null": a deadline whose step does not exist, no `reason`.
    if expected is None:
        return actual is _ABSENT or actual is None
    if actual is _ABSENT or isinstance(expected, bool) != isinstance(actual, bool):
        return False  # true is no 1, and "12" no 12: the comparison is as strict as JSON
    return expected == actual


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def run(paths: Iterable[str | os.PathLike], library: RuleSetLibrary) -> Report:
    """Run every scenario of the files (and scenarios folders) under `paths`; an invalid file counts as failed."""
    report = Report()
    for file in scenario_files(paths):
        try:
            scenarios = load_scenarios(file)
        except ConfigError as err:
            report.lines += [str(issue) for issue in err.issues]
            report.failed += 1
            continue
        for scenario in scenarios:
            failures = run_scenario(library, scenario)
            report.lines += map(str, failures)
            if failures:
                report.failed += 1
            else:
                report.passed += 1
    return report
