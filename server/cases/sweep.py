"""Escalation sweeps: fire every scheduled escalation step that has fallen due, once, in set-based SQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from xinfang.config import CHINA
from xinfang.config.procedure import MEASURES, OPEN_STAGES
from xinfang.rules.escalation import DueEscalation, escalation_flags
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, CaseEvent, Petition
from xinfang.server.store.models import AuditLog, UTCDateTime

__all__ = ["EVENT_ACTION", "SweepResult", "default_worker", "due_escalations_condition", "fire_statement",
           "sweep"]

EVENT_ACTION = "escalation"  # CaseEvent.action of a fired step; the step itself is in the detail
_RETRIES = 3  # a PostgreSQL deadlock between sweeps rolls one back whole: running it again is safe
_RETRY_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure

_esc = CaseEscalation.__table__
_petition = Petition.__table__
_deadline = CaseDeadline.__table__
_event = CaseEvent.__table__


@dataclass(frozen=True)
class SweepResult:
    """What one sweep fired: how many steps, by action, on how many cases, as of which legal day."""

    today: dt.date
    worker: str
    fired: int = 0
    by_action: dict[str, int] = field(default_factory=dict)
    cases: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{action} {n}" for action, n in self.by_action.items())
        plural = "" if self.fired == 1 else "s"
        return f"fired {self.fired} escalation{plural}{f' ({counts})' if counts else ''} in {self.seconds:.2f} s"


def default_worker(role: str = "sweep") -> str:
    """host:pid names the process in `fired_by`; concurrent sweeps need not differ, only for reading."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def due_escalations_condition(today: dt.date, now: dt.datetime | None = None):
    """The WHERE of a sweep: unfired, due by `today` and not past its last day, case open, watched step running.

    The schedule's `due_on` and `until_on` come from rules.escalation (the same timing as the engine's
    conditions: a warning ends on the watched deadline's day). A backlog step (watch NULL) needs only
    the case open. Given `now`, a step watching a deadline at a moment (流转不过夜: by 09:00) is due only after
    its `due_at` (overdue at 09:01, not at 08:59) and a warning not after its `until_at`.
    """
    case_open = exists().where(_petition.c.id == _esc.c.petition_id, _petition.c.stage.in_(OPEN_STAGES))
    step_running = exists().where(
        _deadline.c.petition_id == _esc.c.petition_id, _deadline.c.step == _esc.c.watch, _deadline.c.done_on.is_(None))
    timing = [_esc.c.due_on <= today, or_(_esc.c.until_on.is_(None), _esc.c.until_on >= today)]
    if now is not None:
        at = literal(now, UTCDateTime())
        timing += [or_(_esc.c.due_at.is_(None), _esc.c.due_at < at), or_(_esc.c.until_at.is_(None), _esc.c.until_at >= at)]
    return and_(_esc.c.fired_at.is_(None), *timing, case_open, or_(_esc.c.watch.is_(None), step_running))


def sweep(target: Engine | Session, now: dt.datetime, *, worker: str | None = None,
          returning: bool | None = None) -> SweepResult:
    """Fire every escalation due by `now` (its Asia/Shanghai date), each exactly once, in one transaction.

    An Engine: the sweep commits (retried whole after a PostgreSQL deadlock). A Session: the work
    joins its transaction and the caller commits. `returning=False` forces the path for a SQLite
    older than 3.35 (no UPDATE ... RETURNING), so that it stays tested.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now.isoformat()} refused: give the sweep's time with its zone")
    worker = worker or default_worker()
    started = time.perf_counter()
    if isinstance(target, Session):
        target.flush()
        result = _sweep(target.connection(), now, worker, returning)
        for obj in list(target.identity_map.values()):  # their flags and revision changed underneath
            if isinstance(obj, Petition):
                target.expire(obj)
    else:
        result = _with_retries(target, now, worker, returning)
    return SweepResult(result.today, worker, result.fired, result.by_action, result.cases,
                       time.perf_counter() - started)


def _with_retries(engine: Engine, now: dt.datetime, worker: str, returning: bool | None) -> SweepResult:
    for attempt in range(1, _RETRIES + 1):
        try:
            with engine.begin() as connection:
                return _sweep(connection, now, worker, returning)
        except DBAPIError as err:
            if attempt == _RETRIES or getattr(err.orig, "sqlstate", None) not in _RETRY_CODES:
                raise
    raise AssertionError("unreachable")


def _sweep(connection: Connection, now: dt.datetime, worker: str, returning: bool | None) -> SweepResult:
    today = now.astimezone(CHINA).date()
    if connection.dialect.name == "postgresql":
        # The correlated EXISTS inflate the estimates past jit_above_cost: compiling took longer than the
        # sweep's own work (bench/README.md). LOCAL: for this transaction only.
        connection.exec_driver_sql("SET LOCAL jit = off")
    if returning is None:
        returning = connection.dialect.update_returning
    rows = _fire(connection, now, today, worker) if returning else _fire_without_returning(connection, now, today,
                                                                                           worker)
    if not rows:
        return SweepResult(today, worker)
    _record_events(connection, rows, now, today, worker)
    flagged = _add_flags(connection, rows, now)
    counts = Counter(row["action"] for row in rows)
    by_action = {m.name: counts.pop(m.name) for m in MEASURES if m.name in counts} | dict(sorted(counts.items()))
    connection.execute(insert(AuditLog.__table__).values(
        at=now, actor=worker, action="sweep", object_type="case_escalation", object_id=today.isoformat(),
        detail={"fired": len(rows), "by_action": by_action, "cases": flagged}))
    return SweepResult(today, worker, len(rows), by_action, flagged)


def _fired_columns():
    """What the flags need of each fired step, with the watched deadline (a step after it is overdue)."""
    deadline = (select(_deadline.c.due_on).where(_deadline.c.petition_id == _esc.c.petition_id,
                                                 _deadline.c.step == _esc.c.watch)
                .correlate(_esc).scalar_subquery())
    moment = (select(_deadline.c.due_at).where(_deadline.c.petition_id == _esc.c.petition_id,
                                               _deadline.c.step == _esc.c.watch)
              .correlate(_esc).scalar_subquery())
    return (_esc.c.id, _esc.c.petition_id, _esc.c.step, _esc.c.watch, _esc.c.action, _esc.c.flag, _esc.c.target,
            _esc.c.letter, _esc.c.due_on, _esc.c.due_at, _esc.c.rule, deadline.label("deadline_on"),
            moment.label("deadline_at"))


def fire_statement(now: dt.datetime, today: dt.date, worker: str):
    """The sweep's UPDATE ... RETURNING (bench_sweep.py explains it as it is)."""
    return (update(_esc).where(due_escalations_condition(today, now)).values(fired_at=now, fired_by=worker)
            .returning(*_fired_columns()))


def _fire(connection: Connection, now: dt.datetime, today: dt.date, worker: str) -> list[dict[str, Any]]:
    """One UPDATE ... RETURNING: under PostgreSQL's row locks a step another sweep fired first no longer
    matches `fired_at IS NULL` when its WHERE is re-checked, so it is skipped here."""
    return [dict(row) for row in connection.execute(fire_statement(now, today, worker)).mappings()]


def _fire_without_returning(connection: Connection, now: dt.datetime, today: dt.date,
                            worker: str) -> list[dict[str, Any]]:
    """Stamp the due steps with a token no other sweep has, read them back by it, then name the worker.

    The UPDATE takes SQLite's write lock first, so the three statements see no other sweep's writes.
    """
    token = f"{worker}#{os.urandom(8).hex()}"[-200:]
    connection.execute(update(_esc).where(due_escalations_condition(today, now)).values(fired_at=now, fired_by=token))
    stamped = select(*_fired_columns()).where(_esc.c.fired_by == token)
    rows = [dict(row) for row in connection.execute(stamped).mappings()]
    connection.execute(update(_esc).where(_esc.c.fired_by == token).values(fired_by=worker))
    return rows


def _record_events(connection: Connection, rows: list[dict[str, Any]], now: dt.datetime, today: dt.date,
                   worker: str) -> None:
    """One case event per fired step, written by one INSERT ... SELECT over the fired ids (a JSON array)."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        ids = text("SELECT CAST(value AS integer) FROM json_array_elements_text(CAST(:ids AS json))")
        letter, as_json = _esc.c.letter, func.json_build_object
    else:
        ids = text("SELECT value FROM json_each(:ids)")
        letter, as_json = case((_esc.c.letter, func.json("true")), else_=func.json("false")), func.json_object
    detail = as_json("escalation_id", _esc.c.id, "step", _esc.c.step, "action", _esc.c.action, "flag", _esc.c.flag,
                     "to", _esc.c.target, "letter", letter, "watch", _esc.c.watch, "due_on", _esc.c.due_on,
                     "rule", _esc.c.rule, "source", _esc.c.source)
    events = (select(_esc.c.petition_id, literal(EVENT_ACTION), literal(today, Date()), literal(now, UTCDateTime()),
                     literal(worker), _petition.c.stage, _petition.c.stage, detail)
              .join_from(_esc, _petition, _petition.c.id == _esc.c.petition_id)
              .where(_esc.c.id.in_(ids.columns(column("value", Integer))))
              .order_by(_esc.c.id))
    names = ["petition_id", "action", "on", "at", "actor", "stage_before", "stage_after", "detail"]
    connection.execute(insert(_event).from_select(names, events), {"ids": json.dumps([r["id"] for r in rows])})


def _new_flags(rows: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Case id → the flags its fired steps add (rules.escalation's vocabulary: `flag:red`, `supervise`, ...)."""
    due: dict[int, list[DueEscalation]] = defaultdict(list)
    for r in rows:
        overdue = r["watch"] is not None and r["deadline_on"] is not None and (
            r["due_on"] > r["deadline_on"] or _at_or_after(r["due_at"], r["deadline_at"]))
        due[r["petition_id"]].append(DueEscalation(
            step=r["step"], name=r["step"], action=r["action"], flag=r["flag"], to=r["target"],
            letter=bool(r["letter"]), due_on=r["due_on"], rule=r["rule"], source={}, watch=r["watch"],
            overdue=overdue))
    return {pid: escalation_flags(steps) for pid, steps in due.items()}


def _at_or_after(due_at: Any, deadline_at: Any) -> bool:
    """A step due from its watched deadline's moment on is past that deadline (after_days ≥ 1 of a timed one)."""
    if due_at is None or deadline_at is None:
        return False
    return UTCDateTime().process_result_value(due_at, None) >= UTCDateTime().process_result_value(deadline_at, None)


# Case id → flags to add, passed as one JSON object and merged in one UPDATE: the union of the old and
# new flags, sorted, where a red card replaces a yellow one (worst colour wins). The revision is
# bumped, so a clerk's concurrent ORM update of the case fails as stale instead of overwriting.
_MERGE_FLAGS = {
    "postgresql": """
        UPDATE petition AS p SET
          flags = (WITH u(f) AS (SELECT json_array_elements_text(p.flags)
                                 UNION SELECT json_array_elements_text(n.value))
                   SELECT coalesce(json_agg(f ORDER BY f), CAST('[]' AS json)) FROM u
                   WHERE f <> 'flag:yellow' OR NOT EXISTS (SELECT 1 FROM u WHERE f = 'flag:red')),
          revision = p.revision + 1, updated_at = :now
        FROM json_each(CAST(:doc AS json)) AS n
        WHERE p.id = CAST(n.key AS integer)""",
    "sqlite": """
        UPDATE petition SET
          flags = (WITH u(f) AS (SELECT value FROM json_each(petition.flags)
                                 UNION SELECT value FROM json_each(n.value))
                   SELECT json_group_array(f) FROM (
                     SELECT f FROM u WHERE f <> 'flag:yellow' OR NOT EXISTS (SELECT 1 FROM u WHERE f = 'flag:red')
                     ORDER BY f)),
          revision = revision + 1, updated_at = :now
        FROM json_each(:doc) AS n
        WHERE petition.id = CAST(n.key AS INTEGER)""",
}


def _add_flags(connection: Connection, rows: list[dict[str, Any]], now: dt.datetime) -> int:
    flags = _new_flags(rows)
    statement = text(_MERGE_FLAGS[connection.dialect.name]).bindparams(bindparam("now", type_=UTCDateTime()))
    connection.execute(statement, {"doc": json.dumps(flags), "now": now})
    return len(flags)
