"""The supervisors' dashboards through Flask's test client: scope, periods, htmx fragments, charts, marking handled."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import CHINA, bundled_library, today_in_china
from xinfang.server.accounts import system_actor
from xinfang.server.cases.demo_data import generate
from xinfang.server.cases.sweep import sweep
from xinfang.server.cases.workflow import act, register_case
from xinfang.server.store import db as database_module
from xinfang.server.store.case_tables import CaseEscalation, CaseEvent, Petition
from xinfang.server.store.models import AuditLog

CLERK = system_actor("test")  # an admin: registers and handles cases anywhere, in any role


def overdue_case(session: Session, library) -> int:
    """A Yinan petition received 100 days ago, accepted, never concluded: the sweep fires its overdue steps."""
    received = today_in_china() - dt.timedelta(days=100)
    case = {"received_on": received.isoformat(), "intake": "online", "category": "10",
            "text": "小区物业长期不维修电梯，请求督促整改。", "petitioner": {"name": "测试人", "phone": "13800000000"}}
    petition = register_case(session, library, case, actor=CLERK, jurisdiction_code="371321").petition
    act(session, library, petition.id, "accept", {}, actor=CLERK, on=received + dt.timedelta(days=1))
    return petition.id


@pytest.fixture(scope="module")
def app(demo_database, app_for, add_users):
    """Demo accounts, a Rizhao supervisor (beside Linyi), 40 demo cases and one overdue Yinan case, swept today."""
    add_users(demo_database, dict(username="rizhao_supervisor", display_name="日照市督查员",
                                  jurisdiction_code="371100", roles=["supervisor"]))
    engine = database_module.make_engine(demo_database)
    library = bundled_library()
    with Session(engine) as session:
        generate(session, library, cases=40, seed=5)
        overdue_case(session, library)
        sweep(session, dt.datetime.now(CHINA))
        session.commit()
    engine.dispose()
    app = app_for(demo_database)
    app.config["TEST_DATABASE_URL"] = demo_database
    return app


def database(app) -> Session:
    return Session(database_module.make_engine(app.config["TEST_DATABASE_URL"]))


def awaiting_in_yinan(app) -> CaseEscalation:
    with database(app) as session:
        return session.scalars(
            select(CaseEscalation).join(Petition, Petition.id == CaseEscalation.petition_id)
            .where(Petition.jurisdiction_code == "371321", Petition.created_by == "test",
                   CaseEscalation.fired_at.is_not(None), CaseEscalation.resolved_at.is_(None),
                   CaseEscalation.action != "warn").order_by(CaseEscalation.id)).first()


# Who sees which dashboard

def test_supervisors_start_on_their_own_dashboard(client, app, sign_in):
    assert client.get("/").headers["Location"] == "/sign-in"  # and after it, home again
    response = (client := sign_in(app, "linyi_supervisor").client).get("/")
    assert response.headers["Location"].endswith("/dashboard")
    response = client.get("/dashboard?preset=month")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/371300?preset=month")


@pytest.mark.parametrize("username, code, status", [
    ("linyi_supervisor", "371300", 200), ("linyi_supervisor", "371321", 200), ("linyi_supervisor", "371321101", 200),
    ("yinan_supervisor", "371321", 200), ("yinan_supervisor", "371300", 403), ("rizhao_supervisor", "371321", 403),
    ("yinan_clerk", "371321", 403), ("admin", "000000", 200), ("linyi_supervisor", "999999", 404),
])
def test_scope_is_checked_on_the_server(username, code, status, app, sign_in):
    response = sign_in(app, username).get(f"/dashboard/{code}")
    assert response.status_code == status
    if status == 403:
        assert "无权访问" in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/371321")
    assert response.status_code == 302 and "/sign-in?next=/dashboard/371321" in response.headers["Location"]


# The page and its fragment

def test_page_shows_tiles_and_charts_in_chinese(app, sign_in):
    html = sign_in(app, "linyi_supervisor").get("/dashboard/371300").get_data(as_text=True)
    assert "<html" in html and "临沂市督查看板" in html
    for name in ("按期受理率", "按期办结率", "初信初访一次性化解率", "重复信访率", "群众满意率"):
        assert name in html
    svgs = re.findall(r'<svg class="chart [^"]*" role="img"[^>]*aria-labelledby="([^"]+)"', html)
    assert len(svgs) == 5
    for chart_id in ("chart-intake-time", "chart-category", "chart-unit", "chart-overdue", "chart-intake"):
        assert f'<title id="{chart_id}-title">' in html and f'<desc id="{chart_id}-desc">' in html
    assert re.search(r'<title id="chart-category-title">临沂市信访事项按内容分类', html)
    assert "网上信访" in html and "<script" not in html.split("</head>")[1]  # no script in the body: SVG only


@pytest.mark.parametrize("code, noted", [("371321", True), ("360700", False)])
def test_repeats_are_told_apart_from_no_detection(code, noted, app, sign_in):
    html = sign_in(app, "admin").get(f"/dashboard/{code}").get_data(as_text=True)
    assert ("未设智能判重" in html) is noted  # 赣州市 detects repeats (intake.duplicates); 沂南县 does not


def test_htmx_gets_the_fragment_and_the_response_varies(client, app, sign_in):
    (client := sign_in(app, "linyi_supervisor").client)
    page = client.get("/dashboard/371300?preset=year")
    fragment = client.get("/dashboard/371300?preset=year", headers={"HX-Request": "true"})
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="dashboard"') and "<html" not in body
    assert 'aria-current="true"' in body and ">本年<" in body
    restore = client.get("/dashboard/371300", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


@pytest.mark.parametrize("query, shown", [
    ("preset=month", "本月（"), ("preset=quarter", "本季度（"), ("from=2025-01-01&to=2025-03-31", "2025-01-01 至 2025-03-31"),
])
def test_periods(query, shown, app, sign_in):
    html = sign_in(app, "yinan_supervisor").get(f"/dashboard/371321?{query}").get_data(as_text=True)
    assert shown in html


@pytest.mark.parametrize("query, message", [("from=2026-02-30", "不是日期"), ("from=2026-03-01&to=2026-02-01", "晚于"),
                                            ("preset=week", "没有“week”这个时段")])
def test_bad_periods_are_refused_saying_why(query, message, app, sign_in):
    response = sign_in(app, "yinan_supervisor").get(f"/dashboard/371321?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_drill_down_keeps_the_period_and_breadcrumbs_stay_in_scope(client, app, sign_in, token_of):
    (client := sign_in(app, "linyi_supervisor").client)
    html = client.get("/dashboard/371300?from=2025-06-01&to=2026-11-30").get_data(as_text=True)
    assert 'href="/dashboard/371321?from=2025-06-01&amp;to=2026-11-30"' in html
    assert 'hx-get="/dashboard/371321?from=2025-06-01&amp;to=2026-11-30"' in html
    county = client.get("/dashboard/371321?preset=12m").get_data(as_text=True)
    assert 'href="/dashboard/371300?preset=12m"' in county and "沂南县督查看板" in county
    client.post("/sign-out", data={"csrf_token": token_of(county)})
    own = (client := sign_in(app, "yinan_supervisor").client).get("/dashboard/371321").get_data(as_text=True)
    assert 'href="/dashboard/371300' not in own  # above the supervisor's scope: no link


# Escalations awaiting action

def test_escalations_are_listed_with_number_step_action_and_due_date(app, sign_in):
    escalation = awaiting_in_yinan(app)
    html = sign_in(app, "yinan_supervisor").get("/dashboard/371321").get_data(as_text=True)
    row = re.search(rf'<tr id="escalation-{escalation.id}".*?</tr>', html, re.S).group(0)
    step, action = {"conclude_overdue": ("超期未办结发督办函", "督办"), "conclude_overdue_long": ("长期超期提交联席会议", "提交上级"),
                    "conclude_red": ("超期5日亮红牌", "标识（红牌）"), "backlog_leader": ("积案领导包案", "领导包案")}[escalation.step]
    assert "371321-" in row and step in row and action in row
    assert ("发函" in row) == escalation.letter
    assert escalation.due_on.isoformat() in row and "/cases/" in row
    assert "标记已处理" in row


def test_marking_handled_needs_the_csrf_token(app, client, sign_in):
    escalation = awaiting_in_yinan(app)
    (client := sign_in(app, "yinan_supervisor").client)
    response = client.post(f"/dashboard/escalations/{escalation.id}/handled", data={"note": "x"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert awaiting_in_yinan(app).id == escalation.id  # unchanged


def test_marking_handled_out_of_scope_is_refused(app, client, sign_in, token_of):
    escalation = awaiting_in_yinan(app)
    html = (client := sign_in(app, "rizhao_supervisor").client).get("/dashboard/371100").get_data(as_text=True)
    response = client.post(f"/dashboard/escalations/{escalation.id}/handled", data={"csrf_token": token_of(html)})
    assert response.status_code == 403
    missing = client.post("/dashboard/escalations/999999/handled", data={"csrf_token": token_of(html)})
    assert missing.status_code == 404


def test_marking_handled_records_an_event_and_an_audit_entry(app, client, sign_in, token_of):
    escalation = awaiting_in_yinan(app)
    html = (client := sign_in(app, "linyi_supervisor").client).get("/dashboard/371321").get_data(as_text=True)
    response = client.post(f"/dashboard/escalations/{escalation.id}/handled",
                           data={"csrf_token": token_of(html), "note": "已电话督促承办单位",
                                 "next": "/dashboard/371321?preset=year"})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/371321?preset=year"
    with database(app) as session:
        assert session.get(CaseEscalation, escalation.id).resolved_at is not None
        event = session.scalars(select(CaseEvent).where(CaseEvent.petition_id == escalation.petition_id,
                                                        CaseEvent.action == "escalation_handled")).one()
        assert (event.actor, event.detail["note"], event.detail["step"]) == ("linyi_supervisor", "已电话督促承办单位",
                                                                             escalation.step)
        assert event.stage_before == event.stage_after
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "escalation.handled",
                                                       AuditLog.object_id == str(escalation.id))).one()
        assert audit.detail["number"].startswith("371321-")
    after = client.get("/dashboard/371321?preset=year").get_data(as_text=True)
    assert "已将" in after and f'id="escalation-{escalation.id}"' not in after
    again = client.post(f"/dashboard/escalations/{escalation.id}/handled", data={"csrf_token": token_of(html)},
                        headers={"HX-Request": "true"})
    assert again.status_code == 200 and "此前已标记为已处理" in again.get_data(as_text=True)


def test_marking_handled_with_htmx_returns_the_row(app, client, sign_in, token_of):
    escalation = awaiting_in_yinan(app)
    html = (client := sign_in(app, "yinan_supervisor").client).get("/dashboard/371321").get_data(as_text=True)
    response = client.post(f"/dashboard/escalations/{escalation.id}/handled", data={"csrf_token": token_of(html)},
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "escalation-handled"
    assert body.lstrip().startswith(f'<tr id="escalation-{escalation.id}" class="handled"')
    assert "督办事项标记为已处理" in body
