"""网上信访 on a phone, in Debian's chromium: submit in 赣州, be refused the same matter twice, follow the case, see it
accepted and answered, rate it unsatisfied, ask for review (《信访工作条例》第十七条、第十九条、第三十五条)."""

from __future__ import annotations

import re

import pytest

from petitioners import petitioner, staff_on

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TEXT = "我家老房子被征收，征地拆迁补偿款至今没有发放，请求尽快发放"


def fill(page, person):
    page.get_by_label("姓名").fill(person["name"])
    page.get_by_label("身份证号码").fill(person["id_number"])
    page.get_by_label("联系电话").fill(person["phone"])
    page.get_by_label("信访请求").fill(TEXT)


def test_a_petitioner_submits_follows_rates_and_asks_for_review_on_a_phone(new_page, live_app, screenshot):
    from sqlalchemy.orm import Session

    from xinfang.server.rulesets.library_store import published_library
    from xinfang.server.store import db as store
    page = new_page(**PHONE)
    person = petitioner(name="钟秀芳", phone="13979700001")

    page.goto("/public/")
    page.get_by_role("link", name="章贡区").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("向章贡区提交信访事项")
    fill(page, person)
    page.get_by_role("button", name="下一步：核对分类与去向").click()
    preview = page.locator(".preview")
    expect(preview).to_contain_text("办理去向")
    expect(preview).to_contain_text("登记转送")
    screenshot(page, "public-preview", full_page=True)

    page.get_by_role("button", name="确认提交").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信访事项已提交")
    number, code = page.locator("#number").inner_text(), page.locator("#query-code").inner_text()
    assert re.fullmatch(r"360702-\d{4}-\d{6}", number) and len(code) == 12
    assert code not in page.url
    screenshot(page, "public-receipt", full_page=True)

    page.goto("/public/360702/new")  # the same matter again, the same day
    fill(page, person)
    page.get_by_role("button", name="下一步：核对分类与去向").click()
    expect(page.locator(".already")).to_contain_text(number)
    expect(page.get_by_role("button", name="确认提交")).to_have_count(0)
    screenshot(page, "public-repeat", full_page=True)

    page.get_by_role("link", name="查询办理情况").first.click()
    page.get_by_label("信访事项编号").fill(number)
    page.get_by_label("查询码").fill(code.lower())  # typed in small letters on a phone
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".stage")).to_have_text("已登记")

    with Session(store.make_engine(live_app[1])) as session:
        library = published_library(session)
    staff_on(live_app[1], library, number, ("accept", {}))
    page.reload()  # the page was a POST of number and code: the browser sends them again
    expect(page.locator(".stage")).to_have_text("已受理")
    expect(page.locator(".notices")).to_contain_text("受理告知书")

    staff_on(live_app[1], library, number,
             ("conclude", {"outcome": "not_support", "opinion": "经核查，补偿款已按协议发放至村集体账户，由村委会分配"}))
    page.reload()
    expect(page.locator(".stage")).to_have_text("已办结")
    expect(page.locator(".answer")).to_contain_text("不予支持")
    page.get_by_label("不满意").check()
    page.get_by_label("意见和建议（可不填）").fill("补偿款我家一分没收到")
    screenshot(page, "public-rate", full_page=True)
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".flash-success")).to_have_text("评价已提交，谢谢。")
    review = page.locator(".review")
    expect(review).to_contain_text("赣州市")
    review.get_by_label("复查请求和理由").fill("村委会未将补偿款分配到户，请求复查")
    review.get_by_role("button", name="申请复查").click()
    expect(page.locator(".flash-success")).to_contain_text("复查申请已提交")
    expect(page.locator(".stage")).to_have_text("申请复查")
    screenshot(page, "public-review", full_page=True)
