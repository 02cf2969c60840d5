"""The job queue's tables (procrastinate's schema) on PostgreSQL, created and upgraded by `xinfang db upgrade`.

procrastinate ships its whole schema (schema.sql) and one SQL file per change since (its migrations,
named by the version that brought them). The version applied is recorded as the comment of its jobs
table, so an upgrade of the package applies exactly the changes after it, in the same transaction as
the alembic migrations; pg_dump keeps the comment with the tables.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from sqlalchemy import Connection, text

__all__ = ["JobQueueSchemaError", "applied_version", "installed_version", "is_current", "upgrade"]

_JOBS_TABLE = "procrastinate_jobs"
_COMMENT = re.compile(r"^procrastinate (\d+\.\d+\.\d+)$")
_DELTA = re.compile(r"^(\d+)\.(\d+)\.(\d+)_\d+_.*\.sql$")


class JobQueueSchemaError(Exception):
    """The job queue's tables are in a state this code cannot upgrade from."""


def installed_version() -> str:
    return metadata.version("procrastinate")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _has_jobs_table(connection: Connection) -> bool:
    return connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": _JOBS_TABLE})


def applied_version(connection: Connection) -> str | None:
    """The procrastinate version whose schema the database holds; None when it has none."""
    if not _has_jobs_table(connection):
        return None
    comment = connection.scalar(text("SELECT obj_description(to_regclass(:name), 'pg_class')"), {"name": _JOBS_TABLE})
    match = _COMMENT.match(comment or "")
    if match is None:
        raise JobQueueSchemaError(f"the table {_JOBS_TABLE} exists but was not created by `xinfang db upgrade` "
                                  f"(its comment is {comment!r}, not 'procrastinate X.Y.Z'): its version is unknown")
    return match.group(1)


def is_current(connection: Connection) -> bool:
    try:
        return applied_version(connection) == installed_version()
    except JobQueueSchemaError:
        return False


def _sql_folder() -> Path:
    from procrastinate.schema import SchemaManager
    return Path(SchemaManager.get_migrations_path())


def _run(connection: Connection, sql: str) -> None:
    # Whole files of DDL and plpgsql bodies: sent as they are, with no parameters to interpolate.
    connection.exec_driver_sql(sql.replace("%", "%%"))


def upgrade(connection: Connection) -> str | None:
    """Create the job queue's tables, or apply the package's changes since the recorded version, in
    `connection`'s transaction. Returns what was done, or None when it was current."""
    before, target = applied_version(connection), installed_version()
    if before == target:
        return None
    if before is None:
        from procrastinate.schema import SchemaManager
        _run(connection, SchemaManager.get_schema())
        done = f"job queue created (procrastinate {target})"
    elif _version_tuple(before) > _version_tuple(target):
        raise JobQueueSchemaError(f"the job queue's tables are of procrastinate {before}, newer than the installed "
                                  f"{target}: install procrastinate {before} or newer")
    else:
        deltas = sorted((tuple(int(g) for g in m.groups()), path.name, path)
                        for path in _sql_folder().glob("*.sql") if (m := _DELTA.match(path.name)))
        applied = [(name, path) for version, name, path in deltas
                   if _version_tuple(before) < version <= _version_tuple(target)]
        for _, path in applied:
            _run(connection, path.read_text("utf-8"))
        done = f"job queue upgraded from procrastinate {before} to {target} ({len(applied)} changes)"
    connection.exec_driver_sql(f"COMMENT ON TABLE {_JOBS_TABLE} IS 'procrastinate {target}'")
    return done
