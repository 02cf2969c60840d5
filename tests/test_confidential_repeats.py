"""Earlier petitions and repeats never betray an accuser (《信访工作条例》第四十六条第五项, issue 10 item 2).

沂南县 sets no 智能判重 in its bundled rule set; here its 2024 version gets one (a year, matched by category,
so both an ID number and a name with a phone identify the petitioner), as a county may publish it. Two
accusers each filed two confidential accusations against 沂南县信访局, the unit of `yinan_clerk`; one of them
also filed an ordinary petition. Every surface that looks up earlier cases or shows a link between cases is
asked, as the clerk of the accused unit and as others not entitled, whether it tells of those accusations.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from xinfang.config import RuleSetLibrary, bundled_rules_dir, today_in_china
from xinfang.server import accounts as auth
from xinfang.server.accounts import DEMO_PASSWORD, system_actor
from xinfang.server.cases.queries import earlier_petitions
from xinfang.server.cases.registration import petitioner_key, register_case
from xinfang.server.cases.visibility import visible_case
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store import db as database_module
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.db import get_session
from xinfang.server.store.models import User as Account
from xinfang.server.web.app import create_app

CLERK = system_actor("intake", roles=("clerk",))  # registers the earlier cases
TODAY = today_in_china()
RULE = "  duplicates:\n    window_days: 365\n    match: [category]\n    basis: 《沂南县信访工作实施办法》（测试）\n"
BY_ID = {"name": "李明", "id_number": "371321198001017710", "phone": "13905391111", "address": "沂南县界湖街道"}
BY_PHONE = {"name": "韩梅", "phone": "13905392222", "address": "沂南县岸堤镇"}
ACCUSED = "沂南县信访局"  # yinan_clerk's unit


def accusation(petitioner: dict, days_ago: int) -> dict:
    return {"received_on": (TODAY - dt.timedelta(days=days_ago)).isoformat(), "intake": "letter", "category": "06",
            "text": "举报县信访局工作人员收受好处、压件不办", "accused_unit": ACCUSED,
            "petitioner": dict(petitioner)}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """The bundled rule sets, 沂南县 2024 with a duplicate rule added."""
    folder = tmp_path_factory.mktemp("rules") / "rulesets"
    shutil.copytree(bundled_rules_dir(), folder)
    yinan = folder / "371321_yinan" / "2024-01-01.yaml"
    text = yinan.read_text("utf-8")
    assert text.count("\nintake:\n") == 1
    yinan.write_text(text.replace("\nintake:\n", "\nintake:\n" + RULE), "utf-8")
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory, rules):
    url = f"sqlite:///{tmp_path_factory.mktemp('repeats') / 'xinfang.sqlite3'}"
    ensure_database(url, RuleSetLibrary.load([rules]))
    engine = database_module.make_engine(url)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session, session.begin():
        patch.setattr(auth, "hash_password", lambda p: generate_password_hash(p, method="pbkdf2:sha256:1000"))
        auth.seed_demo_users(session)
        auth.create_user(session, "xinfangju_discipline", DEMO_PASSWORD, display_name="信访局派驻纪检组",
                         jurisdiction_code="371321", roles=["discipline"], unit="petition_office", unit_name=ACCUSED)
    engine.dispose()
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "SWEEP_INTERVAL_SECONDS": 0,
                       "RULES_DIR": str(rules)})


def register(app, case: dict) -> Petition:
    with app.app_context():
        db = get_session()
        petition = register_case(db, library_of(app), case, actor=CLERK, jurisdiction_code="371321").petition
        db.commit()
        return petition


@pytest.fixture(scope="module")
def filed(app):
    """name → the registered case: each accuser's first accusation and its repeat, and one ordinary petition."""
    cases = {"id_first": register(app, accusation(BY_ID, 30)), "id_repeat": register(app, accusation(BY_ID, 20)),
             "phone_first": register(app, accusation(BY_PHONE, 25)),
             "phone_repeat": register(app, accusation(BY_PHONE, 15)),
             "ordinary": register(app, {"received_on": (TODAY - dt.timedelta(days=10)).isoformat(), "intake": "visit",
                                        "category": "11", "text": "宅基地纠纷，要求确权", "petitioner": dict(BY_ID)})}
    assert all(cases[k].confidential for k in ("id_first", "id_repeat", "phone_first", "phone_repeat"))
    assert cases["id_repeat"].duplicate_of_id == cases["id_first"].id  # the rule applies: repeats are marked
    assert cases["phone_repeat"].duplicate_of_id == cases["phone_first"].id
    return cases


def accusation_numbers(filed) -> set[str]:
    return {filed[k].number for k in ("id_first", "id_repeat", "phone_first", "phone_repeat")}


def typed(petitioner: dict, **fields) -> dict:
    """The intake form's values for a visit by `petitioner`."""
    return {"intake": "visit", "received_on": TODAY.isoformat(),
            **{f"petitioner.{k}": v for k, v in petitioner.items()}, **fields}


AS_ACCUSATION = {"category": "06", "text": "再次举报县信访局工作人员压件不办",
                 "accused_unit": ACCUSED}


# The intake preview (the leak issue 10 reported)

@pytest.mark.parametrize("identity", [BY_ID, {"name": BY_ID["name"], "id_number": BY_ID["id_number"]},
                                      BY_PHONE, {"name": BY_PHONE["name"], "phone": BY_PHONE["phone"]}],
                         ids=["id_number", "id_number_alone", "name_and_phone", "name_and_phone_alone"])
@pytest.mark.parametrize("request_typed", [AS_ACCUSATION, {"category": "06", "text": "反映县信访局工作人员态度不好"},
                                           {"text": "反映县信访局工作人员态度不好"}],
                         ids=["accusation", "category_06", "no_category"])
def test_the_preview_never_lists_or_counts_accusations_against_the_clerks_unit(app, filed, sign_in, identity,
                                                                               request_typed):
    # Art. 46(5): the accused unit learns nothing of who accused it, not even that someone did.
    clerk = sign_in(app, "yinan_clerk")
    html = clerk.post("/intake/preview", typed(identity, **request_typed),
                      headers={"HX-Request": "true", "X-CSRFToken": clerk.token}).get_data(as_text=True)
    assert "此前的信访事项" in html  # the preview ran, with a petitioner to match by
    assert not accusation_numbers(filed) & set(re.findall(r"371321-\d{4}-\d{6}", html))
    assert "已有" not in html and "登记后将标为重复信访" not in html
    assert "没有发现同一信访人同类的信访事项" in html  # the same words as for a petitioner never seen


def test_the_preview_counts_only_an_accusers_ordinary_petitions(app, filed, sign_in):
    clerk = sign_in(app, "yinan_clerk")
    html = clerk.post("/intake/preview", typed(BY_ID, category="11", text="宅基地纠纷，再次要求确权"),
                      headers={"HX-Request": "true", "X-CSRFToken": clerk.token}).get_data(as_text=True)
    assert "365日内已有1件" in html and filed["ordinary"].number in html
    assert not accusation_numbers(filed) & set(re.findall(r"371321-\d{4}-\d{6}", html))


@pytest.mark.parametrize("username, shown", [("yinan_discipline", True), ("yinan_clerk", False),
                                             ("yinan_supervisor", False), ("linyi_supervisor", False),
                                             ("ganzhou_clerk", False)])
def test_earlier_accusations_are_found_for_the_discipline_body_alone(app, filed, username, shown):
    # The service query the preview uses: the discipline body in scope sees the accuser's earlier accusations.
    with app.app_context():
        db, library = get_session(), library_of(app)
        user = db.scalars(select(Account).where(Account.username == username)).one()
        found, rule = earlier_petitions(db, library, user, library.effective("371321", TODAY),
                                        key=petitioner_key(BY_ID), category="06", received_on=TODAY,
                                        case_json={"petitioner": BY_ID}, confidential=True)
    assert rule is not None
    assert {p.number for p in found} == ({filed["id_repeat"].number, filed["id_first"].number} if shown else set())


# Registering a repeat, and every surface that shows a link between cases

@pytest.fixture(scope="module")
def repeat_registered_by_the_clerk(app, filed, sign_in):
    """A third accusation by the first accuser, registered through the intake page by the clerk of the accused."""
    clerk = sign_in(app, "yinan_clerk")
    response = clerk.post("/intake", typed(BY_ID, **AS_ACCUSATION))
    assert response.status_code == 303, response.get_data(as_text=True)
    page = clerk.text(response.headers["Location"])
    with app.app_context():
        petition = get_session().get(Petition, int(response.headers["Location"].rsplit("/", 1)[1]))
    return petition, page


def test_registering_a_repeat_accusation_marks_it_without_telling_the_clerk(filed, repeat_registered_by_the_clerk):
    petition, page = repeat_registered_by_the_clerk
    assert petition.duplicate_of_id == filed["id_first"].id  # marked, for the discipline body and the indicators
    assert "已登记" in page and "与此前的信访事项重复" not in page and "重复信访" not in page
    assert not accusation_numbers(filed) & set(re.findall(r"371321-\d{4}-\d{6}", page))


def test_registering_through_the_api_tells_the_clerk_no_link(app, filed, sign_in):
    clerk = sign_in(app, "yinan_clerk")
    body = {"jurisdiction": "371321", "case": {**accusation(BY_PHONE, 1)}}
    response = clerk.client.post("/api/v1/cases", json=body, headers={"X-CSRFToken": clerk.token})
    assert response.status_code == 201, response.json
    assert response.json["duplicate_of"] is None and "duplicate" not in response.json["flags"]
    with app.app_context():
        assert get_session().get(Petition, response.json["id"]).duplicate_of_id == filed["phone_first"].id


def test_an_accusers_ordinary_petition_repeats_only_an_ordinary_one(app, filed):
    # The repeat rule links an accusation only to an accusation, an ordinary petition only to an ordinary one.
    petition = register(app, {"received_on": TODAY.isoformat(), "intake": "letter", "category": "11",
                              "text": "宅基地纠纷，第三次要求确权", "petitioner": dict(BY_ID)})
    assert not petition.confidential and petition.duplicate_of_id == filed["ordinary"].id


# The clerk and a discipline officer of the accused unit, and staff of the county and the city without the role.
NOT_ENTITLED = ("yinan_clerk", "yinan_supervisor", "xinfangju_discipline", "yinan_officer", "yinan_approver",
                "linyi_supervisor")


@pytest.mark.parametrize("username", NOT_ENTITLED)
def test_the_case_view_and_its_events_never_name_the_accusation_repeated(app, filed, username, sign_in):
    user = sign_in(app, username)
    first = filed["id_first"].number
    for name in ("id_repeat", "phone_repeat"):
        case_id = filed[name].id
        view = user.json(f"/cases/{case_id}")
        assert view["duplicate_of"] is None and "duplicate" not in view["flags"]
        assert first not in str(view) and filed["phone_first"].number not in str(view)
        events = user.json(f"/cases/{case_id}/events")
        assert first not in str(events) and filed["phone_first"].number not in str(events)
        page = user.text(f"/cases/{case_id}")
        assert first not in page and filed["phone_first"].number not in page and "重复信访" not in page


def test_the_discipline_body_sees_the_link(app, filed, sign_in):
    discipline = sign_in(app, "yinan_discipline")
    repeat = filed["id_repeat"]
    marked = {i["number"] for i in discipline.json("/cases?flag=duplicate&per_page=200")["items"]}
    assert {repeat.number, filed["phone_repeat"].number} <= marked
    assert discipline.json(f"/cases/{repeat.id}")["duplicate_of"] == filed["id_first"].id
    assert filed["id_first"].number in str(discipline.json(f"/cases/{repeat.id}/events"))
    page = discipline.text(f"/cases/{repeat.id}")
    assert filed["id_first"].number in page and "重复信访" in page


@pytest.mark.parametrize("username", NOT_ENTITLED)
def test_lists_and_exports_never_mark_an_accusation_as_a_repeat(app, filed, username, sign_in):
    user = sign_in(app, username)
    code = "371300" if username.startswith("linyi") else "371321"
    items = user.json(f"/cases?jurisdiction={code}&per_page=200")["items"]
    confidential = [i for i in items if i["confidential"]]
    assert len(confidential) >= 4
    assert all(i["duplicate_of"] is None and "duplicate" not in i["flags"] for i in confidential)
    assert not {i["number"] for i in user.json(f"/cases?jurisdiction={code}&flag=duplicate")["items"]} \
        & accusation_numbers(filed)
    page = user.text(f"/cases?jurisdiction={code}")
    for number in accusation_numbers(filed):
        row = re.search(rf'<tr data-number="{number}".*?</tr>', page, re.S).group(0)
        assert "重复信访" not in row
    assert not accusation_numbers(filed) & set(re.findall(r'data-number="([^"]+)"',
                                                          user.text(f"/cases?jurisdiction={code}&flag=duplicate")))
    rows = list(csv.reader(io.StringIO(user.client.get(f"/cases/export.csv?jurisdiction={code}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    flags = rows[0].index("标识")
    assert all("重复信访" not in r[flags] for r in rows[1:] if r[0] in accusation_numbers(filed))


def test_the_audit_log_a_user_can_read_names_no_accusation(app, filed, sign_in):
    # The rule-set audit trail is the only audit log shown (API and page); a case's register entry is not in it.
    officer = sign_in(app, "yinan_officer")
    shown = str(officer.json("/jurisdictions/371321/audit")) + officer.text("/rulesets/371321/audit")
    assert not accusation_numbers(filed) & set(re.findall(r"371321-\d{4}-\d{6}", shown))


def test_a_link_made_before_the_repeat_rule_kept_accusations_apart_stays_hidden(app, filed, sign_in):
    # Older code linked an ordinary petition to an accusation of the same petitioner: the link is never shown.
    ordinary = register(app, {"received_on": TODAY.isoformat(), "intake": "letter", "category": "10",
                              "text": "小区供暖不热", "petitioner": dict(BY_ID)})
    with app.app_context():
        db = get_session()
        db.execute(update(Petition).where(Petition.id == ordinary.id).values(duplicate_of_id=filed["id_first"].id))
        db.commit()
        stored = db.get(Petition, ordinary.id)
        for username in NOT_ENTITLED[:3]:
            user = db.scalars(select(Account).where(Account.username == username)).one()
            assert visible_case(stored, user, in_list=False)["duplicate_of"] is None
            assert visible_case(stored, user, in_list=True)["duplicate_of"] is None
    for username in NOT_ENTITLED[:3]:
        page = sign_in(app, username).text(f"/cases/{ordinary.id}")
        assert filed["id_first"].number not in page and "重复信访" not in page


@pytest.mark.parametrize("username", NOT_ENTITLED)
def test_an_accusations_events_never_tell_its_words(app, username, sign_in):
    # A note or an opinion recorded on an accusation is its material (Art. 46(5)): not in the events API either.
    petition = register(app, accusation(BY_PHONE, 3))
    with app.app_context():
        from xinfang.server.cases.workflow import act
        db = get_session()
        act(db, library_of(app), petition.id, "accept", {"note": "举报人称有录音为证"}, actor=system_actor("handler"),
            on=TODAY - dt.timedelta(days=2))
        db.commit()
    user = sign_in(app, username)
    events = user.json(f"/cases/{petition.id}/events")
    assert [e["action"] for e in events["items"]] == ["register", "accept"] and "录音" not in str(events)
    assert "录音" in str(sign_in(app, "yinan_discipline").json(f"/cases/{petition.id}/events"))
