"""Cases go to real units (《信访工作条例》第二十一条、第二十二条: 转送、交办有权处理的机关、单位), named in the rule sets."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from xinfang.config import RuleSetLibrary
from xinfang.config.units import catch_all_warnings, destinations, is_generic, named_units
from xinfang.rules.decide import evaluate
from xinfang.server.cases.errors import Invalid
from xinfang.server.cases.workflow import act

from test_admin_cases import HEATING, days_ago, register

ON = dt.date(2025, 6, 3)
CATCH_ALL = "有权处理的机关、单位"


def route(library, code: str, text: str, intake: str = "letter") -> dict:
    return evaluate(library, code, {"received_on": ON.isoformat(), "intake": intake, "text": text})["route"]


def test_a_noise_letter_in_yinan_goes_to_the_ecology_branch(bundled):
    # Art. 21, 22: 转送有权处理的机关. 沂南县's environment matters go to the city bureau's county branch, the
    # name 沂南县's rule set writes out for its unit `ecology` (its townships' cases too: the unit sits in the county).
    for code in ("371321", "371321101"):
        assert route(bundled, code, "楼下工厂夜间噪音扰民") == {
            "unit": "ecology", "name": "临沂市生态环境局沂南县分局", "level": "county"}


@pytest.mark.parametrize("code, name", [
    ("430981", "沅江市人力资源和社会保障局"),  # the national template alone
    ("371322", "郯城县人力资源和社会保障局"),  # under 临沂市, which names no labour unit of its own
    ("430981102", "沅江市人力资源和社会保障局"),  # a township: the bureau sits no lower than the county (lowest)
])
def test_a_labour_matter_goes_to_the_human_resources_bureau_of_its_county(bundled, code, name):
    # Art. 21, 22 and 属地管理（Art. 5(3)）: the national baseline's `{jurisdiction}人力资源和社会保障局`, filled in.
    found = route(bundled, code, "公司拖欠工资三个月")
    assert found["unit"] == "human_resources" and found["name"] == name and found["level"] == "county"


def test_an_accusation_still_goes_to_a_discipline_body_never_to_the_accused(bundled):
    # Art. 22 ¶2, 30, 46(5): the accused county bureau is not where it goes; the county commission, named.
    decision = evaluate(bundled, "371321", {"received_on": ON.isoformat(), "intake": "letter", "category": "06",
                                            "text": "举报县住建局某科长受贿", "accused_unit": "沂南县住房和城乡建设局"})
    assert decision["route"]["unit"] == "discipline" and "纪律检查委员会" in decision["route"]["name"]


def test_litigation_still_goes_to_the_political_legal_organs(bundled):
    # Art. 22 ¶2, 28 ¶2 (诉访分离).
    assert route(bundled, "430981", "不服法院判决，要求再审")["name"] == "中共沅江市委政法委员会"


def test_every_bundled_jurisdiction_names_a_real_unit_for_every_category_it_routes(bundled):
    # Art. 21, 22: no bundled rule set leaves a category of the petition procedure at the catch-all.
    assert catch_all_warnings(bundled, {v.file for v in bundled.all_versions()}) == []
    for code in ("000000", "370000", "371300", "371321", "360700", "430981", "430981114"):
        for unit in named_units(bundled.effective(code, ON)).values():
            assert "{" not in unit["name"], (code, unit)


COUNTY_AT_THE_CATCH_ALL = """\
jurisdiction: {code: "430981", name: 沅江市, level: county}
version: "2099.1"
effective_from: 2099-01-01
title: 测试规则集
basis: 测试
change_note: 测试
classification:
  categories:
    "14":
      unit: competent
      basis: 测试
"""


def test_a_category_left_at_the_catch_all_is_a_warning_not_an_error(xinfang, write_ruleset, rules_dir):
    # Art. 21, 22: the officer is told, at the line, which category goes to no real unit; the file stays valid.
    path = write_ruleset("430981_yuanjiang/2099-01-01.yaml", COUNTY_AT_THE_CATCH_ALL)
    result = xinfang("validate", str(path), "--rules", str(rules_dir))
    assert result.exit_code == 0 and result.stdout == ""
    assert re.search(rf"{re.escape(str(path))}:10:\d+: warning: category 14 goes to '{CATCH_ALL}'", result.stderr)


def test_the_warning_reads_in_chinese_for_the_editor(write_ruleset, rules_dir):
    # Art. 21, 22: the editor lists it under 提示, in the officer's words, at the same line.
    path = write_ruleset("430981_yuanjiang/2099-01-01.yaml", COUNTY_AT_THE_CATCH_ALL)
    library, issues = RuleSetLibrary.collect([path], background=[rules_dir])
    assert issues == []
    (warning,) = catch_all_warnings(library, {v.file for v in library.all_versions() if v.version == "2099.1"})
    assert warning.position.line == 10 and "分类“14 生态环境”" in warning.chinese and CATCH_ALL in warning.chinese


def test_the_transfer_list_offers_real_units_of_the_county_and_its_townships(bundled):
    # Art. 22: 转送、交办 to a unit of the jurisdiction or of the level below; never a kind of body (仲裁机构,
    # 有权处理的机关、单位) nor the receiving office itself.
    effective = bundled.effective("371321", ON)
    offered = destinations(effective, bundled)
    names = [d.name for d in offered]
    assert "临沂市生态环境局沂南县分局" in names and "沂南县教育和体育局" in names
    assert "界湖街道党政综合办公室" in names and any(d.key.startswith("371321101:") for d in offered)
    units = effective.get("units")
    assert not any(is_generic(units.get(d.key)) for d in offered)
    assert CATCH_ALL not in names and "沂南县信访局" not in names
    assert "沂南县劳动人事争议仲裁委员会" not in names  # Art. 31(2): told where to apply, never transferred
    assert all("{" not in n for n in names)


def test_the_case_page_offers_the_real_units(app, sign_in):
    # Art. 22: what the clerk picks from is the list above.
    case_id, _ = register(app, HEATING, days_ago(0))
    html = sign_in(app, "yinan_clerk").text(f"/cases/{case_id}")
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', html)
    offered = dict(options)
    assert offered.get("housing") == "沂南县住房和城乡建设局" and offered.get("ecology") == "临沂市生态环境局沂南县分局"
    assert CATCH_ALL not in offered.values() and "competent" not in offered


def test_the_workflow_refuses_a_kind_of_body(app):
    # Art. 22: a transfer to the catch-all names no unit, so no one would handle the case.
    from xinfang.server.accounts import system_actor
    from xinfang.server.rulesets.library_store import library_of
    from xinfang.server.store.db import get_session
    case_id, _ = register(app, HEATING, days_ago(0))
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            act(get_session(), library_of(app), case_id, "transfer", {"unit": "competent"},
                actor=system_actor("clerk"))
        assert "competent" in str(refused.value)
        petition = act(get_session(), library_of(app), case_id, "transfer", {"unit": "371321101:government_office"},
                       actor=system_actor("clerk"))
        assert petition.route_unit == "371321101:government_office"
        assert petition.events[-1].detail["unit_name"] == "岸堤镇党政综合办公室"
        get_session().commit()


def test_the_case_file_names_the_unit_it_was_transferred_to(app, sign_in):
    # Art. 22: the 承办单位 on the case file is the unit transferred to, a township's included.
    from xinfang.server.accounts import system_actor
    from xinfang.server.rulesets.library_store import library_of
    from xinfang.server.store.db import get_session
    case_id, _ = register(app, HEATING, days_ago(0))
    with app.app_context():
        act(get_session(), library_of(app), case_id, "transfer", {"unit": "371321101:government_office"},
            actor=system_actor("clerk"))
        get_session().commit()
    html = sign_in(app, "yinan_supervisor").text(f"/cases/{case_id}")
    assert '<dd class="route-unit">岸堤镇党政综合办公室</dd>' in html


def test_the_rule_sets_unit_comes_chosen_in_the_transfer_list(app, sign_in):
    # Art. 22: the clerk transfers to the unit the rule set names (临沂市生态环境局沂南县分局 for noise), or picks another.
    case_id, _ = register(app, {**HEATING, "text": "楼下工厂夜间噪音扰民"}, days_ago(0))
    html = sign_in(app, "yinan_clerk").text(f"/cases/{case_id}")
    assert re.search(r'<option value="ecology" selected>临沂市生态环境局沂南县分局</option>', html)


def test_a_unit_name_knows_only_the_jurisdiction_placeholder(xinfang, write_ruleset, rules_dir):
    # Art. 21, 22: a name the engine cannot fill in would route to no unit; refused at its line.
    path = write_ruleset("430981_yuanjiang/2099-01-01.yaml", COUNTY_AT_THE_CATCH_ALL.replace(
        "classification:", 'units:\n  ecology: {name: "{county}生态环境局"}\nclassification:'))
    result = xinfang("validate", str(path), "--rules", str(rules_dir))
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(path))}:8:\d+: units.ecology.name: '{{county}}生态环境局'", result.stdout)


def test_the_case_list_filters_by_real_units(app, sign_in):
    # Art. 21, 22: a supervisor picks the unit by its name (沂南县卫生健康局), not a template or a kind of body.
    html = sign_in(app, "yinan_supervisor").text("/cases?jurisdiction=371321")
    options = dict(re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', html))
    assert options["health"] == "沂南县卫生健康局" and options["ecology"] == "临沂市生态环境局沂南县分局"
    assert "competent" not in options and not any("{" in name for name in options.values())
