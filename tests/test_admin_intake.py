"""The clerks' intake pages through Flask's test client: the rule set's form, server-side checks, preview, CSRF."""

from __future__ import annotations

import re

import pytest

from xinfang.config import today_in_china

LAND = "我村土地被征收，征地拆迁补偿款至今没有发放到位"


@pytest.fixture
def clerk(app, sign_in):
    return sign_in(app, "yinan_clerk")


def problem_of(html: str, field: str) -> str | None:
    """The server's message beside a field (`data-field="name"`), or None."""
    block = re.search(rf'<div class="field[^"]*" data-field="{field}">(.*?)</div>', html, re.S)
    assert block, f"no field {field} on the page"
    found = re.search(r'<p class="problem"[^>]*>(.*?)</p>', block.group(1), re.S)
    return found.group(1) if found else None


def visit(**values) -> dict:
    return {"intake": "visit", "received_on": today_in_china().isoformat(), **values}


# The form of the rule set in force

def test_intake_is_for_clerks(app, sign_in):
    assert app.test_client().get("/intake").status_code == 302  # to the sign-in page
    response = sign_in(app, "yinan_supervisor").get("/intake")
    assert response.status_code == 403
    assert "登记员" in response.get_data(as_text=True)


def test_the_form_follows_channel_and_category(clerk):
    visit_form = clerk.client.get("/intake?intake=visit").get_data(as_text=True)
    assert 'name="representatives"' in visit_form and "最多5人（《信访工作条例》第二十条）" in visit_form
    assert 'name="form.parcel_number"' not in visit_form
    letter = clerk.client.get("/intake?intake=letter").get_data(as_text=True)
    assert 'name="representatives"' not in letter and 'name="petitioner.address"' in letter
    land = clerk.client.get("/intake?intake=visit&category=1201").get_data(as_text=True)
    for label in ("地块编号", "补偿金额（元）", "补偿方式"):
        assert label in land
    assert '<option value="1201" selected>' in land


def test_category_fields_fragment_for_htmx_and_whole_page_without(clerk):
    response = clerk.client.get("/intake/fields?intake=visit&category=1201", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'name="form.parcel_number"' in html
    assert "HX-Request" in response.headers["Vary"]
    whole = clerk.client.get("/intake/fields?intake=visit&category=1201").get_data(as_text=True)
    assert "<html" in whole and 'id="intake-form"' in whole and 'name="form.parcel_number"' in whole


# Server-side checks, field by field

def test_required_items_are_enforced_on_the_server_beside_each_field(clerk):
    response = clerk.post("/intake", visit(category="1201"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert problem_of(html, "name") == "姓名为必填项"
    assert problem_of(html, "text") == "信访请求为必填项"
    assert problem_of(html, "phone") is None
    assert "未能登记：请更正以下2项" in html
    assert 'aria-invalid="true"' in html


def test_values_are_checked_against_the_rule_set(clerk):
    html = clerk.post("/intake", visit(category="1201", **{
        "petitioner.name": "王秀英", "text": LAND, "petitioner.id_number": "12345",
        "form.compensation_amount": "八万", "form.compensation_method": "实物补偿"})).get_data(as_text=True)
    assert problem_of(html, "id_number").startswith("身份证号码格式不正确")
    assert problem_of(html, "compensation_amount") == "补偿金额（元）应为整数"
    assert problem_of(html, "compensation_method").startswith("补偿方式应为以下之一")
    assert 'value="王秀英"' in html and LAND in html  # what was typed is kept


def test_more_representatives_than_the_bound_are_refused_with_the_article(clerk):
    response = clerk.post("/intake", visit(**{"petitioner.name": "李明", "text": "集体反映道路损坏",
                                              "representatives": "6"}))
    assert response.status_code == 422
    assert problem_of(response.get_data(as_text=True), "representatives") == "代表人数不得超过5人（《信访工作条例》第二十条）"


def test_received_on_in_the_future_is_refused(clerk):
    html = clerk.post("/intake", visit(received_on="2999-01-01", **{"petitioner.name": "李明", "text": "x"})
                      ).get_data(as_text=True)
    assert "收到日期不能晚于今天" in html


def test_csrf_is_required(clerk):
    data = visit(**{"petitioner.name": "李明", "text": "反映道路损坏"})
    assert clerk.client.post("/intake", data=data).status_code == 400
    assert clerk.client.post("/intake/preview", data=data, headers={"HX-Request": "true"}).status_code == 400
    headers = {"HX-Request": "true", "X-CSRFToken": clerk.token}
    response = clerk.client.post("/intake/preview", data=data, headers=headers)
    assert response.status_code == 200


# Before saving: suggestion, route, duplicates

def preview(clerk, **values) -> str:
    response = clerk.client.post("/intake/preview", data=visit(**values),
                                 headers={"HX-Request": "true", "X-CSRFToken": clerk.token})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_the_category_is_suggested_from_the_text_with_the_matched_keywords(clerk):
    html = preview(clerk, text=LAND)
    assert 'data-code="1201"' in html and "<mark>征地拆迁</mark>" in html
    assert 'name="adopt" value="1201"' in html and "采用建议" in html
    assert "沂南县自然资源和规划局" in html
    chosen = preview(clerk, text=LAND, category="1201")
    assert "采用建议" not in chosen and "与所选分类一致" in chosen


def test_adopting_the_suggestion_reopens_the_form_with_the_category_and_the_values(clerk):
    html = clerk.post("/intake", visit(adopt="1201", text=LAND, **{"petitioner.name": "王秀英"})).get_data(as_text=True)
    assert '<option value="1201" selected>' in html and 'name="form.parcel_number"' in html
    assert LAND in html and 'value="王秀英"' in html and "已登记" not in html


def test_litigation_is_told_where_to_go_and_accusations_avoid_the_accused(clerk):
    html = preview(clerk, text="对县人民法院的民事判决不服，要求重新审理")
    assert "诉讼程序" in html and "交政法机关依法处理" in html and "中共沂南县委政法委员会" in html
    html = preview(clerk, text="举报县纪委干部受贿", category="06", accused_unit="沂南县纪委监委")
    assert "不得转交被检举控告的人员和单位" in html
    assert "被检举控告的单位不得承办，已改交" in html


def test_without_a_duplicate_rule_the_preview_marks_nothing_as_registration_does(clerk):
    # 智能判重 is the rule set's: 沂南县 sets none, so the preview lists no repeats, as registration marks none.
    person = {"petitioner.name": "赵强", "petitioner.id_number": "371321197001011234"}
    first = clerk.post("/intake", visit(category="11", text="宅基地纠纷，要求确权", **person))
    assert first.status_code == 303
    html = preview(clerk, text="宅基地纠纷，再次要求确权", category="11", **person)
    assert "未设智能判重" in html and "已有1件" not in html
    second = clerk.post("/intake", visit(category="11", text="宅基地纠纷，再次要求确权", **person))
    assert "与此前的信访事项重复" not in clerk.client.get(second.headers["Location"]).get_data(as_text=True)


def test_ganzhou_marks_a_repeat_within_its_window(app, sign_in):
    clerk = sign_in(app, "ganzhou_clerk")
    person = {"petitioner.name": "钟华", "petitioner.id_number": "360702198001011234",
              "petitioner.phone": "13907970000"}
    data = {"intake": "online", "received_on": today_in_china().isoformat(), "category": "13",
            "text": "公司拖欠工资三个月", **person}
    assert clerk.post("/intake", data).status_code == 303
    html = clerk.client.post("/intake/preview", data=data,
                             headers={"HX-Request": "true", "X-CSRFToken": clerk.token}).get_data(as_text=True)
    assert "90日内已有1件" in html and "登记后将标为重复信访" in html
    second = clerk.post("/intake", data)
    page = clerk.client.get(second.headers["Location"]).get_data(as_text=True)
    assert "重复信访" in page and "与此前的信访事项重复" in page


def test_a_valid_form_registers_and_opens_the_case_file(clerk):
    response = clerk.post("/intake", visit(category="1201", text=LAND, **{
        "petitioner.name": "王秀英", "form.parcel_number": "YN-2024-031", "form.compensation_amount": "86000",
        "form.compensation_method": "货币补偿"}))
    assert response.status_code == 303 and re.fullmatch(r"/cases/\d+", response.headers["Location"])
    html = clerk.client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"已登记，编号 371321-\d{4}-\d{6}", html)
    assert "YN-2024-031" in html and "地块编号" in html and "沂南县自然资源和规划局" in html


def test_art_22_a_request_that_reads_as_an_accusation_asks_for_the_accused_unit_before_a_category_is_chosen(app, clerk):
    # 《信访工作条例》第二十二条第二款、第四十六条第五项: never to the accused, so the form asks who is accused as soon
    # as the request reads as an accusation, live (the preview swaps the field in) and without JavaScript alike.
    from xinfang.server.store.case_tables import Petition
    from xinfang.server.store.db import get_session
    text = "举报县自然资源和规划局某科长收受贿赂"
    swapped = re.search(r'<div id="category-fields" hx-swap-oob="innerHTML">(.*?)</div>\s*$', preview(clerk, text=text),
                        re.S)
    assert swapped and 'name="accused_unit"' in swapped.group(1)
    assert 'name="accused_unit"' in clerk.post("/intake", visit(text=text, intent="preview")).get_data(as_text=True)
    assert 'name="accused_unit"' not in preview(clerk, text="小区供暖不热")
    registered = clerk.post("/intake", visit(text=text, accused_unit="沂南县自然资源和规划局",
                                             **{"petitioner.name": "周正"}))
    assert registered.status_code == 303
    with app.app_context():
        petition = get_session().get(Petition, int(registered.headers["Location"].rsplit("/", 1)[1]))
        assert petition.accused_unit == "沂南县自然资源和规划局" and petition.route_unit != "natural_resources"
