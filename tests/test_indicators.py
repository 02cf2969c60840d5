"""Indicators on a small case file inserted row by row, with every number worked out by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from xinfang.server.accounts import create_user
from xinfang.server.cases.indicators import breakdown, indicators
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseDeadline, CaseEvent, Petition
from xinfang.server.store.models import Jurisdiction
from xinfang.server.web.app import create_app

D = dt.date.fromisoformat
FIRST_HALF = (D("2024-01-01"), D("2024-06-30"))
AS_OF = D("2024-12-31")

JURISDICTIONS = [("000000", "全国", "national", None), ("370000", "山东省", "province", "000000"),
                 ("371300", "临沂市", "city", "370000"), ("371321", "沂南县", "county", "371300"),
                 ("371321101", "岸堤镇", "township", "371321"), ("371302", "兰山区", "county", "371300")]

# id, jurisdiction, received, category, unit, stage, duplicate of;
# deadlines: step -> (due, done); events: (stage_after, on, satisfaction or None).
CASES = [
    (1, "371321", "2024-01-10", "1201", "natural_resources", "concluded", None,
     {"notify": ("2024-01-25", "2024-01-20"), "conclude": ("2024-02-09", "2024-02-05")},
     [("accepted", "2024-01-20", None), ("concluded", "2024-02-05", "satisfied")]),
    (2, "371321", "2024-02-01", "13", "human_resources", "review_requested", None,
     {"notify": ("2024-02-16", "2024-02-20"), "conclude": ("2024-03-02", "2024-03-10")},
     [("accepted", "2024-02-20", None), ("concluded", "2024-03-10", "unsatisfied"),
      ("review_requested", "2024-03-20", None)]),
    (3, "371321101", "2024-03-01", "1201", "natural_resources", "accepted", 1,
     {"notify": ("2024-03-16", "2024-03-05"), "conclude": ("2024-04-15", None)},
     [("accepted", "2024-03-05", None)]),
    (4, "371321", "2024-04-01", "06", "discipline", "registered", None,
     {"notify": ("2024-04-16", None), "conclude": ("2024-05-31", None)}, []),
    (5, "371321", "2024-05-01", "01", "political_legal", "refused", None,
     {"notify": ("2024-05-16", "2024-05-10")}, [("refused", "2024-05-10", None)]),
    (6, "371321", "2023-12-20", "13", "human_resources", "concluded", None,  # received before the period
     {"notify": ("2024-01-04", "2024-01-02"), "conclude": ("2024-02-18", "2024-01-30")},
     [("accepted", "2024-01-02", None), ("concluded", "2024-01-30", "satisfied")]),
    (7, "371302", "2024-02-10", "10", "competent", "closed", None,
     {"notify": ("2024-02-25", "2024-02-20"), "conclude": ("2024-04-10", "2024-04-01")},
     [("accepted", "2024-02-20", None), ("concluded", "2024-04-01", "unsatisfied"),
      ("closed", "2024-05-10", "basically_satisfied")]),
    (8, "371321", "2024-06-20", "13", "human_resources", "registered", None,  # nothing due yet on AS_OF
     {"notify": ("2025-01-05", None), "conclude": ("2025-02-20", None)}, []),
]


def seed(session: Session) -> None:
    for code, name, level, parent in JURISDICTIONS:
        session.add(Jurisdiction(code=code, name=name, level=level, parent_code=parent))
    session.flush()
    for pid, code, received, category, unit, stage, duplicate_of, deadlines, events in CASES:
        petition = Petition(
            id=pid, number=f"{code}-2024-{pid:06d}", jurisdiction_code=code, ruleset_version="test",
            received_on=D(received), intake="visit", kind="appeal", category=category, channel="petition",
            route_unit=unit, admissible=stage != "refused", stage=stage, flags=[], duplicate_of_id=duplicate_of,
            case_json={}, decision={}, created_by="test")
        for step, (due, done) in deadlines.items():
            petition.deadlines.append(CaseDeadline(step=step, due_on=D(due), done_on=D(done) if done else None))
        before = "registered"
        for after, on, satisfaction in events:
            detail = {"satisfaction": satisfaction} if satisfaction else {"note": "no rating"}
            petition.events.append(CaseEvent(action=after, on=D(on), actor="test", stage_before=before,
                                             stage_after=after, detail=detail))
            before = after
        session.add(petition)
        session.flush()
    session.commit()


@pytest.fixture
def seeded(database_url):
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        seed(session)
        yield session
    engine.dispose()


def ratio(numerator, denominator, rate):
    return {"count": numerator, "numerator": numerator, "denominator": denominator, "rate": rate}


def test_county_indicators_by_hand(seeded, bundled):
    found = indicators(seeded, bundled, "371321", *FIRST_HALF, as_of=AS_OF)
    assert found["cases"] == 6  # 1, 2, 3 (a township below), 4, 5, 8
    assert found["indicators"] == {
        # 1, 3 and 5 (a refusal) in time; 2 late; 4 never decided and past due; 8 not due yet
        "on_time_acceptance": ratio(3, 5, 0.6),
        # 1 in time; 2 late; 3 and 4 open past due; 5 refused; 8 not due yet
        "on_time_conclusion": ratio(1, 4, 0.25),
        # concluded first petitions 1 and 2; 2 asked for a review
        "first_petition_resolution": ratio(1, 2, 0.5),
        "repeat_petitions": ratio(1, 6, 0.1667),
        "satisfaction": ratio(1, 2, 0.5),
    }
    assert found["satisfaction_answers"] == {"satisfied": 1, "basically_satisfied": 0, "unsatisfied": 1}
    assert [(c["category"], c["name"], c["count"], c["denominator"]) for c in found["by_category"]] == [
        ("1201", "征地拆迁补偿", 2, 6), ("13", "劳动和社会保障", 2, 6), ("01", "涉法涉诉", 1, 6), ("06", "检举控告", 1, 6)]
    assert [(u["unit"], u["count"], u["rate"]) for u in found["by_unit"]] == [
        ("human_resources", 2, 0.3333), ("natural_resources", 2, 0.3333), ("discipline", 1, 0.1667),
        ("political_legal", 1, 0.1667)]
    assert found["by_unit"][1]["name"] == "沂南县自然资源和规划局"
    # Each late step is charged to the body it answers to (Art. 22: the office routes and tells; Art. 32-34: the
    # unit handles). 2: told late (the office) and concluded late (人社局); 3: conclude open past due (自然资源局);
    # 4: never routed, so the office is late on it, not 纪委监委, which never had it; 8 nothing due; 5 on time.
    # The office answers over every case it registered: 1, 2, 4, 5, 8 and the township's 3.
    assert [(u["unit"], u["name"], u["numerator"], u["denominator"]) for u in found["overdue_by_unit"]] == [
        ("petition_office", "沂南县信访局", 2, 6), ("human_resources", "沂南县人力资源和社会保障局", 1, 2),
        ("natural_resources", "沂南县自然资源和规划局", 1, 2), ("discipline", found["overdue_by_unit"][3]["name"], 0, 1),
        ("political_legal", found["overdue_by_unit"][4]["name"], 0, 1)]


def test_the_assessment_docks_the_office_for_its_lateness_and_a_unit_for_its_own(seeded, bundled):
    # What 月通报 and 考评 rank (the same cohort as above): 4 was never routed, so 纪委监委 owes nothing on it and
    # the office is late on it; 2 was told late (the office) and concluded late (人社局).
    rows = {row["key"]: row for row in breakdown(seeded, bundled, "371321", *FIRST_HALF, as_of=AS_OF, by="unit")}
    assert {key: row["overdue"] for key, row in rows.items()} == {
        "petition_office": 2, "human_resources": 1, "natural_resources": 1, "discipline": 0, "political_legal": 0}
    assert rows["petition_office"]["name"] == "沂南县信访局" and rows["petition_office"]["cases"] == 0


def test_drill_down_to_the_townships(seeded, bundled):
    found = indicators(seeded, bundled, "371321", *FIRST_HALF, as_of=AS_OF)
    children = {c["jurisdiction"]["code"]: c for c in found["children"]}
    assert len(children) == len(bundled.tree.children("371321"))
    anti = children["371321101"]
    assert (anti["jurisdiction"]["name"], anti["cases"]) == ("岸堤镇", 1)
    assert anti["indicators"]["on_time_acceptance"] == ratio(1, 1, 1.0)
    assert anti["indicators"]["on_time_conclusion"] == ratio(0, 1, 0.0)
    assert anti["indicators"]["first_petition_resolution"] == ratio(0, 0, None)
    assert children["371321102"]["cases"] == 0


def test_city_indicators_add_up_its_counties(seeded, bundled):
    found = indicators(seeded, bundled, "371300", *FIRST_HALF, as_of=AS_OF)
    assert found["cases"] == 7
    assert found["indicators"]["on_time_acceptance"] == ratio(4, 6, 0.6667)
    assert found["indicators"]["on_time_conclusion"] == ratio(2, 5, 0.4)
    assert found["indicators"]["first_petition_resolution"] == ratio(2, 3, 0.6667)
    # 7's latest rating (on closing) replaces the one given at conclusion
    assert found["indicators"]["satisfaction"] == ratio(2, 3, 0.6667)
    assert found["satisfaction_answers"] == {"satisfied": 1, "basically_satisfied": 1, "unsatisfied": 1}
    children = {c["jurisdiction"]["code"]: (c["cases"], c["indicators"]["repeat_petitions"]["count"])
                for c in found["children"]}
    assert (children["371321"], children["371302"]) == ((6, 1), (1, 0))
    # A county's own category keeps its name above the county.
    assert found["by_category"][0]["name"] == "征地拆迁补偿"


def test_an_empty_period_is_all_zeros(seeded, bundled):
    found = indicators(seeded, bundled, "371321", D("2020-01-01"), D("2020-12-31"), as_of=AS_OF)
    assert found["cases"] == 0
    assert all(v == ratio(0, 0, None) for v in found["indicators"].values())
    assert (found["by_category"], found["by_unit"], found["overdue_by_unit"]) == ([], [], [])


def test_the_route_needs_a_supervisor_in_scope(seeded, database_url, tmp_path):
    for name, code, role in (("linyi_sup", "371300", "supervisor"), ("yinan_sup", "371321", "supervisor"),
                             ("clerk", "371321", "clerk")):
        user = create_user(seeded, name, "pw", display_name=name, jurisdiction_code=code, roles=[role])
        # The same scheme at a low cost: production-cost scrypt takes ~0.5 s a request on this machine.
        user.password_hash = generate_password_hash("pw", method="scrypt:1024:8:1")
    seeded.commit()
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url})
    client = app.test_client()

    def get(url, user=None):
        headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()} if user else {}
        return client.get(url, headers=headers)

    url = "/api/v1/jurisdictions/371321/indicators?from=2024-01-01&to=2024-06-30"
    assert get(url).status_code == 401
    assert get(url, "clerk").json["error"]["code"] == "forbidden"
    assert get("/api/v1/jurisdictions/371300/indicators", "yinan_sup").json["error"]["code"] == "out_of_scope"
    response = get(url, "linyi_sup")
    assert response.status_code == 200
    assert (response.json["cases"], response.json["indicators"]["repeat_petitions"]["count"]) == (6, 1)
    assert get(url.replace("from=2024-01-01", "from=2024-07-01"), "yinan_sup").json["error"]["code"] == "bad_period"
    assert get("/api/v1/jurisdictions/371321/indicators?to=2024-02-31", "yinan_sup").status_code == 400
    assert get("/api/v1/jurisdictions/990000/indicators", "yinan_sup").status_code == 404


def test_a_matter_separated_to_the_courts_owes_no_acceptance_and_no_conclusion(seeded, bundled):
    # Art. 22 ¶2, 28 ¶2 (诉访分离): the political-legal organs handle it outside the petition procedure; counting its
    # acceptance as missed would mark the 政法委 late for a case it was never to accept.
    before = indicators(seeded, bundled, "371321", *FIRST_HALF, as_of=AS_OF)
    petition = Petition(
        id=9, number="371321-2024-000009", jurisdiction_code="371321", ruleset_version="test",
        received_on=D("2024-03-10"), intake="letter", kind="litigation", category="01", channel="litigation",
        route_unit="political_legal", admissible=False, stage="separated", flags=[], case_json={}, decision={},
        created_by="test")
    for step, due in (("route", "2024-03-11"), ("notify", "2024-03-25"), ("conclude", "2024-05-09")):
        petition.deadlines.append(CaseDeadline(step=step, due_on=D(due), done_on=D("2024-03-11")))
    petition.events.append(CaseEvent(action="separate", on=D("2024-03-11"), actor="test", stage_before="registered",
                                     stage_after="separated", detail={}))
    seeded.add(petition)
    seeded.commit()
    after = indicators(seeded, bundled, "371321", *FIRST_HALF, as_of=AS_OF)
    assert after["cases"] == before["cases"] + 1
    for name in ("on_time_acceptance", "on_time_conclusion"):
        assert after["indicators"][name] == before["indicators"][name]
