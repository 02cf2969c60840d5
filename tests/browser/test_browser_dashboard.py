"""Supervisors' dashboards in Debian's chromium, on a small demo year: charts, periods, drill-down, escalations."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from xinfang.server.accounts import system_actor

CLERK = system_actor("clerk")  # an admin: registers and handles cases anywhere, in any role

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

DEMO_CASES = 300  # a small year, the same every run of the same day (seeded)


@pytest.fixture(scope="module")
def demo(own_app):
    """A server of this module's own with the demo year up to today, and one Yinan case long overdue.

    Returns (base URL, number of the overdue case); the sweep at the end of the demo and one more fire its steps.
    """
    from sqlalchemy.orm import Session

    from xinfang.config import CHINA, today_in_china
    from xinfang.server.cases.demo_data import generate
    from xinfang.server.cases.sweep import sweep
    from xinfang.server.cases.workflow import act, register_case
    from xinfang.server.rulesets.library_store import published_library
    from xinfang.server.store import db as database_module

    engine = database_module.make_engine(own_app[1])
    try:
        with Session(engine) as session:
            library = published_library(session)
            result = generate(session, library, cases=DEMO_CASES, seed=20220501)
            assert result.refused_actions == []
            received = today_in_china() - dt.timedelta(days=100)
            petition = register_case(session, library, {
                "received_on": received.isoformat(), "intake": "visit", "category": "1201",
                "text": "东岭村12户村民的承包地被征收，征地拆迁补偿款至今未发放，请求落实安置补偿。",
                "petitioner": {"name": "王建国", "phone": "13905390000"},
                "form": {"parcel_number": "YN-1201-0031", "compensation_amount": 86000}},
                actor=CLERK, jurisdiction_code="371321").petition
            act(session, library, petition.id, "accept", {}, actor=CLERK, on=received + dt.timedelta(days=1))
            number = petition.number
            sweep(session, dt.datetime.now(CHINA))
            session.commit()
    finally:
        engine.dispose()
    return own_app[0], number


def test_linyi_drills_down_to_yinan_and_marks_an_escalation_handled(demo, new_page, sign_in, screenshot):
    base_url, number = demo
    page = new_page(base_url=base_url)
    page.goto("/")  # as `make run` opens it: signing in, then the supervisor's own dashboard
    sign_in(page, "linyi_supervisor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("临沂市督查看板")
    expect(page.locator(".preset.current")).to_have_text("近12个月")
    tiles = page.locator("ul.tiles > li")
    expect(tiles).to_have_count(5)
    expect(tiles.first).to_contain_text("按期受理率")
    expect(page.locator('[data-indicator="satisfaction"] .rate')).to_have_text(re.compile(r"^\d{2,3}\.\d%$"))
    category = page.locator('svg[aria-labelledby="chart-category-title chart-category-desc"]')
    expect(category).to_be_visible()
    expect(page.locator("#chart-category-title")).to_contain_text("临沂市信访事项按内容分类")
    expect(category.locator("text.label").first).to_have_text(re.compile(r"[\u4e00-\u9fff]"))  # Chinese labels
    expect(page.locator("#chart-intake-time-desc")).to_contain_text("月")
    screenshot(page, "dashboard-linyi", full_page=True)

    requests = []
    page.on("request", lambda request: requests.append(request.headers.get("hx-request")))
    page.get_by_role("link", name="本年", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/371300\?preset=year$"))
    expect(page.locator(".summary")).to_contain_text("本年（")
    assert "true" in requests  # swapped by htmx, the address kept in step

    page.get_by_role("link", name="近12个月").click()
    expect(page.locator(".preset.current")).to_have_text("近12个月")
    page.locator("table.children").get_by_role("link", name="沂南县", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("沂南县督查看板")
    expect(page).to_have_url(re.compile(r"/dashboard/371321\?preset=12m$"))
    expect(page.locator("nav.breadcrumbs").get_by_role("link", name="临沂市")).to_be_visible()
    expect(page.locator("table.children")).to_contain_text("镇")  # Yinan's townships below
    screenshot(page, "dashboard-yinan")

    rows = page.locator(f'tr[data-number="{number}"]')
    before = rows.count()
    expect(rows.first).to_contain_text("督办")
    screenshot(page.locator("section.escalations"), "dashboard-escalations")
    rows.first.get_by_label(f"{number} 处理说明").fill("已电话督促县自然资源和规划局，限期答复")
    rows.first.get_by_role("button", name=re.compile("标记已处理")).click()
    expect(page.locator(f"tr.handled[data-number='{number}']")).to_contain_text("标记为已处理")
    page.reload()
    expect(rows).to_have_count(before - 1)  # handled: no longer awaiting


def test_without_javascript_periods_and_marking_still_work(demo, new_page, sign_in):
    base_url, number = demo
    page = new_page(base_url=base_url, java_script_enabled=False)
    sign_in(page, "yinan_supervisor", next_path="/dashboard/371321")
    page.goto("/dashboard/371321?from=2025-01-01&to=2025-12-31")
    expect(page.locator(".summary")).to_contain_text("2025-01-01 至 2025-12-31")
    rows = page.locator(f'tr[data-number="{number}"]')
    before = rows.count()
    assert before >= 1
    rows.first.get_by_role("button", name=re.compile("标记已处理")).click()
    expect(page.locator(".flash-success")).to_contain_text("标记为已处理")
    expect(page).to_have_url(re.compile(r"/dashboard/371321\?from=2025-01-01&to=2025-12-31$"))
    expect(rows).to_have_count(before - 1)


def test_another_city_is_refused(demo, new_page, sign_in):
    base_url, _ = demo
    page = new_page(base_url=base_url)
    sign_in(page, "yinan_supervisor", next_path="/dashboard/371300")
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")


def test_the_assessment_ranks_yinans_units_and_leads_to_the_reports(demo, new_page, sign_in, screenshot):
    base_url, _ = demo
    page = new_page(base_url=base_url)
    sign_in(page, "yinan_supervisor", next_path="/dashboard/371321")
    section = page.locator("section", has=page.locator("#h-assessment"))
    expect(section).to_contain_text("沂南县信访工作考评")
    units = section.locator('table[data-table="units"] tbody tr')
    expect(units.first.locator("td").first).to_have_text("1")
    expect(section.locator('table[data-table="jurisdictions"]')).to_contain_text("镇")
    screenshot(section, "dashboard-assessment")
    section.get_by_role("link", name=re.compile("定期报告")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("沂南县定期报告")
    expect(page.locator(".summary")).to_contain_text("化解进度周调度（每周，报送县委、县政府分管领导，各承办单位）")


OFFICE_SCREEN = 1366  # the common office monitor's width, in CSS px
A4_WIDTH = 794  # A4's 210 mm at 96 dpi: what a page may be wide when printed


@pytest.mark.parametrize("path", [
    "/cases?jurisdiction=371321", "/cases/{case}", "/dashboard/371321", "/dashboard/371321/reports", "/intake",
    "/jurisdictions/371321/ruleset", "/rulesets/371321/audit", "/orders", "/rulesets/approvals",
])
def test_staff_pages_fit_an_office_screen_and_print_on_a4(demo, new_page, sign_in, path):
    """Issue 11 item 5: a page wider than the screen hides its last column; one wider than A4 prints cut off."""
    base_url, number = demo
    page = new_page(base_url=base_url, viewport={"width": OFFICE_SCREEN, "height": 900})
    sign_in(page, "admin")
    if "{case}" in path:
        page.goto(f"/cases?q={number}")
        page.locator(f'a:text-is("{number}")').first.click()
        page.wait_for_load_state()
    else:
        page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= OFFICE_SCREEN, f"{path} is wider than the screen"
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_WIDTH, f"{path} prints wider than A4"

