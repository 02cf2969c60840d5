"""The petition office's working order (Art. 22-25, 31-36): 登记 → 转送/交办 → 受理 → 办理 → 答复 → 复查 → 复核.

Who takes each step is checked by the case service itself (server/cases/permissions.py, from the
procedure table's `acts_as`): the office routes, the unit the case is routed to accepts, handles and
answers, an approver other than the requester grants an extension, the level above reviews.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from xinfang.config import bundled_library, procedure
from xinfang.server.accounts import system_actor
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.sweep import due_escalations_condition
from xinfang.server.cases.workflow import act, allowed_actions, register
from xinfang.server.store.case_tables import CaseEscalation, Petition

D = dt.date.fromisoformat
YINAN = "371321"
OFFICE = system_actor("yinan_clerk", roles=("clerk",), jurisdiction_code=YINAN, unit="petition_office")
LAND_BUREAU = system_actor("ziran_clerk", roles=("clerk",), jurisdiction_code=YINAN, unit="natural_resources")
HOUSING = system_actor("zhujian_clerk", roles=("clerk",), jurisdiction_code=YINAN, unit="housing")
CITY = system_actor("linyi_clerk", roles=("clerk",), jurisdiction_code="371300")
PERSON = {"name": "张三", "id_number": "370101199001011234", "phone": "13812345678", "address": "沂南县界湖街道"}


@pytest.fixture(scope="module")
def library():
    return bundled_library()


def land_case(session, library, text="村里征地拆迁补偿款至今未发放") -> Petition:
    """A Yinan letter about land compensation (1201: 沂南县自然资源和规划局), received Monday 2024-03-04."""
    petition = register(session, library, {"received_on": "2024-03-04", "intake": "letter", "text": text,
                                           "petitioner": dict(PERSON)}, actor=OFFICE)
    session.commit()
    return petition


def step(session, library, petition, action, actor, on, **payload) -> Petition:
    petition = act(session, library, petition.id, action, payload, actor=actor, on=D(on))
    session.commit()
    return petition


def refused(code: str, call) -> CaseServiceError:
    with pytest.raises(CaseServiceError) as info:
        call()
    assert info.value.code == code, info.value.message
    return info.value


def running(petition: Petition) -> set[str]:
    return {d.step for d in petition.deadlines if d.done_on is None}


def test_the_office_routes_and_only_the_unit_routed_to_accepts(session, library):
    # Art. 22: the office registers and routes within its limit; Art. 23: the competent unit accepts.
    petition = land_case(session, library)
    assert petition.route_unit == "natural_resources"
    refused("not_yours", lambda: act(session, library, petition.id, "accept", {}, actor=OFFICE, on=D("2024-03-05")))
    refused("not_yours", lambda: act(session, library, petition.id, "transfer", {"unit": "natural_resources"},
                                     actor=LAND_BUREAU, on=D("2024-03-05")))
    petition = step(session, library, petition, "transfer", OFFICE, "2024-03-05", unit="natural_resources")
    assert petition.stage == "transferred" and {"route", "notify"}.isdisjoint(running(petition))
    refused("not_yours", lambda: act(session, library, petition.id, "accept", {}, actor=HOUSING, on=D("2024-03-06")))
    petition = step(session, library, petition, "accept", LAND_BUREAU, "2024-03-06")
    assert petition.stage == "accepted" and petition.events[-1].actor == "ziran_clerk"


def test_the_office_routes_only_to_a_unit_not_to_itself(session, library):
    # Art. 22: 转送、交办 to the competent body; the office is no destination of its own routing.
    petition = land_case(session, library)
    err = refused("invalid_payload", lambda: act(session, library, petition.id, "transfer",
                                                 {"unit": "petition_office"}, actor=OFFICE, on=D("2024-03-05")))
    assert err.problems[0].code == "not_a_unit"
    refused("invalid_payload", lambda: act(session, library, petition.id, "assign", {"unit": "no_such_bureau"},
                                           actor=OFFICE, on=D("2024-03-05")))


FEEDBACK = """\
    time_limits:
      feedback: {days: 10, unit: calendar, basis: 测试规则：交办后10日内反馈办理情况}
"""


def test_an_assigned_case_owes_its_feedback_by_the_rule_sets_limit(local_ruleset, session):
    # Art. 22 (交办): the unit reports how it handles the case; the limit is the rule set's (time_limits.feedback).
    library, issues = local_ruleset(FEEDBACK)
    assert issues == []
    office = system_actor("dongcheng_clerk", roles=("clerk",), jurisdiction_code="110101")
    unit = system_actor("unit_clerk", roles=("clerk",), jurisdiction_code="110101", unit="housing")
    petition = register(session, library, {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热",
                                           "petitioner": {"name": "张三", "address": "东城区"}}, actor=office)
    petition = step(session, library, petition, "assign", office, "2024-03-05", unit="housing")
    assert petition.stage == "assigned" and "assigned" in petition.flags
    assert {d.step: d.due_on for d in petition.deadlines}["feedback"] == D("2024-03-15")
    petition = step(session, library, petition, "accept", unit, "2024-03-06")
    assert "report" in allowed_actions(petition)
    petition = step(session, library, petition, "report", unit, "2024-03-12", progress="已约谈物业，正在维修")
    assert "feedback" not in running(petition)


def test_a_matter_for_the_courts_is_separated_and_leaves_the_procedure(session, library):
    # Art. 22 ¶2, 28 ¶2 (诉访分离): to the political-legal organs; no handling period, no escalation.
    petition = land_case(session, library, text="不服法院判决，要求重审")
    assert petition.channel == "litigation" and "conclude" not in {d.step for d in petition.deadlines}
    refused("not_yours", lambda: act(session, library, petition.id, "accept", {}, actor=OFFICE, on=D("2024-03-05")))
    admin = system_actor("admin")
    refused("litigation_separated", lambda: act(session, library, petition.id, "accept", {}, actor=admin,
                                                on=D("2024-03-05")))
    petition = step(session, library, petition, "separate", OFFICE, "2024-03-05")
    assert petition.stage == "separated" and not procedure.stage("separated").open
    assert running(petition) == set() and allowed_actions(petition) == []
    assert session.scalars(select(CaseEscalation).where(due_escalations_condition(D("2024-12-31")))).all() == []


def test_a_supervision_owes_a_written_answer_and_a_new_one_reopens_it(session, library):
    # Art. 40 (督办) with SD Art. 59: the unit answers within 30 days; a second supervision is owed a second answer.
    petition = land_case(session, library)
    petition = step(session, library, petition, "transfer", OFFICE, "2024-03-05", unit="natural_resources")
    petition = step(session, library, petition, "accept", LAND_BUREAU, "2024-03-06")
    assert "answer_supervision" not in allowed_actions(petition)
    petition = step(session, library, petition, "supervise", OFFICE, "2024-04-01", reason="进展缓慢")
    assert petition.events[-1].detail["notice"] == "督办函"
    assert {d.step: d.due_on for d in petition.deadlines}["supervision_feedback"] == D("2024-05-06")
    petition = step(session, library, petition, "answer_supervision", LAND_BUREAU, "2024-04-10", answer="已加快办理")
    assert "supervision_feedback" not in running(petition) and "supervised" not in petition.flags
    petition = step(session, library, petition, "supervise", OFFICE, "2024-04-20", reason="仍未办结")
    assert "supervision_feedback" in running(petition)


def test_the_review_opinion_comes_from_the_level_above(session, library):
    # Art. 35: the review is by the body one level above the one that handled the case.
    petition = land_case(session, library)
    petition = step(session, library, petition, "transfer", OFFICE, "2024-03-05", unit="natural_resources")
    petition = step(session, library, petition, "accept", LAND_BUREAU, "2024-03-06")
    petition = step(session, library, petition, "conclude", LAND_BUREAU, "2024-04-01", outcome="not_support")
    petition = step(session, library, petition, "request_review", OFFICE, "2024-04-10")
    refused("not_yours", lambda: act(session, library, petition.id, "review_opinion", {"outcome": "support"},
                                     actor=OFFICE, on=D("2024-04-20")))
    petition = step(session, library, petition, "review_opinion", CITY, "2024-04-20", outcome="explain")
    assert petition.stage == "reviewed" and petition.events[-1].actor == "linyi_clerk"


def test_no_one_acts_on_a_case_beside_their_own_jurisdiction(session, library):
    # Scope: a clerk acts on their jurisdiction and those below it, never beside it.
    petition = land_case(session, library)
    ganzhou = system_actor("ganzhou_clerk", roles=("clerk",), jurisdiction_code="360700")
    refused("out_of_scope", lambda: act(session, library, petition.id, "transfer", {"unit": "housing"},
                                        actor=ganzhou, on=D("2024-03-05")))


@pytest.fixture(scope="module")
def beijing_library(tmp_path_factory, beijing_review_extension):
    """The bundled rule sets with 北京市 (110000), whose review may be extended by 30 days (BJ Art. 40)."""
    from xinfang.config import RuleSetLibrary, bundled_rules_dir
    folder = tmp_path_factory.mktemp("beijing") / "110000_beijing"
    folder.mkdir()
    header = ('jurisdiction: {code: "110000", name: 北京市, level: province}\nversion: "2022.1"\n'
              "effective_from: 2022-05-01\ntitle: 北京市信访条例\n")
    (folder / "2022-05-01.yaml").write_text(header + beijing_review_extension, "utf-8")
    library, issues = RuleSetLibrary.collect([bundled_rules_dir(), folder])
    assert not [i for i in issues if i.severity == "error"], issues
    return library


def reviewed_in_dongcheng(session, library) -> Petition:
    """A 东城区 (110101) case handled, answered on 2024-04-01, its review requested on 2024-04-10."""
    admin = system_actor("admin")
    petition = register(session, library, {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热",
                                           "petitioner": dict(PERSON)}, actor=admin, jurisdiction_code="110101")
    for action, on, payload in (("accept", "2024-03-05", {}), ("conclude", "2024-04-01", {"outcome": "not_support"}),
                                ("request_review", "2024-04-10", {})):
        petition = step(session, library, petition, action, admin, on, **payload)
    return petition


def test_bj_art_40_the_review_body_extends_the_review_once_within_the_provinces_bound(session, beijing_library):
    # 《北京市信访条例》第四十条: 复查期限……情况复杂的，经批准可以适当延长，延长期限不得超过30日.
    library = beijing_library
    petition = reviewed_in_dongcheng(session, library)
    review_due = {d.step: d.due_on for d in petition.deadlines}["review"]
    assert "extend_review" in allowed_actions(petition)
    county_approver = system_actor("dongcheng_approver", roles=("approver",), jurisdiction_code="110101")
    refused("not_yours", lambda: act(session, library, petition.id, "extend_review", {"days": 10, "reason": "情况复杂"},
                                     actor=county_approver, on=D("2024-04-20")))
    beijing_approver = system_actor("beijing_approver", roles=("approver",), jurisdiction_code="110000")
    err = refused("extension_above_bound", lambda: act(session, library, petition.id, "extend_review",
                                                       {"days": 31, "reason": "情况复杂"}, actor=beijing_approver,
                                                       on=D("2024-04-20")))
    assert err.first["bound"] == 30 and "第四十条" in err.first["basis"]
    session.rollback()
    petition = step(session, library, petition, "extend_review", beijing_approver, "2024-04-20", days=30, reason="情况复杂")
    assert {d.step: d.due_on for d in petition.deadlines}["review"] > review_due
    assert petition.case_json["extensions"] == {"review": 30} and "extend_review" not in allowed_actions(petition)


def test_art_35_no_review_extension_is_offered_where_no_law_provides_one(session, library):
    # 《信访工作条例》第三十五条: 30 days to review, no extension; 山东 provides none either.
    petition = land_case(session, library)
    petition = step(session, library, petition, "transfer", OFFICE, "2024-03-05", unit="natural_resources")
    petition = step(session, library, petition, "accept", LAND_BUREAU, "2024-03-06")
    petition = step(session, library, petition, "conclude", LAND_BUREAU, "2024-04-01", outcome="not_support")
    petition = step(session, library, petition, "request_review", OFFICE, "2024-04-10")
    assert "extend_review" not in allowed_actions(petition)
    linyi_approver = system_actor("linyi_approver", roles=("approver",), jurisdiction_code="371300")
    refused("action_not_allowed", lambda: act(session, library, petition.id, "extend_review",
                                              {"days": 10, "reason": "情况复杂"}, actor=linyi_approver,
                                              on=D("2024-04-20")))


ANDI = "371321101"  # 岸堤镇, a township of 沂南县
TOWNSHIP_OFFICE = system_actor("andi_clerk", roles=("clerk",), jurisdiction_code=ANDI, unit="government_office")
OTHER_TOWNSHIP = system_actor("xinji_clerk", roles=("clerk",), jurisdiction_code="371321102", unit="government_office")


def test_a_case_routed_to_a_township_unit_is_handled_there_and_nowhere_beside(session, library):
    # Art. 22 (三级调解): the county office may hand a case to a township's unit; that unit finds it in its inbox
    # and accepts and answers it, though the case is the county's. A township beside it sees nothing of it.
    from xinfang.server.cases.queries import CaseFilters, list_cases
    from xinfang.server.cases.workflow import get_case
    petition = land_case(session, library, "村里道路损坏多年，要求修复")
    petition = step(session, library, petition, "assign", OFFICE, "2024-03-05", unit=f"{ANDI}:government_office")
    assert petition.route_unit == f"{ANDI}:government_office"
    inbox = list_cases(session, library, TOWNSHIP_OFFICE, CaseFilters(jurisdiction=ANDI, at=D("2024-03-06"),
                                                                      units=("government_office",)))
    assert [p.id for p in inbox.items] == [petition.id]
    assert get_case(session, library, TOWNSHIP_OFFICE, petition.id).id == petition.id
    refused("out_of_scope", lambda: get_case(session, library, OTHER_TOWNSHIP, petition.id))
    refused("out_of_scope", lambda: act(session, library, petition.id, "accept", {}, actor=OTHER_TOWNSHIP,
                                        on=D("2024-03-06")))
    petition = step(session, library, petition, "accept", TOWNSHIP_OFFICE, "2024-03-06")
    assert petition.stage == "accepted" and petition.events[-1].actor == "andi_clerk"
    assert list_cases(session, library, OTHER_TOWNSHIP, CaseFilters(jurisdiction="371321102", at=D("2024-03-06"))
                      ).items == []
