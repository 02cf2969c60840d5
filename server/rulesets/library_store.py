"""The server's rule-set library: the versions published in the database, rebuilt when another is published
(seen at once in this process, within recheck.RECHECK_SECONDS from another)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from xinfang.config import RuleSetLibrary
from xinfang.server.store.models import RuleSetVersionRecord, content_hash
from xinfang.server.store.recheck import LIBRARY, Rechecked, changed

__all__ = ["LibraryStore", "build_library", "current_library", "forget_current", "init_app", "library_of",
           "published_library",
           "record_name", "remember_files"]

log = logging.getLogger(__name__)

_EXTENSION = "xinfang.library"
_CACHE_SIZE = 8  # a library per database state; a few databases per process at most (tests)
_cache: OrderedDict[tuple, RuleSetLibrary] = OrderedDict()
_lock = threading.Lock()
_file_names: dict[str, str] = {}  # content hash -> the display name of a rule-set file with that exact text
_remembered: set[tuple[str, ...]] = set()  # the files already read


def remember_files(library: RuleSetLibrary) -> None:
    """Let published texts that are byte for byte a file of `library` keep that file's name.

    So a decision cites the same file:line whether the server reads the database or the files
    (the bundled rule sets are imported as they are); a text published here has no file.
    """
    files = tuple(sorted(v.file for v in library.all_versions()))
    if files in _remembered:
        return
    for version in library.all_versions():
        try:
            text = Path(version.file).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        _file_names.setdefault(content_hash(text), version.file)
    _remembered.add(files)


def record_name(record: RuleSetVersionRecord) -> str:
    """What a published version is called in positions and sources: its file's name if it came from one,
    else `db:371321@2024.1`."""
    return _file_names.get(record.content_hash) or f"db:{record.jurisdiction_code}@{record.version}"


def build_library(records: Iterable[RuleSetVersionRecord]) -> RuleSetLibrary:
    """A library of published texts. They were valid when published; a problem found now is logged, not fatal,
    since refusing to start would stop every clerk over one version."""
    library, issues = RuleSetLibrary.collect_texts((record_name(r), r.yaml_text) for r in records)
    for issue in issues:
        log.warning("published rule set: %s", issue)
    return library


def _state(session: Session) -> tuple | None:
    """What identifies the published versions: the database, their count, the newest id and its hash.

    Ids only grow and published rows are never changed or deleted, so the newest id names the set;
    the count and the hash also tell apart an id SQLite reused after a rolled-back publish.
    """
    count, newest = session.execute(select(func.count(), func.max(RuleSetVersionRecord.id))).one()
    if not count:
        return None
    digest = session.scalar(select(RuleSetVersionRecord.content_hash).where(RuleSetVersionRecord.id == newest))
    return str(session.get_bind().url), count, newest, digest, len(_file_names)


def published_library(session: Session) -> RuleSetLibrary | None:
    """Every version published in the database as `session` sees it, built once per state; None if there is none."""
    key = _state(session)
    if key is None:
        return None
    with _lock:  # after a publish, the requests that arrive together build it once
        library = _cache.get(key)
        if library is None:
            records = session.scalars(select(RuleSetVersionRecord).order_by(RuleSetVersionRecord.id))
            library = _cache[key] = build_library(records)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
        return library


class LibraryStore:
    """One app's library: the database's published versions once there are any, else the files it started with.

    The files (RULES_DIR, else the bundled rule sets) serve until `xinfang serve` has imported them, and
    apps whose database is never migrated (tests of public pages) keep working from them.
    """

    def __init__(self, files: RuleSetLibrary) -> None:
        self.files = files
        self._migrated = False
        self._published: Rechecked[RuleSetLibrary | None] = Rechecked(LIBRARY, max_entries=1)

    def current(self, session: Session) -> RuleSetLibrary:
        """The library; the database is asked whether it changed at most every recheck.RECHECK_SECONDS."""
        if not self._migrated:
            # Asked once it is true: a missing table would abort the request's transaction on PostgreSQL.
            self._migrated = inspect(session.get_bind()).has_table(RuleSetVersionRecord.__tablename__)
            if not self._migrated:
                return self.files
        return self._published.get(None, lambda: published_library(session)) or self.files


def init_app(app: Flask, files: RuleSetLibrary) -> LibraryStore:
    remember_files(files)
    store = app.extensions[_EXTENSION] = LibraryStore(files)
    return store


def current_library(app: Flask) -> RuleSetLibrary:
    """The app's library, looked up once per request (LibraryStore.current asks the database at most every second)."""
    from xinfang.server.store.db import database_of, get_session
    store: LibraryStore = app.extensions[_EXTENSION]
    if has_app_context() and current_app._get_current_object() is app:
        library = g.get("xinfang_library")
        if library is None:
            library = g.xinfang_library = store.current(get_session())
        return library
    with database_of(app).session() as session:
        return store.current(session)


def library_of(app: Flask) -> RuleSetLibrary:
    """The rule sets the app decides with: the versions published in its database.

    Callers often pass `current_app`; the store caches per request on the real app object.
    """
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    return current_library(real)


def forget_current() -> None:
    """After a publish in this request: the next lookup, here and in every app of this process, reads the database
    again."""
    g.pop("xinfang_library", None)
    changed(LIBRARY)
