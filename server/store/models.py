"""The stored records: jurisdictions, published rule-set versions, drafts and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from xinfang.config.jurisdictions import LEVELS

__all__ = ["ROLES", "SOURCE_SYSTEM", "STAFF_ROLES", "AuditLog", "Base", "Jurisdiction", "User", "PublishedVersionImmutable", "RuleSetDraft", "RuleSetVersionRecord",
           "UTCDateTime", "content_hash", "utcnow"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_hash(yaml_text: str) -> str:
    """The sha256 (hex) of a rule-set file's text, as UTF-8: what makes two published texts the same."""
    return hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant, stored as UTC and always read back aware in UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the UTC wall time is stored and
    UTC is attached on reading. A naive datetime is refused: its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone (UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    # Named constraints, so that migrations can refer to them on every database.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Jurisdiction(Base):
    """A division of the national tree (or one a rule set declares) that the database refers to."""

    __tablename__ = "jurisdiction"
    __table_args__ = (CheckConstraint("level IN (" + ", ".join(f"'{lv}'" for lv in LEVELS) + ")", name="level"),)

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.code"), index=True)

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.code} {self.name} ({self.level})>"


class RuleSetVersionRecord(Base):
    """A published version of a jurisdiction's rule set: its exact YAML text, never changed afterwards.

    Every row is published; drafts live in RuleSetDraft. Updating or deleting a row through the ORM
    raises PublishedVersionImmutable.
    """

    __tablename__ = "ruleset_version"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    version: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_until: Mapped[dt.date | None] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(Text)
    change_note: Mapped[str | None] = mapped_column(Text)
    yaml_text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    approver: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        """`371321@2024.1`, as RuleSetVersion.label names it."""
        return f"{self.jurisdiction_code}@{self.version}"

    def __repr__(self) -> str:
        return f"<RuleSetVersionRecord {self.label} from {self.effective_from}>"


class RuleSetDraft(Base):
    """A jurisdiction's rule set being edited; `revision` is its ETag, bumped on every save.

    The ORM checks the revision on update (version_id_col): saving over a newer save raises
    sqlalchemy.orm.exc.StaleDataError instead of losing it.
    """

    __tablename__ = "ruleset_draft"
    __table_args__ = {"sqlite_autoincrement": True}  # an id is never handed out twice (the audit log names drafts)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"), index=True)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("ruleset_version.id"))
    yaml_text: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": revision}


class AuditLog(Base):
    """Who did what to which object, when; `detail` holds what the action needs to be understood later."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PublishedVersionImmutable(Exception):
    """A published rule-set version was about to be changed or deleted."""


@event.listens_for(RuleSetVersionRecord, "before_update")
def _refuse_update(mapper: Mapper, connection, target: RuleSetVersionRecord) -> None:
    state = inspect(target)
    changed = [attr.key for attr in state.attrs if attr.history.has_changes()]
    if changed:
        raise PublishedVersionImmutable(
            f"published rule-set version {target.label} is immutable (tried to change {', '.join(changed)}): "
            f"publish a new version instead")


@event.listens_for(RuleSetVersionRecord, "before_delete")
def _refuse_delete(mapper: Mapper, connection, target: RuleSetVersionRecord) -> None:
    raise PublishedVersionImmutable(f"published rule-set version {target.label} is immutable: it cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(execute_state) -> None:
    """`update(RuleSetVersionRecord)` and `delete(...)` statements skip the mapper events above."""
    if (execute_state.is_update or execute_state.is_delete) and execute_state.bind_mapper is inspect(
            RuleSetVersionRecord):
        what = "update" if execute_state.is_update else "delete"
        raise PublishedVersionImmutable(f"published rule-set versions are immutable: refused a bulk {what}")


# Who may do what (each scoped to a jurisdiction and the ones below it). `source_system` is no person: another
# system's account (12345热线, 网信) that sends work orders and does nothing else (server/accounts.py).
SOURCE_SYSTEM = "source_system"
ROLES = ("admin", "policy_officer", "approver", "clerk", "supervisor", "discipline", SOURCE_SYSTEM)
STAFF_ROLES = tuple(r for r in ROLES if r != SOURCE_SYSTEM)


class User(Base):
    """A person who signs in, scoped to a jurisdiction and those below it; `unit` is their own unit's id."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    unit: Mapped[str | None] = mapped_column(String(64))
    unit_name: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
