"""网上信访's pages under /public/ (DESIGN.md "Contract additions"): the petitioner submits, follows, rates and asks
for review in plain HTML forms, on a phone, without JavaScript and without an account
(《信访工作条例》第十七条、第十九条、第二十二条、第二十三条、第三十五条)."""

from __future__ import annotations

import re

import pytest

from petitioners import TEXT, ZHANGGONG, Petitioner, answered, id_number, on_file, petitioner, staff
from xinfang.config import today_in_china

@pytest.fixture
def visitor(fresh):
    return Petitioner(fresh)


def test_the_landing_page_lists_the_places_open_online_and_finds_others_by_name(client):
    # Art. 17: petitions may be submitted over the internet where the rule set opens it (赣州: public.online_intake).
    html = client.get("/public/").get_data(as_text=True)
    assert "赣州市" in html and f'href="/public/{ZHANGGONG}/new"' in html
    found = client.get("/public/?q=沂南").get_data(as_text=True)
    assert "沂南县" in found and "暂未开通网上信访" in found and "/public/371321/new" not in found


def test_a_place_not_open_online_says_so_in_chinese(client):
    response = client.get("/public/371321/new")
    assert response.status_code == 404 and "沂南县暂未开通网上信访" in response.get_data(as_text=True)
    assert client.get("/public/999999/new").status_code == 404


def test_the_form_is_the_rule_sets_online_form_with_real_name_and_no_script(client):
    # 赣州市: 实名; the page works as a plain form on a phone.
    html = client.get(f"/public/{ZHANGGONG}/new").get_data(as_text=True)
    for name in ("petitioner.name", "petitioner.id_number", "petitioner.phone", "text"):
        assert f'name="{name}"' in html
    assert 'name="received_on"' not in html  # received today, online: nothing to choose
    assert "<script" not in html and 'name="viewport"' in html
    assert "信访规则管理" not in html and "退出" not in html  # no staff header


def test_the_preview_shows_the_category_the_unit_and_the_deadlines_and_registers_nothing(visitor, fresh):
    # Art. 22, 23: where it goes and by when, before sending.
    page = visitor.send("preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "提交后将这样办理" in html and "办理去向" in html and "登记转送" in html and "确认提交" in html
    assert "年" in html and "第二十二条" in html
    assert visitor.track("360702-2026-000001", "ABCDEFGHJKLM").status_code == 404  # nothing registered


def test_a_petition_sent_gives_its_number_and_query_code_once(visitor):
    # DESIGN.md: the query code is shown once; the receipt lists the deadlines.
    response = visitor.send()
    html = response.get_data(as_text=True)
    number, code = re.search(r'<output id="number">([^<]+)</output>', html).group(1), \
        re.search(r'<output id="query-code">([^<]+)</output>', html).group(1)
    assert number.startswith(f"{ZHANGGONG}-{today_in_china().year}-") and len(code) == 12
    assert response.headers["Cache-Control"] == "no-store" and "Location" not in response.headers
    assert "只在本页显示这一次" in html and "办理办结" in html
    assert visitor.track(number, code).status_code == 200


@pytest.mark.parametrize("changes, field, words", [
    ({"id_number": id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1")}, "petitioner.id_number", "校验码"),
    ({"phone": "12345"}, "petitioner.phone", "手机号码"),
], ids=["check digit", "phone"])
def test_the_identity_check_is_told_beside_its_field(visitor, changes, field, words):
    # 赣州市: 实名验证 (GB 11643 check digit, the phone's form).
    response = visitor.send(person=petitioner(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    box = html[html.index(f'name="{field}"'):]
    assert words in box[:box.index("</div>")]


def test_the_same_matter_twice_is_refused_naming_the_first_case(visitor):
    # Art. 19 ¶3, 赣州市 智能判重: told before sending, and refused when sent anyway.
    number, _ = visitor.receipt()
    preview = visitor.send("preview").get_data(as_text=True)
    assert "提出过同一事项" in preview and number in preview and "确认提交" not in preview
    again = visitor.send()
    assert again.status_code == 422 and number in again.get_data(as_text=True)


def test_an_unknown_number_and_a_wrong_code_read_the_same(visitor):
    number, _ = visitor.receipt()
    wrong = visitor.track(number, "ABCDEFGHJKLM")
    unknown = visitor.track(number[:-1] + ("9" if number[-1] != "9" else "8"), "ABCDEFGHJKLM")
    assert wrong.status_code == unknown.status_code == 404
    message = "编号或查询码不正确"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_wrong_query_codes_are_rate_limited_in_chinese(demo_database, app_for, tmp_path):
    import shutil
    path = tmp_path / "x.sqlite3"
    shutil.copy(demo_database.removeprefix("sqlite:///"), path)
    visitor = Petitioner(app_for(f"sqlite:///{path}", QUERY_CODE_LIMIT_PER_CASE="2 per 15 minutes"))
    number, code = visitor.receipt()
    for _ in range(2):
        assert visitor.track(number, "WRONGWRONG22").status_code == 404
    refused = visitor.track(number, code)
    assert refused.status_code == 429 and "错误次数过多" in refused.get_data(as_text=True)


def test_the_case_page_shows_the_stage_deadlines_answer_and_notices(visitor, fresh):
    # Art. 23, 32: the petitioner is told it was accepted, and the answer; the notice prints as PDF.
    number, code = visitor.receipt()
    answered(fresh, number)
    html = visitor.track(number, code).get_data(as_text=True)
    assert "已办结" in html and "补偿款发放进度" in html and "受理告知书" in html
    assert "提出异议" not in html  # the units' window among themselves, not the petitioner's
    pdf = visitor.post("/public/track/notice", number=number, query_code=code, kind="accept")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"


def test_an_unsatisfied_rating_offers_the_review_within_its_window(visitor, fresh):
    # Art. 35: an unsatisfied petitioner may ask for review within the window, to the body above.
    number, code = visitor.receipt()
    answered(fresh, number)
    rated = visitor.post("/public/track/rating", number=number, query_code=code, rating="unsatisfied", comment="未说清")
    html = rated.get_data(as_text=True)
    assert rated.status_code == 200 and "评价已提交" in html and "不满意" in html
    assert "申请复查" in html and "赣州市" in html and "前请求复查" in html
    assert "提交评价" not in html  # one rating a case
    review = visitor.post("/public/track/review", number=number, query_code=code, reason="补偿标准计算有误")
    assert review.status_code == 200 and "复查申请已提交" in review.get_data(as_text=True)
    session, petition = on_file(fresh, number)
    with session:
        assert petition.stage == "review_requested"


def test_a_rating_before_the_answer_is_refused_in_chinese(visitor):
    number, code = visitor.receipt()
    refused = visitor.post("/public/track/rating", number=number, query_code=code, rating="satisfied")
    assert refused.status_code == 422 and "尚未办结答复" in refused.get_data(as_text=True)


def test_a_public_form_without_its_csrf_token_is_refused(fresh):
    response = fresh.test_client().post(f"/public/{ZHANGGONG}/new", data={"intent": "submit", "text": TEXT})
    assert response.status_code == 400


def test_staff_act_on_a_case_sent_from_the_pages(visitor, fresh):
    number, code = visitor.receipt()
    staff(fresh, number, ("accept", {}))
    assert "已受理" in visitor.track(number, code).get_data(as_text=True)
