"""Database connections: URLs, engines, sessions for the Flask app, and migrations to the newest schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "DatabaseUnavailable", "UpgradeResult", "alembic_config", "current_revision",
           "default_instance_path", "default_url", "display_url", "get_session", "head_revision", "init_app",
           "make_engine", "owned_by_migrations", "readiness", "resolve_url", "upgrade", "upgraded_session"]

DATABASE_FILE = "xinfang.sqlite3"
_EXTENSION = "xinfang.db"


def default_instance_path() -> str:
    """The instance folder of the Flask app (create_app), without building the app."""
    return Flask("xinfang.server.web.app", instance_relative_config=True).instance_path


def default_url(instance_path: str | os.PathLike | None = None) -> str:
    """The embedded SQLite file, `xinfang.sqlite3` in the app's instance folder."""
    folder = Path(instance_path if instance_path is not None else default_instance_path())
    return f"sqlite:///{folder.absolute() / DATABASE_FILE}"


def resolve_url(url: str | None, instance_path: str | os.PathLike | None = None) -> str:
    """The URL given (a bare file path means a SQLite file), else the default SQLite file."""
    if not url:
        return default_url(instance_path)
    if "://" not in url:
        return f"sqlite:///{Path(url).absolute()}"
    return url


def display_url(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        # Readers do not block the writer (the scheduler sweeps while clerks read); no-op in memory.
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def make_engine(url: str, **options) -> Engine:
    """An engine for `url`; a SQLite file gets its folder created, foreign keys enforced and WAL.

    No ping before each checkout (pool_pre_ping): it was one round trip of a registration's four. A connection the
    server dropped (a restart) fails its statement once, and SQLAlchemy then discards every pooled connection of
    that age; a registration is retried on a new one (server/cases/transactions.py).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, **options)


# Migrations

def alembic_config() -> Config:
    """Alembic's configuration, built in code: the migrations ship inside the package, no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(resources.files(__package__).joinpath("migrations")))
    return config


def owned_by_migrations(name: str | None, type_: str, parent_names) -> bool:
    """Alembic's `include_name`: the job queue's tables are procrastinate's (server/jobs/queue_schema.py), not ours."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head revision"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has never been migrated (empty)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class DatabaseUnavailable(Exception):
    """A database a command cannot read: missing, unreachable, or not at the newest schema."""

    code = "database_unavailable"


@contextmanager
def upgraded_session(url: str) -> Iterator[Session]:
    """A session on the database at `url`, which must exist, answer and be at the newest schema (else
    DatabaseUnavailable saying which and what to run); a reading command never creates or migrates one."""
    where = display_url(url)
    parsed = make_url(url)
    if (parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:"
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists()):
        raise DatabaseUnavailable(f"there is no database {where}: `xinfang db upgrade --database URL` creates it")
    engine = make_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except SQLAlchemyError as err:
            cause = str(getattr(err, "orig", None) or err).strip().splitlines()
            raise DatabaseUnavailable(f"cannot read the database {where}: {cause[0] if cause else type(err).__name__}"
                                      ) from None
        if revision != head_revision():
            state = "has no xinfang tables" if revision is None else f"is at revision {revision}"
            raise DatabaseUnavailable(f"the database {where} {state}, not at the newest schema "
                                      f"({head_revision()}): run `xinfang db upgrade`")
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@dataclass(frozen=True)
class UpgradeResult:
    url: str
    before: str | None
    after: str
    job_queue: str | None = None  # what was done to the job queue's tables (PostgreSQL), if anything

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.job_queue is not None

    def __str__(self) -> str:
        where = display_url(self.url)
        if self.before == self.after:
            said = f"database {where} is up to date (revision {self.after})"
        else:
            start = "an empty database" if self.before is None else f"revision {self.before}"
            said = f"database {where} upgraded from {start} to revision {self.after}"
        return f"{said}; {self.job_queue}" if self.job_queue else said


def upgrade(url: str, revision: str = "head") -> UpgradeResult:
    """Create or upgrade the database at `url` to `revision` (default: the newest), in one transaction.

    On PostgreSQL the job queue's tables (procrastinate's, server/jobs/queue_schema.py) are created or
    upgraded in the same transaction.
    """
    engine = make_engine(url)
    job_queue = None
    try:
        before = current_revision(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if connection.dialect.name == "postgresql":
                from xinfang.server.jobs import queue_schema
                job_queue = queue_schema.upgrade(connection)
        after = current_revision(engine)
    finally:
        engine.dispose()
    assert after is not None
    return UpgradeResult(url, before, after, job_queue)


def readiness(engine: Engine) -> list[str]:
    """Why the database cannot serve this code (unreachable, or migrations not current); empty when it can."""
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            queue_current = True
            if connection.dialect.name == "postgresql":
                from xinfang.server.jobs import queue_schema
                queue_current = queue_schema.is_current(connection)
    except Exception as err:  # any driver error: what the operator needs is its first line
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()
        return [f"database {display_url(str(engine.url))} unreachable: {cause[0] if cause else type(err).__name__}"]
    problems = []
    if revision != head_revision():
        at = "empty" if revision is None else f"at revision {revision}"
        problems.append(f"database {at}, this code needs revision {head_revision()}: run `xinfang db upgrade`")
    if not queue_current:
        from xinfang.server.jobs import queue_schema
        problems.append(f"the job queue's tables are not those of procrastinate {queue_schema.installed_version()}: "
                        f"run `xinfang db upgrade`")
    return problems


# The Flask app

class Database:
    """One app's database: its URL, and an engine and session factory made on first use."""

    def __init__(self, url: str, **engine_options) -> None:
        self.url = url
        self.engine_options = engine_options
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url, **self.engine_options)
        return self._engine

    def session(self) -> Session:
        if self._sessions is None:
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def after_fork(self) -> None:
        """In a process forked from the one that built the app (gunicorn): drop the parent's pooled connections
        without closing them, which are the parent's to close."""
        if self._engine is not None:
            self._engine.dispose(close=False)


_POOL_SETTINGS = {"DATABASE_POOL_SIZE": "pool_size", "DATABASE_MAX_OVERFLOW": "max_overflow",
                  "DATABASE_POOL_TIMEOUT": "pool_timeout"}


def init_app(app: Flask) -> Database:
    """Attach the database named by DATABASE_URL (default: the instance SQLite file); close sessions on teardown.

    DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW and DATABASE_POOL_TIMEOUT (seconds) size each process's pool: a
    request that waits longer than the timeout for a connection is refused as busy (503), not queued forever.
    """
    options = {option: app.config[key] for key, option in _POOL_SETTINGS.items() if app.config.get(key) is not None}
    database = Database(resolve_url(app.config.get("DATABASE_URL"), app.instance_path), **options)
    app.extensions[_EXTENSION] = database
    app.teardown_appcontext(_close_session)
    return database


def database_of(app: Flask) -> Database:
    return app.extensions[_EXTENSION]


def get_session() -> Session:
    """The session of the current app context; closed (uncommitted work rolled back) at its end."""
    if "xinfang_db_session" not in g:
        g.xinfang_db_session = database_of(current_app).session()
    return g.xinfang_db_session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("xinfang_db_session", None)
    if session is not None:
        session.close()
