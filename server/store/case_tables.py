"""The stored case file (一案一档): petitions, their events, deadlines, escalations, numbers, idempotency keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, utcnow
from .sealed_json import SealedCaseJSON

__all__ = ["Petition", "CaseEvent", "CaseDeadline", "CaseEscalation", "CaseNumberCounter", "IdempotencyRecord",
           "QueryCode"]


class Petition(Base):
    """One petition (信访事项) and its decision, pinned to the rule-set version in force when it was received.

    The table is `petition`, since `case` is an SQL keyword. The case input and the decision are kept
    whole as JSON (the file); the columns repeat what lists, filters and sweeps select on.
    """

    __tablename__ = "petition"
    __table_args__ = (
        Index("ix_petition_jurisdiction_stage", "jurisdiction_code", "stage"),
        Index("ix_petition_duplicates", "jurisdiction_code", "petitioner_key", "category", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 371321-2024-000123
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    ruleset_version: Mapped[str] = mapped_column(String(400))  # EffectiveRuleSet.version_label: the pin
    received_on: Mapped[dt.date] = mapped_column(Date)
    received_at: Mapped[dt.datetime | None] = mapped_column()  # the time received, where known (limits in hours)
    intake: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    track: Mapped[str | None] = mapped_column(String(64))
    route_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    admissible: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(24), default="registered")
    flags: Mapped[list[str]] = mapped_column(default=list)
    # Blind index (HMAC under the server's index key) of the petitioner's ID number, or name and phone: matches
    # repeats and daily limits without reading identities (server/cases/identity.py).
    petitioner_key: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # accusations (Art. 46(5))
    outcome: Mapped[str | None] = mapped_column(String(16))  # support / explain / not_support / mediated (Art. 32, 33)
    accused_unit: Mapped[str | None] = mapped_column(String(200))
    case_json: Mapped[dict[str, Any]] = mapped_column(SealedCaseJSON)  # the petitioner encrypted at rest
    decision: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revision: Mapped[int] = mapped_column(Integer)

    events: Mapped[list[CaseEvent]] = relationship(back_populates="petition", order_by="CaseEvent.id",
                                                   cascade="all, delete-orphan")
    deadlines: Mapped[list[CaseDeadline]] = relationship(back_populates="petition", cascade="all, delete-orphan")
    original: Mapped[Petition | None] = relationship(remote_side=[id])  # the case this one repeats (duplicate_of_id)

    __mapper_args__ = {"version_id_col": revision}


class CaseEvent(Base):
    """One step of the file: who did what, on which legal date, and what it changed."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    on: Mapped[dt.date] = mapped_column(Date)  # the legal date (Asia/Shanghai) the action counts from
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # when it was recorded
    actor: Mapped[str] = mapped_column(String(200))
    stage_before: Mapped[str | None] = mapped_column(String(24))
    stage_after: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    petition: Mapped[Petition] = relationship(back_populates="events")


class CaseDeadline(Base):
    """A step's deadline for a case, kept as a row so sweeps select overdue cases in SQL."""

    __tablename__ = "case_deadline"
    __table_args__ = (UniqueConstraint("petition_id", "step"), Index("ix_case_deadline_open_due", "done_on", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"))
    step: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime | None] = mapped_column()  # the moment it is due (a limit in hours or by an hour)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(Text, default="")
    done_on: Mapped[dt.date | None] = mapped_column(Date)  # the step was carried out: its clock stops

    petition: Mapped[Petition] = relationship(back_populates="deadlines")


class CaseEscalation(Base):
    """An escalation step scheduled for a case; `fired_at` is set exactly once, by the sweep that fires it.

    The schedule (due_on) comes from the pinned rule set when the deadlines are computed; the unique
    (petition, step) pair and the `fired_at IS NULL` guard make each step happen once, even with two
    sweeps at the same time.
    """

    __tablename__ = "case_escalation"
    __table_args__ = (
        UniqueConstraint("petition_id", "step"),
        # What a sweep may still fire, by date: a fired step leaves the index (migration 0004, bench_sweep.py).
        Index("ix_case_escalation_due", "due_on", postgresql_where=text("fired_at IS NULL"),
              sqlite_where=text("fired_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"))
    step: Mapped[str] = mapped_column(String(64))  # the escalation step id in the rule set
    watch: Mapped[str | None] = mapped_column(String(32))  # the deadline step it watches; None for backlog
    action: Mapped[str] = mapped_column(String(24))
    flag: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(32))
    letter: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[dt.date] = mapped_column(Date)
    until_on: Mapped[dt.date | None] = mapped_column(Date)  # the last day it may fire (a warning); None: no end
    # Watching a deadline due at a moment: fired only after `due_at` (an overdue step at 09:01, not 08:59), and
    # a warning not after `until_at`, the deadline itself. None: by the day alone.
    due_at: Mapped[dt.datetime | None] = mapped_column()
    until_at: Mapped[dt.datetime | None] = mapped_column()
    fired_at: Mapped[dt.datetime | None] = mapped_column()
    fired_by: Mapped[str | None] = mapped_column(String(200))  # which sweep (host:pid) fired it
    rule: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[dt.datetime | None] = mapped_column()  # a supervisor acted on it


class CaseNumberCounter(Base):
    """The last sequence number given to a case of a jurisdiction in a year: one atomic upsert per registration."""

    __tablename__ = "case_number_counter"

    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """An Idempotency-Key seen on a registration: the same key returns the first case."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # a blind index, as petitioner_key (registration)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QueryCode(Base):
    """The query code (查询码) of a case submitted online: the petitioner's only way back to it, shown once at
    submission; only its blind index is kept (server/cases/public.py)."""

    __tablename__ = "query_code"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
