"""The admin pages in Debian's chromium: sign-in, the tree and its search, the effective rule set, keyboard, no JavaScript."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

AT = "2024-06-01"  # a fixed date: the pages (and the screenshots) do not change with the day the tests run


def test_sign_in_search_and_open_yinan(page, sign_in, screenshot):
    page.goto("/cases")  # a staff page (the tree itself is open to anyone: README "Who reads what")
    assert "/sign-in" in page.url
    screenshot(page, "sign-in")
    sign_in(page)  # the form carries `next`: back to the case list
    assert page.url.endswith("/cases")
    page.goto(f"/jurisdictions?at={AT}")
    headers = []
    page.on("request", lambda request: headers.append(request.headers) if "q=" in request.url else None)

    page.get_by_label("按名称或代码查找").fill("沂南")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="沂南县", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=%E6%B2%82%E5%8D%97|q=沂南"))  # hx-replace-url: the address can be shared
    assert any(h.get("hx-request") == "true" and h.get("x-csrftoken") for h in headers)
    screenshot(page, "tree-search")

    shandong = page.locator('a.toggle[aria-controls="children-370000"]')
    shandong.click()
    expect(page.locator("#children-370000").get_by_role("link", name="临沂市", exact=True)).to_be_visible()
    expect(shandong).to_have_attribute("aria-expanded", "true")
    page.locator('a.toggle[aria-controls="children-371300"]').click()
    expect(page.locator("#children-371300").get_by_role("link", name="沂南县", exact=True)).to_be_visible()
    screenshot(page, "tree-expanded")
    shandong.click()  # and closed again, without a request
    expect(page.locator("#children-370000 li")).to_have_count(0)
    expect(shandong).to_have_attribute("aria-expanded", "false")

    results.get_by_role("link", name="沂南县", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("沂南县")
    expect(page.locator("dl.facts")).to_contain_text("本级规则集")
    expect(page.get_by_role("link", name="界湖街道", exact=True)).to_be_visible()
    screenshot(page, "node-yinan")


def test_effective_ruleset_shows_sources_and_bounds(page, sign_in, screenshot):
    sign_in(page, next_path=f"/jurisdictions/371321?at={AT}")
    page.get_by_role("link", name=f"查看 沂南县 在 {AT} 施行的规则集").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("沂南县")
    limits = page.locator("#time-limits")
    route = limits.locator('tr[data-key="route"]')
    expect(route.locator(".src-own")).to_have_text("本级")  # Yinan's own 1 day
    expect(route).to_contain_text("1 日")
    notify = limits.locator('tr[data-key="notify"]')
    expect(notify.locator(".src")).to_have_text("全国")  # inherited from the national baseline
    assert re.search(r"2022-05-01\.yaml:\d+|000000@2022\.1:\d+", notify.locator(".src").get_attribute("title"))
    conclude = limits.locator('tr[data-key="conclude"]')
    expect(conclude).to_contain_text("不超过 60 日")
    expect(conclude).to_contain_text("第三十四条")
    expect(page.locator("#tracks")).to_contain_text("正常办")  # the national name Yinan replaced
    expect(page.locator('#tracks [data-track="normal"]')).to_contain_text("复杂问题跟踪办")
    screenshot(page, "ruleset-yinan")
    screenshot(limits, "ruleset-yinan-time-limits")


def test_keyboard_only_sign_in_and_search(page):
    page.goto("/sign-in")
    focused = lambda: page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
    assert focused() == "username"  # autofocus
    page.keyboard.type("yinan_officer")
    page.keyboard.press("Tab")
    assert focused() == "password"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle + ' ' + "
                            "getComputedStyle(document.activeElement).outlineWidth")
    assert outline.startswith("solid") and float(outline.split()[1].rstrip("px")) >= 2  # a visible focus ring
    page.keyboard.type("xinfang-demo")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("沂南县 · 规则集的版本与草稿")  # the officer's own
    page.get_by_role("link", name="行政区划与规则集").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("行政区划与规则集")

    for _ in range(10):  # Tab to the search field, whatever comes before it
        page.keyboard.press("Tab")
        if focused() == "q":
            break
    assert focused() == "q"
    page.keyboard.type("沂南县")
    page.keyboard.press("Enter")
    link = page.locator("#results").get_by_role("link", name="沂南县", exact=True)
    expect(link).to_be_visible()
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused() == "沂南县":
            break
    assert focused() == "沂南县"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("沂南县")


def test_tree_works_without_javascript(new_page, sign_in):
    page = new_page(java_script_enabled=False)
    sign_in(page)
    page.get_by_role("link", name="行政区划与规则集").first.click()
    assert "/jurisdictions" in page.url
    page.get_by_label("按名称或代码查找").fill("沂南")
    page.get_by_role("button", name="查找").click()  # a plain GET form: the whole page comes back
    assert "q=" in page.url
    page.locator("#results").get_by_role("link", name="沂南县", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("沂南县")

    page.goto(f"/jurisdictions?at={AT}")
    page.locator('a.toggle[aria-controls="children-370000"]').click()  # no htmx: the link opens 山东省's page
    expect(page.get_by_role("heading", level=1)).to_contain_text("山东省")
    expect(page.get_by_role("link", name="临沂市", exact=True)).to_be_visible()


def test_another_countys_published_rule_set_is_open_to_anyone(page):
    # Published rules are public law (README "Who reads what"): no sign-in, and no jurisdiction's is refused.
    response = page.goto(f"/jurisdictions/430981/ruleset?at={AT}")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("沅江市")
    page.goto(f"/jurisdictions/430981?at={AT}")
    expect(page.get_by_role("link", name=re.compile("施行的规则集"))).to_have_count(1)
