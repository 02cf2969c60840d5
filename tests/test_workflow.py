"""Tests of the case workflow (server/cases/workflow.py, registration.py, case_file.py): each path and each refusal.

One test per rule, the article in a comment. Every test runs on SQLite and on PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from xinfang.config import RuleSetLibrary, bundled_library, bundled_rules_dir
from xinfang.rules.decide import evaluate
from xinfang.server.accounts import system_actor
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.workflow import act, allowed_actions, register, register_case, timeline
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, CaseEvent, IdempotencyRecord, Petition
from xinfang.server.store.models import AuditLog, Jurisdiction, utcnow

CLERK = system_actor("clerk")  # an admin: registers and handles cases anywhere, in any role
OFFICER = system_actor("officer", roles=("policy_officer",))  # migrates a case to a new version

D = dt.date.fromisoformat
YINAN, GANZHOU = "371321", "360700"
PERSON = {"name": "张三", "id_number": "370101199001011234", "phone": "13812345678", "address": "沂南县界湖街道"}


@pytest.fixture
def library():
    return bundled_library()


def case(**fields) -> dict:
    """A Yinan letter about heating, received Monday 2024-03-04, unless `fields` say otherwise."""
    return {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热", "petitioner": dict(PERSON)} | fields


def new(session, library, code=YINAN, **fields) -> Petition:
    petition = register(session, library, case(**fields), actor=CLERK, jurisdiction_code=code)
    session.commit()
    return petition


def run(session, library, petition, *steps) -> Petition:
    """Apply (action, on, payload) steps in order, committing each."""
    for action, on, payload in steps:
        petition = act(session, library, petition.id, action, payload, actor=CLERK, on=D(on))
        session.commit()
    return petition


def due(petition: Petition) -> dict[str, str]:
    return {d.step: d.due_on.isoformat() for d in petition.deadlines}


def refused(code: str, call) -> CaseServiceError:
    with pytest.raises(CaseServiceError) as info:
        call()
    assert info.value.code == code, info.value.message
    return info.value


# Registration (Art. 21-23)

def test_register_pins_the_version_numbers_the_case_and_stores_deadlines_and_schedule(session, library):
    petition = new(session, library)
    decision = evaluate(library, YINAN, case())
    assert petition.number == "371321-2024-000001"
    assert petition.ruleset_version == decision["ruleset_version"] == (
        "000000@2022.1+370000@2016.1+371300@2023.1+371321@2024.1")
    assert (petition.stage, petition.kind, petition.category, petition.track) == (
        "registered", "appeal", "10", "normal")
    assert due(petition) == {step: d["date"] for step, d in decision["deadlines"].items()}
    schedule = {e.step: (e.watch, e.due_on.isoformat(), e.action) for e in session.scalars(select(CaseEscalation))}
    # Art. 43, 44: route is due by 09:00 on 2024-03-05 (沂南 问题流转不过夜), overdue after it that morning.
    assert schedule["route_overdue"] == ("route", "2024-03-05", "supervise")
    assert schedule["backlog_leader"] == (None, "2024-06-02", "assign_leader")  # open 90 days (Art. 18)
    assert [e.action for e in petition.events] == ["register"]
    assert set(session.scalars(select(Jurisdiction.code))) == {"000000", "370000", "371300", YINAN}
    assert new(session, library).number == "371321-2024-000002"
    assert new(session, library, received_on="2023-12-29").number == "371321-2023-000001"


def test_register_refuses_an_invalid_case_listing_every_field(session, library):
    err = refused("invalid_case", lambda: register(session, library, {"received_on": "2024-13-01", "intake": "mail"},
                                                   actor=CLERK, jurisdiction_code=YINAN))
    assert err.kind == "invalid"
    assert any(d.startswith("text:") for d in err.details) and any(d.startswith("intake:") for d in err.details)
    assert any(d.startswith("received_on:") for d in err.details)


def test_register_enforces_the_form_of_the_pinned_version_and_keeps_its_extra_fields(session, library):
    # The clerk's form (server/cases/forms.py): a letter needs name, address and text (Art. 19).
    err = refused("invalid_case", lambda: register(session, library, case(petitioner={"name": "张三"}),
                                                   actor=CLERK, jurisdiction_code=YINAN))
    assert err.details == ["petitioner.address: 住址为必填项"]
    petition = new(session, library, form={"facts": "暖气温度不到16度"})
    assert petition.case_json["form"] == {"facts": "暖气温度不到16度"}
    run(session, library, petition, ("accept", "2024-03-05", {}))  # the engine never sees `form`


def test_register_refuses_later_stages_and_future_dates(session, library):
    err = refused("invalid_case", lambda: register(session, library, case(accepted_on="2024-03-05"), actor=CLERK,
                                                   jurisdiction_code=YINAN))
    assert err.details == ["accepted_on: a later stage is recorded through the case's actions, not at registration"]
    refused("invalid_case", lambda: register(session, library, case(received_on="2999-01-01"), actor=CLERK,
                                             jurisdiction_code=YINAN))


def test_case_keeps_its_pinned_version_after_a_newer_one_is_published(session, library, tmp_path):
    # DESIGN.md, Versions: a case keeps the version in force when it was received unless migrated.
    old_case = new(session, library, received_on="2024-06-03")
    text = (bundled_rules_dir() / "371321_yinan" / "2024-01-01.yaml").read_text("utf-8")
    newer = (text.replace('version: "2024.1"', 'version: "2024.2"').replace("effective_from: 2024-01-01",
                                                                             "effective_from: 2024-05-01")
             .replace("    name: 复杂问题跟踪办\n    time_limits:\n", "    name: 复杂问题跟踪办\n    time_limits:\n"
                      "      conclude: {days: 20, unit: calendar, basis: 测试}\n"))
    assert newer.count("2024.2") == 1 and "days: 20," in newer
    (tmp_path / "371321_yinan").mkdir()
    (tmp_path / "371321_yinan" / "2024-05-01.yaml").write_text(newer, "utf-8")
    reloaded = RuleSetLibrary.load([bundled_rules_dir(), tmp_path])

    old_case = run(session, reloaded, old_case, ("accept", "2024-06-04", {}))
    assert old_case.ruleset_version.endswith("371321@2024.1")
    assert due(old_case)["conclude"] == "2024-08-05"  # the pinned 60 days: 06-04 + 60 = 08-03 Saturday → 08-05
    fresh = run(session, reloaded, new(session, reloaded, received_on="2024-06-03"), ("accept", "2024-06-04", {}))
    assert fresh.ruleset_version.endswith("371321@2024.2")
    assert due(fresh)["conclude"] == "2024-06-24"  # 20 days, the new limit

    migrated = act(session, reloaded, old_case.id, "migrate", {"reason": "县里决定按新办法办理"}, actor=OFFICER,
                   on=D("2024-06-05"))
    session.commit()
    assert migrated.ruleset_version == fresh.ruleset_version and "migrated" in migrated.flags
    assert due(migrated)["conclude"] == "2024-06-24"
    assert migrated.events[-1].detail["from"].endswith("371321@2024.1")
    refused("nothing_to_migrate", lambda: act(session, reloaded, migrated.id, "migrate", {"reason": "again"},
                                              actor=OFFICER, on=D("2024-06-05")))
    refused("invalid_ruleset_version", lambda: act(session, reloaded, migrated.id, "migrate",
                                                   {"reason": "x", "to": "000000@2022.1+360700@2023.1"},
                                                   actor=OFFICER, on=D("2024-06-05")))
    # A library that lacks the pinned version says so rather than silently using another one.
    refused("pinned_version_missing", lambda: act(session, library, fresh.id, "conclude", {"outcome": "support"},
                                                  actor=CLERK, on=D("2024-06-05")))


def test_same_idempotency_key_returns_the_first_case_and_a_different_body_is_refused(session, library):
    first = register_case(session, library, case(), actor=CLERK, jurisdiction_code=YINAN, idempotency_key="k-1")
    session.commit()
    again = register_case(session, library, case(), actor=CLERK, jurisdiction_code=YINAN, idempotency_key="k-1")
    assert (again.petition.id, again.created, first.created) == (first.petition.id, False, True)
    assert session.scalar(select(func.count()).select_from(Petition)) == 1
    err = refused("idempotency_key_reused", lambda: register(session, library, case(text="另一件事"), actor=CLERK,
                                                             jurisdiction_code=YINAN, idempotency_key="k-1"))
    assert err.kind == "invalid"
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def online(**fields) -> dict:
    return case(**({"intake": "online", "text": "小区噪音扰民"} | fields))


def test_repeat_petitions_within_the_window_are_flagged_duplicates(session, library):
    # Ganzhou 智能判重: the same ID number and category within 90 days.
    first = new(session, library, GANZHOU, **online(received_on="2024-03-04"))
    repeat = new(session, library, GANZHOU, **online(received_on="2024-05-20"))
    third = new(session, library, GANZHOU, **online(received_on="2024-05-21"))
    other_topic = new(session, library, GANZHOU, **online(received_on="2024-05-21", text="拖欠工资"))
    late = new(session, library, GANZHOU, **online(received_on="2024-09-30"))
    assert "duplicate" not in first.flags
    assert (repeat.duplicate_of_id, third.duplicate_of_id) == (first.id, first.id) and "duplicate" in repeat.flags
    assert other_topic.duplicate_of_id is None and late.duplicate_of_id is None
    # Yinan configures no duplicate detection.
    assert new(session, library).duplicate_of_id is None and new(session, library).duplicate_of_id is None


def test_online_daily_limit_refuses_the_fourth_online_petition_of_a_day(session, library):
    # Ganzhou: at most 3 online petitions per petitioner and day.
    for text in ("噪音", "供水", "道路"):
        new(session, library, GANZHOU, **online(received_on="2024-03-04", text=text))
    err = refused("online_daily_limit", lambda: register(session, library, online(received_on="2024-03-04"),
                                                         actor=CLERK, jurisdiction_code=GANZHOU))
    assert "at most 3" in err.message and "赣州市" in err.message
    new(session, library, GANZHOU, **case(received_on="2024-03-04"))  # a letter is no online submission
    new(session, library, GANZHOU, **online(received_on="2024-03-05"))  # the next day
    other = {"name": "李四", "id_number": "360702199001011234", "phone": "13900000000"}
    new(session, library, GANZHOU, **online(received_on="2024-03-04", petitioner=other))


# Acceptance, refusal, transfer, objection (Art. 22, 23)

def test_accept_starts_the_handling_clock_and_closes_the_intake_steps(session, library):
    petition = run(session, library, new(session, library), ("accept", "2024-03-05", {}))
    assert petition.stage == "accepted" and petition.case_json["accepted_on"] == "2024-03-05"
    # 60 days from acceptance (the national limit Yinan's normal track inherits): 05-04 is in the Labour Day
    # holiday (05-01..05-05) → 05-06.
    assert due(petition)["conclude"] == "2024-05-06"
    done = {d.step: d.done_on for d in petition.deadlines}
    assert done["route"] == done["notify"] == done["objection"] == D("2024-03-05") and done["conclude"] is None
    assert petition.events[-1].detail["notice"] == "受理告知书"
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "case.accept")).one()
    assert audit.object_id == str(petition.id)


def test_refuse_needs_a_reason_and_ends_every_clock(session, library):
    petition = new(session, library)
    refused("invalid_payload", lambda: act(session, library, petition.id, "refuse", {}, actor=CLERK, on=D("2024-03-05")))
    petition = run(session, library, petition, ("refuse", "2024-03-05", {"reason": "不属于信访事项"}))
    assert petition.stage == "refused" and all(d.done_on == D("2024-03-05") for d in petition.deadlines)
    assert session.scalar(select(func.count()).select_from(CaseEscalation)) == 0
    assert allowed_actions(petition) == ["close", "migrate"]


def test_refuse_of_an_inadmissible_case_takes_the_engines_reason(session, library):
    # Art. 19 ¶3: already accepted elsewhere.
    petition = new(session, library, history={"pending_elsewhere": True})
    assert not petition.admissible
    petition = run(session, library, petition, ("refuse", "2024-03-05", {}))
    assert "第十九条第三款" in petition.events[-1].detail["reason"]


def test_transfer_routes_to_the_unit_and_an_objection_in_time_is_recorded(session, library):
    # Art. 23 ¶3: the unit objects within 5 working days (from 2024-03-04: until 2024-03-11).
    petition = run(session, library, new(session, library), ("transfer", "2024-03-05", {"unit": "natural_resources"}),
                   ("object", "2024-03-11", {"reason": "不属于本单位职权"}))
    # The objection sends the case back to the office, to route it again.
    assert petition.stage == "registered" and "objection" in petition.flags
    assert petition.events[-2].detail["unit_name"] == "沂南县自然资源和规划局"
    assert allowed_actions(petition) == ["transfer", "assign", "separate", "accept", "refuse", "migrate"]


def test_an_objection_after_the_period_is_refused_naming_the_deadline(session, library):
    petition = run(session, library, new(session, library), ("transfer", "2024-03-05", {"unit": "housing"}))
    err = refused("deadline_passed", lambda: act(session, library, petition.id, "object", {"reason": "晚了"},
                                                 actor=CLERK, on=D("2024-03-12")))
    assert "2024-03-11" in err.message and err.first["basis"] == "《信访工作条例》第二十三条第三款"


def test_an_accusation_is_never_transferred_to_the_accused_unit(session, library):
    # Art. 30, 46(5).
    petition = new(session, library, text="举报住建局局长受贿", accused_unit="沂南县住房和城乡建设局")
    assert petition.confidential
    err = refused("accused_unit", lambda: act(session, library, petition.id, "transfer", {"unit": "housing"},
                                              actor=CLERK, on=D("2024-03-05")))
    assert "第四十六条第五项" in err.message


# Extension (Art. 34)

def accepted(session, library, code=YINAN, **fields) -> Petition:
    return run(session, library, new(session, library, code, **fields), ("accept", "2024-03-05", {}))


APPROVER = system_actor("科长", roles=("approver",))  # a national approver: any case is in scope


def extend(session, library, petition, days, on="2024-03-20") -> Petition:
    """Art. 34: the unit asks for `days` more, with its reasons; the approver, another person, grants it."""
    petition = run(session, library, petition, ("request_extension", on, {"days": days, "reason": "情况复杂"}))
    petition = act(session, library, petition.id, "approve_extension", {}, actor=APPROVER, on=D(on))
    session.commit()
    return petition


def test_an_extension_within_the_bound_moves_the_handling_deadline(session, library):
    # Art. 34: requested by the unit, approved by another person in an action of its own.
    petition = run(session, library, accepted(session, library),
                   ("request_extension", "2024-03-20", {"days": 15, "reason": "情况复杂"}))
    assert petition.stage == "extension_requested" and "extension_days" not in petition.case_json
    assert due(petition)["conclude"] == "2024-05-06"  # nothing moves until it is approved
    petition = act(session, library, petition.id, "approve_extension", {}, actor=APPROVER, on=D("2024-03-21"))
    assert petition.stage == "extended" and petition.case_json["extension_days"] == 15
    assert due(petition)["conclude"] == "2024-05-20"  # 2024-03-05 + 75 days = 05-19 Sunday → 05-20
    assert petition.events[-1].detail == petition.events[-1].detail | {"requester": "clerk", "approver": "科长"}


def test_an_extension_refused_by_the_approver_keeps_the_deadline(session, library):
    # Art. 34: without approval the handling period stays as it was.
    petition = run(session, library, accepted(session, library),
                   ("request_extension", "2024-03-20", {"days": 10, "reason": "情况复杂"}))
    petition = act(session, library, petition.id, "deny_extension", {"reason": "理由不充分"}, actor=APPROVER,
                   on=D("2024-03-21"))
    assert petition.stage == "accepted" and due(petition)["conclude"] == "2024-05-06"


def test_an_extension_above_the_pinned_bound_is_refused_naming_bound_and_article(session, library):
    petition = accepted(session, library)
    err = refused("extension_above_bound", lambda: extend(session, library, petition, 16))
    assert "at most 15 days" in err.message and "第三十四条" in err.message
    ganzhou = accepted(session, library, GANZHOU)  # the national 30 days
    extend(session, library, ganzhou, 30)
    refused("extension_above_bound", lambda: extend(session, library, accepted(session, library, GANZHOU), 31))


def test_an_extension_approved_by_its_requester_is_refused(session, library):
    # Art. 34: an approver other than the requester; nor may someone without the role approve.
    petition = run(session, library, accepted(session, library),
                   ("request_extension", "2024-03-20", {"days": 5, "reason": "情况复杂"}))
    asker = system_actor("clerk", roles=("clerk", "approver"), jurisdiction_code=YINAN)
    refused("self_approval", lambda: act(session, library, petition.id, "approve_extension", {}, actor=asker))
    unit = system_actor("王五", roles=("clerk",), jurisdiction_code=YINAN, unit=petition.route_unit)
    refused("forbidden", lambda: act(session, library, petition.id, "approve_extension", {}, actor=unit))


# Conclusion (Art. 32, 33), review and re-review (Art. 35, 36)

@pytest.mark.parametrize("outcome", ["support", "explain", "not_support", "mediated"])
def test_conclude_records_the_outcome(session, library, outcome):
    petition = run(session, library, accepted(session, library), ("conclude", "2024-03-20", {"outcome": outcome}))
    assert (petition.stage, petition.outcome) == ("concluded", outcome)
    conclude = next(d for d in petition.deadlines if d.step == "conclude")
    assert conclude.done_on == D("2024-03-20")
    if outcome == "mediated":  # Art. 33: a mediation agreement, no written decision to seek review of
        assert "answered_on" not in petition.case_json and "review_request" not in due(petition)
        assert allowed_actions(petition) == ["close", "migrate"]
    else:
        assert petition.case_json["answered_on"] == "2024-03-20"
        assert due(petition)["review_request"] == "2024-04-19"
        assert allowed_actions(petition) == ["request_review", "close", "migrate"]


def test_conclude_refuses_an_unknown_outcome(session, library):
    petition = accepted(session, library)
    refused("invalid_payload", lambda: run(session, library, petition, ("conclude", "2024-03-20", {"outcome": "ok"})))


def concluded(session, library, code=YINAN) -> Petition:
    return run(session, library, accepted(session, library, code), ("conclude", "2024-03-20", {"outcome": "support"}))


def test_a_review_requested_in_time_starts_the_review_clock(session, library):
    petition = run(session, library, concluded(session, library), ("request_review", "2024-04-19", {}))
    assert petition.stage == "review_requested" and due(petition)["review"] == "2024-05-20"  # 30 days (Art. 35)


def test_a_late_review_request_is_refused_and_says_not_accepted_again_where_the_rule_set_says_so(session, library):
    # Art. 35; Shandong Art. 33 refuses a late request outright (不再受理), the national baseline does not.
    err = refused("deadline_passed", lambda: run(session, library, concluded(session, library),
                                                 ("request_review", "2024-04-20", {})))
    assert "2024-04-19" in err.message and "不再受理" in err.message and "山东省信访条例》第三十三条" in err.message
    err = refused("deadline_passed", lambda: run(session, library, concluded(session, library, GANZHOU),
                                                 ("request_review", "2024-04-20", {})))
    assert "2024-04-19" in err.message and "不再受理" not in err.message


def reviewed(session, library) -> Petition:
    return run(session, library, concluded(session, library), ("request_review", "2024-04-01", {}),
               ("review_opinion", "2024-04-20", {"outcome": "explain"}))


def test_rereview_request_window(session, library):
    # Art. 36: 30 days from receiving the review opinion (2024-04-20: until 2024-05-20).
    petition = reviewed(session, library)
    assert due(petition)["rereview_request"] == "2024-05-20"
    refused("deadline_passed", lambda: run(session, library, petition, ("request_rereview", "2024-05-21", {})))
    petition = run(session, library, petition, ("request_rereview", "2024-05-20", {}))
    assert petition.stage == "rereview_requested" and due(petition)["rereview"] == "2024-06-19"


def test_a_hearing_pauses_the_rereview_clock(session, library):
    # Art. 36: hearing days (both ends) are not counted.
    petition = run(session, library, reviewed(session, library), ("request_rereview", "2024-05-06", {}))
    assert due(petition)["rereview"] == "2024-06-05"  # 30 days from 2024-05-06
    petition = run(session, library, petition, ("hearing_start", "2024-05-13", {}))
    assert petition.stage == "hearing" and allowed_actions(petition) == ["hearing_end", "migrate"]
    petition = run(session, library, petition, ("hearing_end", "2024-05-17", {}))
    assert petition.stage == "rereview_requested"
    assert petition.case_json["hearings"] == [{"start": "2024-05-13", "end": "2024-05-17"}]
    assert due(petition)["rereview"] == "2024-06-11"  # 5 days later: 2024-06-10, 端午节, so the next working day
    assert due(petition)["rereview"] == evaluate(library, YINAN, petition.case_json)["deadlines"]["rereview"]["date"]
    petition = run(session, library, petition, ("rereview_opinion", "2024-05-30", {"outcome": "not_support"}),
                   ("close", "2024-05-31", {}))
    assert petition.stage == "closed" and allowed_actions(petition) == []


# Order, revisions, dates, the file

def test_an_action_out_of_order_is_refused_with_the_actions_allowed_now(session, library):
    petition = new(session, library)
    err = refused("action_not_allowed", lambda: act(session, library, petition.id, "conclude", {"outcome": "support"},
                                                    actor=CLERK, on=D("2024-03-05")))
    assert err.kind == "conflict" and "registered" in err.message and "transfer, assign, separate" in err.message
    assert err.details == [{"stage": "registered",
                            "allowed": ["transfer", "assign", "separate", "accept", "refuse", "migrate"]}]
    closed = run(session, library, petition, ("refuse", "2024-03-05", {"reason": "x"}), ("close", "2024-03-06", {}))
    err = refused("action_not_allowed", lambda: run(session, library, closed, ("accept", "2024-03-07", {})))
    assert "none" in err.message
    refused("unknown_action", lambda: act(session, library, petition.id, "approve", {}, actor=CLERK))


def test_a_stale_revision_is_refused_and_nothing_changes(session, library):
    petition = new(session, library)
    revision = petition.revision
    run(session, library, petition, ("transfer", "2024-03-05", {"unit": "housing"}))
    err = refused("precondition_failed", lambda: act(session, library, petition.id, "accept", {}, actor=CLERK,
                                                     on=D("2024-03-06"), expected_revision=revision))
    assert err.kind == "stale"
    session.rollback()
    assert petition.stage == "transferred" and len(petition.events) == 2


def test_the_legal_date_may_not_precede_the_last_event_nor_lie_in_the_future(session, library):
    petition = run(session, library, new(session, library), ("transfer", "2024-03-06", {"unit": "housing"}))
    refused("invalid_date", lambda: run(session, library, petition, ("accept", "2024-03-05", {})))
    refused("invalid_date", lambda: run(session, library, petition, ("accept", "2999-01-01", {})))


def test_unknown_payload_fields_are_refused(session, library):
    petition = new(session, library)
    err = refused("invalid_payload", lambda: run(session, library, petition, ("accept", "2024-03-05", {"days": 3})))
    assert err.details[0].startswith("days: unknown field")


def test_timeline_lists_each_event_with_the_deadlines_after_it(session, library):
    petition = extend(session, library, accepted(session, library), 10)
    events = timeline(session, petition.id)
    assert [e["action"] for e in events] == ["register", "accept", "request_extension", "approve_extension"]
    # From receipt (03-04 + 60 = 05-03) and from acceptance (03-05 + 60 = 05-04), both in the Labour Day holiday
    # → 05-06; extended by 10 days: 03-05 + 70 = 05-14.
    assert [e["deadlines"]["conclude"]["due_on"] for e in events] == ["2024-05-06", "2024-05-06", "2024-05-06",
                                                                      "2024-05-14"]
    assert events[1]["deadlines"]["route"]["done_on"] == "2024-03-05"
    assert events[2]["detail"] == {"days": 10, "reason": "情况复杂", "bound": 15}
    assert events[3]["detail"] == {"days": 10, "approver": "科长", "requester": "clerk"}
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == 4


def test_escalations_follow_the_deadlines_and_fired_ones_are_kept(session, library):
    petition = accepted(session, library)
    rows = {e.step: e for e in session.scalars(select(CaseEscalation))}
    assert "route_overdue" not in rows  # routing is done: its escalation is off the schedule
    assert rows["conclude_yellow"].due_on == D("2024-05-06")
    rows["conclude_warning"].fired_at = utcnow()
    session.commit()
    petition = extend(session, library, petition, 10)
    rows = {e.step: e for e in session.scalars(select(CaseEscalation))}
    # The extended deadline moves the yellow card; the warning already fired (05-06 − 3) stays as it was.
    assert rows["conclude_yellow"].due_on == D("2024-05-14") and rows["conclude_warning"].due_on == D("2024-05-03")
    petition = run(session, library, petition, ("conclude", "2024-04-01", {"outcome": "support"}))
    assert [e.step for e in session.scalars(select(CaseEscalation))] == ["conclude_warning"]  # history stays
    assert session.scalar(select(func.count()).select_from(CaseDeadline).where(CaseDeadline.done_on.is_(None))) == 1
