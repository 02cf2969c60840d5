"""Escalation decisions (N22 Art. 18, 39-45): which configured escalation steps fall due on a day."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from xinfang.config import EffectiveRuleSet
from xinfang.config.procedure import ACTIONS, CLOSING_STEP, TIMINGS, Timing

from .calendar import BEIJING
from .case_input import Case
from .durable_adapter import DurableAdapter, default_adapter, ruleset_name

RULESET_PREFIX = "escalation"
OPEN_DAYS = "open_days"  # the fact: days since the case was received (a backlog step's clock)
_FLAG_RANK = {"yellow": 1, "red": 2}
_CACHE_SIZE = 64


@dataclass(frozen=True)
class DueEscalation:
    """One escalation step due on a case: what to do, to whom, since when, and the YAML that says so.

    `watch` and `overdue` (the watched deadline has passed) let escalation_flags name the late step.
    """

    step: str
    name: str
    action: str
    flag: str | None
    to: str | None
    letter: bool
    due_on: dt.date
    rule: str
    source: dict
    watch: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class _Step:
    id: str
    spec: Mapping[str, Any]
    timing: Timing  # config.procedure.TIMINGS: how the step's days are written and counted
    days: int

    @property
    def watch(self) -> str | None:
        """The deadline step it counts from; None: a backlog step, counted from the day received."""
        return self.spec["watch"] if self.timing.watches else None

    @property
    def offset(self) -> int:
        """Days after the watched deadline (negative: before it), or days open."""
        return self.timing.sign * self.days

    def due_on(self, start: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.offset)

    def until(self, start: dt.date) -> dt.date | None:
        """The last day the step may fire (a warning: the deadline's day), None when it has no end."""
        return start if self.timing.ends_at_deadline else None

    def timed(self, deadline: dt.datetime) -> tuple[dt.date, dt.date | None, dt.datetime | None, dt.datetime | None]:
        """(due_on, until_on, due_at, until_at) for a deadline at a moment (流转不过夜: by 09:00).

        The deadline's day stays the day of `after_days: 0` and of a warning's start; but lateness starts at
        the moment itself, not at the end of its day: `after_days: N` (N ≥ 1, overdue) is due after
        `deadline + (N − 1) days`, as a step after a day's deadline is due from `N − 1` days after the day ended;
        and a warning ends at the deadline, not at midnight.
        """
        day = deadline.astimezone(BEIJING).date()
        if self.offset > 0:
            due_at = deadline + dt.timedelta(days=self.offset - 1)
            return due_at.astimezone(BEIJING).date(), None, due_at, None
        return self.due_on(day), self.until(day), None, deadline if self.timing.ends_at_deadline else None


@dataclass(frozen=True, eq=False)
class EscalationRules:
    """The escalation section of one effective rule set compiled as one durable-rules ruleset."""

    name: str
    steps: tuple[_Step, ...]
    sources: dict[str, dict]


def days_past(watch: str) -> str:
    """The fact holding how many days `now` lies after the watched step's deadline (negative: before it)."""
    return f"days_past_{watch}"


def done_fact(step_id: str) -> str:
    return f"done_{step_id}"


def _condition(step: _Step) -> dict:
    """When a step is due, as a durable-rules condition; a step already carried out never is (each once).

    The same timing as `_Step.due_on` and `_Step.until`, which the server's schedule stores and its
    sweep's SQL compares (a test generates cases and checks that both agree).
    """
    fact = OPEN_DAYS if step.watch is None else days_past(step.watch)
    timing = [{"$gte": {fact: step.offset}}]
    if step.timing.ends_at_deadline:
        timing.append({"$lte": {fact: 0}})
    return {"$and": [*timing, {done_fact(step.id): False}]}


def _read_steps(effective: EffectiveRuleSet) -> tuple[_Step, ...]:
    """The configured steps with their timing; a step that names no timing (or no watched step) never falls due."""
    steps = []
    for step_id, spec in ((effective.get("escalation") or {}).get("steps") or {}).items():
        timing = next((t for t in TIMINGS if spec.get(t.key) is not None), None)
        if timing is not None and (spec.get("watch") or not timing.watches):
            steps.append(_Step(step_id, spec, timing, int(spec[timing.key])))
    return tuple(steps)


def _source(effective: EffectiveRuleSet, step_id: str) -> dict:
    src = effective.written_at(f"escalation.steps.{step_id}")  # a step placed whole: its first entry
    return {"file": src.file, "line": src.line} if src else {}


def build(effective: EffectiveRuleSet, adapter: DurableAdapter | None = None) -> EscalationRules:
    """Compile the escalation steps; rule sets with the same steps share one engine ruleset."""
    steps = _read_steps(effective)
    rules = {f"escalation:{s.id}": _condition(s) for s in steps}
    name = ruleset_name(RULESET_PREFIX, rules)
    (adapter or default_adapter()).register(name, rules)
    return EscalationRules(name, steps, {s.id: _source(effective, s.id) for s in steps})


@dataclass(frozen=True)
class ScheduledStep:
    """When a step falls due for a case, for stores that fire steps by date (the server's sweeps)."""

    step: str
    watch: str | None
    spec: Mapping[str, Any]
    due_on: dt.date
    until_on: dt.date | None  # the last day it may fire (a warning), None: no end
    source: dict
    due_at: dt.datetime | None = None  # watching a deadline at a moment: due only after this (overdue at 09:01)
    until_at: dt.datetime | None = None  # and a warning not after the deadline itself


def escalation_schedule(effective: EffectiveRuleSet, deadlines: Mapping[str, dt.date | dt.datetime],
                        opened_on: dt.date, completed: Collection[str] = ()) -> list[ScheduledStep]:
    """The first and last day each step is due, by the same timing as the engine's conditions (`_condition`).

    A deadline given as an aware datetime is due at that moment (a limit in hours, or by an hour): the steps
    watching it get the moments they are due from and until as well (`_Step.timed`).

    `deadlines` are the running ones: a step whose watched deadline is absent (not started, or done) is
    not scheduled, and once the handling is concluded (`completed` holds it) no backlog step is either,
    as `escalation_facts` decides.
    """
    backlog_open = CLOSING_STEP not in completed
    scheduled = []
    for step in _read_steps(effective):
        if step.watch is None and not backlog_open:
            continue
        start = opened_on if step.watch is None else deadlines.get(step.watch)
        if isinstance(start, dt.datetime):
            due_on, until_on, due_at, until_at = step.timed(start)
            scheduled.append(ScheduledStep(step.id, step.watch, step.spec, due_on, until_on,
                                           _source(effective, step.id), due_at, until_at))
        elif start is not None:
            scheduled.append(ScheduledStep(step.id, step.watch, step.spec, step.due_on(start), step.until(start),
                                           _source(effective, step.id)))
    return scheduled


def days_past_deadline(now: dt.date | dt.datetime, deadline: dt.date | dt.datetime) -> int:
    """How many days `now` lies after a deadline (negative: before it), the fact `days_past_<step>`.

    A deadline at a moment with `now` a moment: 0 through the moment itself on its day, then 1 for the first
    24 hours after it, and so on (overdue at 09:01 for a deadline of 09:00); by days otherwise.
    """
    if isinstance(deadline, dt.datetime):
        if isinstance(now, dt.datetime) and now > deadline:
            return -((deadline - now) // dt.timedelta(days=1))
        deadline = deadline.astimezone(BEIJING).date()
    if isinstance(now, dt.datetime):
        now = now.astimezone(BEIJING).date()
    return (now - deadline).days


_cache: dict[tuple[str, int], tuple[object, EscalationRules]] = {}
_lock = threading.Lock()


def escalation_rules(effective: EffectiveRuleSet) -> EscalationRules:
    """The compiled escalation rules of a rule set, once per version label and merged data."""
    data = effective.data
    key = (effective.version_label, id(data))
    hit = _cache.get(key)
    if hit is not None and hit[0] is data:
        return hit[1]
    with _lock:
        compiled = build(effective)
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (data, compiled)
        return compiled


def escalation_facts(rules: EscalationRules, *, deadlines: Mapping[str, dt.date | dt.datetime], opened_on: dt.date,
                     now: dt.date | dt.datetime, completed: Collection[str] = (),
                     done: Collection[str] = ()) -> dict[str, Any]:
    """The typed facts the conditions test: days open, days past each running deadline, steps done.

    A completed step's clock no longer runs, so its fact is left out and no condition on it holds;
    a case whose handling (`conclude`) is completed is no longer open, so no backlog step holds either.
    """
    facts: dict[str, Any] = {} if CLOSING_STEP in completed else {OPEN_DAYS: days_past_deadline(now, opened_on)}
    for step in rules.steps:
        facts[done_fact(step.id)] = step.id in done
        if step.watch is not None and step.watch in deadlines and step.watch not in completed:
            facts[days_past(step.watch)] = days_past_deadline(now, deadlines[step.watch])
    return facts


def due_escalations(effective: EffectiveRuleSet, *, deadlines: Mapping[str, dt.date | dt.datetime],
                    opened_on: dt.date, now: dt.date | dt.datetime, completed: Collection[str] = (),
                    done: Collection[str] = ()) -> list[DueEscalation]:
    """The escalation steps due on `now` and not yet carried out, earliest due first.

    A deadline may be a moment (an aware datetime: a limit in hours or by an hour) and so may `now`: then a
    step after it is due within the day (days_past_deadline).

    `deadlines` maps a step (conclude, route, ...) to its deadline; `completed` are the steps the
    case has finished; `done` the escalation step ids already carried out. Days count as calendar
    days from the deadline (or from `opened_on` for a backlog step): a warning N days before, a
    step N days after, a backlog step once the case has been open N days.
    """
    rules = escalation_rules(effective)
    facts = escalation_facts(rules, deadlines=deadlines, opened_on=opened_on, now=now,
                             completed=completed, done=done)
    fired = default_adapter().evaluate(rules.name, facts)
    due = []
    for order, step in enumerate(rules.steps):
        rule = f"escalation:{step.id}"
        if rule not in fired:
            continue
        start = opened_on if step.watch is None else deadlines[step.watch]
        due_on = step.timed(start)[0] if isinstance(start, dt.datetime) else step.due_on(start)
        spec = step.spec
        due.append((due_on, order, DueEscalation(
            step=step.id, name=str(spec.get("name", step.id)), action=str(spec.get("action", "")),
            flag=spec.get("flag"), to=spec.get("to"), letter=bool(spec.get("letter", False)),
            due_on=due_on, rule=rule, source=dict(rules.sources[step.id]),
            watch=step.watch, overdue=step.watch is not None and step.offset > 0)))
    return [d for _, _, d in sorted(due, key=lambda t: t[:2])]


def escalation_flags(due: Iterable[DueEscalation]) -> list[str]:
    """The flags a supervisor sees for due steps: `warning:<step>`, `overdue:<step>`, `flag:<colour>`
    (only the worst colour: a red card replaces the yellow one), `supervise`, `letter`,
    `escalated:<to>`, `leader_assigned`; sorted."""
    flags: set[str] = set()
    worst = None
    for d in due:
        if d.overdue:
            flags.add(f"overdue:{d.watch}")
        if d.action == "warn" and d.watch:
            flags.add(f"warning:{d.watch}")
        elif d.action == "flag" and d.flag:
            if worst is None or _FLAG_RANK.get(d.flag, 0) > _FLAG_RANK.get(worst, 0):
                worst = d.flag
        elif d.action == "supervise":
            flags.add("supervise")
        elif d.action == "escalate":
            flags.add(f"escalated:{d.to}" if d.to else "escalated")
        elif d.action == "assign_leader":
            flags.add("leader_assigned")
        if d.letter:
            flags.add("letter")
    if worst is not None:
        flags.add(f"flag:{worst}")
    return sorted(flags)


def completed_steps(case: Case, at: dt.date | None = None) -> frozenset[str]:
    """The steps a case's stages (those on or before `at`) show finished, for due_escalations(completed=...).

    Each Case field an action dates stops that action's clocks (config.procedure: accept sets accepted_on
    and stops route, notify and objection), exactly as the server's workflow stops them in the case file.
    """
    done: set[str] = set()
    for action in ACTIONS:
        if action.sets is None or not action.completes:
            continue
        value = case.history if action.sets.startswith("history.") else case
        value = getattr(value, action.sets.removeprefix("history."))
        if value is True or (isinstance(value, dt.date) and (at is None or value <= at)):
            done.update(action.completes)
    return frozenset(done)


def deadline_dates(decision: Mapping[str, Any]) -> dict[str, dt.date]:
    """Step → deadline date, read from a Decision JSON's `deadlines`."""
    return {step: dt.date.fromisoformat(d["date"]) for step, d in (decision.get("deadlines") or {}).items()}


def deadline_moments(decision: Mapping[str, Any]) -> dict[str, dt.date | dt.datetime]:
    """Step → deadline, the moment (`due_at`) where the decision gives one, else the date."""
    return {step: dt.datetime.fromisoformat(d["due_at"]) if d.get("due_at") else dt.date.fromisoformat(d["date"])
            for step, d in (decision.get("deadlines") or {}).items()}
