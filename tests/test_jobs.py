"""Tests of the scheduled jobs and production serving: schedules, the in-process loop, `xinfang worker` (two of
them over one PostgreSQL database fire every due step once), the job queue's tables, /healthz and /readyz,
`xinfang serve --workers`, and a backup restored with pg_restore.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from xinfang.config import bundled_library
from xinfang.server.accounts import system_actor
from xinfang.server.cases.sweep import EVENT_ACTION, due_escalations_condition
from xinfang.server.cases.workflow import register
from xinfang.server.cli import main
from xinfang.server.jobs import queue, queue_schema, scheduler
from xinfang.server.jobs.schedule import SCHEDULED_JOBS, JobSettings, ScheduledJob, active_jobs, every
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseEscalation, CaseEvent

WAIT = 60  # seconds a test waits for another process at most
CLERK = system_actor("clerk", roles=("clerk",))


def on_postgres(test):
    """What only PostgreSQL has (the job queue, pg_dump): the test takes `database_url` on PostgreSQL alone."""
    return pytest.mark.postgres(pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)(test))


@pytest.fixture
def upgraded(database_url):
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def register_overdue(engine, count: int, tag: str) -> None:
    """`count` phone petitions to 沂南县 received 2024-03-04 and never handled: 6 escalation steps each are due."""
    library = bundled_library()
    with Session(engine) as session:
        for i in range(count):
            register(session, library, {"received_on": "2024-03-04", "intake": "phone", "text": "小区供暖不热",
                                        "petitioner": {"name": f"{tag}{i}", "phone": "13812345678"}},
                     actor=CLERK, jurisdiction_code="371321")
        session.commit()


def still_due(engine) -> int:
    today = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # past midnight in Beijing too
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(CaseEscalation)
                                 .where(due_escalations_condition(today)))


def wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting {timeout} s for {what}")


def xinfang(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`xinfang ARGS` in a process of its own, its output (merged) kept for the test to read."""
    return subprocess.Popen([sys.executable, "-m", "xinfang.server.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})


def stop(process: subprocess.Popen) -> str:
    """SIGTERM, as a service manager stops it; returns its output after checking it stopped cleanly."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"did not stop on SIGTERM:\n{output}") from None
    assert process.returncode == 0, output
    return output


# Schedules

@pytest.mark.parametrize(("seconds", "cron"), [
    (1, "* * * * * *"), (15, "* * * * * */15"), (60, "* * * * *"), (300, "*/5 * * * *"), (900, "*/15 * * * *"),
    (3600, "0 * * * *"), (21600, "0 */6 * * *"), (86400, "0 16 * * *"), (0, None)])
def test_an_interval_is_a_clock_schedule_every_worker_agrees_on(seconds, cron):
    assert every(seconds) == cron


@pytest.mark.parametrize("seconds", [7, 90, 7200 + 60, 5400, 2.5, -60])
def test_an_interval_that_is_no_clock_schedule_is_refused(seconds):
    with pytest.raises(ValueError, match="interval"):
        every(seconds)


def test_each_scheduled_job_is_declared_once_with_a_schedule():
    names = [job.name for job in SCHEDULED_JOBS]
    assert len(names) == len(set(names)) and "escalation_sweep" in names
    assert [(job.name, cron) for job, cron in active_jobs(JobSettings())] == [
        ("escalation_sweep", "*/5 * * * *"), ("scheduled_reports", "0 23 * * *")]  # 07:00 Beijing time
    assert active_jobs(JobSettings(sweep_interval=0, reports=False)) == []
    with pytest.raises(ValueError, match="not a cron schedule"):
        ScheduledJob("bad", cron="every day", run=print, summary="").cron_for(JobSettings())


# The in-process loop (the development server's, and the worker's on SQLite)

def test_the_loop_runs_a_job_at_its_ticks_survives_a_failed_run_and_stops(caplog):
    runs = []

    def flaky(run):
        runs.append(run)
        if len(runs) == 1:
            raise RuntimeError("database went away")
        return f"run {len(runs)}"

    loop = scheduler.JobLoop(lambda: None, [(ScheduledJob("flaky", "* * * * * *", flaky, ""), "* * * * * *")],
                             worker="loop").start()
    try:
        with caplog.at_level("INFO", logger="xinfang.server.jobs.scheduler"):
            wait_for(lambda: len(runs) >= 3, "three runs")
    finally:
        loop.stop()
    assert not loop.running
    assert "scheduled job flaky failed" in caplog.text and "database went away" in caplog.text
    assert "flaky: run 2" in caplog.text
    ticks = [run.due_at for run in runs]
    assert all(t.microsecond == 0 and t.tzinfo is not None for t in ticks) and ticks == sorted(set(ticks))
    assert all(run.worker == "loop" and run.now >= run.due_at for run in runs)
    count = loop.runs
    time.sleep(1.2)
    assert loop.runs == count  # stopped means stopped


@pytest.mark.parametrize(("interval", "started"), [(60, True), (0, False)])
def test_the_development_server_sweeps_in_its_process_unless_the_interval_is_0(tmp_path, interval, started):
    from xinfang.server.web.app import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "SECRET_KEY": "k",
                      "SWEEP_INTERVAL_SECONDS": interval, "SCHEDULED_REPORTS": False})
    assert scheduler.scheduler_of(app) is None  # the app factory starts nothing: gunicorn's processes sweep not
    loop = scheduler.init_app(app)
    try:
        assert (loop is not None and loop.running) == started
        if started:
            assert scheduler.describe(loop.schedule) == "escalation_sweep (cron * * * * *)"
            assert loop.worker.startswith("scheduler@")
    finally:
        if loop is not None:
            loop.stop()


# The job queue's tables

def test_db_upgrade_creates_the_job_queue_on_postgresql_only_and_records_its_version(database_url):
    first = db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if postgres:
                assert queue_schema.applied_version(connection) == queue_schema.installed_version()
        if postgres:
            assert first.job_queue == f"job queue created (procrastinate {queue_schema.installed_version()})"
            assert str(first).endswith(f"; {first.job_queue}")
        else:
            assert first.job_queue is None
        again = db.upgrade(database_url)
        assert not again.changed and again.job_queue is None
        assert db.readiness(engine) == []
    finally:
        engine.dispose()


@on_postgres
def test_db_upgrade_applies_the_job_queue_changes_after_the_recorded_version(database_url, tmp_path, monkeypatch):
    db.upgrade(database_url)
    for name, sql in [("03.10.00_01_old.sql", "CREATE TABLE delta_old (id int)"),
                      ("03.11.00_01_pre_new.sql", "CREATE TABLE delta_new (id int)"),
                      ("03.11.00_50_post_new.sql", "INSERT INTO delta_new VALUES (1)"),
                      ("03.12.00_01_later.sql", "CREATE TABLE delta_later (id int)")]:
        (tmp_path / name).write_text(sql)
    monkeypatch.setattr(queue_schema, "_sql_folder", lambda: tmp_path)
    monkeypatch.setattr(queue_schema, "installed_version", lambda: "3.11.0")
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert not queue_schema.is_current(connection)
        assert any("job queue" in p for p in db.readiness(engine))
        result = db.upgrade(database_url)
        assert result.job_queue == "job queue upgraded from procrastinate 3.10.0 to 3.11.0 (2 changes)"
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT id FROM delta_new")) == 1
            present = {name for name in ("delta_old", "delta_later")
                       if connection.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name})}
            assert present == set()
            assert queue_schema.applied_version(connection) == "3.11.0"
        assert db.readiness(engine) == []
        monkeypatch.setattr(queue_schema, "installed_version", lambda: "3.9.0")
        with pytest.raises(queue_schema.JobQueueSchemaError, match="newer than the installed 3.9.0"):
            db.upgrade(database_url)
    finally:
        engine.dispose()


# /healthz and /readyz

def test_healthz_and_readyz_answer_without_sign_in(database_url):
    from xinfang.server.web.app import create_app
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "k"})
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["problems"][0] == (f"database empty, this code needs revision {db.head_revision()}: "
                                                  "run `xinfang db upgrade`")
    db.upgrade(database_url)
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_readyz_says_the_database_is_unreachable_without_its_password():
    from xinfang.server.web.app import create_app
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:1/x?connect_timeout=2",
                      "TESTING": True, "SECRET_KEY": "k"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    (problem,) = response.get_json()["problems"]
    assert problem.startswith("database postgresql+psycopg://nobody:***@127.0.0.1:1/x") and "unreachable" in problem
    assert "secret" not in problem


# `xinfang worker`

def test_worker_and_production_serve_refuse_a_database_not_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    for command in (["worker"], ["serve", "--workers", "2"]):
        result = CliRunner().invoke(main, [*command, "--database", url])
        assert result.exit_code == 1, result.output
        assert "this code needs revision" in result.output and "run `xinfang db upgrade`" in result.output


def test_worker_refuses_an_interval_that_is_no_clock_schedule(upgraded, database_url):
    result = CliRunner().invoke(main, ["worker", "--sweep-interval", "7", "--database", database_url])
    assert result.exit_code == 1 and "an interval of 7 s is not a clock schedule" in result.output


def test_worker_on_sqlite_runs_the_jobs_in_its_process_and_says_so(tmp_path):
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        register_overdue(engine, 2, "甲")
        worker = xinfang("worker", "--sweep-interval", "1", "--database", url)
        wait_for(lambda: still_due(engine) == 0, "the sweep of the SQLite worker")
        output = stop(worker)
    finally:
        engine.dispose()
    assert "sqlite has no job queue (procrastinate needs PostgreSQL), so the scheduled jobs run in this process" \
        in output
    assert "escalation_sweep: fired 12 escalations" in output


@on_postgres
def test_two_workers_over_one_database_fire_every_due_step_exactly_once(upgraded, database_url):
    workers = [xinfang("worker", "--sweep-interval", "1", "--database", database_url) for _ in range(2)]
    try:
        with upgraded.connect() as connection:
            wait_for(lambda: connection.scalar(text("SELECT count(*) FROM procrastinate_workers")) == 2,
                     "two workers to start")
        for batch in range(3):  # cases arrive while both workers defer a sweep every second
            register_overdue(upgraded, 4, f"批{batch}")
            time.sleep(1.5)
        wait_for(lambda: still_due(upgraded) == 0, "the workers' sweeps")
        time.sleep(2)  # a few more ticks, with nothing due
    finally:
        outputs = [stop(worker) for worker in workers]
    with upgraded.connect() as connection:
        fired = connection.execute(select(CaseEscalation.id, CaseEscalation.fired_by)
                                   .where(CaseEscalation.fired_at.is_not(None))).all()
        events = connection.execute(select(CaseEvent.detail).where(CaseEvent.action == EVENT_ACTION)).scalars().all()
        runs_per_tick = connection.execute(text(
            "SELECT args->>'timestamp', count(*), min(status::text) FROM procrastinate_jobs "
            "WHERE task_name = 'escalation_sweep' GROUP BY 1")).all()
    assert len(fired) == 3 * 4 * 6
    assert sorted(e["escalation_id"] for e in events) == sorted(row.id for row in fired)  # one event per step
    names = {line.split(":", 2)[0] + ":" + line.split(":", 2)[1] for out in outputs for line in out.splitlines()
             if "the job queue on PostgreSQL" in line}
    assert len(names) == 2 and {row.fired_by for row in fired} <= names
    assert len(runs_per_tick) >= 5 and all(count == 1 for _, count, _ in runs_per_tick)  # each tick deferred once
    assert {status for _, _, status in runs_per_tick} == {"succeeded"}


@on_postgres
@pytest.mark.parametrize("newer_waiting", [False, True], ids=["requeued", "newer-waiting"])
def test_a_run_whose_worker_died_is_taken_back(upgraded, database_url, newer_waiting):
    """A worker killed mid-run leaves its job `doing`; once its heartbeats are older than STALLED_AFTER the run
    is queued again, or failed when a newer run of the same job is already waiting."""
    with upgraded.begin() as connection:
        dead = connection.scalar(text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                      "VALUES (now() - interval '5 minutes') RETURNING id"))
        stalled = connection.scalar(text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, status, worker_id) "
            "VALUES ('xinfang', 'escalation_sweep', 'escalation_sweep', '{\"timestamp\": 1}', 'doing', :w) "
            "RETURNING id"), {"w": dead})
        if newer_waiting:
            connection.execute(text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, status) "
                "VALUES ('xinfang', 'escalation_sweep', 'escalation_sweep', '{\"timestamp\": 2}', 'todo')"))
    app = queue.job_queue_app(database_url, active_jobs(JobSettings()), lambda: upgraded, "test")
    recover = app.tasks["xinfang.recover_stalled_jobs"].func

    class Context:
        pass

    async def run():
        async with app.open_async():
            context = Context()
            context.app = app
            await recover(context, timestamp=0)

    # A browser test's Playwright may hold this thread's event loop; the coroutine gets a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
    with upgraded.connect() as connection:
        status = connection.scalar(text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": stalled})
    assert status == ("failed" if newer_waiting else "todo")


# `xinfang serve --workers N`

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_serve_with_workers_runs_gunicorn_without_a_scheduler(tmp_path):
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    db.upgrade(url)
    port = free_port()
    server = xinfang("serve", "--workers", "2", "--port", str(port), "--database", url,
                     env={"XINFANG_SECRET_KEY": "test-key", "XINFANG_SWEEP_INTERVAL_SECONDS": "1"})
    try:
        def answers():
            try:
                return get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                assert server.poll() is None, server.stdout.read()
                return None
        assert wait_for(answers, "gunicorn to answer") == (200, {"status": "ok"})
        assert get(f"http://127.0.0.1:{port}/readyz") == (200, {"status": "ready"})
        status, _ = get(f"http://127.0.0.1:{port}/api/v1/cases")
        assert status == 401  # everything else still needs signing in
    finally:
        output = stop(server)
    assert "gunicorn, 2 processes" in output and "Booting worker" in output
    assert "scheduled jobs in this process" not in output and "demo accounts" not in output
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'sweep'")) == 0
            assert connection.scalar(text("SELECT count(*) FROM app_user")) == 0
    finally:
        engine.dispose()


# Backups

@on_postgres
def test_a_pg_dump_backup_restores_into_a_new_database_that_serves(upgraded, database_url):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed (Debian: postgresql-client)")
    register_overdue(upgraded, 2, "备")
    url = make_url(database_url)
    schema = url.query["options"].removeprefix("-csearch_path=")
    libpq = queue.conninfo(database_url)
    restored_db = f"xinfang_restore_{uuid.uuid4().hex[:12]}"
    dump = subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--dbname={libpq}"],
                          capture_output=True, check=True).stdout
    admin = create_engine(url.set(query={}), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{restored_db}"')
    try:
        restored_url = url.set(database=restored_db).render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={queue.conninfo(restored_url)}"],
                       input=dump, capture_output=True, check=True)
        restored = db.make_engine(restored_url, poolclass=NullPool)
        try:
            assert db.readiness(restored) == []  # migrations and the job queue's version came along
            assert not db.upgrade(restored_url).changed
            with restored.connect() as connection, upgraded.connect() as original:
                for table in ("petition", "case_escalation", "case_event", "audit_log"):
                    count = f"SELECT count(*) FROM {table}"
                    assert connection.exec_driver_sql(count).scalar() == original.exec_driver_sql(count).scalar()
            assert still_due(restored) == 12
            result = CliRunner().invoke(main, ["sweep", "--database", restored_url])
            assert result.exit_code == 0 and result.output.startswith("fired 12 escalations"), result.output
        finally:
            restored.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{restored_db}" WITH (FORCE)')
        admin.dispose()
