"""Clerks' intake in Debian's chromium: category fields, live suggestion, litigation routing, the representatives bound,
a newly published form field."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

LAND = "我村土地被征收，征地拆迁补偿款至今没有发放到位，请求督促发放"
LITIGATION = "对县人民法院的民事判决不服，要求重新审理"


def open_intake(page, sign_in, path="/intake"):
    sign_in(page, "yinan_clerk", next_path=path)
    expect(page.get_by_role("heading", level=1)).to_contain_text("登记信访事项")
    return page


def test_land_expropriation_visit_shows_the_category_fields(page, sign_in, screenshot):
    open_intake(page, sign_in)
    page.get_by_label("走访", exact=True).check()
    expect(page.get_by_label("代表人数")).to_be_visible()  # the visit form: a group visit names representatives
    expect(page.get_by_label("地块编号")).to_have_count(0)

    page.get_by_label("信访请求").fill(LAND)  # keyup: the draft is decided, the category suggested
    preview = page.locator("#preview")
    expect(preview.locator(".suggested")).to_have_text("1201 征地拆迁补偿")
    expect(preview.locator(".matched")).to_contain_text("征地拆迁")
    expect(preview.locator(".route-unit")).to_have_text("沂南县自然资源和规划局")
    preview.get_by_role("button", name="采用建议").click()
    expect(page.get_by_label("内容分类")).to_have_value("1201")
    expect(page.get_by_label("地块编号")).to_be_visible()
    expect(page.get_by_label("补偿金额（元）")).to_be_visible()
    expect(page.get_by_label("补偿方式")).to_be_visible()
    expect(page.get_by_label("信访请求")).to_have_value(LAND)  # what was typed survives the new form

    page.get_by_label("内容分类").select_option("12")  # the category's fields go, and come back (htmx GET)
    expect(page.get_by_label("地块编号")).to_have_count(0)
    page.get_by_label("内容分类").select_option("1201")
    expect(page.get_by_label("地块编号")).to_be_visible()

    page.get_by_label("姓名").fill("王秀英")
    page.get_by_label("身份证号码").fill("371321198503124526")
    page.get_by_label("联系电话").fill("13905390000")
    page.get_by_label("地块编号").fill("YN-2024-031")
    page.get_by_label("补偿金额（元）").fill("86000")
    page.get_by_label("补偿方式").select_option("货币补偿")
    expect(preview.locator(".route-unit")).to_have_text("沂南县自然资源和规划局")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky check panel at the top of the capture
    screenshot(page, "intake-form", full_page=True)
    page.evaluate("window.scrollTo(0, 0)")  # a full-page capture leaves chromium's scroll position stale

    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"信访事项 371321-\d{4}-\d{6}"))
    expect(page.locator(".flash-success")).to_contain_text("已登记")
    facts = page.locator("#petition")
    expect(facts).to_contain_text("YN-2024-031")
    expect(facts).to_contain_text("86000")
    expect(page.locator(".route-unit")).to_have_text("沂南县自然资源和规划局")


def test_litigation_matter_is_routed_to_the_political_legal_organs(page, sign_in):
    open_intake(page, sign_in, "/intake?intake=letter")
    expect(page.get_by_label("来信", exact=True)).to_be_checked()
    page.get_by_label("姓名").fill("刘建国")
    page.get_by_label("住址").fill("沂南县界湖街道")
    page.get_by_label("信访请求").fill(LITIGATION)
    preview = page.locator("#preview")
    expect(preview.locator(".suggested")).to_have_text("01 涉法涉诉")
    expect(preview.locator(".channel")).to_have_text("诉讼程序")
    expect(preview.locator(".channel-note")).to_contain_text("交政法机关依法处理")
    expect(preview.locator(".route-unit")).to_contain_text("政法")

    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("信访事项 371321-")
    expect(page.locator("dd.channel")).to_have_text("诉讼程序")
    expect(page.locator(".route-unit")).to_have_text("中共沂南县委政法委员会（县委政法委）")
    expect(page.locator(".flags")).to_contain_text("诉访分离")


def test_more_representatives_than_the_bound_are_refused_with_the_article(page, sign_in):
    open_intake(page, sign_in, "/intake?intake=visit")
    page.get_by_label("姓名").fill("李明")
    page.get_by_label("信访请求").fill("集体反映村道路损坏，要求修复")
    page.get_by_label("代表人数").fill("6")
    page.get_by_label("代表人数").blur()
    expect(page.locator("#preview .refusal")).to_contain_text("代表人数6人，超过上限5人")

    page.get_by_role("button", name="登记", exact=True).click()
    field = page.locator('[data-field="representatives"]')
    expect(field.locator(".problem")).to_have_text("代表人数不得超过5人（《信访工作条例》第二十条）")
    expect(page.get_by_label("代表人数")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary")).to_contain_text("第二十条")
    expect(page.get_by_label("信访请求")).to_have_value("集体反映村道路损坏，要求修复")  # nothing typed is lost
    assert "/intake" in page.url  # not registered

    page.get_by_label("代表人数").fill("5")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("信访事项 371321-")
    expect(page.locator(".flags")).to_contain_text("集体访")


def test_a_field_an_officer_publishes_appears_without_a_restart(own_app, new_page, sign_in):
    from sqlalchemy.orm import Session

    from xinfang.config import today_in_china
    from xinfang.server.rulesets import lifecycle
    from xinfang.server.rulesets.text import set_header
    from xinfang.server.store import db as database_module

    base_url, database_url = own_app
    page = new_page(base_url=base_url)
    open_intake(page, sign_in, "/intake?intake=visit&category=1201")
    expect(page.get_by_label("地块编号")).to_be_visible()
    expect(page.get_by_label("土地承包合同编号")).to_have_count(0)

    today = today_in_china()
    engine = database_module.make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            draft = lifecycle.create_draft(session, "371321", "yinan_officer", today=today)
            text = set_header(draft.yaml_text, version=f"{today.year}.9", effective_from=today,
                              change_note="新增土地承包合同编号登记项")
            fields = "form_fields: [parcel_number, compensation_amount, compensation_method"
            text = text.replace(fields + "]", fields + ", contract_number]")
            text = text.replace("    compensation_method: {", "    contract_number: {label: 土地承包合同编号, type: string, "
                                "max_length: 40, basis: 《沂南县信访工作实施办法（2024）》}\n    compensation_method: {")
            assert "contract_number: {label" in text
            lifecycle.update_draft(session, draft.id, text, draft.revision, "yinan_officer")
            lifecycle.submit(session, draft.id, "yinan_officer", today=today)
            lifecycle.approve(session, draft.id, "yinan_approver", today=today)
    finally:
        engine.dispose()

    page.reload()  # the same server process: the form is computed from the library in force per request
    expect(page.get_by_label("土地承包合同编号")).to_be_visible()
    expect(page.locator(".form-actions")).to_contain_text(f"沂南县{today.year}年第9版")


def test_intake_works_without_javascript(new_page, sign_in):
    page = new_page(java_script_enabled=False)
    open_intake(page, sign_in, "/intake?intake=visit")
    page.get_by_label("内容分类").select_option("1201")
    expect(page.get_by_label("地块编号")).to_have_count(0)  # nothing happens by itself
    page.get_by_label("信访请求").fill(LAND)
    page.get_by_role("button", name="按所选形式和分类更新表单").click()
    expect(page.get_by_label("地块编号")).to_be_visible()
    expect(page.get_by_label("信访请求")).to_have_value(LAND)
    expect(page.locator("#preview .route-unit")).to_have_text("沂南县自然资源和规划局")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator('[data-field="name"] .problem')).to_have_text("姓名为必填项")
