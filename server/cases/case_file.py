"""What a case's file derives from its decision: the pinned rule set, deadline rows and the escalation schedule."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from xinfang.config import CHINA, EffectiveRuleSet, NoRuleSetInForce, RuleSetLibrary, RuleSetVersion, UnknownJurisdiction
from xinfang.config.bounds import collect_bounds
from xinfang.config.inheritance import Merged, merge_chain
from xinfang.config.procedure import OPEN_STAGES
from xinfang.rules.escalation import escalation_schedule as rules_escalation_schedule
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, Petition

from .errors import Invalid, NotAllowedNow
from .new_case import NewCase, write_new_case

__all__ = ["FORM", "deadline_snapshot", "effective_or_error", "engine_input", "escalation_schedule", "new_file",
           "pinned_effective", "sync_file"]

# The form's fields the engine does not read (facts, reasons, a county's parcel number): kept in the file,
# left out of what the engine is given (server/cases/forms.py puts them there).
FORM = "form"


def engine_input(case_json: Mapping[str, Any]) -> dict[str, Any]:
    """The Case JSON the engine takes: the stored input without the form's extra fields."""
    return {k: v for k, v in case_json.items() if k != FORM}


def effective_or_error(library: RuleSetLibrary, code: str, day: dt.date) -> EffectiveRuleSet:
    """The rule set in force in `code` on `day`, or the refusal saying why there is none."""
    try:
        return library.effective(code, day)
    except UnknownJurisdiction as err:
        raise Invalid("unknown_jurisdiction", str(err), [{"jurisdiction": code}]) from None
    except NoRuleSetInForce as err:
        raise Invalid("no_ruleset_in_force", str(err), [{"jurisdiction": code, "on": day.isoformat()}]) from None


# (library, label) → the merged chain: one merge per chain, so rules.plan's cache (by merged data) is hit too.
_merged: dict[tuple[int, str], tuple[RuleSetLibrary, tuple, Merged, tuple]] = {}
_lock = threading.Lock()


def pinned_effective(library: RuleSetLibrary, label: str, code: str, day: dt.date) -> EffectiveRuleSet:
    """The effective rule set made of exactly the versions `label` names (`000000@2022.1+...+371321@2024.1`).

    A case keeps the version pinned when it was received, even after a newer version was published
    for that date; refuses (pinned_version_missing) when the library no longer holds a pinned version.
    """
    current = effective_or_error(library, code, day)
    if current.version_label == label:
        return current
    above = {j.code for j in library.tree.ancestors(code)}
    with _lock:
        hit = _merged.get((id(library), label))
    if hit is None or hit[0] is not library:
        chain = tuple(_pinned_version(library, part, label, above) for part in label.split("+"))
        hit = (library, chain, merge_chain(chain), tuple(collect_bounds(chain)))
        with _lock:
            if len(_merged) >= 64:
                _merged.clear()
            _merged[(id(library), label)] = hit
    _, chain, merged, bounds = hit
    if any(v.code not in above for v in chain):
        raise Invalid("invalid_ruleset_version", f"{label} names rule sets of other jurisdictions than {code} "
                                                 f"and the levels above it", [{"version": label}])
    return EffectiveRuleSet(library.tree.get(code), day, chain, merged, bounds)


def _pinned_version(library: RuleSetLibrary, part: str, label: str, above: set[str]) -> RuleSetVersion:
    owner, _, version = part.partition("@")
    if owner not in above:
        raise Invalid("invalid_ruleset_version", f"{part} in {label} is no rule set of a level above or at "
                                                 f"the case's jurisdiction", [{"version": label}])
    found = next((v for v in library.versions(owner) if v.version == version), None)
    if found is None:
        raise NotAllowedNow("pinned_version_missing", f"the case is pinned to {label}, but version {part} is not "
                                                      f"loaded; load it again or migrate the case explicitly",
                            [{"version": label, "missing": part}])
    return found


def escalation_schedule(effective: EffectiveRuleSet, deadlines: Mapping[str, dt.date | dt.datetime],
                        opened_on: dt.date, completed: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The case_escalation rows of a case: rules.escalation's schedule, with what a sweep records."""
    rows = []
    for step in rules_escalation_schedule(effective, deadlines, opened_on, frozenset(completed)):
        spec = step.spec
        where = f"{step.source['file']}:{step.source['line']}" if step.source else f"escalation.steps.{step.step}"
        rows.append({"step": step.step, "watch": step.watch, "action": str(spec.get("action", "")),
                     "flag": spec.get("flag"), "target": spec.get("to"), "letter": bool(spec.get("letter")),
                     "due_on": step.due_on, "until_on": step.until_on, "due_at": step.due_at,
                     "until_at": step.until_at, "rule": f"escalation:{step.step}",
                     "source": f"{where} ({spec['basis']})" if spec.get("basis") else where})
    return rows


def new_file(db: Session, petition: dict[str, Any], effective: EffectiveRuleSet, decision: Mapping[str, Any], *,
             actor: str, detail: dict[str, Any], idempotency: tuple[str, str] | None = None) -> Petition:
    """Write a new case's file: the petition's columns given, its decision's deadline rows and escalation schedule,
    the register event (`detail` and the deadlines), the audit row (`detail`) and the Idempotency-Key record
    (key, request hash), with the case number (server/cases/new_case.py). The Petition, in `db`; the caller commits.
    """
    deadlines = [{"step": step, "due_on": dt.date.fromisoformat(found["date"]),
                  "due_at": dt.datetime.fromisoformat(found["due_at"]) if found.get("due_at") else None,
                  "provisional": found["provisional"], "source": found["source"]}
                 for step, found in decision["deadlines"].items()]
    running = {row["step"]: row["due_at"] or row["due_on"] for row in deadlines}
    escalations = (escalation_schedule(effective, running, petition["received_on"])
                   if petition["stage"] in OPEN_STAGES else [])
    snapshot = _snapshot((row["step"], row["due_on"], row["due_at"], None) for row in deadlines)
    return write_new_case(db, NewCase(petition, deadlines, escalations, detail, snapshot, actor, idempotency))


def sync_file(db: Session, petition: Petition, effective: EffectiveRuleSet, decision: dict, *,
              done: Iterable[str] = (), on: dt.date | None = None, reopened: Iterable[str] = ()) -> None:
    """Store a recomputed decision of a case on file: its flags, deadline rows (marking `done` steps on `on`,
    clearing the mark of `reopened` ones, whose clock starts again), escalation rows.

    Flags other than the engine's (duplicate, objection, a sweep's) are kept; escalations already
    fired are history and never touched; the rest follow the new schedule. A new case's file: new_file().
    """
    old_engine_flags = set((petition.decision or {}).get("flags") or ())
    petition.flags = sorted((set(petition.flags or ()) - old_engine_flags) | set(decision["flags"]))
    petition.decision = decision
    petition.admissible = decision["admissible"]
    petition.kind, petition.category, petition.channel = decision["kind"], decision["category"], decision["channel"]
    petition.track = decision["track"]
    if petition.stage == "registered":
        petition.route_unit = (decision.get("route") or {}).get("unit")

    done, reopened = set(done), set(reopened)
    rows = {row.step: row for row in petition.deadlines}
    for step, found in decision["deadlines"].items():
        row = rows.pop(step, None)
        if row is None:
            row = CaseDeadline(step=step)
            petition.deadlines.append(row)
        row.due_on = dt.date.fromisoformat(found["date"])
        row.due_at = dt.datetime.fromisoformat(found["due_at"]) if found.get("due_at") else None
        row.provisional, row.source = found["provisional"], found["source"]
        if step in reopened:
            row.done_on = None
        if step in done and row.done_on is None:
            row.done_on = on
    for row in rows.values():
        if row.done_on is None:  # the step no longer applies (a migration): its clock is gone
            petition.deadlines.remove(row)
    db.flush()

    running = {row.step: row.due_at or row.due_on for row in petition.deadlines if row.done_on is None}
    finished = {row.step for row in petition.deadlines if row.done_on is not None}
    schedule = escalation_schedule(effective, running, petition.received_on, finished)
    if petition.stage not in OPEN_STAGES:
        schedule = []
    planned = {s["step"]: s for s in schedule}
    # Core statements guarded by `fired_at IS NULL`: a sweep may fire a step while this runs, and a
    # fired step is history, never rewritten or deleted.
    pending = CaseEscalation.petition_id == petition.id, CaseEscalation.fired_at.is_(None)
    fired = set(db.scalars(select(CaseEscalation.step).where(CaseEscalation.petition_id == petition.id,
                                                             CaseEscalation.fired_at.is_not(None))))
    existing = set(db.scalars(select(CaseEscalation.step).where(*pending)))
    stale = existing - set(planned)
    if stale:
        db.execute(delete(CaseEscalation).where(*pending, CaseEscalation.step.in_(stale)))
    for step, spec in planned.items():
        if step in fired:
            continue
        if step in existing:
            db.execute(update(CaseEscalation).where(*pending, CaseEscalation.step == step).values(**spec))
        else:
            db.add(CaseEscalation(petition_id=petition.id, **spec))
    db.flush()


def deadline_snapshot(petition: Petition) -> dict[str, dict[str, Any]]:
    """Each step's deadline and when it was done, as an event records it (the timeline shows it)."""
    return _snapshot((row.step, row.due_on, row.due_at, row.done_on) for row in petition.deadlines)


def _snapshot(rows: Iterable[tuple[str, dt.date, dt.datetime | None, dt.date | None]]) -> dict[str, dict[str, Any]]:
    return {step: {"due_on": due_on.isoformat(), "done_on": done_on.isoformat() if done_on else None}
            | ({"due_at": due_at.astimezone(CHINA).isoformat()} if due_at else {})
            for step, due_on, due_at, done_on in sorted(rows, key=lambda r: (r[1], r[0]))}
