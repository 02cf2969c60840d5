"""What the public may do, per jurisdiction (the rule set's `public` section), with the bounds the level above sets:
online intake on or off, the categories offered, anonymous accusations, the rating scale, 智能判重's window
(issue 13; 《信访工作条例》第十七条、第二十二条第二款、第三十条、第四十六条第五项)."""

from __future__ import annotations

import re

import pytest

from petitioners import Petitioner, id_number, on_file, petitioner
from xinfang.server.accounts import system_actor
from xinfang.server.cases.visibility import visible_case

ACCUSATION = "举报东城区某局副局长收受工程老板贿赂，为其违规办理审批"

ANONYMOUS_COUNTY = """\
    jurisdiction: {code: "110101", name: 东城区, level: county}
    version: "2024.1"
    effective_from: 2024-01-01
    title: 测试规则集（匿名检举控告）
    public:
      online_intake: true
      anonymous_accusations: true
      basis: 测试
    """


@pytest.fixture
def anonymous_app(app_with_ruleset):
    return app_with_ruleset(ANONYMOUS_COUNTY)


def send(app, case, anonymous=True, code="110101"):
    return app.test_client().post("/api/v1/public/petitions",
                                  json={"jurisdiction": code, "case": case, "anonymous": anonymous})


def test_an_anonymous_accusation_is_accepted_where_the_rule_set_allows_it(anonymous_app):
    # Art. 22 ¶2, 30: an accusation goes to the discipline body; where the rule set accepts it, without a name,
    # the query code the only way back.
    response = send(anonymous_app, {"text": ACCUSATION, "accused_unit": "东城区某局"})
    assert response.status_code == 201, response.json
    body = response.json
    session, petition = on_file(anonymous_app, body["number"])
    with session:
        assert petition.kind == "accusation" and petition.route_unit == "discipline" and petition.confidential
        assert "anonymous" in petition.flags and "petitioner" not in petition.case_json
        assert petition.petitioner_key is None
    view = anonymous_app.test_client().get(f"/api/v1/public/petitions/{body['number']}",
                                           headers={"X-Query-Code": body["query_code"]})
    assert view.status_code == 200 and view.json["kind"] == "accusation"


def test_only_an_accusation_may_be_sent_anonymously(anonymous_app):
    # Art. 17, 19: a petition names its petitioner; only 检举控告 may come without one.
    response = send(anonymous_app, {"text": "小区楼下饭店夜间噪音扰民，请求处理"})
    assert response.status_code == 422 and response.json["error"]["code"] == "anonymous_not_accusation"


def test_an_anonymous_accusation_carries_no_identity(anonymous_app):
    response = send(anonymous_app, {"text": ACCUSATION, "petitioner": petitioner(id_number=id_number(region="110101"))})
    assert response.status_code == 422 and response.json["error"]["code"] == "anonymous_with_identity"


def test_anonymous_accusations_are_refused_where_the_rule_set_says_nothing(client):
    # 赣州市: 检举控告实名提交 (public.anonymous_accusations false, locked for its counties).
    response = send(client.application, {"text": ACCUSATION}, code="360702")
    assert response.status_code == 403 and response.json["error"]["code"] == "anonymous_not_allowed"


def test_the_anonymous_accusers_case_is_shown_to_the_discipline_body_only(anonymous_app):
    # Art. 46(5): the accusation to nobody but the discipline body.
    number = send(anonymous_app, {"text": ACCUSATION, "accused_unit": "东城区某局"}).json["number"]
    clerk = system_actor("东城区登记员", roles=("clerk",), jurisdiction_code="110101")
    session, petition = on_file(anonymous_app, number)
    with session:
        assert visible_case(petition, clerk, in_list=False)["petitioner"] is None


def test_the_public_page_offers_anonymity_only_where_allowed(anonymous_app, client):
    visitor = Petitioner(anonymous_app)
    form = visitor.client.get("/public/110101/new").get_data(as_text=True)
    assert 'name="anonymous"' in form
    assert 'name="anonymous"' not in client.get("/public/360702/new").get_data(as_text=True)
    asked = visitor.post("/public/110101/new", intent="preview", anonymous="on", text=ACCUSATION)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200, html
    assert 'name="petitioner.name"' not in html and "纪检监察机关" in html
    sent = visitor.post("/public/110101/new", intent="submit", anonymous="on", text=ACCUSATION)
    receipt = sent.get_data(as_text=True)
    assert sent.status_code == 201 and "唯一凭据" in receipt
    number = re.search(r'<output id="number">([^<]+)</output>', receipt).group(1)
    assert number.startswith("110101-")
    other = visitor.post("/public/110101/new", intent="submit", anonymous="on", text="小区楼下饭店夜间噪音扰民，请求处理")
    assert other.status_code == 422 and "只有检举控告事项可以匿名提交" in other.get_data(as_text=True)


@pytest.mark.parametrize("setting, words", [
    ("anonymous_accusations: true", "public.anonymous_accusations"),
    ("similar_text: {threshold: 60, window_days: 30, basis: 测试}", "public.similar_text.window_days"),
], ids=["anonymity locked by 赣州", "智能判重 window no shorter than 赣州's"])
def test_a_county_stays_within_the_citys_bounds_on_the_public_side(local_ruleset, setting, words):
    # 赣州市 bounds its counties: 检举控告实名提交 (locked), 智能判重 over at least 90 days.
    from xinfang.config import bundled_rules_dir
    ganzhou = bundled_rules_dir() / "360700_ganzhou"
    _, issues = local_ruleset(f"public:\n  online_intake: true\n  {setting}\n  basis: 测试\n", code="360702",
                              name="章贡区", background=[bundled_rules_dir() / "000000_national", ganzhou])
    assert any(words in str(issue) for issue in issues), issues
