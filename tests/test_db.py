"""Tests of the database: migrations, the rule-set import and export, immutability, `xinfang db upgrade`.

Every test taking `database_url` runs on SQLite and on PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import flask
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from xinfang.config import RuleSetLibrary, bundled_library, bundled_rules_dir
from xinfang.config.library import find_ruleset_files
from xinfang.server.cli import main
from xinfang.server.rulesets.import_export import (
    ImportConflict,
    ensure_database,
    export_version,
    import_library,
    write_version,
)
from xinfang.server.store import db
from xinfang.server.store.models import (
    AuditLog,
    Base,
    Jurisdiction,
    PublishedVersionImmutable,
    RuleSetDraft,
    RuleSetVersionRecord,
    content_hash,
)

TABLES = {"alembic_version", "jurisdiction", "ruleset_version", "ruleset_draft", "audit_log", "petition",
          "case_event", "case_deadline", "case_escalation", "idempotency_record", "app_user", "case_number_counter",
          "query_code", "work_order", "stored_report"}


@pytest.fixture
def engine(database_url):
    """An engine on the database, upgraded to the newest schema."""
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def imported(engine):
    """The database with the bundled rule sets imported and committed."""
    with Session(engine) as session, session.begin():
        import_library(session, bundled_library())
    return engine


def counts(session: Session) -> dict[str, int]:
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Jurisdiction, RuleSetVersionRecord, RuleSetDraft, AuditLog)}


def snapshot(session: Session) -> list[tuple]:
    return [(r.id, r.jurisdiction_code, r.version, r.yaml_text, r.content_hash, r.published_at)
            for r in session.scalars(select(RuleSetVersionRecord).order_by(RuleSetVersionRecord.id))]


# Migrations

def alembic_tables(engine) -> set[str]:
    """The tables the migrations own: not the job queue's, which procrastinate's SQL makes (tests/test_jobs.py)."""
    return {name for name in inspect(engine).get_table_names() if db.owned_by_migrations(name, "table", {})}


def test_upgrade_from_empty_to_head(database_url):
    first = db.upgrade(database_url)
    assert (first.before, first.after, first.changed) == (None, db.head_revision(), True)
    assert "upgraded from an empty database to revision" in str(first)
    engine = db.make_engine(database_url)
    try:
        assert alembic_tables(engine) == TABLES
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
    again = db.upgrade(database_url)
    assert (again.before, again.after, again.changed) == (db.head_revision(), db.head_revision(), False)
    assert "is up to date" in str(again)


def test_downgrade_to_empty_and_up_again(engine, database_url):
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert alembic_tables(engine) == {"alembic_version"}
    assert db.current_revision(engine) is None
    assert db.upgrade(database_url).before is None


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": db.owned_by_migrations})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_foreign_keys_and_wal(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'deep' / 'x.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_foreign_keys_enforced(session):
    session.add(Jurisdiction(code="371321", name="沂南县", level="county", parent_code="371300"))
    with pytest.raises(Exception, match="(?i)foreign key"):
        session.flush()


def test_database_urls(tmp_path):
    assert db.default_url(tmp_path) == f"sqlite:///{tmp_path / 'xinfang.sqlite3'}"
    assert db.resolve_url(None, tmp_path) == db.default_url(tmp_path)
    assert db.resolve_url(str(tmp_path / "a.sqlite3")) == f"sqlite:///{tmp_path / 'a.sqlite3'}"
    assert db.resolve_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.display_url("postgresql+psycopg://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"


# Import and export of rule sets

def test_import_bundled_library_is_idempotent(imported):
    library = bundled_library()
    with Session(imported) as session:
        stored = {(r.jurisdiction_code, r.version) for r in session.scalars(select(RuleSetVersionRecord))}
        assert stored == {(v.code, v.version) for v in library.all_versions()}
        codes = set(session.scalars(select(Jurisdiction.code)))
        # Each jurisdiction with a rule set, and every level above it (Hunan, Yiyang for the townships).
        assert codes == {j.code for code in library.codes() for j in library.tree.ancestors(code)}
        assert {"000000", "430000", "430900", "430981", "430981102"} <= codes
        township = session.get(Jurisdiction, "430981102")
        assert (township.level, township.parent_code) == ("township", "430981")
        before, rows = counts(session), snapshot(session)
        assert before["audit_log"] == 1

    with Session(imported) as session, session.begin():
        report = import_library(session, library)
    assert not report.changed and report.versions_added == [] and report.jurisdictions_added == []
    assert len(report.versions_present) == len(library.all_versions())
    assert str(report) == f"rule sets: all {len(library.all_versions())} versions already in the database"
    with Session(imported) as session:
        assert counts(session) == before and snapshot(session) == rows


def test_import_stores_header_and_hash(imported):
    library = bundled_library()
    version = library.versions("371321")[-1]
    with Session(imported) as session:
        record = session.scalars(select(RuleSetVersionRecord).filter_by(jurisdiction_code="371321",
                                                                        version=version.version)).one()
    assert (record.effective_from, record.effective_until) == (version.effective_from, version.effective_until)
    assert record.title == version.data["title"] and record.change_note == version.data["change_note"]
    assert record.content_hash == content_hash(record.yaml_text)
    assert record.published_at.tzinfo is dt.UTC
    assert record.label == version.label


def test_export_is_byte_identical_for_every_bundled_file(imported, tmp_path):
    files = find_ruleset_files([bundled_rules_dir()])
    assert len(files) == len(bundled_library().all_versions())
    with Session(imported) as session:
        for version in bundled_library().all_versions():
            original = Path(version.file).read_bytes()
            assert export_version(session, version.code, version.version).encode("utf-8") == original, version.file
            written = write_version(session, version.code, version.version, tmp_path / "out.yaml")
            assert written.read_bytes() == original, version.file
        with pytest.raises(LookupError, match="no published rule-set version 371321@1999"):
            export_version(session, "371321", "1999")


def test_changed_file_under_a_published_version_is_refused(session, tmp_path):
    national = bundled_library().versions("000000")[-1]
    folder = tmp_path / "rules"
    folder.mkdir()
    copy = folder / "national.yaml"
    shutil.copyfile(national.file, copy)
    import_library(session, RuleSetLibrary.load([folder]))
    session.commit()
    before, rows = counts(session), snapshot(session)

    copy.write_bytes(copy.read_bytes() + "# 一处注释也算修改\n".encode())
    with pytest.raises(ImportConflict, match=r"000000@2022\.1 is already published with different content") as err:
        import_library(session, RuleSetLibrary.load([folder]))
    assert "published versions are immutable" in str(err.value)
    session.rollback()
    assert counts(session) == before and snapshot(session) == rows


def test_file_changed_after_loading_is_refused(session, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    copy = folder / "national.yaml"
    shutil.copyfile(bundled_library().versions("000000")[-1].file, copy)
    library = RuleSetLibrary.load([folder])
    copy.write_text(copy.read_text("utf-8").replace('title: ', 'title: 改过的', 1), "utf-8")
    with pytest.raises(ImportConflict, match="changed after the rule sets were loaded"):
        import_library(session, library)
    assert counts(session)["ruleset_version"] == 0


def test_new_version_starting_the_same_day_as_a_published_one_is_refused(session, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    copy = folder / "national.yaml"
    shutil.copyfile(bundled_library().versions("000000")[-1].file, copy)
    import_library(session, RuleSetLibrary.load([folder]))
    session.commit()
    copy.write_text(copy.read_text("utf-8").replace('version: "2022.1"', 'version: "2022.9"', 1), "utf-8")
    with pytest.raises(ImportConflict, match=r"000000@2022\.9 starts on 2022-05-01, the same day as 000000@2022\.1"):
        import_library(session, RuleSetLibrary.load([folder]))


# Published versions are immutable

def test_published_versions_are_immutable(imported):
    with Session(imported) as session:
        rows = snapshot(session)
        record = session.scalars(select(RuleSetVersionRecord).filter_by(jurisdiction_code="371321")).first()
        record.title = record.title  # no change: fine
        session.flush()

        record.yaml_text += "\n# changed\n"
        with pytest.raises(PublishedVersionImmutable, match=r"371321@.* is immutable \(tried to change yaml_text\)"):
            session.flush()
        session.rollback()

        session.delete(record)
        with pytest.raises(PublishedVersionImmutable, match="cannot be deleted"):
            session.flush()
        session.rollback()

        with pytest.raises(PublishedVersionImmutable, match="bulk update"):
            session.execute(update(RuleSetVersionRecord).values(title="x"))
        with pytest.raises(PublishedVersionImmutable, match="bulk delete"):
            session.execute(delete(RuleSetVersionRecord))
        session.rollback()
    with Session(imported) as session:
        assert snapshot(session) == rows


# Other records

def test_timestamps_are_utc_and_naive_ones_refused(session):
    at = dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    session.add(AuditLog(at=at, actor="张三", action="test", object_type="case", object_id="1",
                         detail={"说明": "中文", "n": [1, 2]}))
    session.commit()
    session.expunge_all()
    entry = session.scalars(select(AuditLog)).one()
    assert entry.at == at and entry.at.tzinfo is dt.UTC and entry.at.hour == 1
    assert entry.detail == {"说明": "中文", "n": [1, 2]}
    session.add(AuditLog(at=dt.datetime(2024, 6, 1), actor="a", action="b", object_type="c", object_id="d"))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_draft_revision_is_an_etag(engine, imported):
    with Session(engine) as session:
        draft = RuleSetDraft(jurisdiction_code="371321", yaml_text="a: 1\n", author="officer")
        session.add(draft)
        session.commit()
        assert draft.revision == 1 and draft.created_at.tzinfo is dt.UTC
        draft_id = draft.id
    with Session(engine) as first, Session(engine) as second:
        mine, theirs = first.get(RuleSetDraft, draft_id), second.get(RuleSetDraft, draft_id)
        mine.yaml_text = "a: 2\n"
        first.commit()
        assert mine.revision == 2
        theirs.yaml_text = "a: 3\n"
        with pytest.raises(StaleDataError):
            second.commit()


# What the CLI does

def test_cli_db_upgrade(database_url):
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert f"upgraded from an empty database to revision {db.head_revision()}" in result.output
    result = runner.invoke(main, ["db", "upgrade"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert f"is up to date (revision {db.head_revision()})" in result.output


def test_cli_db_upgrade_default_is_the_instance_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "default_instance_path", lambda: str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "xinfang.sqlite3").exists()
    assert str(tmp_path / "instance" / "xinfang.sqlite3") in result.output


def test_cli_db_upgrade_unreachable_database():
    result = CliRunner().invoke(main, ["db", "upgrade", "--database", "postgresql+psycopg://nobody:pw@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert "cannot upgrade the database postgresql+psycopg://nobody:***@127.0.0.1:1/x" in result.output
    assert "pw" not in result.output


def test_ensure_database_upgrades_and_imports_what_is_missing(database_url):
    upgraded, report = ensure_database(database_url)
    assert upgraded.changed and len(report.versions_added) == len(bundled_library().all_versions())
    upgraded, report = ensure_database(database_url)
    assert not upgraded.changed and not report.changed


def test_serve_prepares_the_database(database_url, monkeypatch):
    served = []
    monkeypatch.setattr(flask.Flask, "run", lambda app, host, port: served.append((app, host, port)))
    result = CliRunner().invoke(main, ["serve", "--database", database_url, "--port", "5999", "--no-demo-data"])
    assert result.exit_code == 0, result.output
    assert "upgraded from an empty database" in result.output
    assert f"imported {len(bundled_library().all_versions())} rule-set versions" in result.output
    (app, host, port), = served
    assert (host, port) == ("127.0.0.1", 5999)
    with app.app_context():
        session = db.get_session()
        assert session.scalar(select(func.count()).select_from(RuleSetVersionRecord)) == len(
            bundled_library().all_versions())
    db.database_of(app).dispose()
