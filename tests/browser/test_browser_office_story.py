"""沂南县's petition office, one matter from the letter to the review, in Debian's chromium (issue 11, "Must show").

The office registers a letter about factory noise and 交办 it to 临沂市生态环境局沂南县分局 with a feedback deadline
(Art. 22); the unit finds it in its inbox, accepts it (Art. 23), asks for more time, which an approver grants in an
action of their own (Art. 34), and answers; the petitioner's review request goes to the level above, 临沂市 (Art. 35).
A litigation matter leaves the petition procedure (诉访分离, Art. 22 ¶2, 28 ¶2) with its clocks stopped.
Each page is saved as a screenshot (docs/screenshots/office-*.png with `make screenshots`).
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

NOISE = "村东化工厂夜间生产噪音扰民，多次反映无人处理，请求责令整改"
LITIGATION = "对县人民法院的民事判决不服，要求重新审理"
ECOLOGY = "临沂市生态环境局沂南县分局"


def register_letter(page, sign_in, text: str, name: str) -> str:
    """The office's clerk registers a letter through the intake form; returns the case page's path."""
    sign_in(page, "yinan_clerk")
    expect(page.get_by_role("heading", level=1)).to_contain_text("登记信访事项")  # the clerk lands on intake
    with page.expect_response(lambda r: r.url.endswith("/intake") and r.request.method == "POST"):
        page.get_by_label("来信", exact=True).check()  # the letter's form comes back (htmx), then it is filled in
    page.wait_for_load_state()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("住址").fill("沂南县界湖街道东岭村")
    page.get_by_label("信访请求").fill(text)
    expect(page.locator("#preview .suggested")).not_to_be_empty()
    page.locator("#preview").get_by_role("button", name="采用建议").click()
    expect(page.get_by_label("内容分类")).not_to_have_value("")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"信访事项 371321-\d{4}-\d{6}"))
    return page.url.split("/cases/", 1)[1].join(("/cases/", ""))


def act(page, action: str, button: str, **fields: str) -> None:
    form = page.locator(f'form[data-action="{action}"]')
    for label, value in fields.items():
        field = form.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    with page.expect_response(lambda r: f"/actions/{action}" in r.url):  # then htmx swaps the case file in
        form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_the_office_assigns_the_unit_answers_and_the_level_above_reviews(new_page, sign_in, screenshot):
    page = new_page(viewport={"width": 1366, "height": 900})
    case = register_letter(page, sign_in, NOISE, "赵桂芳")
    expect(page.locator(".route-unit")).to_have_text(ECOLOGY)  # the rule set's real unit, not a kind of body
    expect(page.locator('form[data-action="accept"]')).to_have_count(0)  # the office routes; it does not accept
    screenshot(page, "office-1-registered", full_page=True)

    assign = page.locator('form[data-action="assign"]')
    expect(assign.get_by_label("承办单位")).to_have_value("ecology")
    assign.get_by_role("button", name="交办").click()
    expect(page.locator("h1 .badge-stage")).to_have_text("已交办")
    expect(page.locator("#deadlines")).to_contain_text("反馈")  # the unit owes its 办理情况反馈 by a date
    screenshot(page, "office-2-assigned", full_page=True)

    sign_in(page, "yinan_shengtai")  # the unit lands on its inbox, the case in it
    expect(page.get_by_role("heading", level=1)).to_contain_text("信访事项")
    page.goto(case)
    number = page.locator("h1").first.inner_text().split()[1]
    page.goto("/")
    expect(page.locator("table.cases")).to_contain_text(number)
    screenshot(page, "office-3-unit-inbox", full_page=True)
    page.get_by_role("link", name=number).click()
    act(page, "accept", "受理")
    expect(page.locator("h1 .badge-stage")).to_have_text("已受理")
    act(page, "request_extension", "申请延期", 延长天数="15", 理由="需要委托第三方监测夜间噪声")
    expect(page.locator("h1 .badge-stage")).to_have_text("申请延期")
    expect(page.locator('form[data-action="approve_extension"]')).to_have_count(0)  # not the requester's to grant
    screenshot(page, "office-4-extension-requested", full_page=True)

    sign_in(page, "yinan_approver", next_path=case)
    act(page, "approve_extension", "批准延期")
    expect(page.locator("h1 .badge-stage")).to_have_text("已延期")
    screenshot(page, "office-5-extension-approved", full_page=True)

    sign_in(page, "yinan_shengtai", next_path=case)
    act(page, "report", "反馈办理情况", 办理情况="已完成夜间噪声监测，责令企业限期整改")
    act(page, "conclude", "办结", 办理结果="予以支持", 处理意见="经监测，该厂夜间噪声超标，已责令其停止夜间生产并限期整改。")
    expect(page.locator("h1 .badge-stage")).to_have_text("已办结")
    notice = page.locator("#notices")
    expect(notice).to_contain_text("信访处理意见书")
    screenshot(page, "office-6-answered", full_page=True)

    sign_in(page, "yinan_clerk", next_path=case)  # the petitioner's review request, by letter, on file
    act(page, "request_review", "申请复查", 请求内容="对处理意见不服，请求临沂市复查")
    expect(page.locator("h1 .badge-stage")).to_have_text("申请复查")
    expect(page.locator('form[data-action="review_opinion"]')).to_have_count(0)  # never the county's own review
    sign_in(page, "linyi_clerk", next_path=case)
    expect(page.locator('form[data-action="review_opinion"]')).to_have_count(1)  # the level above reviews
    screenshot(page, "office-7-review-at-the-level-above", full_page=True)


def test_a_litigation_matter_leaves_the_petition_procedure_with_its_clocks_stopped(new_page, sign_in, screenshot):
    page = new_page(viewport={"width": 1366, "height": 900})
    case = register_letter(page, sign_in, LITIGATION, "刘建国")
    expect(page.locator("dd.channel")).to_have_text("诉讼程序")
    act(page, "separate", "诉访分离", 理由="告知信访人依法向人民法院申请再审")
    expect(page.locator("h1 .badge-stage")).to_have_text("诉访分离")
    expect(page.locator("#escalations .pending, #escalations li.due")).to_have_count(0)
    expect(page.locator('form[data-action="accept"]')).to_have_count(0)
    screenshot(page, "office-8-litigation-separated", full_page=True)
    assert case.startswith("/cases/")
