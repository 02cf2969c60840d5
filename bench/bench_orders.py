"""Benchmark of importing a 12345 export (`xinfang import-orders`), against a bare insert of the same rows.

Run: .venv/bin/python bench/bench_orders.py [--rows 5000] [--runs 3] [--postgres URL]

Not a timed test. A CSV of --rows 12345 orders of 沂南县 (the yinan mapping's columns, as tests/test_orders.py
writes them) is imported into a fresh database (SQLite under a temporary folder; with --postgres, also a schema
of its own on that server, dropped at the end), each run on a database of its own:

- **command**: `xinfang import-orders FILE --source hotline_12345 --jurisdiction 371321 --database URL` as a
  subprocess, wall time: start-up, reading the rule sets, reading the file, mapping and checking every row, the
  inserts, the commit.
- **import**: `receive_many` in-process on the rows read, committed: the mapping (intake.sources), the check of
  each case against the form of the version in force on its date, the duplicate check, the batched inserts.
- **again**: the same call a second time (every order a duplicate: nothing is added); **again, analyzed**: once
  more after `ANALYZE work_order` on PostgreSQL (what autovacuum does soon after a load; on SQLite a third run).
- **floor**, in the same run: the very values the import stored (sealed the same way) inserted into an empty
  work_order table with one executemany in one transaction: what the database does with these rows and nothing else.

Reported: the median of --runs for each, rows per second, and the ratios import / floor and again (analyzed) /
floor.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import JSON, column, create_engine, insert, make_url, table, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

SOURCE, CODE = "hotline_12345", "371321"


def fresh(kind: str, base: str | None, folder: Path) -> tuple[str, str | None]:
    """A new database URL (and the PostgreSQL schema to drop), migrated with the bundled rule sets published."""
    from xinfang.config import bundled_library
    from xinfang.server.rulesets.import_export import ensure_database
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(base, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    ensure_database(url, bundled_library())
    return url, schema


def drop(base: str | None, schema: str | None) -> None:
    if schema:
        engine = create_engine(base, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def measure(kind: str, base: str | None, export: Path, runs: int, folder: Path) -> dict[str, list[float]]:
    from test_orders import SENDER

    from xinfang.config import bundled_library
    from xinfang.server.cases.order_files import read_order_file
    from xinfang.server.cases.orders import receive_many
    from xinfang.server.store import db
    library = bundled_library()
    times: dict[str, list[float]] = {"command": [], "import": [], "again": [], "analyzed": [], "floor": []}
    xinfang = str(Path(sys.executable).with_name("xinfang"))
    for _ in range(runs):
        url, schema = fresh(kind, base, folder)
        try:
            started = time.perf_counter()
            done = subprocess.run([xinfang, "import-orders", str(export), "--source", SOURCE, "--jurisdiction", CODE,
                                   "--database", url], capture_output=True, text=True, check=True)
            times["command"].append(time.perf_counter() - started)
            assert done.stdout.startswith(f"导入{len(read_order_file(export).rows)}条"), done.stdout
        finally:
            drop(base, schema)
        url, schema = fresh(kind, base, folder)
        try:
            rows = read_order_file(export).rows
            engine = db.make_engine(url)
            for name in ("import", "again", "analyzed"):
                if name == "analyzed" and kind == "postgresql":  # what autovacuum does soon after a load
                    with engine.begin() as connection:
                        connection.execute(text("ANALYZE work_order"))
                with Session(engine) as session:
                    started = time.perf_counter()
                    report = receive_many(session, library, CODE, SOURCE, rows, SENDER)
                    session.commit()
                    times[name].append(time.perf_counter() - started)
                assert (report.imported if name == "import" else report.duplicates) == len(rows), report
            with engine.connect() as connection:  # the values stored, raw (sealed) JSON as the database has them
                stored = [dict(r._mapping) for r in connection.execute(text(
                    "SELECT jurisdiction_code, source, source_order_id, received_on, case_json, source_row, status, "
                    "created_at, created_by FROM work_order"))]
                connection.execute(text("DELETE FROM work_order"))
                connection.commit()
            # The same columns with plain JSON: the tokens go in as they were read, nothing sealed again.
            floor = table("work_order", *(column(name, JSON() if name in ("case_json", "source_row") else None)
                                          for name in stored[0]))
            with engine.begin() as connection:
                started = time.perf_counter()
                connection.execute(insert(floor), stored)
            times["floor"].append(time.perf_counter() - started)
            engine.dispose()
        finally:
            drop(base, schema)
    return times


def write_export(path: Path, n: int) -> Path:
    from test_orders import export_of
    from test_orders import write_export as write
    return write(path, export_of(n, "YNB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("XINFANG_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    from xinfang.server.store.data_keys import Keyring, use_keyring
    from conftest import TEST_DATA_KEYS, TEST_INDEX_KEY
    use_keyring(Keyring(TEST_DATA_KEYS, TEST_INDEX_KEY, "the benchmark"))
    os.environ.setdefault("XINFANG_DATA_KEYS", ",".join(TEST_DATA_KEYS))  # the subprocess seals with the same keys
    os.environ.setdefault("XINFANG_INDEX_KEY", TEST_INDEX_KEY)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}; {args.rows} rows, median of {args.runs} runs")
    print("| database | command s | import s | again s | again, analyzed s | floor s | import rows/s | import / floor "
          "| again / floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export = write_export(folder / "12345.csv", args.rows)
        for kind in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
            t = {k: statistics.median(v) for k, v in measure(kind, args.postgres, export, args.runs, folder).items()}
            print(f"| {kind} | {t['command']:.2f} | {t['import']:.2f} | {t['again']:.2f} | {t['analyzed']:.2f} | "
                  f"{t['floor']:.3f} | "
                  f"{args.rows / t['import']:,.0f} | {t['import'] / t['floor']:.1f} | {t['analyzed'] / t['floor']:.1f} |")


if __name__ == "__main__":
    main()
