"""Benchmark of registrations per second through the API (POST /api/v1/cases), on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_registrations.py [--n 300] [--postgres URL]
Not a timed test. Each registration validates the case, decides it with the rule set in force, pins the
version, numbers it, stores its deadlines and escalation schedule and an audit row, in one transaction.
The baseline, measured in the same run on the same cases, is evaluate() alone (the decision without
HTTP or storage): the ratio says what the rest of a registration costs.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import platform
import random
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from xinfang.config import bundled_library
from xinfang.rules.decide import evaluate
from xinfang.server.accounts import create_user
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store.db import database_of
from xinfang.server.web.app import create_app

TEXTS = ["村里征地补偿款至今未发放", "小区物业乱收费", "工厂夜间噪音扰民", "公司拖欠工资三个月", "咨询低保申请材料",
         "学校入学划片不合理", "道路破损多年无人修", "建议增加公交线路"]
PASSWORD = "bench-password"


def cases(n: int, seed: int = 11) -> list[dict]:
    """Phone petitions to 沂南县 over the first half of 2024 (phone: the request is the one required item)."""
    rng = random.Random(seed)
    return [{"received_on": (dt.date(2024, 1, 2) + dt.timedelta(rng.randrange(180))).isoformat(),
             "intake": "phone", "text": rng.choice(TEXTS),
             "petitioner": {"name": f"测试{i:05d}", "phone": f"139{rng.randrange(10**8):08d}"}} for i in range(n)]


def prepared_app(url: str):
    """An app on a migrated database holding the bundled rule sets and one clerk of 沂南县."""
    ensure_database(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        session = database_of(app).session()
        create_user(session, "bench_clerk", PASSWORD, display_name="压测登记员", jurisdiction_code="371321",
                    roles=["clerk"])
        session.commit()
        session.close()
    return app


def registrations_per_second(app, batch: list[dict]) -> float:
    client = app.test_client()
    auth = "Basic " + base64.b64encode(f"bench_clerk:{PASSWORD}".encode()).decode()
    client.post("/api/v1/cases", json={"jurisdiction": "371321", "case": batch[0]},
                headers={"Authorization": auth})  # warm: password check, compiled rules
    start = time.perf_counter()
    for case in batch[1:]:
        response = client.post("/api/v1/cases", json={"jurisdiction": "371321", "case": case},
                               headers={"Authorization": auth, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.get_json()
    return (len(batch) - 1) / (time.perf_counter() - start)


def decisions_per_second(batch: list[dict]) -> float:
    library = bundled_library()
    evaluate(library, "371321", batch[0])
    start = time.perf_counter()
    for case in batch[1:]:
        evaluate(library, "371321", case)
    return (len(batch) - 1) / (time.perf_counter() - start)


def postgres_schema_url(url: str) -> tuple[str, str] | None:
    """A fresh schema on the server (dropped afterwards), or None when PostgreSQL is not reachable."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:  # any driver error: not usable here
        print(f"PostgreSQL not reachable at {url}: {str(err).splitlines()[0]}")
        return None
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}", schema


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("XINFANG_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    batch = cases(args.n)
    print(f"{dt.date.today()}  {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    baseline = decisions_per_second(batch)
    print(f"{'baseline: evaluate() alone':38} {baseline:9.0f} /s")
    with tempfile.TemporaryDirectory() as folder:
        rate = registrations_per_second(prepared_app(f"sqlite:///{folder}/bench.sqlite3"), batch)
        print(f"{'POST /api/v1/cases, SQLite':38} {rate:9.0f} /s   ratio to baseline {rate / baseline:.3f}")
    found = postgres_schema_url(args.postgres)
    if found:
        url, schema = found
        try:
            rate = registrations_per_second(prepared_app(url), batch)
            print(f"{'POST /api/v1/cases, PostgreSQL':38} {rate:9.0f} /s   ratio to baseline {rate / baseline:.3f}")
        finally:
            drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
