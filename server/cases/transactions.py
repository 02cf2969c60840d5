"""One transaction of the case service, committed, with a lost race retried: SQLite's writer lock, PostgreSQL's
serialisation, a unique key two requests took at once (the next case number, one order id, one rating)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .errors import Busy

__all__ = ["RETRIES", "committed"]

RETRIES = 3
T = TypeVar("T")


def committed(db: Session, work: Callable[[], T], *, retries: int = RETRIES) -> T:
    """Run `work` and commit; roll back on any refusal; after `retries` lost races, refuse as Busy."""
    for attempt in range(1, retries + 1):
        try:
            result = work()
            db.commit()
            return result
        except (IntegrityError, OperationalError):
            db.rollback()
            if attempt == retries:
                raise Busy("busy", "the request could not be completed for concurrent changes; try again") from None
        except BaseException:
            db.rollback()
            raise
    raise AssertionError("unreachable")
