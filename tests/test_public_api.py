"""网上信访, the petitioner's side of the API (DESIGN.md "Contract additions"): submit with a real name, follow by
number and query code, rate the answer, ask for review (《信访工作条例》第十七条、第三十四条、第三十五条)."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import RuleSetLibrary, bundled_rules_dir, today_in_china
from xinfang.server.accounts import system_actor
from xinfang.server.cases import workflow
from xinfang.server.cases.indicators import indicators
from xinfang.server.cases.real_name import check_digit, id_number_problem
from xinfang.server.store import db as store
from xinfang.server.store.case_tables import Petition, QueryCode

from petitioners import OFFICE, UNIT, ZHANGGONG, answered, id_number, on_file, petitioner, staff


def submission(text: str = "村里征地拆迁补偿款至今未发放，请求尽快发放", code: str = ZHANGGONG, **case) -> dict:
    return {"jurisdiction": code, "case": {"text": text, "petitioner": case.pop("petitioner", petitioner()), **case}}


@pytest.fixture
def web(fresh):
    return fresh.test_client()


def submit(web, body=None, **kwargs):
    return web.post("/api/v1/public/petitions", json=body or submission(**kwargs))


def track(web, number, code):
    return web.get(f"/api/v1/public/petitions/{number}", headers={"X-Query-Code": code})


def test_a_petition_submitted_online_is_registered_with_its_number_query_code_and_deadlines(web, fresh):
    # Art. 17, 21-23: the internet is a channel; every petition is registered and told its deadlines.
    response = submit(web)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"number", "query_code", "deadlines"}
    assert body["number"].startswith(f"{ZHANGGONG}-{today_in_china().year}-")
    assert {"route", "notify", "conclude"} <= set(body["deadlines"])
    assert response.headers["Cache-Control"] == "no-store"
    session, petition = on_file(fresh, body["number"])
    with session:
        assert petition.intake == "online" and petition.created_by == "网上信访人"
        stored = session.get(QueryCode, petition.id).code_hash
        assert body["query_code"] not in stored and len(stored) == 64  # only a blind index is kept


@pytest.mark.parametrize("changes, field, words", [
    ({"id_number": id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1")}, "petitioner.id_number", "校验码"),
    ({"id_number": id_number(birth="19870231")}, "petitioner.id_number", "出生日期"),
    ({"id_number": "3607021987041523"}, "petitioner.id_number", "18位"),
    ({"phone": "12345"}, "petitioner.phone", "手机号码"),
    ({"name": " "}, "petitioner.name", "真实姓名"),
], ids=["check digit", "birth date", "length", "phone", "name"])
def test_a_petitioner_online_is_verified_by_real_name(web, changes, field, words):
    # 赣州市: 实名验证; GB 11643-1999 the citizen ID number's check digit.
    response = submit(web, petitioner=petitioner(**changes))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "identity_not_verified"
    assert any(field in d and words in d for d in response.json["error"]["details"]), response.json


def test_the_id_number_check_digit_follows_gb_11643():
    assert check_digit("11010519491231002") == "X"  # the standard's own example
    assert id_number_problem("11010519491231002X") is None


def test_a_county_plugs_in_its_own_identity_verifier(demo_database, app_for, tmp_path):
    from xinfang.server.cases.errors import Problem
    path = tmp_path / "x.sqlite3"
    shutil.copy(demo_database.removeprefix("sqlite:///"), path)
    seen = []

    def police_check(person, code):
        seen.append((person["name"], code))
        return [Problem("petitioner.name", "not_verified", "姓名与公民身份号码不一致")]

    app = app_for(f"sqlite:///{path}", PUBLIC_IDENTITY_VERIFIERS={"360700": police_check})
    response = submit(app.test_client())
    assert response.status_code == 422 and "姓名与公民身份号码不一致" in str(response.json)
    assert seen == [("欧阳秀兰", ZHANGGONG)]


def test_online_intake_only_where_the_rule_set_opens_it(web):
    # 沂南县's rule set has no public section: no online intake there.
    response = submit(web, code="371321")
    assert response.status_code == 403 and response.json["error"]["code"] == "online_intake_closed"


def test_a_petition_online_is_received_today_online(web):
    response = submit(web, received_on="2024-01-02")
    assert response.status_code == 422 and "received_on" in str(response.json)


def test_an_unknown_number_and_a_wrong_code_are_the_same_404(web):
    number = submit(web).json["number"]
    unknown = track(web, number[:-1] + ("9" if number[-1] != "9" else "8"), "ABCDEFGHJKLM")
    wrong = track(web, number, "ABCDEFGHJKLM")
    missing = web.get(f"/api/v1/public/petitions/{number}")
    assert unknown.status_code == wrong.status_code == missing.status_code == 404
    for response in (unknown, wrong, missing):
        assert response.json["error"]["code"] == "petition_not_found"
        assert response.json["error"]["message"] == unknown.json["error"]["message"]


def test_wrong_query_codes_are_rate_limited(demo_database, app_for, tmp_path):
    path = tmp_path / "x.sqlite3"
    shutil.copy(demo_database.removeprefix("sqlite:///"), path)
    app = app_for(f"sqlite:///{path}", QUERY_CODE_LIMIT_PER_CASE="3 per 15 minutes")
    web = app.test_client()
    body = submit(web).json
    for _ in range(3):
        assert track(web, body["number"], "WRONGWRONG22").status_code == 404
    refused = track(web, body["number"], body["query_code"])  # the right code too, until the window moves on
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    other = submit(web, text="小区楼下饭店夜间噪音扰民", petitioner=petitioner(id_number=id_number(serial="552"))).json
    assert track(web, other["number"], other["query_code"]).status_code == 200  # counted per number


def test_the_petitioner_follows_the_case_by_number_and_query_code(web, fresh):
    body = submit(web).json
    view = track(web, body["number"], body["query_code"].lower())  # typed in small letters on a phone
    assert view.status_code == 200, view.json
    found = view.json
    assert found["stage"] == "registered" and found["jurisdiction_name"] == "章贡区"
    assert {d["step"] for d in found["deadlines"]} >= {"route", "notify", "conclude"}
    assert all(dt.date.fromisoformat(d["date"]) for d in found["deadlines"])
    assert [e["action"] for e in found["events"]] == ["register"]
    answered(fresh, body["number"])
    found = track(web, body["number"], body["query_code"]).json
    assert found["stage"] == "concluded"
    assert found["notices"] == [{"name": "受理告知书", "on": today_in_china().isoformat()}]
    assert found["answer"]["outcome"] == "explain" and "补偿款" in found["answer"]["opinion"]
    assert found["may_rate"] and found["review"]["open"] and "赣州市" in found["review"]["body"]


def test_the_petitioner_never_sees_internal_notes_or_the_units_exchanges(web, fresh):
    body = submit(web).json
    staff(fresh, body["number"], ("accept", {"note": "内部备注：此人多次来访"}),
          ("supervise", {"reason": "督办：请加快办理"}, OFFICE), ("answer_supervision", {"answer": "单位内部反馈"}))
    text = str(track(web, body["number"], body["query_code"]).json)
    for internal in ("内部备注", "督办", "单位内部反馈", "承办人", "note", "actor"):
        assert internal not in text


def test_the_same_matter_twice_is_refused_naming_the_first_case(web):
    # 智能判重 (赣州市: 90 days, the same ID number and category), Art. 19 ¶3.
    first = submit(web).json
    again = submit(web)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_submitted"
    assert again.json["error"]["details"] == [{"number": first["number"], "received_on": today_in_china().isoformat()}]


def test_the_same_matter_in_other_words_is_found_by_text_similarity(web):
    # public.similar_text: another category chosen, the matter told in other words.
    first = submit(web, category="12").json
    again = submit(web, text="我村的征地补偿款一直没有发给我们，希望尽快发放", category="10")
    assert again.status_code == 409 and again.json["error"]["details"][0]["number"] == first["number"]
    other = submit(web, text="小区楼下饭店夜间噪音扰民，无法休息", category="14")
    assert other.status_code == 201


def test_the_preview_tells_the_category_the_unit_and_an_earlier_case_before_sending(web):
    shown = web.post("/api/v1/public/petitions/preview", json=submission()).json
    assert shown["category_name"] and shown["route_unit_name"] and shown["already_submitted"] is None
    first = submit(web).json
    shown = web.post("/api/v1/public/petitions/preview", json=submission()).json
    assert shown["already_submitted"]["number"] == first["number"]


def test_another_persons_case_is_never_told(web):
    # Someone who knows another's ID number, under another name, learns nothing of that person's case.
    submit(web)
    other = submission(petitioner=petitioner(name="王某某", phone="13800000000"))
    assert web.post("/api/v1/public/petitions/preview", json=other).json["already_submitted"] is None
    response = submit(web, other)
    assert response.status_code == 201 and "number" in response.json


def test_an_accusation_online_goes_to_the_discipline_body_only(web, fresh, sign_in):
    # Art. 22 ¶2, 30, 46(5): to the discipline body; the accuser's identity to nobody else; never refused as a repeat.
    text = "举报某局干部贪污受贿"
    body = submit(web, text=text, accused_unit="某局").json
    from xinfang.server.cases.visibility import visible_case
    clerk = system_actor("赣州市登记员", roles=("clerk",), jurisdiction_code="360700")
    session, petition = on_file(fresh, body["number"])
    with session:
        assert petition.kind == "accusation" and petition.route_unit == "discipline" and petition.confidential
        assert visible_case(petition, clerk, in_list=False)["petitioner"] is None
    assert submit(web, text=text, accused_unit="某局").status_code == 201


def test_a_petitioners_rating_changes_the_satisfaction_rate(web, fresh):
    # 群众满意率 (赣州市 reports 97.73%): the petitioner's own rating, not a clerk's entry.
    from xinfang.server.rulesets.library_store import library_of
    body = submit(web).json
    answered(fresh, body["number"])
    today = today_in_china()

    def satisfaction():
        with Session(store.make_engine(fresh.config["DATABASE_URL"])) as session:
            return indicators(session, library_of(fresh), "360700", today, today, today)["indicators"]["satisfaction"]

    before = satisfaction()
    response = web.post(f"/api/v1/public/petitions/{body['number']}/rating",
                        json={"satisfied": False, "comment": "补偿款仍未到账"}, headers={"X-Query-Code": body["query_code"]})
    assert response.status_code == 201, response.json
    after = satisfaction()
    assert after["denominator"] == before["denominator"] + 1 and after["numerator"] == before["numerator"]
    assert response.json["rating"]["satisfaction"] == "unsatisfied" and not response.json["may_rate"]


def test_one_rating_a_case_and_only_once_answered(web, fresh):
    body = submit(web).json
    rate = lambda: web.post(f"/api/v1/public/petitions/{body['number']}/rating", json={"satisfied": True},  # noqa: E731
                            headers={"X-Query-Code": body["query_code"]})
    early = rate()
    assert early.status_code == 409 and early.json["error"]["code"] in ("not_answered", "action_not_allowed")
    answered(fresh, body["number"])
    assert rate().status_code == 201
    again = rate()
    assert again.status_code == 409 and again.json["error"]["code"] == "already_rated"


def test_a_review_request_online_within_the_window_goes_to_the_body_above(web, fresh):
    # Art. 35: within 30 days of the answer, to the body one level above the one that handled it.
    body = submit(web).json
    answered(fresh, body["number"])
    response = web.post(f"/api/v1/public/petitions/{body['number']}/review-request", json={"reason": "补偿标准有误"},
                        headers={"X-Query-Code": body["query_code"]})
    assert response.status_code == 201, response.json
    assert response.json["stage"] == "review_requested"
    event = response.json["events"][-1]
    assert event["action"] == "request_review" and "赣州市" in event["detail"]["body"]


def test_a_review_request_after_the_window_is_refused(web, fresh, monkeypatch):
    # Art. 35: the 30 days have passed.
    body = submit(web).json
    answered(fresh, body["number"])
    later = today_in_china() + dt.timedelta(days=45)
    monkeypatch.setattr(workflow, "today_in_china", lambda: later)
    response = web.post(f"/api/v1/public/petitions/{body['number']}/review-request",
                        headers={"X-Query-Code": body["query_code"]})
    assert response.status_code == 422 and response.json["error"]["code"] == "deadline_passed"


def test_a_petitioner_acts_on_its_own_case_only(web, fresh):
    from xinfang.server.accounts import petitioner_actor
    from xinfang.server.cases.errors import Forbidden
    from xinfang.server.rulesets.library_store import library_of
    mine = submit(web).json
    other = submit(web, text="小区楼下饭店夜间噪音扰民", petitioner=petitioner(id_number=id_number(serial="552"))).json
    answered(fresh, other["number"])
    session, petition = on_file(fresh, other["number"])
    with session, pytest.raises(Forbidden):
        workflow.act(session, library_of(fresh), petition.id, "request_review", {},
                     actor=petitioner_actor(ZHANGGONG, mine["number"]))


DAILY_LIMIT_COUNTY = """\
    jurisdiction: {code: "110101", name: 东城区, level: county}
    version: "2024.1"
    effective_from: 2024-01-01
    title: 测试规则集（网上信访每日限额）
    intake:
      online_daily_limit: {per_petitioner: 3, basis: 测试}
    public:
      online_intake: true
      basis: 测试
    """


def test_concurrent_submissions_over_the_daily_limit_let_exactly_the_limit_through(database_url, app_for, tmp_path):
    # 赣州市: a daily limit on online submissions; twenty at once of one petitioner, identical, let exactly 3 in.
    from xinfang.server.rulesets.import_export import ensure_database
    rules = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), rules)
    (rules / "110101_dongcheng").mkdir()
    (rules / "110101_dongcheng" / "2024-01-01.yaml").write_text(textwrap.dedent(DAILY_LIMIT_COUNTY), "utf-8")
    library = RuleSetLibrary.load([rules])
    ensure_database(database_url, library)
    app = app_for(database_url, RULES_DIR=str(rules))
    body = submission(code="110101", petitioner=petitioner(id_number=id_number(region="110101")))
    start = threading.Barrier(20)
    answers: list[int] = []

    def one():
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/public/petitions", json=body).status_code)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(201) == 3, answers
    with Session(store.make_engine(database_url)) as session:
        assert len(session.scalars(select(Petition).where(Petition.jurisdiction_code == "110101")).all()) == 3
