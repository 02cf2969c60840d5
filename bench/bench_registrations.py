"""Benchmark of registrations through the API under gunicorn on PostgreSQL, against a bare psycopg floor.

Run: .venv/bin/python bench/bench_registrations.py [--seconds 10] [--connections 1,4,16] [--web-workers 4]
     [--postgres URL]

Not a timed test. In a schema of its own (dropped at the end) on the PostgreSQL server at --postgres
(default: $XINFANG_TEST_POSTGRES_URL), the database is upgraded, the bundled rule sets imported and one
clerk of 沂南县 created; then `xinfang serve --workers N` (gunicorn) serves it on a free loopback port.

At each number of connections C, C client processes each send registrations one after another for
--seconds (`POST /api/v1/cases` with HTTP Basic and an Idempotency-Key: validation, the clerk's form,
the decision, the pin, the case number, deadlines, the escalation schedule, the event and the audit row
in one transaction), each request on a new connection (gunicorn's sync workers close it). Then, in the
same run, the floor: C processes each with one psycopg connection, each transaction inserting the very
rows one registration wrote (copied from a case the API registered: the petition, its deadlines, its
escalation steps, its event, its audit row and its Idempotency-Key record) and committing. The floor
takes no case number (no counter row): it is what PostgreSQL does with these rows and nothing else.
Reported: registrations/s, p50 and p99 latency, and the ratio API / floor at each C.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

TEXTS = ["村里征地补偿款至今未发放", "小区物业乱收费", "工厂夜间噪音扰民", "公司拖欠工资三个月", "咨询低保申请材料",
         "学校入学划片不合理", "道路破损多年无人修", "建议增加公交线路"]
USER, PASSWORD = "bench_clerk", "bench-password"
CHILD_TABLES = ("case_deadline", "case_escalation", "case_event")  # rows that point at the petition


def case(rng: random.Random, i: int) -> dict:
    """A phone petition to 沂南县 in the first half of 2024 (phone: the request is the one required item)."""
    return {"received_on": (dt.date(2024, 1, 2) + dt.timedelta(rng.randrange(180))).isoformat(),
            "intake": "phone", "text": rng.choice(TEXTS),
            "petitioner": {"name": f"测试{i:07d}", "phone": f"139{rng.randrange(10**8):08d}"}}


# The database and the server

def make_schema(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, poolclass=NullPool, connect_args={"connect_timeout": 5})
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def prepare(url: str) -> None:
    from xinfang.config import bundled_library
    from xinfang.server.accounts import create_user
    from xinfang.server.rulesets.import_export import ensure_database
    from xinfang.server.store.db import make_engine
    ensure_database(url, bundled_library())
    engine = make_engine(url)
    with Session(engine) as session:
        create_user(session, USER, PASSWORD, display_name="压测登记员", jurisdiction_code="371321", roles=["clerk"])
        session.commit()
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "xinfang.server.cli", "serve", "--workers", str(workers),
                               "--port", str(port), "--database", url], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, "XINFANG_SECRET_KEY": "bench"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return server, port
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"xinfang serve --workers {workers} exited with {server.returncode}") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not become ready in 60 s")


# The two kinds of work, each one call per registration

class ApiRegistration:
    def __init__(self, port: int, seed: int) -> None:
        self.port, self.rng, self.i = port, random.Random(seed), seed * 10_000_000
        self.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def __call__(self) -> None:
        self.i += 1
        body = json.dumps({"jurisdiction": "371321", "case": case(self.rng, self.i)}, ensure_ascii=False).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", "/api/v1/cases", body, {
                "Content-Type": "application/json", "Authorization": self.auth, "Idempotency-Key": uuid.uuid4().hex})
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                raise RuntimeError(f"POST /api/v1/cases answered {response.status}")
        finally:
            connection.close()


@dataclass
class Template:
    """The rows one registration wrote, column by column, as psycopg gives them back."""

    petition: dict
    children: dict[str, list[dict]]
    audit: dict
    idempotency: dict


def read_template(url: str) -> Template:
    import psycopg
    from psycopg.rows import dict_row
    from xinfang.server.jobs.queue import conninfo
    with psycopg.connect(conninfo(url), row_factory=dict_row) as connection:
        petition = connection.execute("SELECT * FROM petition ORDER BY id DESC LIMIT 1").fetchone()
        children = {table: connection.execute(f"SELECT * FROM {table} WHERE petition_id = %s",
                                              [petition["id"]]).fetchall() for table in CHILD_TABLES}
        audit = connection.execute("SELECT * FROM audit_log WHERE action = 'case.register' AND object_id = %s",
                                   [str(petition["id"])]).fetchone()
        idempotency = connection.execute("SELECT * FROM idempotency_record WHERE petition_id = %s",
                                         [petition["id"]]).fetchone()
    return Template(petition, children, audit, idempotency)


def _insert(table: str, row: dict) -> tuple[str, list]:
    from psycopg.types.json import Json
    columns = [c for c in row if c != "id"]
    values = [Json(row[c]) if isinstance(row[c], (dict, list)) else row[c] for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    return (f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
            + (" RETURNING id" if table == "petition" else "")), values


class BareTransaction:
    """The floor: the template's rows inserted again (a new number, key and petition id) in one transaction."""

    def __init__(self, url: str, template: Template, seed: int) -> None:
        import psycopg
        from xinfang.server.jobs.queue import conninfo
        self.connection = psycopg.connect(conninfo(url))
        self.template, self.i = template, seed * 10_000_000

    def __call__(self) -> None:
        self.i += 1
        t = self.template
        with self.connection.transaction(), self.connection.cursor() as cursor:
            sql, values = _insert("petition", {**t.petition, "number": f"B-{uuid.uuid4().hex[:20]}"})
            petition_id = cursor.execute(sql, values).fetchone()[0]
            for table, rows in t.children.items():
                if rows:
                    statements = [_insert(table, {**row, "petition_id": petition_id}) for row in rows]
                    cursor.executemany(statements[0][0], [values for _, values in statements])
            cursor.execute(*_insert("audit_log", {**t.audit, "object_id": str(petition_id)}))
            cursor.execute(*_insert("idempotency_record", {**t.idempotency, "key": uuid.uuid4().hex,
                                                           "petition_id": petition_id}))


# The load: C processes, each one operation after another, for a fixed time

def _client(make, seed: int, start: float, stop: float, results) -> None:
    try:
        operation = make(seed)
        operation()  # warm: connection, caches
    except Exception as err:
        results.put(([], f"{type(err).__name__}: {err}"))
        raise
    latencies, errors = [], 0
    while time.time() < start:
        time.sleep(0.001)
    while (began := time.perf_counter()) and time.time() < stop:
        try:
            operation()
        except Exception:  # counted, not timed: a benchmark reports errors, it does not stop on one
            errors += 1
            continue
        latencies.append(time.perf_counter() - began)
    results.put((latencies, errors))


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_load(make, connections: int, seconds: float) -> Load:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = time.time() + 2.0 + 0.1 * connections  # every client connected and warm first
    clients = [context.Process(target=_client, args=(make, seed, start, start + seconds, results))
               for seed in range(1, connections + 1)]
    for client in clients:
        client.start()
    gathered = [results.get(timeout=seconds + 120) for _ in clients]
    for client in clients:
        client.join()
    failed = [e for _, e in gathered if isinstance(e, str)]
    if failed:
        raise SystemExit(f"a client could not start: {failed[0]}")
    latencies = sorted(x for lat, _ in gathered for x in lat)
    if not latencies:
        return Load(0.0, float("nan"), float("nan"), sum(e for _, e in gathered))
    return Load(len(latencies) / seconds, 1000 * statistics.median(latencies),
                1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], sum(e for _, e in gathered))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", default="1,4,16")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn processes (default 4)")
    parser.add_argument("--postgres", default=os.environ.get("XINFANG_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    print(f"{dt.date.today()}  {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; gunicorn {args.web_workers} processes; {args.seconds:.0f} s a level")
    url, schema = make_schema(args.postgres)
    server = None
    try:
        prepare(url)
        server, port = start_server(url, args.web_workers)
        ApiRegistration(port, 0)()
        template = read_template(url)
        print(f"one registration writes: petition 1, " + ", ".join(
            f"{table} {len(rows)}" for table, rows in template.children.items()) + ", audit_log 1, "
              "idempotency_record 1 (and the case-number counter)")
        print(f"{'connections':>11} | {'API /s':>7} {'p50 ms':>7} {'p99 ms':>7} | {'floor /s':>8} {'p50 ms':>7} "
              f"{'p99 ms':>7} | {'ratio':>5}")
        for connections in levels:
            api = run_load(lambda seed: ApiRegistration(port, seed), connections, args.seconds)
            floor = run_load(lambda seed: BareTransaction(url, template, seed), connections, args.seconds)
            errors = f"  errors: API {api.errors}, floor {floor.errors}" if api.errors or floor.errors else ""
            print(f"{connections:>11} | {api.rate:7.0f} {api.p50_ms:7.1f} {api.p99_ms:7.1f} | {floor.rate:8.0f} "
                  f"{floor.p50_ms:7.1f} {floor.p99_ms:7.1f} | {api.rate / floor.rate:5.3f}{errors}", flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
