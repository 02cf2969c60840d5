"""The effective rule set: national → province → city → county → township, each value with where it was written.

Mostly on the bundled rule sets, as `xinfang resolve` shows them: Yinan County (371321) under Linyi
(371300) and Shandong (370000); Dongcheng (110101), which has no rule set of its own; the township
Sijihong (430981102) under Yuanjiang (430981), with no Hunan or Yiyang rule set between.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xinfang.config import NoRuleSetInForce, RuleSetLibrary, Source, bundled_library
from xinfang.config.inheritance import walk_leaves

NATIONAL_2005 = "000000_national/2005-05-01.yaml"
NATIONAL_2022 = "000000_national/2022-05-01.yaml"
SHANDONG_2016 = "370000_shandong/2016-01-01.yaml"
LINYI_2023 = "371300_linyi/2023-01-01.yaml"
YINAN_2021 = "371321_yinan/2021-01-01.yaml"
YINAN_2024 = "371321_yinan/2024-01-01.yaml"
YUANJIANG_2023 = "430981_yuanjiang/2023-06-01.yaml"
SIJIHONG_2024 = "430981102_sijihong/2024-01-01.yaml"


def on(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def written_at(source: Source) -> str:
    """The text of the line a source points at, so a test can check it is the line that sets the value."""
    return Path(source.file).read_text("utf-8").splitlines()[source.line - 1]


def labels(effective) -> list[str]:
    return [v.label for v in effective.chain]


@pytest.fixture(scope="module")
def library() -> RuleSetLibrary:
    return bundled_library()


# --- a county under its city, province and the nation ---------------------------------------------


def test_yinan_shows_its_own_values_with_their_source(library):
    yinan = library.effective("371321", on("2024-06-01"))
    # 问题流转不过夜: routed within 1 day (Yinan 2024), within Linyi's 7 and the national 15.
    assert yinan.get("time_limits.route.days") == 1
    route = yinan.source_of("time_limits.route.days")
    assert route.file.endswith(YINAN_2024) and (route.jurisdiction, route.version) == ("371321", "2024.1")
    assert "route: {days: 1," in written_at(route)
    # 复杂问题跟踪办: the normal track is Yinan's own name; its handling limit is the national 60 days.
    assert yinan.get("tracks.normal.name") == "复杂问题跟踪办"
    assert yinan.source_of("tracks.normal.name").jurisdiction == "371321"
    assert yinan.get("tracks.normal.time_limits.conclude.days") is None
    # Extensions at most 15 days, on every track (the national 30 no longer reaches 提速办 or 当日办).
    assert yinan.get("time_limits.extension.days") == 15
    extension = yinan.source_of("time_limits.extension.days")
    assert extension.file.endswith(YINAN_2024) and "extension: {days: 15," in written_at(extension)
    assert yinan.get("units.petition_office.name") == "沂南县信访局"


def test_yinan_inherits_the_national_values_with_their_source(library):
    yinan = library.effective("371321", on("2024-06-01"))
    # 《信访工作条例》第三十四条: 60 days (Yinan tightens only its tracks, and the extension to 15);
    # 第二十三条: 15 days to notify; 第二十条: 5 representatives.
    for path, value, line in [("time_limits.conclude.days", 60, "conclude:         {days: 60,"),
                              ("time_limits.notify.days", 15, "notify:           {days: 15,"),
                              ("intake.group_visit.max_representatives", 5, "max_representatives: 5"),
                              ("routing.accusation.unit", "discipline", "unit: discipline")]:
        source = yinan.source_of(path)
        assert yinan.get(path) == value
        assert source.file.endswith(NATIONAL_2022) and source.jurisdiction == "000000", path
        assert line in written_at(source), path


def test_yinan_inherits_from_shandong_and_linyi_too(library):
    yinan = library.effective("371321", on("2024-06-01"))
    # 《山东省信访条例》第二十六条: a visit that skips a level is not accepted.
    assert yinan.get("admissibility.level_skipping_visit.refuse") is True
    skipping = yinan.source_of("admissibility.level_skipping_visit.refuse")
    assert skipping.file.endswith(SHANDONG_2016) and "refuse: true" in written_at(skipping)
    # Linyi: an overdue case gets a supervision letter.
    assert yinan.get("escalation.steps.conclude_overdue.letter") is True
    assert yinan.source_of("escalation.steps.conclude_overdue.letter").file.endswith(LINYI_2023)
    # Mappings merge key by key: Linyi adds the letter to the national step, whose other values stay national.
    assert yinan.source_of("escalation.steps.conclude_overdue.action").file.endswith(NATIONAL_2022)


def test_every_value_of_the_effective_rule_set_has_a_source(library):
    yinan = library.effective("371321", on("2024-06-01")).to_json()
    leaves = [".".join(map(str, path)) for path, _ in walk_leaves(yinan["ruleset"])]
    assert leaves and sorted(yinan["sources"]) == sorted(leaves)
    files = {source["file"] for source in yinan["sources"].values()}
    assert {Path(f).parent.name for f in files} == {"000000_national", "370000_shandong", "371300_linyi",
                                                     "371321_yinan"}
    assert all(source["line"] >= 1 and source["col"] >= 1 for source in yinan["sources"].values())


def test_the_bounds_in_force_are_shown_with_their_source(library, line_of, rules_dir):
    bounds = library.effective("371321", on("2024-06-01")).to_json()["bounds"]
    conclude = next(b for b in bounds if b["path"] == "time_limits.conclude.days")
    assert conclude["max"] == 60 and "第三十四条" in conclude["basis"] and conclude["set_by"] == "000000@2022.1"
    assert conclude["file"].endswith(NATIONAL_2022)
    assert conclude["line"] == line_of(rules_dir / NATIONAL_2022, "  time_limits.conclude.days:")
    assert {"371300@2023.1", "370000@2016.1"} <= {b["set_by"] for b in bounds}


# --- explicit removal ----------------------------------------------------------------------------


def test_an_inherited_item_is_removed_only_explicitly_and_its_source_goes_with_it(write_ruleset, rules_dir):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        remove:
          - escalation.steps.conclude_warning
          - classification.categories.16
        """)
    library, issues = RuleSetLibrary.collect([county], background=[rules_dir])
    assert issues == []
    linyi = library.effective("371300", on("2025-06-01"))
    yinan = library.effective("371321", on("2025-06-01"))
    # Linyi's advance warning and the national category 16 (卫生健康) are there above, gone in Yinan.
    assert linyi.get("escalation.steps.conclude_warning.before_days") == 5
    assert linyi.get("classification.categories.16.name") == "卫生健康"
    assert yinan.get("escalation.steps.conclude_warning") is None
    assert yinan.get("classification.categories.16") is None
    sources = yinan.to_json()["sources"]
    assert not [p for p in sources if p.startswith(("escalation.steps.conclude_warning.", "classification.categories.16."))]
    # Everything else stays, with its source.
    assert yinan.get("escalation.steps.conclude_overdue.letter") is True
    assert yinan.get("classification.categories.15.name") == "教育"
    assert sources["classification.categories.15.name"]["file"].endswith(NATIONAL_2022)


# --- which version is in force, at every level ---------------------------------------------------


def test_a_county_2024_version_applies_over_the_province_2016_one(library):
    yinan = library.effective("371321", on("2024-06-01"))
    assert labels(yinan) == ["000000@2022.1", "370000@2016.1", "371300@2023.1", "371321@2024.1"]
    assert yinan.version_label == "000000@2022.1+370000@2016.1+371300@2023.1+371321@2024.1"
    assert yinan.own_version.effective_from == on("2024-01-01")


@pytest.mark.parametrize(("day", "expected"), [
    ("2020-01-01", ["000000@2005.1", "370000@2016.1"]),                       # before Yinan's first version
    ("2021-01-01", ["000000@2005.1", "370000@2016.1", "371321@2021.1"]),
    ("2022-04-30", ["000000@2005.1", "370000@2016.1", "371321@2021.1"]),      # 《信访条例》's last day
    ("2022-05-01", ["000000@2022.1", "370000@2016.1", "371321@2021.1"]),      # 《信访工作条例》 in force
    ("2022-12-31", ["000000@2022.1", "370000@2016.1", "371321@2021.1"]),      # Linyi has no version yet
    ("2023-12-31", ["000000@2022.1", "370000@2016.1", "371300@2023.1", "371321@2021.1"]),
    ("2024-01-01", ["000000@2022.1", "370000@2016.1", "371300@2023.1", "371321@2024.1"]),
])
def test_each_level_contributes_the_version_in_force_that_day(library, day, expected):
    assert labels(library.effective("371321", on(day))) == expected


def test_the_2021_version_of_yinan_applied_until_2024(library):
    yinan = library.effective("371321", on("2023-06-01"))
    assert yinan.get("tracks.normal.time_limits.conclude.days") == 45
    assert yinan.source_of("tracks.normal.time_limits.conclude.days").file.endswith(YINAN_2021)


def test_on_2020_01_01_the_2005_national_version_applies(library):
    yinan = library.effective("371321", on("2020-01-01"))
    assert labels(yinan)[0] == "000000@2005.1" and yinan.own_version is None
    # 《信访条例》第三十六条 had a 30-day feedback after supervision; 《信访工作条例》 has none, nor did 2005 have
    # the 5-working-day objection of 《信访工作条例》第二十三条第三款.
    assert yinan.get("time_limits.supervision_feedback.days") == 30
    assert yinan.get("time_limits.objection") is None
    conclude = yinan.source_of("time_limits.conclude.days")
    assert conclude.file.endswith(NATIONAL_2005) and conclude.version == "2005.1"
    assert "《信访条例》" in yinan.get("time_limits.conclude.basis")
    assert all("《信访条例》" in b.spec["basis"] for b in yinan.bounds if b.version.code == "000000")


def test_before_any_national_version_is_a_clear_error_naming_the_earliest_date(library):
    with pytest.raises(NoRuleSetInForce) as caught:
        library.effective("371321", on("2004-06-01"))
    message = str(caught.value)
    assert "沂南县 (371321)" in message and "2004-06-01" in message
    assert "earliest national version" in message and "2005-05-01" in message


# --- jurisdictions without a rule set of their own, and townships ---------------------------------


def test_a_district_with_no_rule_set_of_its_own_inherits_the_national_one(library):
    dongcheng = library.effective("110101", on("2024-06-01"))
    assert dongcheng.jurisdiction.name == "东城区" and labels(dongcheng) == ["000000@2022.1"]
    assert dongcheng.own_version is None and dongcheng.to_json()["inherits"] is True
    national = library.effective("000000", on("2024-06-01"))
    assert dongcheng.data == national.data
    sources = dongcheng.to_json()["sources"]
    assert sources and all(s["file"].endswith(NATIONAL_2022) for s in sources.values())
    assert dongcheng.get("time_limits.conclude.days") == 60


def test_a_township_merges_national_then_yuanjiang_then_its_own(library):
    sijihong = library.effective("430981102", on("2024-06-01"))
    # No Hunan (430000) or Yiyang (430900) rule set: nothing is added between the nation and Yuanjiang.
    assert [j.code for j in library.tree.ancestors("430981102")] == ["000000", "430000", "430900", "430981",
                                                                     "430981102"]
    assert labels(sijihong) == ["000000@2022.1", "430981@2023.1", "430981102@2024.1"]
    assert sijihong.to_json()["inherits"] is False
    # Its own: the township tier concludes in 10 days, within Yuanjiang's bound of 15.
    township = "mediation.tiers.township.time_limits.conclude.days"
    assert sijihong.get(township) == 10 and sijihong.source_of(township).file.endswith(SIJIHONG_2024)
    # Yuanjiang's: the village tier, 7 days.
    village = "mediation.tiers.village.time_limits.conclude.days"
    assert sijihong.get(village) == 7 and sijihong.source_of(village).file.endswith(YUANJIANG_2023)
    # National: handling in 60 days.
    assert sijihong.source_of("time_limits.conclude.days").file.endswith(NATIONAL_2022)
    # Key by key: the township widens category 11's keywords; its name stays the national one.
    assert "稻谷补贴" in sijihong.get("classification.categories.11.keywords")
    assert sijihong.source_of("classification.categories.11.keywords").file.endswith(SIJIHONG_2024)
    assert sijihong.source_of("classification.categories.11.name").file.endswith(NATIONAL_2022)


def test_a_development_zone_inherits_from_the_parent_it_names(write_ruleset, rules_dir):
    zone = write_ruleset("zone.yaml", """\
        jurisdiction:
          code: "371391"
          name: 临沂经济技术开发区
          level: county
          parent: "371300"
        version: "2024.1"
        effective_from: 2024-01-01
        time_limits:
          route: {days: 2, unit: calendar}
        """)
    library, issues = RuleSetLibrary.collect([zone], background=[rules_dir])
    assert issues == []
    effective = library.effective("371391", on("2024-06-01"))
    assert labels(effective) == ["000000@2022.1", "370000@2016.1", "371300@2023.1", "371391@2024.1"]
    assert effective.get("time_limits.route.days") == 2
    assert Path(effective.source_of("time_limits.route.days").file).resolve() == zone.resolve()


def test_jurisdictions_on_the_same_chain_share_one_rule_set_each_under_its_own_name(library):
    # Dongcheng and Xicheng (Beijing) both inherit the national baseline alone.
    dongcheng = library.effective("110101", on("2024-06-01")).to_json()
    xicheng = library.effective("110102", on("2024-06-01")).to_json()
    assert (dongcheng["jurisdiction"]["name"], xicheng["jurisdiction"]["name"]) == ("东城区", "西城区")
    for part in ("chain", "ruleset", "sources", "bounds"):
        assert dongcheng[part] == xicheng[part]
    again = library.effective("110101", on("2024-06-01")).to_json()
    assert again == dongcheng and again is not dongcheng
