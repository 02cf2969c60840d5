"""Benchmark of what a clerk and an officer wait for: a case action swapped in place, the case file, the draft editor
opening, a draft submitted (its scenario tests run), against the app's own floor measured in the same run.

Run: .venv/bin/python bench/bench_pages.py [--repeat 15]

Not a timed test. On a fresh SQLite database (a temporary folder: the bundled rule sets published, the demo
accounts, --repeat registered 沂南县 letters), in-process through Flask's test client, each request signed in as a
person is (session cookie, CSRF token):

- **floor**: `GET /healthz`, the app's cheapest request: the WSGI stack, sessions, security headers, nothing else.
- **case file**: `GET /cases/<id>` of a registered case, as the office's clerk.
- **交办 (htmx)**: `POST /cases/<id>/actions/assign` with `HX-Request`, one case each time: the workflow, the
  case file written, and the case file fragment that htmx swaps in.
- **受理 (htmx)**: `POST .../actions/accept` as the unit, on the case just assigned.
- **editor opens**: `GET /rulesets/drafts/<id>`: the draft checked against the levels above, its forms built.
- **submit**: `POST /rulesets/drafts/<id>/submit` with the title and change note: checks, the county's scenario
  tests run on the draft, audit row; a new draft each time.

Reported: median and 90th percentile in ms, and each median as a multiple of the floor's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def signed_in(app, username: str):
    from xinfang.server.accounts import DEMO_PASSWORD
    client = app.test_client()
    token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    client.post("/sign-in", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    client.token = CSRF.search(client.get("/jurisdictions").get_data(as_text=True)).group(1)
    return client


def timed(call, repeat: int) -> list[float]:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        response = call(i)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:300])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from xinfang.config import bundled_library, today_in_china
    from xinfang.server.accounts import seed_demo_users, system_actor
    from xinfang.server.cases.registration import register_case
    from xinfang.server.rulesets.import_export import ensure_database
    from xinfang.server.rulesets.library_store import published_library
    from xinfang.server.store import db
    from xinfang.server.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    url = f"sqlite:///{folder / 'xinfang.sqlite3'}"
    ensure_database(url, bundled_library())
    engine = db.make_engine(url)
    today = today_in_china()
    with Session(engine) as session, session.begin():
        seed_demo_users(session)
        library = published_library(session)
        cases = [register_case(session, library, {
            "received_on": today.isoformat(), "intake": "letter", "text": f"村东化工厂夜间生产噪音扰民，请求整改（{i}）",
            "petitioner": {"name": f"测试{i:03d}", "address": "沂南县界湖街道"}},
            actor=system_actor("clerk"), jurisdiction_code="371321").petition.id for i in range(args.repeat)]
    engine.dispose()

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "SWEEP_INTERVAL_SECONDS": 0,
                      "SCHEDULED_REPORTS": False})
    clerk, unit, officer = (signed_in(app, name) for name in ("yinan_clerk", "yinan_shengtai", "yinan_officer"))
    htmx = {"HX-Request": "true", "HX-Target": "case-file"}

    def revision(client, case_id: int) -> str:
        return re.search(r'name="revision" value="(\d+)"', client.get(f"/cases/{case_id}").get_data(as_text=True))[1]

    def new_draft() -> int:
        response = officer.post("/rulesets/371321/drafts", data={"csrf_token": officer.token})
        return int(response.headers["Location"].rsplit("/", 1)[1])

    drafts = [new_draft() for _ in range(args.repeat)]
    draft_revisions = {}
    results = {
        "floor: GET /healthz": timed(lambda i: clerk.get("/healthz"), args.repeat),
        "case file: GET /cases/<id>": timed(lambda i: clerk.get(f"/cases/{cases[i]}"), args.repeat),
    }
    assign_revisions = [revision(clerk, case_id) for case_id in cases]
    results["交办 (htmx): POST …/actions/assign"] = timed(lambda i: clerk.post(
        f"/cases/{cases[i]}/actions/assign", headers=htmx,
        data={"csrf_token": clerk.token, "revision": assign_revisions[i], "unit": "ecology"}), args.repeat)
    accept_revisions = [revision(unit, case_id) for case_id in cases]
    results["受理 (htmx): POST …/actions/accept"] = timed(lambda i: unit.post(
        f"/cases/{cases[i]}/actions/accept", headers=htmx,
        data={"csrf_token": unit.token, "revision": accept_revisions[i]}), args.repeat)

    def open_editor(i: int):
        response = officer.get(f"/rulesets/drafts/{drafts[i]}")
        draft_revisions[i] = re.search(r'name="revision" value="(\d+)"', response.get_data(as_text=True))[1]
        return response
    results["editor opens: GET /rulesets/drafts/<id>"] = timed(open_editor, args.repeat)
    results["submit: POST /rulesets/drafts/<id>/submit"] = timed(lambda i: officer.post(
        f"/rulesets/drafts/{drafts[i]}/submit", data={
            "csrf_token": officer.token, "revision": draft_revisions[i], "title": "沂南县信访工作实施办法（测试）",
            "change_note": f"基准测试第{i}次提交", "confirm_failing": "1"}), args.repeat)

    floor = statistics.median(results["floor: GET /healthz"])
    print(f"{platform.machine()}, Python {platform.python_version()}, SQLite, {args.repeat} of each "
          f"({dt.datetime.now():%Y-%m-%d %H:%M})")
    print(f"{'request':<46} {'median ms':>10} {'p90 ms':>8} {'× floor':>8}")
    for name, times in results.items():
        p90 = sorted(times)[max(0, int(len(times) * 0.9) - 1)]
        print(f"{name:<46} {statistics.median(times):>10.1f} {p90:>8.1f} {statistics.median(times) / floor:>8.1f}")


if __name__ == "__main__":
    main()
