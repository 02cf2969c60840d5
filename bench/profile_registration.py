"""Where one registration through the API spends its time: wall time, the SQL statements it sends, a cProfile.

Run: .venv/bin/python bench/profile_registration.py [--count 300] [--postgres URL | --sqlite] [--top 30]
     [--sort tottime|cumulative] [--statements]

Not a timed test; a tool for finding what to make faster before bench_registrations.py measures it. In a schema
of its own on the PostgreSQL server at --postgres (default: $XINFANG_TEST_POSTGRES_URL; dropped at the end), or
in a temporary SQLite file with --sqlite, it prepares the database as bench_registrations.py does (the bundled
rule sets, one clerk of 沂南县) and registers petitions in-process, one after another, through Flask's test
client: `POST /api/v1/cases` with HTTP Basic and an Idempotency-Key, the request the benchmark sends, with no
HTTP server or network between. It prints:

- the wall time of a registration (median and 90th percentile over --count, unprofiled), and how much of it
  the database driver took (from SQLAlchemy's cursor events: execute to result, the round trips);
- the statements one registration sends, counted (and listed with --statements);
- a cProfile of --count registrations, the --top functions by --sort.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_registrations import PASSWORD, USER, case, drop_schema, make_schema, prepare  # noqa: E402


class Statements:
    """The statements an engine sends and the time from execute to its result, while `counting` is on."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event
        self.counting, self.sent, self.seconds = False, [], 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["xinfang_profile_start"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.counting:
            self.seconds += time.perf_counter() - conn.info.pop("xinfang_profile_start", time.perf_counter())
            self.sent.append(" ".join(statement.split()))


def registrations(app, seed: int = 1):
    """A function registering one new petition through the test client per call (the benchmark's request)."""
    import base64
    import json
    client = app.test_client()
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    rng, counter = random.Random(seed), iter(range(seed * 10_000_000, 10**12))

    def register() -> None:
        body = json.dumps({"jurisdiction": "371321", "case": case(rng, next(counter))}, ensure_ascii=False)
        response = client.post("/api/v1/cases", data=body.encode(), headers={
            "Content-Type": "application/json", "Authorization": auth, "Idempotency-Key": uuid.uuid4().hex})
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/cases answered {response.status_code}: {response.get_data(as_text=True)}")
    return register


def profile(url: str, count: int, top: int, sort: str, list_statements: bool) -> None:
    from xinfang.server.store.db import database_of
    from xinfang.server.web.app import create_app
    prepare(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "profile", "SWEEP_INTERVAL_SECONDS": 0})
    statements = Statements(database_of(app).engine)
    register = registrations(app)
    for _ in range(20):  # warm: the library, the compiled rules, the password check, the pool
        register()

    statements.counting = True
    register()
    statements.counting = False
    one = list(statements.sent)
    print(f"one registration sends {len(one)} statements")
    if list_statements:
        for n, sql in enumerate(one, 1):
            print(f"  {n:>2}. {sql[:160]}{'…' if len(sql) > 160 else ''}")

    statements.sent, statements.seconds = [], 0.0
    statements.counting = True
    times = []
    for _ in range(count):
        began = time.perf_counter()
        register()
        times.append(time.perf_counter() - began)
    statements.counting = False
    times.sort()
    print(f"wall time of a registration over {count}: median {1000 * statistics.median(times):.2f} ms, "
          f"p90 {1000 * times[int(0.9 * len(times))]:.2f} ms; in the driver (execute to result) "
          f"{1000 * statements.seconds / count:.2f} ms, {len(statements.sent) / count:.1f} statements")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        register()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"cProfile of {count} registrations ({stats.total_tt / count * 1000:.2f} ms each under the profiler), "
          f"top {top} by {sort}:")
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--statements", action="store_true", help="list the statements of one registration")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--postgres", default=os.environ.get("XINFANG_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    os.environ.setdefault("XINFANG_SECRET_KEY", "profile")
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            profile(f"sqlite:///{folder}/xinfang.sqlite3", args.count, args.top, args.sort, args.statements)
        return
    url, schema = make_schema(args.postgres)
    try:
        profile(url, args.count, args.top, args.sort, args.statements)
    finally:
        drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
