"""Rows a process keeps between requests (the published rule sets, the accounts): read again at most every
RECHECK_SECONDS, so another process's publish or account change shows within that time, and dropped at once
when this process commits one.

Each request asking the database whether anything changed cost two or three round trips of a registration's
five. What "this process commits one" sees: an ORM flush inserting, updating or deleting a
RuleSetVersionRecord or a User (server/store/models.py), then the commit; a Core statement on those tables
is another process's change as far as this one knows (RECHECK_SECONDS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from .models import RuleSetVersionRecord, User

__all__ = ["ACCOUNTS", "LIBRARY", "RECHECK_SECONDS", "Rechecked", "changed", "clock"]

RECHECK_SECONDS = 1.0
clock: Callable[[], float] = time.monotonic  # a test moves time on by replacing it

LIBRARY, ACCOUNTS = "library", "accounts"
_generations = {LIBRARY: 0, ACCOUNTS: 0}
_CHANGED = "xinfang_recheck_changed"  # Session.info: the topics its flushes changed, until it commits

T = TypeVar("T")


def changed(topic: str) -> None:
    """Forget, in this process, every value of `topic` read before now."""
    _generations[topic] += 1


class Rechecked(Generic[T]):
    """Values of one topic by key, each read again when older than RECHECK_SECONDS or when the topic changed."""

    def __init__(self, topic: str, max_entries: int = 1024) -> None:
        self.topic, self.max_entries = topic, max_entries
        self._entries: dict[Hashable, tuple[float, int, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """The value kept for `key`, else `read()`'s (kept from now)."""
        now, generation = clock(), _generations[self.topic]
        found = self._entries.get(key)
        if found is not None and found[1] == generation and now - found[0] < RECHECK_SECONDS:
            return found[2]
        value = read()  # the generation taken before reading: a change committed meanwhile is not kept past it
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now, generation, value)
        return value


def _flushed(topic: str):
    def mark(mapper, connection, target) -> None:
        session = object_session(target)
        if session is not None:
            session.info.setdefault(_CHANGED, set()).add(topic)
        changed(topic)  # at once too: this session's later reads before its commit see its own change
    return mark


for _model, _topic in ((RuleSetVersionRecord, LIBRARY), (User, ACCOUNTS)):
    for _name in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _name, _flushed(_topic))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for topic in session.info.pop(_CHANGED, ()):
        changed(topic)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    for topic in session.info.pop(_CHANGED, ()):
        changed(topic)  # a value read between the flush and the rollback held the change that is now undone
