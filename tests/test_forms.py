"""Clerks' forms: computed from the rule set in force, served under /api/v1, enforced by form_problems."""

from __future__ import annotations

import datetime as dt
import shutil
import time

import jsonschema
import pytest

from xinfang.config import bundled_rules_dir
from xinfang.server.cases.forms import UnknownCategory, UnknownIntake, form_definition, form_problems
from xinfang.server.web.app import create_app

SPRING_2024 = dt.date(2024, 5, 1)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # The form routes read the rule-set library only; the database is never opened.
    folder = tmp_path_factory.mktemp("forms")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{folder / 'x.sqlite3'}"})
    return app.test_client()


@pytest.fixture(scope="module")
def yinan_visit_1201(bundled):
    return form_definition(bundled.effective("371321", SPRING_2024), "visit", "1201")


def by_name(definition):
    return {f["name"]: f for f in definition["fields"]}


def part(mapping, expected):
    """The items of `mapping` under the keys of `expected`: compared whole, so a failure shows every difference."""
    return {key: mapping.get(key) for key in expected}


def test_yinan_visit_form_for_land_compensation_has_the_county_fields(client):
    response = client.get("/api/v1/jurisdictions/371321/forms/visit?category=1201&at=2024-05-01")
    assert response.status_code == 200
    form = response.json
    assert form["ruleset_version"] == "000000@2022.1+370000@2016.1+371300@2023.1+371321@2024.1"
    assert form["category"]["name"] == "征地拆迁补偿"
    assert form["category"]["unit_name"] == "沂南县自然资源和规划局"
    fields = by_name(form)
    assert [s["title"] for s in form["sections"]] == ["信访人", "诉求", "分类"]
    assert form["sections"][2]["fields"] == ["category", "parcel_number", "compensation_amount", "compensation_method"]
    expected = {"label": "地块编号", "widget": "text", "path": "form.parcel_number", "max_length": 50,
                "hint": "以征收公告或勘测定界图上的编号为准", "section": "classification", "required": False}
    assert part(fields["parcel_number"], expected) == expected
    assert fields["compensation_amount"]["widget"] == "number" and fields["compensation_amount"]["minimum"] == 0
    assert [o["value"] for o in fields["compensation_method"]["options"]] == ["货币补偿", "产权调换", "货币补偿与产权调换结合"]
    assert fields["parcel_number"]["source"] == {"jurisdiction": "371321", "version": "2024.1"}
    extra = form["schema"]["properties"]["form"]["properties"]
    assert extra["compensation_method"]["enum"][0] == "货币补偿"
    assert extra["compensation_amount"] == {"title": "补偿金额（元）", "type": "integer", "minimum": 0,
                                            "description": "按补偿协议或补偿方案填写，单位为元（取整）"}
    assert form["schema"]["properties"]["category"]["const"] == "1201"


def test_visit_form_layout_marks_personal_data_and_requires_what_the_channel_requires(yinan_visit_1201):
    fields = by_name(yinan_visit_1201)
    assert yinan_visit_1201["sections"][0]["fields"] == ["name", "id_number", "phone", "address", "representatives"]
    assert yinan_visit_1201["sections"][1]["fields"] == ["received_on", "text", "facts", "reasons"]
    assert [n for n, f in fields.items() if f["personal"]] == ["id_number", "phone"]
    assert [n for n, f in fields.items() if f["required"]] == ["name", "received_on", "text", "category"]
    assert {f["widget"] for f in fields.values()} == {"text", "textarea", "number", "date", "select"}
    schema = yinan_visit_1201["schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["petitioner"]["required"] == ["name"]
    assert schema["properties"]["petitioner"]["properties"]["id_number"]["x-personal"] is True
    assert set(schema["required"]) == {"received_on", "text", "category", "petitioner"}


def test_representatives_are_at_most_five_on_a_visit(yinan_visit_1201):
    field = by_name(yinan_visit_1201)["representatives"]
    assert (field["minimum"], field["maximum"], field["maximum_basis"]) == (1, 5, "《信访工作条例》第二十条")
    assert yinan_visit_1201["schema"]["properties"]["representatives"]["maximum"] == 5


def test_a_litigation_category_says_where_it_goes_and_adds_no_fields(client):
    response = client.get("/api/v1/jurisdictions/371321/forms/letter?category=01&at=2024-05-01")
    assert response.status_code == 200
    form = response.json
    expected = {"code": "01", "name": "涉法涉诉", "channel": "litigation", "unit": "political_legal"}
    assert part(form["category"], expected) == expected
    assert "诉讼程序" in form["category"]["note"]
    assert form["sections"][2]["fields"] == ["category"]
    required = [f["name"] for f in form["fields"] if f["required"]]
    assert required == ["name", "address", "received_on", "text", "category"]
    assert "representatives" not in by_name(form)


def test_an_accusation_form_asks_for_the_accused_unit(bundled):
    form = form_definition(bundled.effective("371321", SPRING_2024), "online", "06")
    assert form["category"]["channel"] == "discipline"
    assert by_name(form)["accused_unit"]["path"] == "accused_unit"


def test_without_a_category_the_clerk_picks_one_or_none(bundled):
    form = form_definition(bundled.effective("371321", SPRING_2024), "phone")
    category = by_name(form)["category"]
    assert form["category"] is None and category["required"] is False
    assert {"value": "1201", "label": "1201 征地拆迁补偿"} in category["options"]
    assert "1201" in form["schema"]["properties"]["category"]["enum"]


def test_the_form_follows_the_version_in_force(client):
    # Yinan's 2021 version has no category 1201: the day before 2024 there is no such form.
    assert client.get("/api/v1/jurisdictions/371321/forms/visit?category=1201&at=2024-01-01").status_code == 200
    response = client.get("/api/v1/jurisdictions/371321/forms/visit?category=1201&at=2023-12-31")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_category"


def test_publishing_a_new_field_changes_the_form_without_a_release(tmp_path):
    national = tmp_path / "000000_national"
    national.mkdir()
    shutil.copy(bundled_rules_dir() / "000000_national" / "2022-05-01.yaml", national)
    local = tmp_path / "110101_dongcheng"
    local.mkdir()
    header = 'jurisdiction: {code: "110101", name: 东城区, level: county}\ntitle: 东城区规则集\n'
    (local / "2024-01-01.yaml").write_text(header + 'version: "2024.1"\neffective_from: 2024-01-01\n'
                                           "intake:\n  group_visit: {max_representatives: 3, basis: 东城区办法}\n",
                                           encoding="utf-8")
    (local / "2025-01-01.yaml").write_text(header + 'version: "2025.1"\neffective_from: 2025-01-01\n'
                                           "intake:\n"
                                           "  channels:\n"
                                           "    visit: {fields: [name, workplace, text, representatives],"
                                           " required: [name, workplace, text]}\n"
                                           "  fields:\n"
                                           "    workplace: {label: 工作单位, type: string, max_length: 100,"
                                           " hint: 填写全称}\n", encoding="utf-8")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RULES_DIR": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    client = app.test_client()
    before = client.get("/api/v1/jurisdictions/110101/forms/visit?at=2024-06-01").json
    after = client.get("/api/v1/jurisdictions/110101/forms/visit?at=2025-06-01").json
    assert "workplace" not in by_name(before)
    expected = {"label": "工作单位", "required": True, "path": "form.workplace", "section": "request", "hint": "填写全称"}
    assert part(by_name(after)["workplace"], expected) == expected
    assert after["ruleset_version"] == "000000@2022.1+110101@2025.1"
    assert [f["name"] for f in after["fields"]][:3] == ["name", "representatives", "received_on"]
    # The 2025 version inherits nothing from 2024: the national maximum of 5 is back.
    assert by_name(before)["representatives"]["maximum"] == 3
    assert by_name(after)["representatives"]["maximum"] == 5
    assert form_problems(after, {"received_on": "2025-06-01", "text": "请求", "petitioner": {"name": "张三"}}) == [
        {"field": "form.workplace", "message": "工作单位为必填项"}]
    assert form_problems(before, {"received_on": "2024-06-01", "text": "请求", "petitioner": {"name": "张三"},
                                  "representatives": 4}) == [
        {"field": "representatives", "message": "代表人数不得超过3人（东城区办法）"}]


def test_a_field_pattern_is_matched_in_linear_time_at_intake(bundled):
    # `^(a+)+$` backtracks in Python's `re`: 27 letters and a "!" take it seconds; RE2 answers at once.
    definition = form_definition(bundled.effective("371321", SPRING_2024), "visit", "1201")
    fields = [dict(f, pattern="^(a+)+$", max_length=None) if f["name"] == "parcel_number" else f for f in definition["fields"]]
    hostile = dict(definition, fields=fields)
    started = time.monotonic()
    for length in (24, 27):
        problems = form_problems(hostile, {"received_on": "2024-05-01", "text": "请求", "petitioner": {"name": "张三"},
                                           "category": "1201", "form": {"parcel_number": "a" * length + "!"}})
        assert {"field": "form.parcel_number", "message": "地块编号格式不正确（以征收公告或勘测定界图上的编号为准）"} in problems
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("url", "status", "code"), [
    ("/api/v1/jurisdictions/371321/forms/telegram", 404, "unknown_intake"),
    ("/api/v1/jurisdictions/999999/forms/visit", 404, "unknown_jurisdiction"),
    ("/api/v1/jurisdictions/371321/forms/visit?at=2024-13-01", 400, "bad_date"),
    ("/api/v1/jurisdictions/371321/forms/visit?at=", 400, "bad_date"),
    ("/api/v1/jurisdictions/371321/forms/visit?at=2000-01-01", 404, "no_ruleset_in_force"),
    ("/api/v1/jurisdictions/371321/forms/visit?category=7777", 404, "unknown_category"),
])
def test_form_errors_are_json(client, url, status, code):
    response = client.get(url)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_the_form_list_names_channels_and_categories(client):
    listing = client.get("/api/v1/jurisdictions/371321/forms?at=2024-05-01").json
    assert {"code": "hotline", "name": "12345政务服务便民热线"} in listing["intakes"]
    assert {"code": "1201", "name": "征地拆迁补偿", "has_form_fields": True} in listing["categories"]


def test_unknown_names_raise(bundled):
    effective = bundled.effective("371321", SPRING_2024)
    with pytest.raises(UnknownIntake):
        form_definition(effective, "pigeon")
    with pytest.raises(UnknownCategory):
        form_definition(effective, "visit", "0000")


# form_problems: the server-side check, in the clerk's words

VALID = {"intake": "visit", "received_on": "2024-05-06", "text": "征地补偿款未足额发放", "category": "1201",
         "representatives": 3, "petitioner": {"name": "张三", "id_number": "37132119800101001X", "phone": "13800000000"},
         "form": {"parcel_number": "YN-2023-017", "compensation_amount": 120000, "compensation_method": "货币补偿"}}


def test_a_complete_submission_has_no_problems(yinan_visit_1201):
    assert form_problems(yinan_visit_1201, VALID) == []
    jsonschema.validate(VALID, yinan_visit_1201["schema"])


@pytest.mark.parametrize(("change", "expected"), [
    ({"petitioner": {"phone": "13800000000"}}, [("petitioner.name", "姓名为必填项")]),
    ({"petitioner": {"name": "   "}}, [("petitioner.name", "姓名为必填项")]),
    ({"text": None}, [("text", "信访请求为必填项")]),
    ({"representatives": 6}, [("representatives", "代表人数不得超过5人（《信访工作条例》第二十条）")]),
    ({"representatives": 0}, [("representatives", "代表人数不得小于1")]),
    ({"representatives": "5"}, [("representatives", "代表人数应为整数")]),
    ({"petitioner": {"name": "张三", "id_number": "12345"}}, [("petitioner.id_number", "身份证号码格式不正确")]),
    ({"petitioner": {"name": "张" * 51}}, [("petitioner.name", "姓名不得超过50字")]),
    ({"petitioner": "张三"}, [("petitioner", "信访人信息应为一个对象")]),
    ({"received_on": "2024-02-30"}, [("received_on", "收到日期应为日期（年-月-日，如2024-05-01）")]),
    ({"category": "12"}, [("category", "内容分类应为1201，与表单不符（请按所选分类重新打开表单）")]),
    ({"intake": "letter"}, [("intake", "信访形式应为走访，与表单不符")]),
    ({"form": {"compensation_method": "现金"}},
     [("form.compensation_method", "补偿方式应为以下之一：货币补偿、产权调换、货币补偿与产权调换结合")]),
    ({"form": {"compensation_amount": -1, "bank_account": "6222"}},
     [("form.compensation_amount", "补偿金额（元）不得小于0"), ("form.bank_account", "本表单没有“bank_account”这一项")]),
])
def test_each_problem_names_its_field_in_chinese(yinan_visit_1201, change, expected):
    submitted = {**VALID, **change}
    assert [(p["field"], p["message"]) for p in form_problems(yinan_visit_1201, submitted)] == expected
    # What the server refuses, the published JSON Schema refuses too (a blank name: minLength 1 after trimming).
    if change != {"petitioner": {"name": "   "}}:
        assert not jsonschema.Draft202012Validator(yinan_visit_1201["schema"],
                                                   format_checker=jsonschema.FormatChecker()).is_valid(submitted)


def test_an_empty_submission_lists_every_required_field(yinan_visit_1201):
    assert form_problems(yinan_visit_1201, {}) == [
        {"field": "petitioner.name", "message": "姓名为必填项"},
        {"field": "received_on", "message": "收到日期为必填项"},
        {"field": "text", "message": "信访请求为必填项"},
        {"field": "category", "message": "内容分类为必填项"},
    ]
    assert form_problems(yinan_visit_1201, ["not", "a", "case"]) == [{"field": "case", "message": "登记内容应为一个对象"}]


def test_form_problems_work_on_the_definition_as_served(client):
    # The workflow may hold the JSON the API served rather than the Python dict: the check reads only that.
    served = client.get("/api/v1/jurisdictions/371321/forms/visit?category=1201&at=2024-05-01").json
    assert form_problems(served, {**VALID, "representatives": 9})[0]["message"].startswith("代表人数不得超过5人")


@pytest.mark.parametrize("code", ["000000", "360700", "371100", "371321", "430981"])
@pytest.mark.parametrize("channel", ["letter", "online", "visit"])
def test_art_19_the_written_and_online_forms_ask_who_petitions_as_the_repeat_check_reads_it(bundled, code, channel):
    # 《信访工作条例》第十九条第三款: a repeat petition is found by the same petitioner — an ID number, or a name and
    # phone (server/cases/identity.py) — so every form where a person writes in offers both.
    fields = bundled.effective(code, dt.date(2025, 6, 1)).get(f"intake.channels.{channel}")["fields"]
    assert {"name", "id_number", "phone"} <= set(fields), fields
