"""Case lists and case files in Debian's chromium: countdowns and filters, actions as buttons, notices as PDF."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from xinfang.server.accounts import system_actor

CLERK = system_actor("clerk")  # an admin: registers and handles cases anywhere, in any role

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')").expect

PEOPLE = ("王秀英", "孙丽", "张建华", "李桂兰", "赵强", "陈敏")
CASES = (  # (days ago, Case JSON without the date): a plausible morning's list in Yinan
    (40, {"intake": "visit", "category": "1201", "text": "我村土地被征收，征地拆迁补偿款至今没有发放到位",
          "form": {"parcel_number": "YN-2024-031", "compensation_amount": 86000}}),
    (0, {"intake": "letter", "text": "小区冬季供暖温度不达标，要求物业整改"}),
    (1, {"intake": "hotline", "text": "建筑工地拖欠农民工工资，讨薪无果"}),
    (6, {"intake": "online", "text": "村里道路损坏多年，要求修复"}),
    (12, {"intake": "visit", "text": "对县人民法院的民事判决不服，要求重新审理", "representatives": 2}),
    (3, {"intake": "letter", "text": "工厂夜间排污，噪音扰民"}),
)


@pytest.fixture(scope="module")
def seeded(live_app):
    """Register CASES in the shared live server's database; returns their (id, number)s, in order."""
    from sqlalchemy.orm import Session

    from xinfang.config import today_in_china
    from xinfang.server.cases.registration import register_case
    from xinfang.server.rulesets.library_store import published_library
    from xinfang.server.store import db as database_module

    today = today_in_china()
    engine = database_module.make_engine(live_app[1])
    found = []
    try:
        with Session(engine) as session, session.begin():
            library = published_library(session)
            for n, (ago, case) in enumerate(CASES):
                petitioner = {"name": PEOPLE[n], "phone": f"1390539{n:04d}", "address": "沂南县界湖街道"}
                body = {**case, "received_on": (today - dt.timedelta(days=ago)).isoformat(), "petitioner": petitioner}
                petition = register_case(session, library, body, actor=CLERK,
                                         jurisdiction_code="371321").petition
                found.append((petition.id, petition.number))
    finally:
        engine.dispose()
    return found


def test_case_list_counts_down_and_filters(page, sign_in, screenshot, seeded):
    sign_in(page, "yinan_clerk", next_path="/cases")
    expect(page.get_by_role("heading", level=1)).to_contain_text("信访事项")
    land = page.locator(f'tr[data-number="{seeded[0][1]}"]')
    expect(land.locator(".countdown")).to_have_text(re.compile(r"超期\d+天"))
    expect(land).to_contain_text("139****0000")  # masked in the list (13905390000)
    heating = page.locator(f'tr[data-number="{seeded[1][1]}"]')
    expect(heating.locator(".countdown")).to_have_text(re.compile(r"剩余\d+天|今日到期"))
    screenshot(page, "case-list", full_page=True)

    page.get_by_label("只看超期").check()  # htmx: the results swap, the address follows
    expect(page.locator(f'tr[data-number="{seeded[1][1]}"]')).to_have_count(0)
    expect(land).to_be_visible()
    expect(page).to_have_url(re.compile(r"overdue=1"))
    href = page.get_by_role("link", name="CSV").get_attribute("href")
    assert "overdue=1" in href and href.startswith("/cases/export.csv")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel（XLSX）").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_case_file_actions_timeline_and_notice(page, sign_in, screenshot, seeded):
    # Art. 22, 23: the office transfers the land case; the land bureau accepts it and asks for more time (Art. 34).
    case_id, number = seeded[0]
    sign_in(page, "yinan_clerk", next_path=f"/cases/{case_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator('form[data-action="accept"]')).to_have_count(0)
    transfer = page.locator('form[data-action="transfer"]')
    transfer.get_by_label("转送单位").select_option("natural_resources")
    transfer.get_by_role("button", name="转送").click()
    expect(page.locator("h1 .badge-stage")).to_have_text("已转送")

    sign_in(page, "yinan_ziran", next_path=f"/cases/{case_id}")
    page.locator('form[data-action="accept"]').get_by_role("button", name="受理").click()
    expect(page.locator("h1 .badge-stage")).to_have_text("已受理")
    expect(page.locator('#timeline li[data-action="accept"]')).to_contain_text("受理")
    expect(page.locator("#notices")).to_contain_text("受理告知书")

    extend = page.locator('form[data-action="request_extension"]')
    extend.get_by_label("延长天数").fill("40")
    extend.get_by_label("理由").fill("需要现场勘测")
    extend.get_by_role("button", name="申请延期").click()
    expect(page.locator('form[data-action="request_extension"] .problem')).to_contain_text("最多延长15日")
    screenshot(page, "case-file", full_page=True)

    with page.expect_download() as download:
        page.locator("#notices").get_by_role("link", name="下载PDF").click()
    path = download.value.path()
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF") and number.encode() in data
