"""A new case's file written at once: petition, deadlines, escalations, register event, audit row, Idempotency-Key
record and its number, in one statement on PostgreSQL (data-modifying CTEs), statement by statement on SQLite.

The case number comes from the jurisdiction-and-year counter row (case_number_counter), whose lock every
registration there waits on: on PostgreSQL the upsert is part of the one statement that writes the file, so the
lock is held for that statement and the commit only; a rollback returns the number, so numbers stay gap-free.
The number is also written into the event's and the audit row's detail, which the database composes.

The Petition returned is attached to the session as if loaded (its deadlines and events too): no SELECT after
the insert, and callers use it as any case they read.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, bindparam, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from xinfang.server.store.case_tables import (CaseDeadline, CaseEscalation, CaseEvent, CaseNumberCounter,
                                              IdempotencyRecord, Petition)
from xinfang.server.store.models import AuditLog, utcnow

__all__ = ["NewCase", "case_number", "write_new_case"]

REGISTER = "register"


@dataclass(frozen=True)
class NewCase:
    """What a new case's file holds before it has an id or a number.

    `petition`: its columns but id, number and revision; `deadlines` and `escalations`: their rows' columns but
    id and petition_id; `detail`: what the register event and the audit row record (the event adds the
    deadlines), each starting with the number once it is known.
    """

    petition: dict[str, Any]
    deadlines: list[dict[str, Any]]
    escalations: list[dict[str, Any]]
    detail: dict[str, Any]
    deadline_snapshot: dict[str, Any]
    actor: str
    idempotency: tuple[str, str] | None = None  # (key, request hash)
    at: dt.datetime = field(default_factory=utcnow)

    @property
    def code(self) -> str:
        return self.petition["jurisdiction_code"]

    @property
    def year(self) -> int:
        return self.petition["received_on"].year

    def event_detail(self, number: str) -> dict[str, Any]:
        return {"number": number, **self.detail, "deadlines": self.deadline_snapshot}

    def audit_detail(self, number: str) -> dict[str, Any]:
        return {"number": number, **self.detail}


def case_number(code: str, year: int, sequence: int) -> str:
    """371321-2024-000123: the jurisdiction, the year received, the sequence in both (at least six digits)."""
    return f"{code}-{year}-{sequence:06d}"


@dataclass(frozen=True)
class _Filed:
    petition_id: int
    number: str
    deadline_ids: Mapping[str, int]
    event_id: int


def write_new_case(db: Session, new: NewCase) -> Petition:
    """Write the new case's whole file with its number; the Petition, attached to `db`. The caller commits."""
    write = _in_one_statement if db.get_bind().dialect.name == "postgresql" else _statement_by_statement
    return _attached(db, new, write(db, new))


# PostgreSQL: one statement. The rows of deadlines and escalations travel as one JSON parameter each, so the
# statement's text never changes (psycopg prepares it once per connection).

_PETITION_COLUMNS = [c for c in Petition.__table__.columns if c.name not in ("id", "number")]
_DEADLINE_COLUMNS = ("step", "due_on", "due_at", "provisional", "source")
_ESCALATION_COLUMNS = ("step", "watch", "action", "flag", "target", "letter", "due_on", "until_on", "due_at",
                       "until_at", "rule", "source")


def _detail(tail: str) -> str:
    """The stored detail: `{"number": <the number>, ` and then the JSON text in parameter `tail`."""
    return f"""CAST(CONCAT('{{"number": ', CAST(to_json(p.number) AS text), ', ', CAST(:{tail} AS text)) AS json)"""


def _pg_type(table, name: str) -> str:
    return table.c[name].type.compile(dialect=postgresql.dialect())


def _recordset(model, names: tuple[str, ...], param: str) -> tuple[str, str]:
    """The SELECT list and FROM item that turn the JSON array `param` into rows of `model`'s columns."""
    table = model.__table__
    columns = ", ".join(f'r."{n}"' for n in names)
    definition = ", ".join(f'"{n}" {_pg_type(table, n)}' for n in names)
    return columns, f"json_to_recordset(CAST(:{param} AS json)) AS r({definition})"


@functools.cache
def _file_statement(with_idempotency: bool) -> TextClause:
    p_names = ", ".join(f'"{c.name}"' for c in _PETITION_COLUMNS)
    p_values = ", ".join(f"CAST(:p_{c.name} AS {c.type.compile(dialect=postgresql.dialect())})"
                         for c in _PETITION_COLUMNS)
    d_columns, d_rows = _recordset(CaseDeadline, _DEADLINE_COLUMNS, "deadlines")
    e_columns, e_rows = _recordset(CaseEscalation, _ESCALATION_COLUMNS, "escalations")
    d_names = ", ".join(f'"{n}"' for n in _DEADLINE_COLUMNS)
    e_names = ", ".join(f'"{n}"' for n in _ESCALATION_COLUMNS)
    idempotency = """,
        i AS (INSERT INTO idempotency_record (key, request_hash, petition_id, created_at)
              SELECT CAST(:key AS varchar), CAST(:request_hash AS varchar), p.id, CAST(:at AS timestamptz) FROM p)
    """ if with_idempotency else ""
    sql = f"""
        WITH counter AS (
              INSERT INTO case_number_counter (jurisdiction_code, year, last_number)
              VALUES (CAST(:p_jurisdiction_code AS varchar), CAST(:year AS integer), 1)
              ON CONFLICT (jurisdiction_code, year) DO UPDATE SET last_number = case_number_counter.last_number + 1
              RETURNING last_number),
        p AS (INSERT INTO petition (number, {p_names})
              SELECT CONCAT(CAST(:p_jurisdiction_code AS varchar), '-', CAST(:year AS integer), '-',
                            lpad(CAST(counter.last_number AS text),
                                 greatest(6, length(CAST(counter.last_number AS text))), '0')),
                     {p_values}
              FROM counter
              RETURNING id, number),
        d AS (INSERT INTO case_deadline (petition_id, {d_names})
              SELECT p.id, {d_columns} FROM p, {d_rows}
              RETURNING id, step),
        e AS (INSERT INTO case_escalation (petition_id, {e_names})
              SELECT p.id, {e_columns} FROM p, {e_rows}),
        ev AS (INSERT INTO case_event (petition_id, action, "on", at, actor, stage_before, stage_after, detail)
               SELECT p.id, '{REGISTER}', CAST(:p_received_on AS date), CAST(:at AS timestamptz),
                      CAST(:actor AS varchar), NULL, 'registered', {_detail('event_tail')}
               FROM p
               RETURNING id),
        a AS (INSERT INTO audit_log (at, actor, action, object_type, object_id, detail)
              SELECT CAST(:at AS timestamptz), CAST(:actor AS varchar), 'case.register', 'petition',
                     CAST(p.id AS text), {_detail('audit_tail')}
              FROM p){idempotency}
        SELECT p.id, p.number, (SELECT json_object_agg(d.step, d.id) FROM d), (SELECT ev.id FROM ev) FROM p
    """
    typed = [bindparam(f"p_{c.name}", type_=c.type) for c in _PETITION_COLUMNS]
    typed.append(bindparam("at", type_=Petition.__table__.c.created_at.type))
    return text(sql).bindparams(*typed)


def _json_rows(rows: list[dict[str, Any]], names: tuple[str, ...]) -> str:
    return json.dumps([{n: _json_value(row.get(n)) for n in names} for row in rows], ensure_ascii=False)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _tail(detail: Mapping[str, Any]) -> str:
    """The JSON object `detail` without its opening brace: what follows `{"number": …, ` in the stored detail."""
    if not detail:
        raise ValueError("a register event's detail records at least the rule-set version")
    return json.dumps(detail, ensure_ascii=False)[1:]


def _in_one_statement(db: Session, new: NewCase) -> _Filed:
    params = {f"p_{name}": value for name, value in new.petition.items()}
    params.update(year=new.year, at=new.at, actor=new.actor,
                  deadlines=_json_rows(new.deadlines, _DEADLINE_COLUMNS),
                  escalations=_json_rows(new.escalations, _ESCALATION_COLUMNS),
                  event_tail=_tail({**new.detail, "deadlines": new.deadline_snapshot}), audit_tail=_tail(new.detail))
    if new.idempotency:
        params["key"], params["request_hash"] = new.idempotency
    petition_id, number, deadline_ids, event_id = db.execute(_file_statement(bool(new.idempotency)), params).one()
    return _Filed(petition_id, number, deadline_ids or {}, event_id)


# SQLite: no data-modifying CTEs; one writer at a time anyway, so the order of the statements holds no lock longer.

def _statement_by_statement(db: Session, new: NewCase) -> _Filed:
    petitions, deadlines, events = Petition.__table__, CaseDeadline.__table__, CaseEvent.__table__
    number = case_number(new.code, new.year, _next_sequence(db, new.code, new.year))
    petition_id = db.execute(insert(petitions).values(number=number, **new.petition).returning(petitions.c.id)
                             ).scalar_one()
    deadline_ids: dict[str, int] = {}
    if new.deadlines:
        found = db.execute(insert(deadlines).returning(deadlines.c.id, deadlines.c.step, sort_by_parameter_order=True),
                           [{"petition_id": petition_id, **row} for row in new.deadlines])
        deadline_ids = {step: row_id for row_id, step in found}
    if new.escalations:
        db.execute(insert(CaseEscalation.__table__), [{"petition_id": petition_id, **row} for row in new.escalations])
    event_id = db.execute(insert(events).values(
        petition_id=petition_id, action=REGISTER, on=new.petition["received_on"], at=new.at, actor=new.actor,
        stage_before=None, stage_after="registered", detail=new.event_detail(number)).returning(events.c.id)
    ).scalar_one()
    db.execute(insert(AuditLog.__table__).values(at=new.at, actor=new.actor, action="case.register",
                                                 object_type="petition", object_id=str(petition_id),
                                                 detail=new.audit_detail(number)))
    if new.idempotency:
        key, digest = new.idempotency
        db.execute(insert(IdempotencyRecord.__table__).values(key=key, request_hash=digest, petition_id=petition_id,
                                                              created_at=new.at))
    return _Filed(petition_id, number, deadline_ids, event_id)


def _next_sequence(db: Session, code: str, year: int) -> int:
    counter = CaseNumberCounter.__table__
    stmt = (sqlite.insert(counter).values(jurisdiction_code=code, year=year, last_number=1)
            .on_conflict_do_update(index_elements=["jurisdiction_code", "year"],
                                   set_={"last_number": counter.c.last_number + 1})
            .returning(counter.c.last_number))
    return db.execute(stmt).scalar_one()


def _attached(db: Session, new: NewCase, filed: _Filed) -> Petition:
    """The Petition as a load of the rows just written would give it, persistent in `db`, its file loaded."""
    petition = Petition(id=filed.petition_id, number=filed.number, **new.petition)
    deadlines = [CaseDeadline(id=filed.deadline_ids[row["step"]], petition_id=filed.petition_id, done_on=None,
                              **row) for row in new.deadlines]
    event = CaseEvent(id=filed.event_id, petition_id=filed.petition_id, action=REGISTER,
                      on=new.petition["received_on"], at=new.at, actor=new.actor, stage_before=None,
                      stage_after="registered", detail=new.event_detail(filed.number))
    for instance in (petition, *deadlines, event):
        make_transient_to_detached(instance)
    set_committed_value(petition, "deadlines", deadlines)
    set_committed_value(petition, "events", [event])
    db.add(petition)
    return petition
