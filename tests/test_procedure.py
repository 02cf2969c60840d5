"""The procedure table (config/procedure.py) is the one declaration every layer reads: schema, engine, sweeps, workflow.

The schema's enums are checked against it; the engine's escalation schedule and the sweep's SQL are
checked to agree on a generated set of cases; and the engine (`xinfang evaluate --at`) and the
server stop the same clocks when a case is accepted.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from xinfang.config import bundled_library, procedure
from xinfang.config.procedure import ACTIONS, ALL_STEPS, EXTENSIONS, MEASURES, STAGE_NAMES, TARGETS, TIMINGS
from xinfang.config.validate_schema import load_schema
from xinfang.rules.decide import evaluate
from xinfang.rules.escalation import due_escalations
from xinfang.server.accounts import ROLES, system_actor
from xinfang.server.cases.demo_data import generate
from xinfang.server.cases.sweep import due_escalations_condition
from xinfang.server.cases.workflow import act, register
from xinfang.server.store.case_tables import CaseEscalation, Petition

CLERK = system_actor("clerk")  # an admin: registers and handles cases anywhere, in any role

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def schema() -> dict:
    return load_schema()


def test_the_schema_names_exactly_the_steps_of_the_table(schema):
    # A `time_limits` key is a step of the procedure or an extension of one (Art. 34).
    assert schema["$defs"]["step"]["enum"] == [*ALL_STEPS, *EXTENSIONS]
    assert set(schema["$defs"]["timeLimits"]["properties"]) == {*ALL_STEPS, *EXTENSIONS}


def test_the_schema_names_exactly_the_escalation_measures_and_targets_of_the_table(schema):
    properties = schema["$defs"]["escalationStep"]["properties"]
    assert properties["action"]["enum"] == [m.name for m in MEASURES]
    assert properties["to"]["enum"] == list(TARGETS)
    assert {t.key for t in TIMINGS} <= set(properties)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_every_action_moves_between_declared_stages_and_stops_declared_clocks(action):
    assert set(action.allowed_in) <= set(STAGE_NAMES)
    assert action.leads_to is None or action.leads_to in STAGE_NAMES
    assert set(action.completes) <= set(ALL_STEPS)
    assert set(action.roles) <= {*ROLES, procedure.PETITIONER}  # a staff role, or the petitioner online
    assert action.label and action.article


def test_every_step_names_its_article_and_whose_it_is():
    for step in procedure.STEPS:
        assert step.article.startswith("《") and step.kind in ("duty", "window")
    assert set(procedure.DUTY_STEPS) >= {"route", "notify", "conclude", "review", "rereview"}
    assert not set(procedure.DUTY_STEPS) & {"objection", "review_request", "rereview_request"}


def test_each_duty_answers_to_the_body_that_is_late_when_it_is():
    # Art. 22: the receiving office routes and tells; Art. 32-34: the responsible unit handles and answers (and owes
    # the feedback of a 交办 and a 督办, Art. 22, 40); Art. 35, 36: the body above reviews.
    assert procedure.duties_of("office") == ("route", "notify")
    assert set(procedure.duties_of("unit")) == {"conclude", "feedback", "supervision_feedback"}
    assert set(procedure.duties_of("above")) == {"review_acceptance", "review", "rereview_acceptance", "rereview"}
    assert all((s.kind == "duty") == (s.answers is not None) for s in procedure.STEPS)


NOTIFY_WATCHED = """\
    escalation:
      steps:
        notify_late: {name: 告知超期, watch: notify, after_days: 1, action: supervise, to: petition_office,
                      basis: 测试}
"""


def test_after_acceptance_no_notify_escalation_by_engine_or_server(local_ruleset, session):
    # Art. 23: accepting a petition tells the petitioner (受理告知书): the notify clock stops, so neither
    # `xinfang evaluate --at` nor the server's sweep escalates a late notice afterwards.
    library, issues = local_ruleset(NOTIFY_WATCHED)
    assert issues == []
    received = {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热",
                "petitioner": {"name": "张三", "address": "东城区东华门街道"}}
    petition = register(session, library, received, actor=CLERK, jurisdiction_code="110101")
    session.commit()
    petition = act(session, library, petition.id, "accept", {}, actor=CLERK, on=D("2024-03-06"))
    session.commit()
    late = D("2024-04-30")  # weeks after the notify deadline (15 days from 2024-03-04)

    decision = evaluate(library, "110101", petition.case_json, at=late)
    assert "escalation:notify_late" not in decision["flags"]
    due_by_sweep = session.scalars(select(CaseEscalation.step).where(due_escalations_condition(late))).all()
    assert "notify_late" not in due_by_sweep

    before_acceptance = {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热"}
    assert "escalation:notify_late" in evaluate(library, "110101", before_acceptance, at=late)["flags"]


def _engine_due(library, petition: Petition, day: dt.date) -> set[tuple[int, str]]:
    """What the engine finds due on `day` for a stored case, from its file's deadlines and finished steps."""
    from xinfang.server.cases.case_file import pinned_effective
    effective = pinned_effective(library, petition.ruleset_version, petition.jurisdiction_code, petition.received_on)
    deadlines = {d.step: d.due_on for d in petition.deadlines}
    completed = {d.step for d in petition.deadlines if d.done_on is not None}
    found = due_escalations(effective, deadlines=deadlines, opened_on=petition.received_on, now=day,
                            completed=completed)
    return {(petition.id, d.step) for d in found}


def test_the_sweep_and_the_engine_agree_on_what_is_due(session):
    # The escalation timing is declared once (config.procedure.TIMINGS): the sweep's SQL over the stored
    # schedule and the engine's conditions find the same steps due, day after day, on generated cases.
    library = bundled_library()
    today = D("2024-06-28")
    result = generate(session, library, cases=120, seed=7, today=today)
    assert result.cases > 100
    petitions = session.scalars(select(Petition).where(Petition.stage.in_(procedure.OPEN_STAGES))
                                .options(selectinload(Petition.deadlines))).all()
    fired = set(map(tuple, session.execute(select(CaseEscalation.petition_id, CaseEscalation.step)
                                .where(CaseEscalation.fired_at.is_not(None)))))
    checked = 0
    for offset in (1, 3, 8, 15, 30, 45, 70, 100):
        day = today + dt.timedelta(days=offset)
        by_sweep = set(map(tuple, session.execute(select(CaseEscalation.petition_id, CaseEscalation.step)
                                       .where(due_escalations_condition(day)))))
        by_engine = set().union(*(_engine_due(library, p, day) for p in petitions)) - fired
        assert by_sweep == by_engine, f"on {day}: sweep only {by_sweep - by_engine}, engine only {by_engine - by_sweep}"
        checked += len(by_sweep)
    assert checked > 20  # the generated year has steps falling due in the weeks after it


def test_a_concluded_case_under_review_is_no_backlog_for_engine_or_server(session):
    # Art. 34: the written decision concludes the handling; a review request (Art. 35) opens the review's
    # own clock, not the backlog count (赣州市: 积案 after 60 days open), for the engine and the sweep alike.
    library = bundled_library()
    person = {"name": "李四", "id_number": "360702199001011236", "phone": "13912345678", "address": "章贡区"}
    petition = register(session, library, {"received_on": "2024-03-01", "intake": "letter", "text": "小区供暖不热",
                                           "petitioner": person}, actor=CLERK, jurisdiction_code="360702")
    session.commit()
    for action, on, payload in (("accept", "2024-03-04", {}), ("conclude", "2024-03-20", {"outcome": "explain"}),
                                ("request_review", "2024-03-25", {})):
        petition = act(session, library, petition.id, action, payload, actor=CLERK, on=D(on))
        session.commit()
    day = D("2024-05-20")  # 80 days after it was received
    by_sweep = set(session.scalars(select(CaseEscalation.step).where(due_escalations_condition(day))))
    assert {step for _, step in _engine_due(library, petition, day)} == by_sweep
    assert not any("backlog" in step for step in by_sweep)
