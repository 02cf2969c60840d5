"""Case lists, exports, case files, actions and notices through Flask's test client: scope, masking, confidentiality."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from xinfang.config import today_in_china
from xinfang.server.accounts import system_actor
from xinfang.server.cases.registration import register_case
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session

CLERK = system_actor("clerk")  # an admin: registers and handles cases anywhere, in any role

TODAY = today_in_china()
PHONE, ID_NUMBER = "13905390000", "371321198503124526"
LAND = {"intake": "visit", "text": "我村土地被征收，征地拆迁补偿款至今没有发放到位", "category": "1201",
        "petitioner": {"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE, "address": "沂南县界湖街道北关村"},
        "form": {"parcel_number": "YN-2024-031"}}
HEATING = {"intake": "letter", "text": "小区供暖不热，要求物业整改",
           "petitioner": {"name": "孙丽", "address": "沂南县界湖街道"}}
ACCUSATION = {"intake": "letter", "text": "举报县自然资源和规划局某科长收受贿赂", "category": "06",
              "accused_unit": "沂南县自然资源和规划局", "petitioner": {"name": "周正", "address": "沂南县岸堤镇"}}
LITIGATION = {"intake": "letter", "text": "对县人民法院的民事判决不服", "petitioner": {"name": "刘建国", "address": "沂南县"}}
GANZHOU = {"intake": "letter", "text": "道路破损，要求维修", "petitioner": {"name": "钟华", "address": "赣州市章贡区"}}


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def register(app, case: dict, received_on: str, code: str = "371321") -> tuple[int, str]:
    with app.app_context():
        db = get_session()
        petition = register_case(db, library_of(app), {**case, "received_on": received_on}, actor=CLERK,
                                 jurisdiction_code=code).petition
        db.commit()
        return petition.id, petition.number


@pytest.fixture(scope="module")
def seeded(app):
    """name → (id, number) of the cases every list test sees (the action tests register their own).

    The accusation is 12 days old so that its 1-day routing is overdue even across a weekend or holiday.
    """
    return {"land": register(app, LAND, days_ago(40)), "heating": register(app, HEATING, TODAY.isoformat()),
            "accusation": register(app, ACCUSATION, days_ago(12)), "litigation": register(app, LITIGATION, days_ago(5)),
            "ganzhou": register(app, GANZHOU, days_ago(3), "360700")}


@pytest.fixture(scope="module")
def clerk(app, seeded, sign_in):
    """The petition office's clerk (沂南县信访局): registers and routes."""
    return sign_in(app, "yinan_clerk")


@pytest.fixture(scope="module")
def unit(app, seeded, sign_in):
    """A clerk of 沂南县自然资源和规划局 (the demo's yinan_ziran), where land cases are routed: accepts, handles,
    answers."""
    return sign_in(app, "yinan_ziran")


def transferred(app, clerk, case=LAND, received_on=None) -> int:
    """A land case registered `received_on` (default yesterday) and transferred to the land bureau."""
    case_id, _ = register(app, case, received_on or days_ago(1))
    assert clerk.act(case_id, "transfer", unit="natural_resources").status_code == 303
    return case_id


def numbers(html: str) -> set[str]:
    return set(re.findall(r'data-number="([^"]+)"', html))


# Lists

def test_the_list_shows_each_case_with_its_next_deadline_counting_down(clerk, seeded):
    html = clerk.text("/cases")
    assert numbers(html) >= {seeded[k][1] for k in ("land", "heating", "accusation", "litigation")}
    assert seeded["ganzhou"][1] not in html
    land = re.search(rf'<tr data-number="{seeded["land"][1]}".*?</tr>', html, re.S).group(0)
    assert re.search(r"超期\d+天", land) and "tone-red" in land and "登记转送" in land
    heating = re.search(rf'<tr data-number="{seeded["heating"][1]}".*?</tr>', html, re.S).group(0)
    assert re.search(r"剩余\d+天|今日到期", heating)


def test_personal_data_is_masked_in_the_list(clerk, seeded):
    html = clerk.text("/cases")
    assert PHONE not in html and ID_NUMBER not in html
    assert "139****0000" in html


@pytest.mark.parametrize(("query", "expected", "absent"), [
    ("overdue=1", ("land", "accusation"), ("heating",)),
    ("due_within=3", ("heating",), ("land",)),
    ("unit=natural_resources", ("land",), ("heating", "litigation")),
    ("flag=litigation_separated", ("litigation",), ("land", "heating")),
    ("stage=registered&track=normal", ("land",), ()),
    ("q=000001", ("land",), ("heating",)),
])
def test_filters(clerk, seeded, query, expected, absent):
    found = numbers(clerk.text(f"/cases?{query}"))
    assert {seeded[k][1] for k in expected} <= found
    assert not {seeded[k][1] for k in absent} & found


def test_a_bad_filter_is_dropped_saying_why(clerk):
    html = clerk.text("/cases?due_within=soon&stage=nowhere")
    assert "“soon”不是0到3650之间的天数" in html and "没有“nowhere”这一阶段" in html


def test_htmx_gets_only_the_results(clerk):
    response = clerk.get("/cases?overdue=1", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<section id="results"')
    assert "HX-Request" in response.headers["Vary"]


def test_scope_a_ganzhou_clerk_cannot_see_yinan(app, seeded, sign_in):
    ganzhou = sign_in(app, "ganzhou_clerk")
    assert ganzhou.get(f"/cases/{seeded['land'][0]}").status_code == 403
    assert ganzhou.get("/cases?jurisdiction=371321").status_code == 403
    assert ganzhou.get("/cases/export.csv?jurisdiction=371321").status_code == 403
    assert ganzhou.get(f"/cases/{seeded['land'][0]}/notices/accept.pdf").status_code == 403
    assert numbers(ganzhou.text("/cases")) == {seeded["ganzhou"][1]}
    city = sign_in(app, "linyi_supervisor")  # the city sees its counties
    assert seeded["land"][1] in numbers(city.text("/cases"))
    assert seeded["land"][1] in numbers(city.text("/cases?jurisdiction=371321"))


# Exports

def test_csv_export_of_the_filtered_list_with_masked_personal_data(clerk, seeded):
    response = clerk.get("/cases/export.csv?unit=natural_resources")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["编号"] for r in rows] == [seeded["land"][1]]
    land = rows[0]
    assert land["信访人"] == "王**" and land["身份证号码"] == "3713**********4526" and land["联系电话"] == "139****0000"
    assert land["分类"] == "1201 征地拆迁补偿" and land["承办单位"] == "沂南县自然资源和规划局"
    assert re.fullmatch(r"超期\d+天", land["剩余/超期"])
    assert PHONE.encode() not in body and ID_NUMBER.encode() not in body and "王秀英".encode() not in body


def test_xlsx_export_has_the_same_rows(clerk, seeded):
    response = clerk.get("/cases/export.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("编号", "行政区划", "收到日期")
    by_number = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert seeded["ganzhou"][1] not in by_number
    assert by_number[seeded["land"][1]]["联系电话"] == "139****0000"
    accusation = by_number[seeded["accusation"][1]]
    assert accusation["信访人"] == "（保密）" and accusation["诉求摘要"] == "（保密）"


# The case file

def test_the_policy_officer_reads_each_rule_at_its_file_and_line(app, sign_in, seeded):
    html = sign_in(app, "yinan_officer").text(f"/cases/{seeded['land'][0]}")
    assert "classify:given" in html and re.search(r"config/rulesets/371321_yinan/2024-01-01\.yaml:\d+", html)


def test_the_case_file_shows_decision_deadlines_and_timeline(clerk, seeded):
    html = clerk.text(f"/cases/{seeded['land'][0]}")
    assert seeded["land"][1] in html and "沂南县自然资源和规划局" in html
    # The clerk reads the decision and its basis in the regulation's words; the file:line is the officer's.
    assert "登记时选定的分类" in html and "依据《沂南县信访工作实施办法（2024）》（沂南县2024年版）" in html
    assert "classify:given" not in html and ".yaml" not in html
    assert "登记转送" in html and re.search(r"超期\d+天", html)
    assert 'data-action="register"' in html
    assert PHONE in html and "YN-2024-031" in html  # a clerk sees the petitioner whole in the file
    for action in ("transfer", "assign", "separate", "refuse"):  # the office routes (Art. 22)
        assert f'data-action="{action}"' in html
    assert 'data-action="accept"' not in html  # accepting is the unit's (Art. 23)


def test_a_supervisor_sees_personal_data_masked_in_the_file(app, seeded, sign_in):
    html = sign_in(app, "yinan_supervisor").text(f"/cases/{seeded['land'][0]}")
    assert PHONE not in html and "139****0000" in html
    assert 'class="action-card' not in html  # supervisors follow cases; clerks handle them


def test_an_accusation_is_kept_from_all_but_discipline(app, clerk, seeded, sign_in):
    case_id, number = seeded["accusation"]
    html = clerk.text(f"/cases/{case_id}")
    assert ACCUSATION["text"] not in html and "周正" not in html
    assert "仅纪检监察机关可以查看" in html
    assert "检举控告事项，内容保密" in clerk.text("/cases")
    assert clerk.get(f"/cases/{case_id}/notices/accept").status_code == 403
    discipline = sign_in(app, "yinan_discipline").text(f"/cases/{case_id}")
    assert ACCUSATION["text"] in discipline and "周正" in discipline
    accused = sign_in(app, "yinan_ziran")
    html = accused.text(f"/cases/{case_id}")
    assert ACCUSATION["text"] not in html and 'class="action-card' not in html
    assert accused.act(case_id, "accept").status_code == 403


# Actions and notices

def test_accepting_issues_a_notice_printable_as_pdf(app, clerk, unit):
    case_id = transferred(app, clerk)
    response = unit.act(case_id, "accept")
    assert response.status_code == 303
    html = clerk.text(f"/cases/{case_id}")
    number = re.search(r"371321-\d{4}-\d{6}", html).group(0)
    assert "已受理" in html and 'data-action="accept"' in html and "受理告知书" in html
    notice = clerk.text(f"/cases/{case_id}/notices/accept")
    assert "受理告知书" in notice and number in notice and "予以受理" in notice
    # Art. 23: the body that accepts signs: the land bureau the office transferred the case to, not the office.
    assert '<p class="issuer">沂南县自然资源和规划局<br>' in notice
    assert "王秀英：" in notice and "《信访工作条例》第二十三条" in notice
    pdf = clerk.get(f"/cases/{case_id}/notices/accept.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF") and number.encode() in pdf.get_data()
    assert clerk.get(f"/cases/{case_id}/notices/opinion").status_code == 404  # not concluded yet


def test_a_notice_pdf_embeds_its_chinese_font_so_it_prints_the_same_everywhere(app, clerk):
    import os

    from xinfang.server.pdf_fonts import PDF_FONTS
    if not any(os.path.exists(path) for path in PDF_FONTS):
        pytest.skip("no Chinese TrueType font here: run scripts/install-browser.sh (fonts-wqy-microhei)")
    refused, _ = register(app, HEATING, days_ago(1))
    assert clerk.act(refused, "refuse", reason="该事项已由人民法院受理").status_code == 303
    pdf = clerk.get(f"/cases/{refused}/notices/refuse.pdf").get_data()
    assert b"/FontFile2" in pdf and b"STSong-Light" not in pdf


def test_refusal_and_opinion_notices(app, clerk, unit):
    refused, _ = register(app, HEATING, days_ago(1))
    assert clerk.act(refused, "refuse", reason="该事项已由人民法院受理").status_code == 303
    notice = clerk.text(f"/cases/{refused}/notices/refuse")
    assert "不予受理告知书" in notice and "该事项已由人民法院受理" in notice and "决定不予受理" in notice
    assert '<p class="issuer">沂南县信访局<br>' in notice  # refused by the office that received it, unrouted
    concluded = transferred(app, clerk, received_on=days_ago(3))
    assert unit.act(concluded, "accept").status_code == 303
    assert unit.act(concluded, "conclude", outcome="support", opinion="按补偿协议发放补偿款").status_code == 303
    notice = clerk.text(f"/cases/{concluded}/notices/opinion")
    assert "信访处理意见书" in notice and "予以支持" in notice and "按补偿协议发放补偿款" in notice
    assert "复查" in notice and "30日" in notice and "《信访工作条例》第三十五条" in notice
    assert clerk.get(f"/cases/{concluded}/notices/opinion.pdf").get_data().startswith(b"%PDF")


def test_an_action_out_of_time_is_refused_naming_the_deadline(app, clerk, unit):
    case_id, _ = register(app, LAND, "2024-06-03")
    assert clerk.act(case_id, "transfer", unit="natural_resources", on="2024-06-04").status_code == 303
    response = unit.act(case_id, "object", reason="应由县住建局处理")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r"对转送提出异议已超过期限：提出异议期限已于2024年6月\d+日届满（《信访工作条例》第二十三条第三款）", html)


def test_an_action_the_stage_does_not_allow_is_refused_in_chinese(app, clerk, unit):
    case_id, _ = register(app, LAND, days_ago(1))
    html = unit.act(case_id, "conclude", outcome="support").get_data(as_text=True)
    assert "当前阶段为“已登记”，不能办结；现在可以：转送、交办、诉访分离、受理、不予受理" in html
    response = clerk.act(case_id, "accept")
    assert response.status_code == 403 and "受理应由承办单位办理" in response.get_data(as_text=True)
    html = clerk.act(case_id, "transfer").get_data(as_text=True)
    assert "转送单位为必填项" in html


def test_an_extension_is_asked_for_by_the_unit_and_granted_by_the_approver(app, clerk, unit, sign_in):
    # Art. 34: the unit asks with its reasons; an approver, another person, grants it in an action of their own.
    case_id = transferred(app, clerk)
    assert unit.act(case_id, "accept").status_code == 303
    html = unit.act(case_id, "request_extension", days="40", reason="需要现场勘测").get_data(as_text=True)
    assert re.search(r"延长40日超过上限：最多延长15日", html)
    assert unit.act(case_id, "request_extension", days="10", reason="需要现场勘测").status_code == 303
    assert unit.act(case_id, "approve_extension").status_code == 403
    approver = sign_in(app, "yinan_approver")
    assert 'data-action="approve_extension"' in approver.text(f"/cases/{case_id}")
    assert approver.act(case_id, "approve_extension").status_code == 303
    assert "已延期" in clerk.text(f"/cases/{case_id}")


def test_the_file_names_who_acted_as_people_know_them(app, clerk, unit):
    # Art. 31: the file records who handled each step; staff read the person's name, not the account's login.
    case_id = transferred(app, clerk)
    assert unit.act(case_id, "accept").status_code == 303
    timeline = clerk.text(f"/cases/{case_id}").partition('data-action="register"')[2]
    assert "沂南县登记员" in timeline and "沂南县自然资源和规划局承办人" in timeline
    assert "yinan_clerk" not in timeline and "yinan_ziran" not in timeline


def test_a_step_done_after_its_deadline_is_shown_late_not_merely_done(app, clerk):
    # Art. 22: routing within the limit; done 20 days after receipt, the file says how late, in red, and the
    # objection window it closed (a window: nobody is late) reads merely done.
    case_id = transferred(app, clerk, received_on=days_ago(20))
    html = clerk.text(f"/cases/{case_id}")
    route = re.search(r'<tr data-step="route">.*?</tr>', html, re.S).group(0)
    assert re.search(r'<span class="countdown tone-red">逾期\d+天</span> 于 \S+ 完成', route)
    objection = re.search(r'<tr data-step="objection">.*?</tr>', html, re.S)
    assert objection is None or "逾期" not in objection.group(0)


def test_actions_need_the_csrf_token_and_answer_htmx_with_the_fragment(app, clerk, unit):
    case_id = transferred(app, clerk)
    assert unit.client.post(f"/cases/{case_id}/actions/accept").status_code == 400
    response = unit.client.post(f"/cases/{case_id}/actions/accept", data={"csrf_token": unit.token},
                                headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="case-file"' in html and "已受理。" in html


# 问题流转不过夜 (issue 14, item 4): a deadline at a moment is shown at that moment, in Beijing time

def test_the_file_and_the_list_show_a_deadline_due_at_nine_in_beijing_time(app, clerk):
    # 《沂南县信访工作实施办法（2024）》: registered at 16:00 on Friday 6 December 2024, routed by 09:00 on Monday.
    case_id, number = register(app, {**HEATING, "received_at": "2024-12-06T16:00:00+08:00"}, "2024-12-06")
    html = clerk.text(f"/cases/{case_id}")
    deadline = re.search(r'<tr data-step="route">.*?</tr>', html, re.S).group(0)
    assert "12月9日 09:00 前" in deadline and 'title="北京时间"' in deadline and "超期" in deadline
    assert "12月9日 09:00 后" in html  # the escalation step watching it (《信访工作条例》第四十三条)
    listed = re.search(rf'<tr data-number="{number}".*?</tr>', clerk.text(f"/cases?q={number}"), re.S).group(0)
    assert "登记转送 12月9日 09:00 前" in listed
    assert "+08:00" not in listed and "T09" not in listed


def test_a_deadline_at_a_moment_today_is_overdue_from_that_moment():
    from xinfang.admin_ui.case_labels import countdown
    from xinfang.config import CHINA

    now = dt.datetime.now(CHINA)
    later, earlier = now + dt.timedelta(minutes=2), now - dt.timedelta(minutes=2)
    if not (later.date() == earlier.date() == now.date()):
        pytest.skip("too close to midnight in Beijing")
    assert countdown(now.date(), now.date(), later.isoformat())["text"] == f"今日{later:%H:%M}前到期"
    late = countdown(now.date(), now.date(), earlier.isoformat())
    assert late["text"] == f"已超期（应于{earlier:%H:%M}前）" and late["tone"] == "red"
    assert countdown(now.date(), now.date())["text"] == "今日到期"  # a limit in days: the whole day
