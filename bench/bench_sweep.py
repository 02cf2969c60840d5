"""Benchmark of escalation sweeps on PostgreSQL: 1,000,000 open cases, about 9% of them with a step due.

Run: .venv/bin/python bench/bench_sweep.py [--cases 1000000] [--url URL] [--explain FILE] [--stale]
Not a timed test: it prints what it measures on this machine (results: bench/README.md).

Everything happens in a schema of its own (bench_sweep_<pid>), dropped at the end. The cases, their
deadlines and escalation schedules are generated in SQL (generate_series), like those the national
rule set gives: per case a `route` (15 days) and a `conclude` (60 days) deadline and four steps:
route_overdue (+16, supervise), conclude_warning (-5, warn), conclude_overdue (+1, yellow card),
conclude_overdue_long (+30, escalate with a letter). Cases were received 0-99 days ago; steps due
more than 2 days ago were fired by earlier sweeps, those due in the last 3 days are what this sweep
fires. 95% of the cases were routed in time: as the workflow does (case_file.sync_file), their
route_overdue step was deleted when routing was done.

Measured: the generation; a plain `SELECT count(*)` of the rows the sweep fires (the baseline);
EXPLAIN (ANALYZE, BUFFERS) of the sweep's UPDATE with no index on due_on, with migration 0002's
(fired_at, due_on) and with 0004's partial (due_on) WHERE fired_at IS NULL, each rolled back then
vacuumed, and once with PostgreSQL's JIT; then sweep() itself, by phase; then idle sweeps (nothing
left to fire, as most of the scheduler's runs) with each index. `--stale` then adds back the
route_overdue steps of the routed cases, as if nothing had deleted them, and times idle sweeps with
them and after deleting them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from contextlib import contextmanager

from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import NullPool

from xinfang.config import CHINA
from xinfang.server.cases import sweep as sweeping
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseEscalation

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TODAY = dt.date(2024, 6, 3)
NOW = dt.datetime.combine(TODAY, dt.time(9), tzinfo=CHINA)
WINDOW = 3  # days of steps left to this sweep

GENERATE = {
    "petition": """
        INSERT INTO petition (id, number, jurisdiction_code, ruleset_version, received_on, intake, kind, category,
                              channel, admissible, stage, flags, confidential, case_json, decision, created_by,
                              created_at, updated_at, revision)
        SELECT i, '371321-B-' || lpad(i::text, 7, '0'), '371321', '371321@2024.1', CAST(:today AS date) - i % 100,
               'letter', 'appeal', 'land', 'petition', true,
               (ARRAY['registered', 'accepted', 'transferred', 'extended'])[1 + i % 4],
               CAST('[]' AS json), false, CAST('{}' AS json), CAST('{}' AS json), 'bench', now(), now(), 1
        FROM generate_series(1, CAST(:n AS integer)) AS i""",
    "case_deadline": """
        INSERT INTO case_deadline (petition_id, step, due_on, provisional, source, done_on)
        SELECT p.id, s.step, p.received_on + s.days, false, 'bench',
               CASE WHEN s.step = 'route' AND p.id % 20 <> 0 AND CAST(:today AS date) - p.received_on >= 3
                    THEN p.received_on + 3 END
        FROM petition AS p CROSS JOIN (VALUES ('route', 15), ('conclude', 60)) AS s(step, days)""",
    "case_escalation": """
        INSERT INTO case_escalation (petition_id, step, watch, action, flag, target, letter, due_on, fired_at,
                                     fired_by, rule, source)
        SELECT p.id, s.step, s.watch, s.action, s.flag, s.target, s.letter, p.received_on + s.days, fired.at,
               CASE WHEN fired.at IS NOT NULL THEN 'earlier-sweep' END, 'escalation:' || s.step, 'bench'
        FROM petition AS p
        CROSS JOIN (VALUES ('route_overdue', 'route', 'supervise', NULL, 'petition_office', false, 16),
                           ('conclude_warning', 'conclude', 'warn', NULL, NULL, false, 55),
                           ('conclude_overdue', 'conclude', 'flag', 'yellow', NULL, false, 61),
                           ('conclude_overdue_long', 'conclude', 'escalate', NULL, 'joint_conference', true, 90))
             AS s(step, watch, action, flag, target, letter, days)
        CROSS JOIN LATERAL (SELECT CASE WHEN p.received_on + s.days <= CAST(:today AS date) - CAST(:window AS integer)
            THEN ((p.received_on + s.days) + TIME '09:00') AT TIME ZONE 'Asia/Shanghai' END AS at) AS fired
        -- The workflow (case_file.sync_file) deletes the unfired steps of a finished step: a routed case has none.
        WHERE s.step <> 'route_overdue' OR p.id % 20 = 0 OR CAST(:today AS date) - p.received_on < 3""",
}
STATUS = """
    SELECT CASE WHEN e.fired_at IS NOT NULL THEN 'fired by earlier sweeps'
                WHEN e.due_on > CAST(:today AS date) THEN 'not yet due'
                WHEN d.done_on IS NOT NULL THEN 'due, watched step done (never fires)'
                WHEN e.action = 'warn' AND d.due_on < CAST(:today AS date) THEN 'due, warning window passed'
                ELSE 'due: this sweep fires it' END AS status, count(*)
    FROM case_escalation AS e LEFT JOIN case_deadline AS d ON d.petition_id = e.petition_id AND d.step = e.watch
    GROUP BY 1 ORDER BY 2 DESC"""
INDEXES = {
    "no index on due_on": None,
    "0002: (fired_at, due_on)": "CREATE INDEX ix_bench_pending ON case_escalation (fired_at, due_on)",
    "0004: (due_on) WHERE fired_at IS NULL": ("CREATE INDEX ix_case_escalation_due ON case_escalation (due_on) "
                                              "WHERE fired_at IS NULL"),
}
STALE = """
    INSERT INTO case_escalation (petition_id, step, watch, action, target, letter, due_on, rule, source)
    SELECT p.id, 'route_overdue', 'route', 'supervise', 'petition_office', false, p.received_on + 16,
           'escalation:route_overdue', 'bench'
    FROM petition AS p WHERE p.id % 20 <> 0 AND CAST(:today AS date) - p.received_on >= 3"""
RETIRE = """
    DELETE FROM case_escalation AS e USING case_deadline AS d
    WHERE e.fired_at IS NULL AND d.petition_id = e.petition_id AND d.step = e.watch AND d.done_on IS NOT NULL"""


@contextmanager
def timed(label: str, times: dict):
    start = time.perf_counter()
    yield
    times[label] = time.perf_counter() - start
    print(f"  {label}: {times[label]:.2f} s", flush=True)


def vacuum(engine, table: str = "") -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


def set_index(engine, ddl: str | None) -> tuple[float, int]:
    """Leave only the index `ddl` creates on case_escalation's due dates; its build time and size in bytes."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_bench_pending")
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_case_escalation_due")
        if not ddl:
            return 0.0, 0
        start = time.perf_counter()
        connection.exec_driver_sql(ddl)
        built = time.perf_counter() - start
        name = ddl.split()[2]
        return built, connection.exec_driver_sql(f"SELECT pg_relation_size('{name}')").scalar_one()


def explain_update(engine, jit: bool = False) -> tuple[float, str]:
    """EXPLAIN ANALYZE of the sweep's own UPDATE, rolled back; (execution time in s, the plan).

    JIT is off, as sweep() sets it, unless `jit`: then PostgreSQL's default decides."""
    compiled = sweeping.fire_statement(NOW, TODAY, "bench").compile(
        dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True})
    with engine.connect() as connection:
        with connection.begin() as transaction:
            connection.exec_driver_sql(f"SET LOCAL jit = {'on' if jit else 'off'}")
            rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + compiled.string,
                                              compiled.params).scalars().all()
            transaction.rollback()
    ms = next(float(r.split(":")[1].split()[0]) for r in rows if r.startswith("Execution Time"))
    return ms / 1000, "\n".join(rows)


def count_due(engine, runs: int = 2) -> tuple[int, float]:
    """The baseline: a plain count of the rows the sweep fires, same WHERE; (count, best time in s)."""
    statement = select(func.count()).select_from(CaseEscalation).where(sweeping.due_escalations_condition(TODAY))
    best, found = float("inf"), 0
    with engine.connect() as connection:
        for _ in range(runs):
            start = time.perf_counter()
            found = connection.execute(statement).scalar_one()
            best = min(best, time.perf_counter() - start)
    return found, best


def timed_sweep(engine) -> tuple[sweeping.SweepResult, dict[str, float]]:
    """sweep() with its phases timed (the UPDATE, the events, the flags)."""
    phases: dict[str, float] = {}
    originals = {name: getattr(sweeping, name) for name in ("_fire", "_record_events", "_add_flags")}

    def wrap(name, call):
        def run(*args):
            start = time.perf_counter()
            try:
                return call(*args)
            finally:
                phases[name.strip("_")] = time.perf_counter() - start
        return run

    for name, call in originals.items():
        setattr(sweeping, name, wrap(name, call))
    try:
        result = sweeping.sweep(engine, NOW, worker="bench")
    finally:
        for name, call in originals.items():
            setattr(sweeping, name, call)
    return result, phases


def run(url: str, cases: int, explain_path: str | None, stale: bool) -> None:
    params = {"today": TODAY, "n": cases, "window": WINDOW}
    times: dict[str, float] = {}
    engine = db.make_engine(url)
    try:
        print("generation", flush=True)
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO jurisdiction (code, name, level) "
                                       "VALUES ('371321', '沂南县', 'county')")
        for table, sql in GENERATE.items():
            with timed(f"generate {table}", times), engine.begin() as connection:
                connection.execute(text(sql), params)
        with timed("vacuum analyze", times):
            vacuum(engine)
        with engine.connect() as connection:
            for status, n in connection.execute(text(STATUS), params):
                print(f"  {status}: {n:,}")
        plans = []
        print("the sweep's UPDATE (EXPLAIN ANALYZE, rolled back), by index", flush=True)
        for label, ddl in INDEXES.items():
            built, size = set_index(engine, ddl)
            vacuum(engine, "case_escalation")
            found, baseline = count_due(engine)
            seconds, plan = explain_update(engine)
            vacuum(engine, "case_escalation")
            times[f"update [{label}]"], times[f"count [{label}]"] = seconds, baseline
            print(f"  {label}: UPDATE {seconds:.3f} s; count(*) = {found:,} in {baseline:.3f} s; "
                  f"index built in {built:.2f} s, {size / 2**20:.0f} MB", flush=True)
            plans.append(f"-- {label}\n{plan}\n")
        seconds, plan = explain_update(engine, jit=True)
        vacuum(engine, "case_escalation")
        times["update [jit]"] = seconds
        print(f"  the same with PostgreSQL's default JIT: UPDATE {seconds:.3f} s", flush=True)
        plans.append(f"-- {label}, JIT on\n{plan}\n")
        print("sweep() with 0004's index", flush=True)
        result, phases = timed_sweep(engine)
        print(f"  {result}; phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
        times["sweep"] = result.seconds
        with timed("idle sweep right after (its dead index entries not yet vacuumed)", times):
            assert sweeping.sweep(engine, NOW, worker="bench").fired == 0
        print("idle sweeps (nothing due: what the scheduler pays every interval), best of 3, by index", flush=True)
        for label, ddl in INDEXES.items():
            set_index(engine, ddl)
            vacuum(engine, "case_escalation")
            times[f"idle [{label}]"] = best = min(_idle(engine) for _ in range(3))
            print(f"  {label}: {best:.3f} s", flush=True)
        if stale:
            _stale(engine, params, times)
        _ratios(times, result)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        _save(plans, explain_path)
    finally:
        engine.dispose()


def _idle(engine) -> float:
    start = time.perf_counter()
    assert sweeping.sweep(engine, NOW, worker="bench").fired == 0
    return time.perf_counter() - start


def _stale(engine, params: dict, times: dict[str, float]) -> None:
    """Idle sweeps with the escalations of done steps left pending (never fire), then without them."""
    with timed("add back the route_overdue steps of routed cases", times), engine.begin() as connection:
        print(f"  {connection.execute(text(STALE), params).rowcount:,} rows")
    vacuum(engine, "case_escalation")
    with timed("idle sweep with them", times):
        assert sweeping.sweep(engine, NOW, worker="bench").fired == 0
    with timed("delete them again", times), engine.begin() as connection:
        connection.execute(text(RETIRE))
    vacuum(engine, "case_escalation")
    with timed("idle sweep without them", times):
        sweeping.sweep(engine, NOW, worker="bench")


def _ratios(times: dict[str, float], result) -> None:
    partial = "0004: (due_on) WHERE fired_at IS NULL"
    base = times[f"count [{partial}]"]
    print("ratios")
    print(f"  sweep() / count(*) of the due rows: {times['sweep'] / base:.1f}")
    print(f"  UPDATE / count(*), same index: {times[f'update [{partial}]'] / base:.1f}")
    for label in INDEXES:
        print(f"  UPDATE [{label}] / UPDATE [0004]: {times[f'update [{label}]'] / times[f'update [{partial}]']:.2f}")
    print(f"  UPDATE [0004] with JIT / without: {times['update [jit]'] / times[f'update [{partial}]']:.2f}")
    for label in INDEXES:
        ratio = times[f"idle [{label}]"] / times[f"idle [{partial}]"]
        print(f"  idle sweep [{label}] / idle sweep [0004]: {ratio:.1f}")
    if "idle sweep with them" in times:
        print(f"  idle sweep with / without the stale steps: "
              f"{times['idle sweep with them'] / times['idle sweep without them']:.0f}")
    print(f"  per fired step: {1e6 * times['sweep'] / max(result.fired, 1):.1f} µs")


def _save(plans: list[str], path: str | None) -> None:
    text_ = "\n".join(plans)
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text_)
        print(f"plans written to {path}")
    print("plans\n" + text_)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("XINFANG_TEST_POSTGRES_URL") or DEFAULT_URL,
                        help="a PostgreSQL server (default: $XINFANG_TEST_POSTGRES_URL, else %(default)s)")
    parser.add_argument("--explain", metavar="FILE", help="also write the EXPLAIN ANALYZE plans to FILE")
    parser.add_argument("--stale", action="store_true", help="also time idle sweeps over never-firing steps")
    args = parser.parse_args(argv)
    admin = create_engine(args.url, poolclass=NullPool)
    schema = f"bench_sweep_{os.getpid()}"
    try:
        with admin.begin() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as err:  # no server: nothing to measure here
        print(f"skipped: PostgreSQL not reachable at {make_url(args.url).render_as_string()}: {err}", file=sys.stderr)
        return 0
    print(f"{args.cases:,} open cases; PostgreSQL {version}; {os.cpu_count()} CPUs, {platform.machine()}, "
          f"Python {platform.python_version()}; {dt.date.today()}; load average {os.getloadavg()[0]:.1f}")
    try:
        # JIT off for every statement here, as sweep() has it (the JIT cost is measured once on its own).
        url = make_url(args.url).update_query_dict({"options": f"-csearch_path={schema} -cjit=off"})
        url = url.render_as_string(hide_password=False)
        db.upgrade(url)
        run(url, args.cases, args.explain, args.stale)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
