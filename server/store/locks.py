"""Named locks held to the end of a transaction: a check-then-insert made race-free without a global lock."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["hold_until_commit"]


def hold_until_commit(db: Session, name: str) -> None:
    """Wait for, then hold until this transaction ends, the lock called `name`.

    PostgreSQL: a transaction-scoped advisory lock on the name's hash, so only transactions of the same name
    queue (a hash collision makes two names share a queue, never lets one through). SQLite has one writer at
    a time: the transaction takes the write lock now (BEGIN IMMEDIATE), so what it reads next stays true to
    its commit; a transaction that has written already holds it.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
        return
    raw = db.connection().connection.dbapi_connection
    if not raw.in_transaction:  # pysqlite opens a transaction at the first write only
        raw.execute("BEGIN IMMEDIATE")
