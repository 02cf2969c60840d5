"""Tests of escalation sweeps: what fires, once, with its events and flags; the CLI (the scheduler: test_jobs.py).

Cases, deadlines and schedules are inserted directly (set-based, without the workflow). Every test
runs on SQLite and on PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from xinfang.config import CHINA
from xinfang.server.cases.sweep import EVENT_ACTION, sweep
from xinfang.server.cli import main
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, CaseEvent, Petition
from xinfang.server.store.models import AuditLog, Jurisdiction

DAY = dt.date(2024, 6, 3)  # a Monday


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """`hour` o'clock on `day`, Beijing time."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHINA)


def days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


@pytest.fixture
def engine(database_url):
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(Jurisdiction), [{"code": "371321", "name": "沂南县", "level": "county"}])
    yield engine
    engine.dispose()


# The factory: cases, deadlines and escalation steps, one executemany each.

def add_cases(engine, count: int, *, stage: str = "accepted", flags: list[str] | None = None) -> list[int]:
    rows = [{"number": f"T-{stage}-{i}-{time.perf_counter_ns()}", "jurisdiction_code": "371321",
             "ruleset_version": "371321@2024.1", "received_on": days(-30), "intake": "letter", "kind": "appeal",
             "category": "land", "channel": "petition", "admissible": True, "stage": stage, "flags": flags or [],
             "confidential": False, "case_json": {}, "decision": {}, "created_by": "test", "revision": 1}
            for i in range(count)]
    with engine.begin() as connection:
        return list(connection.scalars(insert(Petition).returning(Petition.id, sort_by_parameter_order=True), rows))


def add_deadlines(engine, ids, step: str, due_on: dt.date, done_on: dt.date | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(insert(CaseDeadline), [{"petition_id": i, "step": step, "due_on": due_on,
                                                   "done_on": done_on} for i in ids])


def add_steps(engine, ids, step: str, due_on: dt.date, *, watch: str | None = "conclude", action: str = "supervise",
              flag: str | None = None, target: str | None = None, letter: bool = False,
              until_on: dt.date | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(insert(CaseEscalation), [
            {"petition_id": i, "step": step, "watch": watch, "action": action, "flag": flag, "target": target,
             "letter": letter, "due_on": due_on, "until_on": until_on, "rule": f"escalation:{step}",
             "source": "test.yaml:1"}
            for i in ids])


def open_case(engine, *, deadline: dt.date = days(10), **case) -> int:
    """One open case whose `conclude` deadline is `deadline`."""
    (pid,) = add_cases(engine, 1, **case)
    add_deadlines(engine, [pid], "conclude", deadline)
    return pid


def fired_steps(engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(CaseEscalation.petition_id, CaseEscalation.step)
                                         .where(CaseEscalation.fired_at.is_not(None))).all())


def events(engine) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(CaseEvent).order_by(CaseEvent.id)))


def flags_of(engine, pid: int) -> list[str]:
    with engine.connect() as connection:
        return connection.scalar(select(Petition.flags).where(Petition.id == pid))


# What fires, and when

@pytest.mark.parametrize("returning", [None, False], ids=["returning", "no-returning"])
def test_nothing_fires_before_its_due_date_and_a_warning_fires_on_its_day(engine, returning):
    pid = open_case(engine, deadline=days(5))
    add_steps(engine, [pid], "conclude_warning", days(2), action="warn")
    add_steps(engine, [pid], "conclude_overdue", days(6))
    assert sweep(engine, at(days(1), 23), worker="w", returning=returning).fired == 0
    result = sweep(engine, at(days(2), 0), worker="w", returning=returning)
    assert (result.fired, result.by_action, result.cases, result.today) == (1, {"warn": 1}, 1, days(2))
    assert fired_steps(engine) == [(pid, "conclude_warning")]
    assert flags_of(engine, pid) == ["warning:conclude"]


def test_the_legal_day_is_the_day_in_beijing(engine):
    pid = open_case(engine)
    add_steps(engine, [pid], "conclude_overdue", days(1))
    assert sweep(engine, dt.datetime.combine(DAY, dt.time(15, 59), tzinfo=dt.UTC)).fired == 0  # 23:59 in Beijing
    assert sweep(engine, dt.datetime.combine(DAY, dt.time(16, 0), tzinfo=dt.UTC)).fired == 1  # midnight there


def test_naive_time_is_refused(engine):
    with pytest.raises(ValueError, match="naive datetime"):
        sweep(engine, dt.datetime(2024, 6, 3, 9))


@pytest.mark.parametrize("returning", [None, False], ids=["returning", "no-returning"])
def test_a_step_fires_once_across_repeated_sweeps(engine, returning):
    pid = open_case(engine)
    add_steps(engine, [pid], "conclude_overdue", DAY)
    results = [sweep(engine, at(days(n)), worker=f"w{n}", returning=returning).fired for n in range(4)]
    assert results == [1, 0, 0, 0]
    with engine.connect() as connection:
        fired_at, fired_by = connection.execute(select(CaseEscalation.fired_at, CaseEscalation.fired_by)).one()
    assert (fired_at, fired_by) == (at(DAY), "w0")
    assert len(events(engine)) == 1


def test_a_done_steps_escalations_do_not_fire_and_backlog_steps_need_only_an_open_case(engine):
    (pid,) = add_cases(engine, 1)
    add_deadlines(engine, [pid], "conclude", days(-1), done_on=days(-2))
    add_deadlines(engine, [pid], "route", days(-1))
    add_steps(engine, [pid], "conclude_overdue", DAY)
    add_steps(engine, [pid], "route_overdue", DAY, watch="route")
    add_steps(engine, [pid], "open_long", DAY, watch=None, action="assign_leader")
    add_steps(engine, [pid], "review_overdue", DAY, watch="review")  # a step with no deadline: no clock runs
    assert sweep(engine, at(DAY)).by_action == {"supervise": 1, "assign_leader": 1}
    assert fired_steps(engine) == [(pid, "open_long"), (pid, "route_overdue")]


@pytest.mark.parametrize("stage", ["closed", "concluded", "refused", "rereviewed"])
def test_a_closed_cases_escalations_do_not_fire(engine, stage):
    (pid,) = add_cases(engine, 1, stage=stage)
    add_deadlines(engine, [pid], "conclude", days(-5))
    add_steps(engine, [pid], "conclude_overdue", DAY)
    add_steps(engine, [pid], "open_long", DAY, watch=None)
    assert sweep(engine, at(days(30))).fired == 0
    assert fired_steps(engine) == [] and events(engine) == []


def test_a_warning_past_its_deadline_is_not_sent_late(engine):
    # A `before_days` step is due only through the watched deadline's day (its schedule's until_on).
    pid = open_case(engine, deadline=days(-1))
    add_steps(engine, [pid], "conclude_warning", days(-3), action="warn", until_on=days(-1))
    add_steps(engine, [pid], "conclude_overdue", DAY)
    assert sweep(engine, at(DAY)).by_action == {"supervise": 1}


# What a fired step writes

def test_events_written_for_what_fired(engine):
    pid = open_case(engine, deadline=days(-1), stage="extended")
    add_steps(engine, [pid], "conclude_overdue_long", DAY, action="escalate", target="joint_conference",
              letter=True)
    result = sweep(engine, at(DAY), worker="sweeper-1")
    (event,) = events(engine)
    assert (event.petition_id, event.action, event.on, event.at, event.actor) == (
        pid, EVENT_ACTION, DAY, at(DAY), "sweeper-1")
    assert (event.stage_before, event.stage_after) == ("extended", "extended")
    assert event.detail | {"escalation_id": None} == {
        "escalation_id": None, "step": "conclude_overdue_long", "action": "escalate", "flag": None,
        "to": "joint_conference", "letter": True, "watch": "conclude", "due_on": DAY.isoformat(),
        "rule": "escalation:conclude_overdue_long", "source": "test.yaml:1"}
    assert flags_of(engine, pid) == ["escalated:joint_conference", "letter", "overdue:conclude"]
    assert str(result).startswith("fired 1 escalation (escalate 1) in ")
    with Session(engine) as session:
        (audit,) = session.scalars(select(AuditLog).where(AuditLog.action == "sweep"))
    assert (audit.actor, audit.object_id, audit.detail) == (
        "sweeper-1", DAY.isoformat(), {"fired": 1, "by_action": {"escalate": 1}, "cases": 1})


def test_flags_merge_and_red_beats_yellow(engine):
    red_over_old_yellow = open_case(engine, deadline=days(-1), flags=["flag:yellow", "urgent"])
    yellow_under_old_red = open_case(engine, deadline=days(-1), flags=["flag:red"])
    both_at_once = open_case(engine, deadline=days(-1))
    add_steps(engine, [red_over_old_yellow, both_at_once], "red_card", DAY, action="flag", flag="red")
    add_steps(engine, [yellow_under_old_red, both_at_once], "yellow_card", DAY, action="flag", flag="yellow")
    assert sweep(engine, at(DAY)).by_action == {"flag": 4}
    assert flags_of(engine, red_over_old_yellow) == ["flag:red", "overdue:conclude", "urgent"]
    assert flags_of(engine, yellow_under_old_red) == ["flag:red", "overdue:conclude"]
    assert flags_of(engine, both_at_once) == ["flag:red", "overdue:conclude"]
    with engine.connect() as connection:  # the ORM's optimistic lock sees the change
        assert set(connection.scalars(select(Petition.revision))) == {2}


def test_a_clerks_concurrent_orm_update_is_refused_as_stale(engine):
    from sqlalchemy.orm.exc import StaleDataError
    pid = open_case(engine, deadline=days(-1))
    add_steps(engine, [pid], "yellow_card", DAY, action="flag", flag="yellow")
    with Session(engine) as clerk:
        case = clerk.get(Petition, pid)
        sweep(engine, at(DAY))
        case.stage = "concluded"
        with pytest.raises(StaleDataError):
            clerk.commit()


def test_sweep_in_a_session_joins_its_transaction(engine):
    pid = open_case(engine, deadline=days(-1))
    add_steps(engine, [pid], "yellow_card", DAY, action="flag", flag="yellow")
    with Session(engine) as session:
        case = session.get(Petition, pid)
        assert sweep(session, at(DAY)).fired == 1
        assert case.flags == ["flag:yellow", "overdue:conclude"] and case.revision == 2  # expired, reloaded
        session.rollback()
    assert fired_steps(engine) == [] and flags_of(engine, pid) == []


# Once only, with sweeps at the same time

def test_a_second_sweep_waits_for_the_first_and_fires_nothing_it_fired(engine):
    """The deterministic race: B's UPDATE meets the rows A holds, waits, then re-checks `fired_at IS NULL`."""
    ids = add_cases(engine, 50)
    add_deadlines(engine, ids, "conclude", days(-1))
    add_steps(engine, ids, "conclude_overdue", DAY)
    with Session(engine) as first:
        assert sweep(first, at(DAY), worker="A").fired == 50  # not committed: A holds the rows
        second = _in_thread(lambda: sweep(engine, at(DAY), worker="B"))
        time.sleep(0.5)
        assert second.is_alive()  # blocked by A's row locks (PostgreSQL) or write lock (SQLite)
        first.commit()
        second.join(10)
    assert second.result.fired == 0
    assert len(events(engine)) == 50


def test_a_second_sweep_fires_what_the_first_rolled_back(engine):
    ids = add_cases(engine, 20)
    add_deadlines(engine, ids, "conclude", days(-1))
    add_steps(engine, ids, "conclude_overdue", DAY)
    with Session(engine) as first:
        sweep(first, at(DAY), worker="A")
        second = _in_thread(lambda: sweep(engine, at(DAY), worker="B"))
        time.sleep(0.5)
        assert second.is_alive()
        first.rollback()
        second.join(10)
    assert second.result.fired == 20
    with engine.connect() as connection:
        assert set(connection.scalars(select(CaseEscalation.fired_by))) == {"B"}


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_fire_each_step_exactly_once(engine, database_url, workers):
    """Sweeps started together on a barrier, each with its own engine, over 2,000 due steps (3 rounds)."""
    ids = add_cases(engine, 1000)
    add_deadlines(engine, ids, "conclude", DAY)
    for n in range(3):  # a warning and an overdue step per case, falling due on three days
        add_steps(engine, ids, f"warn_{n}", days(n - 3), action="warn")
        add_steps(engine, ids, f"late_{n}", days(n + 1), action="flag", flag="yellow" if n < 2 else "red")
    engines = [db.make_engine(database_url) for _ in range(workers)]
    totals = []
    try:
        for day in (DAY, days(2), days(3)):
            barrier = threading.Barrier(workers)
            threads = [_in_thread(lambda e=e, w=w: (barrier.wait(), sweep(e, at(day), worker=f"w{w}"))[1])
                       for w, e in enumerate(engines)]
            for thread in threads:
                thread.join(60)
            assert all(t.error is None for t in threads), [t.error for t in threads]
            totals.append(sum(t.result.fired for t in threads))
    finally:
        for e in engines:
            e.dispose()
    assert totals == [3000, 2000, 1000]  # the 3 warnings on the deadline day; then 2 late steps, then 1
    with engine.connect() as connection:
        fired = connection.scalar(select(func.count()).where(CaseEscalation.fired_at.is_not(None)))
        assert fired == 6000
        per_step = connection.execute(select(CaseEvent.detail)).scalars().all()
    ids_fired = [d["escalation_id"] for d in per_step]
    assert len(ids_fired) == 6000 and len(set(ids_fired)) == 6000
    assert {tuple(flags_of(engine, ids[0]))} == {("flag:red", "overdue:conclude", "warning:conclude")}


class _Worker(threading.Thread):
    def __init__(self, call) -> None:
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as err:  # reported by the test
            self.error = err


def _in_thread(call) -> _Worker:
    worker = _Worker(call)
    worker.start()
    return worker


# The command

def test_cli_sweep(engine, database_url):
    pid = open_case(engine, deadline=days(1))
    add_steps(engine, [pid], "conclude_warning", DAY, action="warn")
    add_steps(engine, [pid], "yellow_card", days(2), action="flag", flag="yellow")
    add_steps(engine, [pid], "conclude_overdue", days(2))
    runner = CliRunner()
    first = runner.invoke(main, ["sweep", "--at", f"{DAY}T08:00", "--database", database_url])
    assert first.exit_code == 0, first.output
    assert re.fullmatch(r"fired 1 escalation \(warn 1\) in \d+\.\d\d s\n", first.output)
    second = runner.invoke(main, ["sweep", "--at", f"{days(2)}T00:00:00+08:00", "--database", database_url])
    assert re.fullmatch(r"fired 2 escalations \(flag 1, supervise 1\) in \d+\.\d\d s\n", second.output)
    again = runner.invoke(main, ["sweep", "--database", database_url])  # now: everything is long due
    assert re.fullmatch(r"fired 0 escalations in \d+\.\d\d s\n", again.output)


def test_cli_sweep_errors(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["sweep", "--at", "tomorrow", "--database", f"sqlite:///{tmp_path}/x.sqlite3"])
    assert bad.exit_code == 2 and "'tomorrow' is not a date and time" in bad.output
    empty = runner.invoke(main, ["sweep", "--database", f"sqlite:///{tmp_path}/empty.sqlite3"])
    assert empty.exit_code == 1
    assert "cannot sweep the database sqlite:///" in empty.output and "xinfang db upgrade" in empty.output
