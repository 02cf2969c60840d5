"""问题流转不过夜 on the server (issue 14, item 4): the time received is kept, the routing deadline is a moment, and the
sweep flags the case overdue within the day. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import CHINA, bundled_library
from xinfang.server.accounts import system_actor
from xinfang.server.cases import orders
from xinfang.server.cases.registration import register_case
from xinfang.server.cases.sweep import EVENT_ACTION, sweep
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseDeadline, CaseEscalation, CaseEvent, Petition

CLERK = system_actor("clerk test", roles=("clerk",), jurisdiction_code="371321")
SENDER = system_actor("hotline test", roles=("source_system",), jurisdiction_code="371321")
FRIDAY_1600 = dt.datetime(2024, 12, 6, 16, 0, tzinfo=CHINA)  # a working Friday
MONDAY_0900 = dt.datetime(2024, 12, 9, 9, 0, tzinfo=CHINA)
LETTER = {"intake": "letter", "text": "反映村里道路硬化工程停工问题",
          "petitioner": {"name": "李明", "id_number": "371321198001017710", "phone": "13905391111",
                         "address": "沂南县界湖街道"}}


@pytest.fixture
def store(database_url):
    ensure_database(database_url, bundled_library())
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def register(store, **case) -> Petition:
    petition = register_case(store, bundled_library(), {**LETTER, **case}, actor=CLERK).petition
    store.commit()
    return petition


def test_the_received_time_and_the_due_moment_are_stored(store):
    # 《沂南县信访工作实施办法（2024）》问题流转不过夜: registered at 16:00 on a Friday, routed by 09:00 on Monday.
    pid = register(store, received_on="2024-12-06", received_at="2024-12-06T16:00:00+08:00").id
    store.expunge_all()
    petition = store.get(Petition, pid)
    assert petition.received_at == FRIDAY_1600
    route = store.scalars(select(CaseDeadline).where(CaseDeadline.petition_id == pid,
                                                     CaseDeadline.step == "route")).one()
    assert (route.due_on, route.due_at) == (dt.date(2024, 12, 9), MONDAY_0900)
    assert petition.decision["deadlines"]["route"]["due_at"] == "2024-12-09T09:00:00+08:00"
    overdue = store.scalars(select(CaseEscalation).where(CaseEscalation.petition_id == pid,
                                                         CaseEscalation.step == "route_overdue")).one()
    assert (overdue.due_on, overdue.due_at) == (dt.date(2024, 12, 9), MONDAY_0900)  # 《信访工作条例》第四十三条
    register_event = petition.events[0]
    assert register_event.detail["deadlines"]["route"]["due_at"] == "2024-12-09T09:00:00+08:00"


def test_a_case_received_today_is_received_now(store):
    # Registration records the time received: a clerk registering at 16:00 starts the night's clock then.
    now = dt.datetime.now(CHINA).replace(microsecond=0)
    petition = register(store, received_on=now.date().isoformat())
    assert petition.received_at is not None and abs(petition.received_at - now) < dt.timedelta(minutes=1)
    assert petition.case_json["received_at"][:16] == now.isoformat()[:16]
    earlier = register(store, received_on=(now.date() - dt.timedelta(days=3)).isoformat())
    assert earlier.received_at is None  # a letter of three days ago: its time is not known


@pytest.mark.parametrize("moment, fired", [
    (dt.datetime(2024, 12, 9, 8, 59, tzinfo=CHINA), False),
    (MONDAY_0900, False),  # due by 09:00: not late yet
    (dt.datetime(2024, 12, 9, 9, 1, tzinfo=CHINA), True),
    (dt.datetime(2024, 12, 9, 1, 1, tzinfo=dt.UTC), True),  # the same moment in UTC
])
def test_the_sweep_flags_routing_overdue_at_nine_past_one(store, moment, fired):
    # 《信访工作条例》第四十三条、第四十四条 (route_overdue, the day after the deadline for a limit in days): a limit
    # ending at 09:00 is overdue from 09:01 the same morning, not from the next day.
    pid = register(store, received_on="2024-12-06", received_at="2024-12-06T16:00:00+08:00").id
    sweep(store, moment)
    store.commit()
    steps = store.scalars(select(CaseEvent.detail).where(CaseEvent.petition_id == pid,
                                                         CaseEvent.action == EVENT_ACTION)).all()
    assert ("route_overdue" in [d["step"] for d in steps]) is fired
    flags = store.get(Petition, pid).flags
    assert ("overdue:route" in flags and "supervise" in flags) is fired


def test_a_routed_case_is_not_flagged(store):
    # Routed (转送) before 09:00 on Monday: its clock stopped, nothing fires at 09:01.
    from xinfang.server.cases.workflow import act

    petition = register(store, received_on="2024-12-06", received_at="2024-12-06T16:00:00+08:00")
    act(store, bundled_library(), petition.id, "transfer", {"unit": "housing"}, actor=CLERK, on=dt.date(2024, 12, 9))
    store.commit()
    sweep(store, dt.datetime(2024, 12, 9, 9, 1, tzinfo=CHINA))
    store.commit()
    assert "overdue:route" not in store.get(Petition, petition.id).flags


def test_a_work_order_confirmed_keeps_the_time_the_hotline_took_it(store):
    # 12345 orders (查实后可以视同信访事项): a call at 16:20 on Friday is routed by 09:00 on Monday, whenever confirmed.
    library = bundled_library()
    cells = {"工单编号": "YN-T1", "来电时间": "2024-12-06 16:20:00", "来电人": "王秀英", "联系电话": "13905391234",
             "诉求内容": "村里道路硬化工程停工半年", "问题分类": "城乡建设", "所属区域": "岸堤镇", "承办单位": "县住建局"}
    order = orders.receive(store, library, "371321", "hotline_12345", cells, SENDER).order
    store.commit()
    petition = orders.confirm(store, library, order.id, CLERK).petition
    store.commit()
    assert petition.received_at == dt.datetime(2024, 12, 6, 16, 20, tzinfo=CHINA)
    assert petition.decision["deadlines"]["route"]["due_at"] == "2024-12-09T09:00:00+08:00"
