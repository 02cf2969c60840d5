"""Tests of the case API (server/web/cases_api.py): statuses, headers, scope, revisions, filters; SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import threading

import pytest

from xinfang.config import bundled_library
from xinfang.server.accounts import hash_password
from xinfang.server.cases.registration import ensure_jurisdiction
from xinfang.server.store import db
from xinfang.server.store.models import User
from xinfang.server.web.app import create_app

PASSWORD = "pw"
USERS = {  # username: (jurisdiction, roles, unit, unit name)
    "yinan_clerk": ("371321", ["clerk"], "petition_office", "沂南县信访局"),
    "yinan_discipline": ("371321", ["discipline"], "discipline", "沂南县纪委监委"),
    "yinan_approver": ("371321", ["approver"], None, None),
    "yinan_supervisor": ("371321", ["supervisor"], None, None),
    "yinan_officer": ("371321", ["policy_officer"], None, None),
    "housing_clerk": ("371321", ["clerk"], "housing", "沂南县住房和城乡建设局"),
    "linyi_supervisor": ("371300", ["supervisor"], None, None),
    "ganzhou_clerk": ("360700", ["clerk"], None, None),
}
PERSON = {"name": "张三", "id_number": "370101199001011234", "phone": "13812345678", "address": "沂南县界湖街道"}


@pytest.fixture(scope="module")
def password_hash():
    return hash_password(PASSWORD)  # scrypt takes a while: once per module


@pytest.fixture
def app(database_url, password_hash):
    db.upgrade(database_url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url})
    with app.app_context():
        session = db.get_session()
        for code in ("371321", "360700"):
            ensure_jurisdiction(session, bundled_library(), code)
        users = [User(username=name, display_name=name, password_hash=password_hash, jurisdiction_code=code,
                      roles=roles, unit=unit, unit_name=unit_name)
                 for name, (code, roles, unit, unit_name) in USERS.items()]
        session.add_all(users)
        session.commit()
        app.config["TEST_USER_IDS"] = {u.username: u.id for u in users}
    yield app
    db.database_of(app).dispose()


class Api:
    """The test client signed in as one user (a session with its CSRF token: no scrypt per request), speaking JSON."""

    def __init__(self, app, user: str | None, *, basic: bool = False):
        self.client = app.test_client()
        self.headers = {}
        if user and basic:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        elif user:
            with self.client.session_transaction() as session:
                session["user_id"] = app.config["TEST_USER_IDS"][user]
                session["csrf_token"] = self.headers["X-CSRFToken"] = "test-token"

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, query_string=params, headers=self.headers)

    def post(self, path, body=None, **headers):
        return self.client.post("/api/v1" + path, json=body, headers=self.headers | headers)


@pytest.fixture
def as_(app):
    return lambda user, **kw: Api(app, user, **kw)


def case(**fields) -> dict:
    return {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热", "petitioner": dict(PERSON)} | fields


def register(api: Api, code="371321", **fields) -> dict:
    response = api.post("/cases", {"jurisdiction": code, "case": case(**fields)})
    assert response.status_code == 201, response.json
    return response.json


def accept(as_, created: dict, on: str = "2024-03-05") -> dict:
    """Art. 22, 23: the office transfers the case to 沂南县住建局, which accepts it the same day."""
    path = f"/cases/{created['id']}/actions"
    assert as_("yinan_clerk").post(f"{path}/transfer", {"on": on, "unit": "housing"}).status_code == 200
    accepted = as_("housing_clerk").post(f"{path}/accept", {"on": on})
    assert accepted.status_code == 200, accepted.json
    return accepted.json


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code, response.json
    return response.json["error"]


def test_register_answers_201_with_location_and_etag_and_a_replay_answers_200(as_):
    clerk = as_("yinan_clerk")
    body = {"jurisdiction": "371321", "case": case()}
    first = clerk.post("/cases", body, **{"Idempotency-Key": "abc"})
    assert first.status_code == 201
    assert first.headers["Location"] == f"/api/v1/cases/{first.json['id']}"
    assert first.headers["ETag"] == f'"{first.json["revision"]}"'
    assert first.json["number"] == "371321-2024-000001" and first.json["stage"] == "registered"
    assert first.json["petitioner"]["id_number"] == PERSON["id_number"]  # a clerk sees it whole in the view
    again = clerk.post("/cases", body, **{"Idempotency-Key": "abc"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    error(clerk.post("/cases", {"case": case(text="另一件事")}, **{"Idempotency-Key": "abc"}), 422,
          "idempotency_key_reused")
    assert clerk.get("/cases").json["total"] == 1


def test_register_refuses_an_invalid_case_with_every_field_listed(as_):
    err = error(as_("yinan_clerk").post("/cases", {"case": {"intake": "mail"}}), 422, "invalid_case")
    assert {d.split(":")[0] for d in err["details"]} >= {"received_on", "text", "intake"}
    error(as_("yinan_clerk").post("/cases", [1]), 400, "invalid_json")
    error(as_("yinan_clerk").post("/cases", {"case": case(), "extra": 1}), 422, "invalid_payload")


def test_only_clerks_register_and_only_in_their_scope(as_):
    error(as_("yinan_supervisor").post("/cases", {"case": case()}), 403, "forbidden")
    error(as_("ganzhou_clerk").post("/cases", {"jurisdiction": "371321", "case": case()}), 403, "out_of_scope")
    error(as_(None).post("/cases", {"case": case()}), 401, "unauthenticated")
    assert as_("yinan_clerk", basic=True).post("/cases", {"case": case()}).status_code == 201  # HTTP Basic


def test_a_ganzhou_clerk_cannot_read_a_yinan_case(as_):
    created = register(as_("yinan_clerk"))
    ganzhou = as_("ganzhou_clerk")
    error(ganzhou.get(f"/cases/{created['id']}"), 403, "out_of_scope")
    error(ganzhou.get(f"/cases/{created['id']}/events"), 403, "out_of_scope")
    error(ganzhou.post(f"/cases/{created['id']}/actions/accept", {"on": "2024-03-05"}), 403, "out_of_scope")
    error(ganzhou.get("/cases", jurisdiction="371321"), 403, "out_of_scope")
    assert ganzhou.get("/cases").json["items"] == []
    linyi = as_("linyi_supervisor").get("/cases", jurisdiction="371300")  # a city sees the counties below it
    assert [c["id"] for c in linyi.json["items"]] == [created["id"]]
    error(as_("yinan_clerk").get("/cases/999999"), 404, "case_not_found")


def test_actions_follow_the_revision_and_a_stale_if_match_is_refused_losing_nothing(as_):
    clerk = as_("yinan_clerk")
    created = register(clerk)
    path = f"/cases/{created['id']}/actions"
    etag = clerk.get(f"/cases/{created['id']}").headers["ETag"]
    moved = clerk.post(f"{path}/transfer", {"on": "2024-03-05", "unit": "housing"}, **{"If-Match": etag})
    assert moved.status_code == 200 and moved.json["stage"] == "transferred" and moved.headers["ETag"] != etag
    unit = as_("housing_clerk")
    error(unit.post(f"{path}/accept", {"on": "2024-03-06"}, **{"If-Match": etag}), 412, "precondition_failed")
    view = clerk.get(f"/cases/{created['id']}").json
    assert view["stage"] == "transferred" and view["revision"] == moved.json["revision"]
    accepted = unit.post(f"{path}/accept", {"on": "2024-03-06"}, **{"If-Match": moved.headers["ETag"]})
    assert accepted.status_code == 200
    assert accepted.json["allowed_actions"] == ["supervise", "request_extension", "conclude", "migrate"]
    error(unit.post(f"{path}/accept", {}, **{"If-Match": "nonsense"}), 400, "bad_if_match")


def test_an_action_out_of_order_is_refused_with_the_allowed_list(as_):
    created = register(as_("yinan_clerk"))
    clerk = as_("housing_clerk")  # the unit the case is routed to, before it is transferred there
    err = error(clerk.post(f"/cases/{created['id']}/actions/conclude", {"on": "2024-03-05", "outcome": "support"}),
                409, "action_not_allowed")
    assert err["details"] == [{"stage": "registered",
                               "allowed": ["transfer", "assign", "separate", "accept", "refuse", "migrate"]}]
    error(clerk.post(f"/cases/{created['id']}/actions/approve", {}), 404, "unknown_action")
    error(clerk.post(f"/cases/{created['id']}/actions/accept", {"on": "2024-3-5"}), 400, "bad_date")


def test_an_extension_is_requested_by_the_unit_and_granted_by_an_approver(as_):
    # Art. 34: asked for by the unit with its reasons, approved by someone entitled to, in an action of their own.
    created = register(as_("yinan_clerk"))
    accept(as_, created)
    path = f"/cases/{created['id']}/actions"
    unit = as_("housing_clerk")
    body = {"on": "2024-03-20", "days": 10, "reason": "情况复杂"}
    error(unit.post(f"{path}/request_extension", body | {"days": 16}), 422, "extension_above_bound")
    requested = unit.post(f"{path}/request_extension", body)
    assert requested.status_code == 200 and requested.json["stage"] == "extension_requested"
    error(unit.post(f"{path}/approve_extension", {"on": "2024-03-21"}), 403, "forbidden")
    error(as_("yinan_supervisor").post(f"{path}/approve_extension", {"on": "2024-03-21"}), 403, "forbidden")
    extended = as_("yinan_approver").post(f"{path}/approve_extension", {"on": "2024-03-21"})
    assert extended.status_code == 200 and extended.json["stage"] == "extended"
    conclude = next(d for d in extended.json["deadlines"] if d["step"] == "conclude")
    assert conclude["due_on"] == "2024-05-14"  # 2024-03-05 + 60 + 10 days


def test_migration_is_an_officers_action(as_):
    created = register(as_("yinan_clerk"))
    error(as_("yinan_clerk").post(f"/cases/{created['id']}/actions/migrate", {"reason": "x"}), 403, "forbidden")
    error(as_("yinan_officer").post(f"/cases/{created['id']}/actions/migrate", {"on": "2024-03-05", "reason": "x"}),
          422, "nothing_to_migrate")


def test_an_accusation_is_hidden_from_the_accused_unit_which_may_not_act_on_it(as_):
    # Art. 30, 46(5).
    created = register(as_("yinan_clerk"), text="举报住建局局长受贿", accused_unit="沂南县住房和城乡建设局")
    assert created["confidential"] and created["petitioner"] is None and created["text"] is None
    shown = as_("yinan_discipline").get(f"/cases/{created['id']}").json
    assert shown["petitioner"]["id_number"] == PERSON["id_number"] and shown["text"] == "举报住建局局长受贿"
    accused = as_("housing_clerk")
    view = accused.get(f"/cases/{created['id']}").json
    assert view["petitioner"] is None and view["accused_unit"] is None and "text" not in view["case"]
    listed = accused.get("/cases").json["items"][0]
    assert listed["petitioner"] is None and listed["summary"] is None
    error(accused.post(f"/cases/{created['id']}/actions/accept", {"on": "2024-03-05"}), 403, "conflict_of_interest")


def test_lists_mask_personal_data_and_the_view_masks_it_for_supervisors(as_):
    created = register(as_("yinan_clerk"))
    listed = as_("yinan_clerk").get("/cases").json["items"][0]
    assert listed["petitioner"]["id_number"] == "3701**********1234" and listed["petitioner"]["phone"] == "138****5678"
    view = as_("yinan_supervisor").get(f"/cases/{created['id']}").json
    assert view["petitioner"]["phone"] == "138****5678" and view["masked"]


def test_list_filters_and_pagination(as_):
    clerk = as_("yinan_clerk")
    first = register(clerk)
    second = register(clerk, received_on="2024-03-05", text="拖欠工资三个月")  # the urgent track (Yinan)
    accept(as_, first)

    def ids(**params):
        response = clerk.get("/cases", **params)
        assert response.status_code == 200, response.json
        return [c["id"] for c in response.json["items"]]

    assert ids() == [second["id"], first["id"]]
    assert ids(stage="accepted") == [first["id"]] and ids(stage="registered,accepted") == [second["id"], first["id"]]
    assert as_("housing_clerk").get("/cases").json["total"] == 2  # the county's cases, its own among them
    assert ids(track="urgent") == [second["id"]]
    assert ids(flag="nothing") == []
    # As of 2024-03-06: the second case's route deadline (same day, 2024-03-05) has passed.
    assert ids(overdue="true", at="2024-03-06") == [second["id"]]
    assert ids(overdue="false", at="2024-03-06") == [first["id"]]
    assert ids(due_within="30", at="2024-03-06") == [second["id"]]  # its conclusion, 2024-03-20
    assert ids(due_within="60", at="2024-03-06") == [second["id"]]
    assert ids(due_within="61", at="2024-03-06") == [second["id"], first["id"]]  # and 2024-05-06 (60 days)
    assert ids(due_within="1", at="2024-05-04") == []
    page = clerk.get("/cases", page="2", per_page="1").json
    assert (page["total"], page["page"], [c["id"] for c in page["items"]]) == (2, 2, [first["id"]])
    error(clerk.get("/cases", stage="lost"), 400, "bad_stage")
    error(clerk.get("/cases", per_page="0"), 400, "bad_parameter")
    assert "next_deadline" in clerk.get("/cases").json["items"][0]


def test_duplicates_can_be_listed_by_flag(as_):
    clerk = as_("ganzhou_clerk")
    online = {"intake": "online", "text": "小区噪音扰民"}
    register(clerk, "360700", **online)
    repeat = register(clerk, "360700", **online, received_on="2024-03-10")
    assert repeat["duplicate_of"] is not None and "duplicate" in repeat["flags"]
    assert [c["id"] for c in clerk.get("/cases", flag="duplicate").json["items"]] == [repeat["id"]]


def test_the_file_lists_events_with_deadlines(as_):
    clerk = as_("yinan_clerk")
    created = register(clerk)
    accept(as_, created)
    events = clerk.get(f"/cases/{created['id']}/events").json
    assert events["number"] == created["number"]
    assert [(e["action"], e["stage_after"]) for e in events["items"]] == [
        ("register", "registered"), ("transfer", "transferred"), ("accept", "accepted")]
    assert events["items"][2]["deadlines"]["conclude"]["due_on"] == "2024-05-06"  # 60 days, Labour Day moved it
    view = clerk.get(f"/cases/{created['id']}").json
    assert {e["step"] for e in view["escalations"]} >= {"conclude_yellow", "conclude_red", "backlog_leader"}


def test_evaluate_decides_without_storing(as_):
    clerk = as_("yinan_clerk")
    decision = clerk.post("/evaluate", {"jurisdiction": "371321", "case": case()})
    assert decision.status_code == 200 and decision.json["ruleset_version"].endswith("371321@2024.1")
    assert decision.json["deadlines"]["route"]["date"] == "2024-03-05"
    assert clerk.get("/cases").json["total"] == 0
    error(clerk.post("/evaluate", {"case": {"intake": "letter"}}), 422, "invalid_case")
    error(clerk.post("/evaluate", {"jurisdiction": "999999", "case": case()}), 422, "unknown_jurisdiction")


@pytest.mark.parametrize("fields", [{"received_on": "9999-12-20"}, {"answered_on": "9999-12-30"},
                                    {"hearings": [{"start": "2024-03-10", "end": "9999-12-31"}]}])
def test_dates_near_year_9999_are_a_422_naming_the_field_never_a_500(as_, fields):
    found = error(as_("yinan_clerk").post("/evaluate", {"jurisdiction": "371321", "case": case(**fields)}),
                  422, "invalid_case")
    assert "is not a date from 1900-01-01 to 2999-12-31" in found["message"]
    assert found["details"][0].split(":")[0] in ("received_on", "answered_on", "hearings[0].end")


def test_a_case_list_due_within_ten_years_of_year_9999_is_a_400_not_a_500(as_):
    found = error(as_("yinan_clerk").get("/cases", due_within="3650", at="9999-12-31"), 400, "bad_date")
    assert found["message"] == "at='9999-12-31' is not a date from 1900-01-01 to 2999-12-31"
    assert as_("yinan_clerk").get("/cases", due_within="3650", at="2999-12-31").status_code == 200


@pytest.mark.parametrize(("body", "message"), [
    ('{"jurisdiction": "371321", "case": {"received_on": "2024-03-04", "intake": "letter", "intake": "visit", '
     '"text": "x"}}', 'duplicate key "intake": each key may appear once in an object'),
    ('{"case": ' + "[" * 5000 + "]" * 5000 + "}", "line 1 column 73: nested deeper than 64 levels"),
    ('{"case": {"received_on": "2024-03-04",}}', "line 1 column 39: not valid JSON: Expecting property name"),
    ('{"jurisdiction": "371321", "case": {"received_on": "2024-03-04", "intake": "letter", "text": "\\ud800"}}',
     "a string holds the lone surrogate \\ud800: not Unicode text"),
    ('{"jurisdiction": "371321", "case": {"received_on": "2024-03-04", "intake": "letter", "text": "x", '
     '"representatives": NaN}}', "NaN is not a JSON number"),
], ids=["duplicate-key", "5000-deep", "trailing-comma", "lone-surrogate", "nan"])
def test_a_request_body_with_duplicate_keys_or_deep_nesting_is_a_400_naming_it(as_, body, message):
    clerk = as_("yinan_clerk")
    for path in ("/evaluate", "/cases"):
        response = clerk.client.post("/api/v1" + path, data=body, headers=clerk.headers,
                                     content_type="application/json")
        found = error(response, 400, "invalid_json")
        assert message in found["message"] and found["details"][0]["field"] == "body"
    assert clerk.get("/cases").json["total"] == 0


def test_concurrent_registrations_get_distinct_numbers_and_one_case_per_idempotency_key(app, as_):
    # Numbers come from one atomic counter row per jurisdiction and year; a lost race is retried.
    results: list = []

    def post(text: str, key: str | None):
        headers = {"Idempotency-Key": key} if key else {}
        response = as_("yinan_clerk").post("/cases", {"case": case(text=text)}, **headers)
        results.append((response.status_code, response.json))

    threads = [threading.Thread(target=post, args=(f"供暖第{i}件", None)) for i in range(5)]
    threads += [threading.Thread(target=post, args=("同一件", "same-key")) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 200] + [201] * 6, results
    numbers = {body["number"] for _, body in results}
    assert numbers == {f"371321-2024-{n:06d}" for n in range(1, 7)}
    assert as_("yinan_clerk").get("/cases").json["total"] == 6


def test_online_daily_limit_holds_for_simultaneous_submissions_of_one_petitioner(app, as_):
    # 赣州市 intake.online_daily_limit (《赣州市信访事项分类办理工作规范（2023）》): at most 3 online petitions of one
    # petitioner a day, however many arrive at once; registration (the case service) holds it, not the web layer.
    results: list = []

    def post(i: int):
        response = as_("ganzhou_clerk").post("/cases", {"case": case(intake="online", text=f"小区噪音扰民第{i}次")})
        results.append(response.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] * 3 + [422] * 17, results
    assert as_("ganzhou_clerk").get("/cases").json["total"] == 3
