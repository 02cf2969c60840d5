"""The rule-set lifecycle API (/api/v1): drafts with ETags, checks, four-eyes publishing, rollback, audit, scope.

Every test runs on SQLite and on PostgreSQL (`database_url`, tests/conftest.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import textwrap

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from xinfang.config import bundled_library, today_in_china
from xinfang.rules.decide import evaluate
from xinfang.server.rulesets.import_export import import_library
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.rulesets.text import set_header
from xinfang.server.store import db
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.db import get_session
from xinfang.server.store.models import RuleSetVersionRecord, User
from xinfang.server.web.app import create_app

PASSWORD = "pw-for-tests"
USERS = {
    "yinan_officer": ("371321", ["policy_officer"]),
    "yinan_officer2": ("371321", ["policy_officer"]),
    "yinan_approver": ("371321", ["approver"]),
    "yinan_clerk": ("371321", ["clerk"]),
    "ganzhou_officer": ("360700", ["policy_officer"]),
}
# Yinan 2024.1's normal track inherits the national 60 days; a draft gives it a limit of its own here.
NORMAL_TRACK = "    name: 复杂问题跟踪办\n    time_limits:\n"


def with_conclude(text: str, days: int) -> str:
    """The text with Yinan's normal track concluding in `days` days (a line added under its time_limits)."""
    assert NORMAL_TRACK in text
    return text.replace(NORMAL_TRACK, NORMAL_TRACK + f"      conclude:  {{days: {days}, unit: calendar, basis: 测试}}\n")
# The users' real hash is scrypt (~0.4 s a check, on every request); these tests are not about hashing.
CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")


@pytest.fixture
def app(database_url):
    """An app on a migrated database: the bundled rule sets imported (as `xinfang serve` does), a few users."""
    db.upgrade(database_url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url})
    with app.app_context():
        session = get_session()
        import_library(session, bundled_library())
        for name, (code, roles) in USERS.items():
            session.add(User(username=name, display_name=name, password_hash=CHEAP_HASH, jurisdiction_code=code,
                             roles=roles))
        session.commit()
    yield app
    db.database_of(app).dispose()


@pytest.fixture
def api(app):
    """`api(user, method, path, **kwargs)`: a request with the user's HTTP Basic credentials."""
    client = app.test_client()

    def call(user: str | None, method: str, path: str, headers=None, **kwargs):
        headers = dict(headers or {})
        if user:
            token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    return call


def later(days: int) -> dt.date:
    return today_in_china() + dt.timedelta(days=days)


def new_text(text: str, conclude: int, start: dt.date, version: str = "2099.1") -> str:
    return with_conclude(set_header(text, version=version, effective_from=start,
                                    change_note=f"办结时限改为{conclude}日"), conclude)


def draft_with(api, conclude: int, start: dt.date) -> dict:
    """A Yinan draft saved as a new version from `start` whose normal track concludes in `conclude` days."""
    created = api("yinan_officer", "POST", "/jurisdictions/371321/drafts").get_json()
    saved = api("yinan_officer", "PUT", f"/drafts/{created['id']}", headers={"If-Match": '"1"'},
                json={"yaml_text": new_text(created["yaml_text"], conclude, start)})
    assert saved.status_code == 200, saved.get_json()
    return saved.get_json()


def test_a_draft_is_made_from_the_version_in_force_and_saved_with_if_match(api, app):
    created = api("yinan_officer", "POST", "/jurisdictions/371321/drafts")
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()
    assert created.headers["ETag"] == '"1"' and created.headers["Location"].endswith(f"/drafts/{draft['id']}")
    with app.app_context():
        in_force = library_of(app).version_in_force("371321", today_in_china())
        base = get_session().get(RuleSetVersionRecord, draft["base_version_id"])
        assert base.version == in_force.version and draft["yaml_text"] == base.yaml_text
    path = f"/drafts/{draft['id']}"
    assert api("yinan_officer", "GET", path).headers["ETag"] == '"1"'

    mine = with_conclude(draft["yaml_text"], 25)
    blind = api("yinan_officer", "PUT", path, json={"yaml_text": mine})
    assert blind.status_code == 428 and blind.get_json()["error"]["code"] == "if_match_required"
    saved = api("yinan_officer", "PUT", path, headers={"If-Match": '"1"'}, json={"yaml_text": mine})
    assert saved.status_code == 200 and saved.headers["ETag"] == '"2"'

    theirs = with_conclude(draft["yaml_text"], 28)
    stale = api("yinan_officer2", "PUT", path, headers={"If-Match": '"1"', "Content-Type": "application/yaml"},
                data=theirs.encode())
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    error = stale.get_json()["error"]
    assert error["code"] == "stale_revision"
    assert error["details"] == [{"current_revision": 2, "current_text": mine, "your_revision": 1,
                                 "your_text": theirs}]
    assert api("yinan_officer", "GET", path).get_json()["yaml_text"] == mine


def test_validate_points_at_the_line_of_a_loosened_bound_with_its_article(api):
    draft = draft_with(api, 90, later(30))
    found = api("yinan_officer", "POST", f"/drafts/{draft['id']}/validate").get_json()
    line = next(n for n, text in enumerate(draft["yaml_text"].splitlines(), 1) if "conclude:  {days: 90" in text)
    assert found["valid"] is False
    national = [i for i in found["issues"] if "《信访工作条例》第三十四条" in i["message"]]
    assert national and (national[0]["line"], national[0]["col"]) == (line, 25)
    assert national[0]["text"].startswith(f"draft:{draft['id']}:{line}:25: ")
    refused = api("yinan_officer", "POST", f"/drafts/{draft['id']}/submit")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_ruleset"
    good = draft_with(api, 20, later(30))
    assert api("yinan_officer", "POST", f"/drafts/{good['id']}/validate").get_json() == {
        "draft_id": good["id"], "revision": 2, "valid": True, "issues": []}


@pytest.mark.parametrize("pattern", ["^[0-9]{4294967296}$", "^(a)\\\\1$"])
def test_a_draft_with_an_unusable_field_pattern_is_refused_at_its_line_never_a_500(api, pattern):
    # A repetition count `re` overflows on, or a construct RE2 cannot match in linear time (config/field_patterns.py).
    created = api("yinan_officer", "POST", "/jurisdictions/371321/drafts").get_json()
    text = set_header(created["yaml_text"], version="2099.1", effective_from=later(30)).replace(
        "max_length: 50, hint: 以征收公告", f'pattern: "{pattern}", hint: 以征收公告')
    saved = api("yinan_officer", "PUT", f"/drafts/{created['id']}", headers={"If-Match": '"1"'},
                json={"yaml_text": text})
    assert saved.status_code == 200
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "parcel_number:" in row)
    found = api("yinan_officer", "POST", f"/drafts/{created['id']}/validate").get_json()
    assert [(i["line"], i["message"].split(":")[0]) for i in found["issues"]] == [
        (line, "intake.fields.parcel_number.pattern")]
    path = f"/drafts/{created['id']}"
    for method, action in (("POST", "/test"), ("GET", "/impact"), ("POST", "/submit")):
        refused = api("yinan_officer", method, path + action)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_ruleset", action
    diff = api("yinan_officer", "GET", f"{path}/diff?against={created['base_version_id']}")
    assert diff.status_code == 200


def test_scenarios_impact_and_diff_of_a_draft(api, app):
    start = later(30)
    received = later(40)
    with app.app_context():  # an open Yinan case, decided under the version in force
        session = get_session()
        case = {"received_on": received.isoformat(), "intake": "letter", "text": "小区物业乱收费"}
        decision = evaluate(library_of(app), "371321", case)
        session.add(Petition(
            number="371321-T-1", jurisdiction_code="371321", ruleset_version=decision["ruleset_version"],
            received_on=received, intake="letter", kind=decision["kind"], category=decision["category"],
            channel=decision["channel"], track=decision["track"], route_unit=decision["route"]["unit"],
            admissible=True, stage="accepted", case_json=case, decision=decision, created_by="yinan_clerk"))
        session.commit()
    draft = draft_with(api, 20, start)
    with app.app_context():
        expected = evaluate(library_of(app), "371321", case)  # unchanged: the draft is not published
        assert expected["deadlines"] == decision["deadlines"]

    scenarios = textwrap.dedent(f"""\
        scenarios:
          - name: 跟踪办按草稿20日办结
            case: {{received_on: {received}, intake: letter, text: 小区物业乱收费}}
            expect: {{track: normal}}
          - name: 写错的期望
            case: {{received_on: {received}, intake: letter, text: 小区物业乱收费}}
            expect: {{track: urgent}}
        """)
    tested = api("yinan_officer", "POST", f"/drafts/{draft['id']}/test", json={"scenarios": scenarios})
    assert tested.status_code == 200, tested.get_json()
    sent = {r["name"]: r for r in tested.get_json()["scenarios"] if r["file"].startswith("371321_draft")}
    assert sent["跟踪办按草稿20日办结"]["passed"] and sent["跟踪办按草稿20日办结"]["uses_draft"]
    assert not sent["写错的期望"]["passed"] and sent["写错的期望"]["failures"][0]["actual"] == '"normal"'
    bad = api("yinan_officer", "POST", f"/drafts/{draft['id']}/test", json={"scenarios": "scenarios: 3\n"})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["line"] == 1

    impact = api("yinan_approver", "GET", f"/drafts/{draft['id']}/impact").get_json()
    assert (impact["open_cases"], impact["changed_cases"]) == (1, 1)
    change = next(c for c in impact["cases"][0]["changes"] if c["field"] == "deadlines.conclude")
    assert change["old"] == decision["deadlines"]["conclude"]["date"] and change["new"] != change["old"]

    base = draft["base_version_id"]
    diff = api("yinan_officer", "GET", f"/drafts/{draft['id']}/diff?against={base}").get_json()
    assert "+      conclude:  {days: 20" in diff["text"]
    assert {"path": "tracks.normal.time_limits.conclude.days", "change": "added", "old": None, "new": 20} == {
        k: v for k, v in next(v for v in diff["values"] if v["path"].endswith("normal.time_limits.conclude.days")
                              ).items() if k != "source"}
    assert api("yinan_officer", "GET", f"/drafts/{draft['id']}/diff?against=x").status_code == 400
    assert api("yinan_officer", "GET", f"/drafts/{draft['id']}/diff?against=99999").status_code == 404


def test_publish_needs_a_second_officer_then_the_version_is_in_force_from_its_date(api, app):
    start = later(30)
    draft = draft_with(api, 20, start)
    path = f"/drafts/{draft['id']}"
    early = api("yinan_approver", "POST", f"{path}/approve", json={"effective_from": start.isoformat()})
    assert early.status_code == 409 and "not submitted" in early.get_json()["error"]["message"]
    submitted = api("yinan_officer", "POST", f"{path}/submit", headers={"If-Match": '"2"'})
    assert submitted.status_code == 200 and submitted.get_json()["submitted"]["by"] == "yinan_officer"

    by_officer = api("yinan_officer2", "POST", f"{path}/approve", json={"effective_from": start.isoformat()})
    assert by_officer.status_code == 403  # no approver role
    with app.app_context():  # an approver who also writes drafts is still not the author's second officer
        user = get_session().scalar(select(User).where(User.username == "yinan_officer"))
        user.roles = ["policy_officer", "approver"]
        get_session().commit()
    by_author = api("yinan_officer", "POST", f"{path}/approve", json={"effective_from": start.isoformat()})
    assert by_author.status_code == 403 and by_author.get_json()["error"]["code"] == "second_officer_required"
    no_date = api("yinan_approver", "POST", f"{path}/approve", json={})
    assert no_date.status_code == 422
    past = api("yinan_approver", "POST", f"{path}/approve", json={"effective_from": "2020-01-01"})
    assert past.status_code == 409 and "in the past" in past.get_json()["error"]["message"], past.get_json()

    published = api("yinan_approver", "POST", f"{path}/approve", json={"effective_from": start.isoformat()})
    assert published.status_code == 201, published.get_json()
    version = published.get_json()
    assert (version["label"], version["effective_from"], version["author"], version["approver"]) == (
        "371321@2099.1", start.isoformat(), "yinan_officer", "yinan_approver")
    assert version["in_force"] is False and version["origin"]["draft_id"] == draft["id"]
    exported = api("yinan_clerk", "GET", f"/versions/{version['id']}/export")
    assert exported.mimetype == "application/yaml" and exported.data.decode() == draft["yaml_text"]
    gone = api("yinan_officer", "GET", path)
    assert gone.status_code == 404 and f"published as version {version['id']}" in gone.get_json()["error"]["message"]
    assert api("yinan_approver", "PUT", f"/versions/{version['id']}", json={}).status_code == 405

    listed = api("yinan_clerk", "GET", "/jurisdictions/371321/versions").get_json()["items"]
    assert [v["version"] for v in listed][-1] == "2099.1"
    assert sum(v["in_force"] for v in listed) == 1
    before = api(None, "GET", f"/jurisdictions/371321/ruleset?at={start - dt.timedelta(days=1)}").get_json()
    after = api(None, "GET", f"/jurisdictions/371321/ruleset?at={start}").get_json()
    assert not before["ruleset_version"].endswith("371321@2099.1")
    assert after["ruleset_version"].endswith("371321@2099.1")


def test_a_version_published_in_the_editor_is_what_the_command_line_reads_from_the_database(
        api, app, database_url, xinfang, tmp_path):
    # One rule source (DESIGN.md, contract additions): `--database` reads what the server decides with.
    start = later(20)
    draft = draft_with(api, 20, start)
    path = f"/drafts/{draft['id']}"
    submitted = api("yinan_officer", "POST", f"{path}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    published = api("yinan_approver", "POST", f"{path}/approve", json={"effective_from": start.isoformat()})
    assert published.status_code == 201, published.get_json()

    resolved = xinfang("resolve", "371321", "--at", start, "--database", database_url)
    assert resolved.exit_code == 0, resolved.stderr
    yinan = json.loads(resolved.stdout)
    assert yinan["ruleset_version"].endswith("371321@2099.1")
    assert yinan["ruleset"]["tracks"]["normal"]["time_limits"]["conclude"]["days"] == 20
    server = api(None, "GET", f"/jurisdictions/371321/ruleset?at={start}").get_json()
    assert (yinan["ruleset"], yinan["sources"]) == (server["ruleset"], server["sources"])
    assert json.loads(xinfang("resolve", "371321", "--at", start).stdout)["ruleset_version"].endswith("371321@2024.1")

    case = tmp_path / "case.json"
    case.write_text(json.dumps({"received_on": start.isoformat(), "intake": "visit", "representatives": 3,
                                "text": "村里征地拆迁补偿款至今未发放"}, ensure_ascii=False), "utf-8")
    decided = xinfang("evaluate", "371321", case, "--database", database_url)
    assert decided.exit_code == 0, decided.stderr
    decision = json.loads(decided.stdout)
    assert decision["track"] == "normal" and decision["ruleset_version"].endswith("371321@2099.1")
    assert decision["deadlines"]["conclude"]["source"].startswith("db:371321@2099.1:")

    exported = xinfang("export", "371321", "--version", "2099.1", "--database", database_url)
    assert exported.exit_code == 0 and exported.stdout_bytes == draft["yaml_text"].encode("utf-8")


def test_rollback_republishes_an_earlier_version_and_the_audit_tells_every_action(api, app):
    draft = draft_with(api, 20, later(30))
    path = f"/drafts/{draft['id']}"
    api("yinan_officer", "POST", f"{path}/validate")
    api("yinan_officer", "POST", f"{path}/test")
    api("yinan_officer", "GET", f"{path}/impact")
    api("yinan_officer", "GET", f"{path}/diff")
    api("yinan_officer", "POST", f"{path}/submit")
    api("yinan_approver", "POST", f"{path}/approve", json={"effective_from": later(30).isoformat()})
    base = draft["base_version_id"]
    refused = api("yinan_officer", "POST", f"/versions/{base}/rollback", json={"effective_from": later(60).isoformat()})
    assert refused.status_code == 403
    back = api("yinan_approver", "POST", f"/versions/{base}/rollback", json={"effective_from": later(60).isoformat()})
    assert back.status_code == 201, back.get_json()
    version = back.get_json()
    assert version["origin"] == {**version["origin"], "action": "rollback", "rollback_of": base}
    assert version["yaml_text"].startswith("# 回退（rollback）")
    assert api("yinan_approver", "GET", f"/versions/{version['id']}/export").data.decode() == version["yaml_text"]

    trail = api("yinan_approver", "GET", "/jurisdictions/371321/audit").get_json()["items"]
    assert [r["action"] for r in trail] == ["create_draft", "update_draft", "validate_draft", "test_draft",
                                            "impact_preview", "diff_draft", "submit", "approve", "publish",
                                            "rollback"]
    assert trail[-1]["detail"]["rollback_of"] == base and trail[-1]["actor"] == "yinan_approver"


def test_scope_and_roles_are_checked_on_the_server(api):
    draft = draft_with(api, 20, later(30))
    path = f"/drafts/{draft['id']}"
    for method, url, body in (("GET", path, None), ("PUT", path, {"yaml_text": "x"}),
                              ("POST", f"{path}/validate", None), ("GET", f"{path}/impact", None),
                              ("POST", f"{path}/submit", None), ("POST", "/jurisdictions/371321/drafts", None),
                              ("GET", "/jurisdictions/371321/drafts", None),
                              ("GET", "/jurisdictions/371321/audit", None)):
        found = api("ganzhou_officer", method, url, json=body, headers={"If-Match": '"2"'})
        assert found.status_code == 403, (method, url, found.get_json())
        assert found.get_json()["error"]["code"] == "out_of_scope"
    assert api("yinan_clerk", "GET", path).status_code == 403  # a clerk reads published versions, not drafts
    assert api(None, "GET", path).status_code == 401
    assert api("yinan_officer", "GET", "/drafts/99999").status_code == 404
    assert api("yinan_officer", "GET", "/jurisdictions/371321/drafts").get_json()["items"][0]["id"] == draft["id"]
    ganzhou = api("ganzhou_officer", "POST", "/jurisdictions/360700/drafts")
    assert ganzhou.status_code == 201
    assert api("yinan_officer", "GET", f"/drafts/{ganzhou.get_json()['id']}").status_code == 403
