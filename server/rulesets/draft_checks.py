"""What a rule-set draft would do: its validation issues, scenario results, the open cases it changes, its diff."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import (
    ConfigError,
    ConfigIssue,
    EffectiveRuleSet,
    NoRuleSetInForce,
    RuleSetLibrary,
    RuleSetVersion,
    procedure,
)
from xinfang.config.inheritance import walk_leaves
from xinfang.config.procedure import OPEN_STAGES
from xinfang.config.units import catch_all_warnings
from xinfang.config.yaml_source import dump_path
from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.decide import decide
from xinfang.rules.durable_adapter import default_adapter
from xinfang.rules.escalation import escalation_rules
from xinfang.rules.plan import plan_for
from xinfang.rules.scenarios import Scenario, folder_code, load_scenarios, run_scenario, scenario_files
from xinfang.server.cases.case_file import engine_input
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import RuleSetDraft, RuleSetVersionRecord

from .library_store import published_library, record_name

__all__ = ["Checked", "check_text", "draft_name", "impact", "issue_json", "run_scenarios", "structural_diff",
           "text_diff"]

log = logging.getLogger(__name__)

DEADLINE_STEPS = procedure.ALL_STEPS


class NothingPublished(LookupError):
    """The database holds no published version: import the bundled rule sets first (`xinfang serve` does)."""


def draft_name(draft: RuleSetDraft) -> str:
    """What a draft is called in its issues and sources, in place of a file: `draft:12`."""
    return f"draft:{draft.id}"


@dataclass
class Checked:
    """A text checked against the published versions: the library with it in place, its issues, its version."""

    library: RuleSetLibrary
    issues: list[ConfigIssue]
    version: RuleSetVersion | None  # None when the text could not be read as a rule set at all
    warnings: list[ConfigIssue] = field(default_factory=list)  # not errors: categories left at a kind of body


def require_published(session: Session) -> RuleSetLibrary:
    library = published_library(session)
    if library is None:
        raise NothingPublished("no rule-set version is published in the database; import the bundled rule sets")
    return library


def check_text(session: Session, code: str, text: str, name: str) -> Checked:
    """`xinfang validate` for a text of jurisdiction `code`, the published versions as the levels above it.

    The text replaces a published version of the same label, as a file does; since a published
    version never changes, that label is also reported, with a text written for another jurisdiction.
    So are the published versions below that the text would make invalid (a bound tightened under
    a value they set), at their own file and line: a level may not break the levels below it.
    """
    published = require_published(session)
    below = {v.file: v for v in published.all_versions()
             if v.code != code and v.code in published.tree and
             any(j.code == code for j in published.tree.ancestors(v.code))}
    library, found = RuleSetLibrary.collect_texts([(name, text)], background=published, also_report=below)
    known = _issues_below(published, below) if below else set()
    issues = [i for i in found if i.position is None or i.position.file == name]
    issues += [ConfigIssue(i.position, f"this change would make {below[i.position.file].label}, published below, "
                                       f"invalid: {i.message}",
                           f"这一改动会使下级已发布的{below[i.position.file].display_name}不再有效"
                           + (f"：{i.chinese}" if i.chinese else ""))
               for i in found if i.position is not None and i.position.file in below
               and (i.position, i.message) not in known]
    version = next((v for v in library.all_versions() if v.file == name), None)
    if version is not None:
        if version.code != code:
            issues.append(version.issue(("jurisdiction", "code"), (
                f"this rule set is for {version.code}, but the draft belongs to {code}: a draft is published "
                f"for its own jurisdiction only"), chinese=f"这个规则集写的是{version.name}，但草稿属于另一个辖区：草稿只能发布到本辖区"))
        clash = session.scalar(select(RuleSetVersionRecord).where(
            RuleSetVersionRecord.jurisdiction_code == version.code, RuleSetVersionRecord.version == version.version))
        if clash is not None:
            issues.append(version.issue(("version",), (
                f"version '{version.version}' of {version.code} is already published (version {clash.id}, in force "
                f"from {clash.effective_from}) and published versions never change: give the draft a new version "
                f"label and effective_from"), chinese=(
                f"版本号 {version.version} 已经发布过（{clash.effective_from} 起施行），已发布的版本不能修改："
                f"请改用新的版本号和施行日期")))
    return Checked(library, issues, version, catch_all_warnings(library, {name}) if version is not None else [])


_known_below: dict[tuple[int, frozenset[str]], tuple[RuleSetLibrary, set]] = {}


def _issues_below(published: RuleSetLibrary, below: Mapping[str, RuleSetVersion]) -> set[tuple]:
    """What the published versions below already have wrong (not the draft's doing), once per library."""
    key = (id(published), frozenset(below))
    hit = _known_below.get(key)
    if hit is None or hit[0] is not published:
        _, issues = RuleSetLibrary.collect_texts([], background=published, also_report=below)
        if len(_known_below) >= 16:
            _known_below.clear()
        hit = _known_below[key] = (published, {(i.position, i.message) for i in issues})
    return hit[1]


def issue_json(issue: ConfigIssue) -> dict[str, Any]:
    pos = issue.position
    return {"file": pos.file if pos else None, "line": pos.line if pos else None, "col": pos.col if pos else None,
            "message": issue.message, "text": str(issue)}


# Scenario tests

def run_scenarios(checked: Checked, code: str, paths: Iterable[str | os.PathLike], extra: str | None = None,
                  extra_name: str = "request.yaml") -> dict[str, Any]:
    """Run the scenario files under `paths` written for `code`, and `extra` (scenario YAML sent along).

    Each scenario is decided on its own dates, so it exercises the draft only when its case falls in
    the draft's period: `uses_draft` says which did. Raises ConfigError when `extra` is not valid.
    """
    scenarios: list[Scenario] = []
    broken: list[dict[str, Any]] = []
    for file in scenario_files(paths):
        try:
            scenarios += [s for s in load_scenarios(file) if s.jurisdiction == code]
        except ConfigError as err:  # a broken file of another jurisdiction is not this draft's business
            broken += [issue_json(i) for i in err.issues if folder_code(file) == code]
    if extra:
        # The folder-style name gives scenarios without `jurisdiction:` the draft's jurisdiction.
        scenarios += load_scenarios(Path(f"{code}_draft") / extra_name, text=extra)
    results, used = [], []
    for s in scenarios:
        try:
            failures = [{"line": f.line, "path": f.path, "expected": f.expected, "actual": f.actual, "text": str(f)}
                        for f in run_scenario(checked.library, s)]
        except Exception as err:  # an engine error on a draft is a failed test, not a server error
            failures = [{"line": s.line, "path": "engine", "expected": "a decision", "actual": str(err),
                         "text": f"{s.file}:{s.line}: {s.name}: {err}"}]
        effective = _effective_of(checked.library, s)
        if effective is not None:
            used.append(effective)
        results.append({"file": s.file, "line": s.line, "name": s.name, "jurisdiction": s.jurisdiction,
                        "passed": not failures, "failures": failures,
                        "uses_draft": effective is not None and checked.version in effective.chain})
    release_compiled(used)
    passed = sum(r["passed"] for r in results)
    return {"passed": passed, "failed": len(results) - passed + len(broken), "scenarios": results,
            "file_issues": broken}


def _effective_of(library: RuleSetLibrary, s: Scenario) -> EffectiveRuleSet | None:
    try:
        return library.effective(s.jurisdiction, parse_case(s.case).received_on)
    except Exception:  # the scenario's failure says why; it used no rule set
        return None


def release_compiled(effectives: Iterable[EffectiveRuleSet]) -> None:
    """Give back the engine rulesets compiled for a draft's effective rule sets.

    A draft's library is built per request, so each of its merged rule sets was compiled (and its
    engine ruleset registered) once, for this request: released once here, a ruleset a published
    version shares stays compiled for it (DurableAdapter.release counts holders).
    """
    compiled: dict[int, Any] = {}
    for effective in effectives:
        for build in (lambda e: plan_for(e).compiled, escalation_rules):
            try:
                item = build(effective)
            except Exception:  # it never compiled: nothing to give back
                continue
            compiled.setdefault(id(item), item)
    adapter = default_adapter()
    for item in compiled.values():
        try:
            adapter.release(item.name)
        except (KeyError, RuntimeError) as err:
            log.warning("draft ruleset %s kept: %s", item.name, err)


# Impact on open cases

def impact(session: Session, checked: Checked, code: str) -> dict[str, Any]:
    """The open cases of `code` and below that the draft would give another route, track or deadline.

    Each is decided again under the draft's effective rule set on the day it takes effect (what a
    migration to it would do; a case keeps its pinned version until migrated) and compared with its
    stored decision.
    """
    version = checked.version
    tree = checked.library.tree
    open_codes = session.scalars(select(Petition.jurisdiction_code).where(Petition.stage.in_(OPEN_STAGES))
                                 .distinct())
    codes = [c for c in open_codes if c in tree and any(j.code == code for j in tree.ancestors(c))]
    rows = session.execute(select(Petition.id, Petition.number, Petition.jurisdiction_code, Petition.stage,
                                  Petition.ruleset_version, Petition.case_json, Petition.decision)
                           .where(Petition.jurisdiction_code.in_(codes), Petition.stage.in_(OPEN_STAGES))
                           .order_by(Petition.id)).all() if codes else []
    effectives: dict[str, EffectiveRuleSet | str] = {}
    changed = []
    for row in rows:
        if row.jurisdiction_code not in effectives:
            try:
                effectives[row.jurisdiction_code] = checked.library.effective(row.jurisdiction_code,
                                                                              version.effective_from)
            except NoRuleSetInForce as err:
                effectives[row.jurisdiction_code] = str(err)
        effective = effectives[row.jurisdiction_code]
        try:
            if isinstance(effective, str):
                raise CaseError([effective])
            new: dict[str, Any] | None = decide(effective, parse_case(engine_input(row.case_json)))
            error = None
        except CaseError as err:
            new, error = None, "; ".join(err.problems)
        changes = decision_changes(row.decision or {}, new) if new is not None else []
        if changes or error:
            changed.append({"id": row.id, "number": row.number, "jurisdiction": row.jurisdiction_code,
                            "stage": row.stage, "ruleset_version": row.ruleset_version,
                            "new_ruleset_version": new["ruleset_version"] if new else None,
                            "changes": changes, "error": error})
    release_compiled(e for e in effectives.values() if not isinstance(e, str))
    return {"effective_from": version.effective_from.isoformat(), "open_cases": len(rows),
            "changed_cases": len(changed), "cases": changed}


def decision_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Admissibility, route, track and each deadline's date (and hour, where it has one): old and new where they differ."""
    changes = [{"field": key, "old": old.get(key), "new": new.get(key)}
               for key in ("admissible", "route", "track") if old.get(key) != new.get(key)]
    before, after = old.get("deadlines") or {}, new.get("deadlines") or {}
    steps = sorted(set(before) | set(after), key=lambda s: (DEADLINE_STEPS.index(s) if s in DEADLINE_STEPS
                                                            else len(DEADLINE_STEPS), s))
    for step in steps:
        was, will = _when(before.get(step)), _when(after.get(step))
        if was != will:
            changes.append({"field": f"deadlines.{step}", "old": was, "new": will})
    return changes


def _when(deadline: Mapping[str, Any] | None) -> str | None:
    """A deadline's date, with its hour where it falls due at one (2024-12-09 09:00, Beijing time: due_at is +08:00)."""
    if not deadline:
        return None
    due_at = deadline.get("due_at")
    return f"{deadline['date']} {due_at[11:16]}" if due_at else deadline.get("date")


# Diffs

def text_diff(record: RuleSetVersionRecord, draft: RuleSetDraft) -> str:
    """The unified diff from a published version's text to the draft's."""
    return "".join(difflib.unified_diff(record.yaml_text.splitlines(keepends=True),
                                        draft.yaml_text.splitlines(keepends=True),
                                        fromfile=record_name(record), tofile=draft_name(draft)))


def structural_diff(old: EffectiveRuleSet, new: EffectiveRuleSet) -> list[dict[str, Any]]:
    """Every effective value that differs: its path, old and new value, and where the value now comes from."""
    before, after = dict(walk_leaves(old.data)), dict(walk_leaves(new.data))
    out = []
    for path in list(after) + [p for p in before if p not in after]:
        was, will = before.get(path, _ABSENT), after.get(path, _ABSENT)
        if was == will:
            continue
        source = (new.merged.sources if will is not _ABSENT else old.merged.sources).get(path)
        change = "added" if was is _ABSENT else "removed" if will is _ABSENT else "changed"
        out.append({"path": dump_path(path), "change": change, "old": _plain(was), "new": _plain(will),
                    "source": source.to_json() if source else None})
    return out


_ABSENT = object()


def _plain(value: Any) -> Any:
    if value is _ABSENT:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
