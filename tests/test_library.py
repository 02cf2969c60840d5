"""What validation refuses: a rule set that breaks the format, the jurisdiction tree, its dates, or the law above it.

Each test writes a small rule set into tmp_path and checks it as `xinfang validate` does, with the
bundled rule sets as the levels above (`RuleSetLibrary.collect(paths, background=[bundled_rules_dir()])`).
Every refusal must name the FILE and LINE to edit; a refusal under a bound must also name the bound's
source: the file and line that set it, and the article it rests on.
"""

from __future__ import annotations

import re
import textwrap
import time
from datetime import date

import pytest

from xinfang.config import RuleSetLibrary, bundled_library, bundled_rules_dir

NATIONAL = "000000_national/2022-05-01.yaml"
NATIONAL_FILE = bundled_rules_dir() / NATIONAL
ART_20, ART_23, ART_30, ART_34 = "第二十条", "第二十三条第三款", "第三十条", "第三十四条"
ART_46_5 = "第四十六条第五项"
# Hostile files must be refused before they cost anything: well under what expanding them would take.
FAST_SECONDS = 5.0


def only_issue(lines: list[str], file: str, line: int) -> str:
    """The single issue reported, checked to be a `FILE:LINE:COL: message` line at `file`, `line`."""
    assert len(lines) == 1, "\n".join(lines)
    issue = lines[0]
    assert re.match(rf"^(.*[/\\])?{re.escape(file)}:{line}:\d+: \S", issue), issue
    assert f"{file}:{line}:" in issue
    return issue


# --- the bundled rule sets ----------------------------------------------------------------------


def test_bundled_rule_sets_load_with_no_issues(rules_dir):
    _, issues = RuleSetLibrary.collect([rules_dir])
    assert [str(i) for i in issues] == []
    library = bundled_library()
    assert {"000000", "370000", "371300", "371321", "430981"} <= set(library.codes())


def test_the_effective_rule_set_shares_what_depends_on_the_chain_alone(bundled):
    # Merging and collecting bounds are done once per chain of versions: every day, every jurisdiction
    # inheriting the same chain gets the same objects; the day and the jurisdiction stay its own.
    june, july = bundled.effective("371321", date(2024, 6, 1)), bundled.effective("371321", date(2024, 7, 1))
    assert june.merged is july.merged and june.bounds is july.bounds and june.bounds
    assert (june.at, july.at) == (date(2024, 6, 1), date(2024, 7, 1))
    county = bundled.effective("110101", date(2024, 6, 1))  # inherits the national version alone
    assert county.merged is bundled.effective("000000", date(2024, 6, 1)).merged
    assert county.jurisdiction.code == "110101"
    before = bundled.effective("371321", date(2023, 12, 31))  # Yinan 2021: another chain
    assert before.merged is not june.merged and before.version_label.endswith("371321@2021.1")


def test_a_county_that_tightens_every_bound_is_accepted(write_ruleset, issues_against_bundled):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        time_limits:
          conclude:  {days: 37, unit: working}
          extension: {days: 15, unit: calendar}
        intake:
          group_visit: {max_representatives: 3}
        routing:
          accusation: {never_to_accused: true}
        bounds:
          time_limits.extension.days: {max: 20, basis: 沂南县办法}
        """)
    assert issues_against_bundled(county) == []


# --- the file itself: YAML and the schema ---------------------------------------------------------


def test_a_key_written_twice_is_refused(write_ruleset, issues_against_bundled):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        time_limits:
          route: {days: 1}
          route: {days: 2}
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 6)
    assert "duplicate key 'route'" in issue and "line 5" in issue


def test_an_unknown_key_is_refused_with_a_suggestion(write_ruleset, issues_against_bundled):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        time_limits:
          conclude: {days: 30, dayz: 3}
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 5)
    assert "unknown key 'dayz'" in issue and "did you mean 'days'" in issue


@pytest.mark.parametrize(("value", "expected"), [
    ('"30"', "expected an integer, found the string '30' (remove the quotes)"),
    ("30.5", "expected an integer, found the number 30.5"),
    ("[30]", "expected an integer, found a list"),
], ids=["quoted", "fraction", "list"])
def test_a_value_of_the_wrong_type_is_refused(write_ruleset, issues_against_bundled, value, expected):
    county = write_ruleset("county.yaml", f"""\
        jurisdiction: {{code: "371321", name: 沂南县, level: county}}
        version: "2025.1"
        effective_from: 2025-01-01
        time_limits:
          conclude:
            days: {value}
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 6)
    assert "time_limits.conclude.days" in issue and expected in issue


# --- the jurisdiction tree ------------------------------------------------------------------------


def test_a_new_jurisdiction_must_have_a_parent_that_exists(write_ruleset, issues_against_bundled):
    # 371399 is not in the national division data; its declared parent 371398 is in neither the data nor a rule set.
    zone = write_ruleset("zone.yaml", """\
        jurisdiction:
          code: "371399"
          name: 沂南经济开发区
          level: county
          parent: "371398"
        version: "2024.1"
        effective_from: 2024-01-01
        """)
    issue = only_issue(issues_against_bundled(zone), "zone.yaml", 5)
    assert "parent 371398 of 371399 does not exist" in issue


def test_a_new_jurisdiction_must_name_its_parent(write_ruleset, issues_against_bundled):
    zone = write_ruleset("zone.yaml", """\
        jurisdiction:
          code: "371399"
          name: 沂南经济开发区
          level: county
        version: "2024.1"
        effective_from: 2024-01-01
        """)
    issue = only_issue(issues_against_bundled(zone), "zone.yaml", 2)
    assert "not in the national division data" in issue and "jurisdiction.parent" in issue


def test_two_development_zones_naming_each_other_as_parent_are_a_cycle(write_ruleset, issues_against_bundled):
    east = write_ruleset("zones/east.yaml", """\
        jurisdiction:
          code: "371391"
          name: 临沂东部开发区
          level: county
          parent: "371392"
        version: "2024.1"
        effective_from: 2024-01-01
        """)
    write_ruleset("zones/west.yaml", """\
        jurisdiction:
          code: "371392"
          name: 临沂西部开发区
          level: county
          parent: "371391"
        version: "2024.1"
        effective_from: 2024-01-01
        """)
    lines = issues_against_bundled(east.parent)
    assert len(lines) == 2, lines
    assert "east.yaml:5:" in lines[0] and "cycle: 371391 → 371392 → 371391" in lines[0]
    assert "west.yaml:5:" in lines[1] and "cycle: 371392 → 371391 → 371392" in lines[1]


def test_a_development_zone_with_an_existing_parent_is_accepted(write_ruleset, issues_against_bundled):
    zone = write_ruleset("zone.yaml", """\
        jurisdiction:
          code: "371391"
          name: 临沂经济技术开发区
          level: county
          parent: "371300"
        version: "2024.1"
        effective_from: 2024-01-01
        """)
    assert issues_against_bundled(zone) == []


# --- effective dates and version names -----------------------------------------------------------


def test_two_versions_may_not_be_in_force_on_overlapping_days(write_ruleset, issues_against_bundled):
    write_ruleset("yinan/2025-01-01.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        effective_until: 2025-12-31
        """)
    later = write_ruleset("yinan/2025-06-01.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.2"
        effective_from: 2025-06-01
        """)
    first, second = issues_against_bundled(later.parent)
    assert "2025-01-01.yaml:4:" in first and "runs until 2025-12-31" in first and "2025-06-01.yaml" in first
    assert "2025-06-01.yaml:3:" in second and "effective dates overlap" in second and "2025-01-01.yaml" in second


def test_two_versions_may_not_take_effect_on_the_same_day(write_ruleset, issues_against_bundled):
    write_ruleset("yinan/a.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        """)
    second = write_ruleset("yinan/b.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.2"
        effective_from: 2025-01-01
        """)
    first, second = issues_against_bundled(second.parent)
    assert "a.yaml:3:" in first and "same as version 2025.2" in first and "b.yaml" in first
    assert "b.yaml:3:" in second and "same as version 2025.1" in second and "a.yaml" in second


def test_a_new_version_may_not_take_effect_on_the_day_a_bundled_one_does(write_ruleset, issues_against_bundled):
    # The bundled Yinan 2024.1 takes effect on 2024-01-01; a second version that day would be ambiguous.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2024.2"
        effective_from: 2024-01-01
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 3)
    assert "2024-01-01" in issue and "2024.1" in issue and "371321_yinan/2024-01-01.yaml" in issue


def test_a_new_version_may_not_run_into_a_bundled_one(write_ruleset, issues_against_bundled):
    # Runs until the end of 2024, but the bundled Yinan 2024.1 is in force from 2024-01-01.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2023.1"
        effective_from: 2023-01-01
        effective_until: 2024-12-31
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 4)
    assert "overlap" in issue and "2024.1" in issue and "371321_yinan/2024-01-01.yaml" in issue


def test_a_version_name_may_not_be_used_twice(write_ruleset, issues_against_bundled):
    write_ruleset("yinan/a.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        """)
    second = write_ruleset("yinan/b.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2026-01-01
        """)
    issue = only_issue(issues_against_bundled(second.parent), "b.yaml", 2)
    assert "version '2025.1' of 371321 is already defined in" in issue and "a.yaml" in issue


# --- bounds set by the level above (a county may tighten, never loosen) ---------------------------

YINAN_2025 = 'jurisdiction: {code: "371321", name: 沂南县, level: county}\nversion: "2025.1"\neffective_from: 2025-01-01\n'


def yinan(body: str) -> str:
    """A 沂南县 2025 rule set: the header (lines 1-3), then `body` from line 4."""
    return YINAN_2025 + textwrap.dedent(body)


# (body, line of the refusal, what it says, the bound it names): each against 《信访工作条例》.
BEYOND_A_BOUND = {
    # 第三十四条: 信访事项应当自受理之日起60日内办结
    "art34-handling-90-days": ("time_limits:\n  conclude: {days: 90, unit: calendar}\n", 5,
                               "time_limits.conclude.days: 90 calendar days is above the bound of 60",
                               "time_limits.conclude.days", ART_34),
    # 第三十四条: 延长期限不得超过30日
    "art34-extension-45-days": ("time_limits:\n  extension: {days: 45, unit: calendar}\n", 5,
                                "time_limits.extension.days: 45 calendar days is above the bound of 30",
                                "time_limits.extension.days", ART_34),
    # 第二十条: 多人采用走访形式提出共同的信访事项的，应当推选代表，代表人数不超过5人
    "art20-8-representatives": ("intake:\n  group_visit:\n    max_representatives: 8\n", 6,
                                "intake.group_visit.max_representatives: 8 is above the bound of 5",
                                "intake.group_visit.max_representatives", ART_20),
    # 第三十四条, through the bound on every track (tracks.*)
    "art34-track-handling-75-days": (
        "tracks:\n  slow:\n    name: 慢办\n    time_limits:\n      conclude: {days: 75, unit: calendar}\n", 8,
        "tracks.slow.time_limits.conclude.days: 75 calendar days is above the bound of 60",
        "tracks.*.time_limits.conclude.days", ART_34),
    # 第三十四条: 38 working days can span 38 + 2×8 + 7 = 61 calendar days, over 60.
    "art34-38-working-days": ("time_limits:\n  conclude: {days: 38, unit: working}\n", 5,
                              "38 working days (up to 61 calendar days) is above the bound of 60",
                              "time_limits.conclude.days", ART_34),
    # 第三十四条: a county may bound its townships more tightly than 60 days, never more loosely.
    "art34-county-bound-max-90": ("bounds:\n  time_limits.conclude.days: {max: 90, basis: 沂南县办法}\n", 5,
                                  "bounds.time_limits.conclude.days: max 90 loosens the bound of 60",
                                  "time_limits.conclude.days", ART_34),
    # 第三十四条: 45 working days can span 45 + 2×9 + 7 = 70 calendar days, over 60.
    "art34-county-bound-45-working-days": (
        "time_limits:\n  conclude: {days: 30, unit: working}\n"
        "bounds:\n  time_limits.conclude.days: {max: 45, unit: working, basis: 沂南县办法}\n", 7,
        "max 45 working days (up to 70 calendar days) loosens the bound of 60", "time_limits.conclude.days", ART_34),
    # 第三十四条: the national bound covers tracks.* and so tracks.normal.
    "art34-county-bound-on-one-track": (
        "bounds:\n  tracks.normal.time_limits.conclude.days: {max: 90, basis: 沂南县办法}\n", 5,
        "max 90 loosens the bound of 60", "tracks.*.time_limits.conclude.days", ART_34),
    # 第二十三条第三款: 5 working days to object to a wrong transfer, at least.
    "art23-3-county-bound-min-3": ("bounds:\n  time_limits.objection.days: {min: 3, basis: 沂南县办法}\n", 5,
                                   "min 3 loosens the bound of 5", "time_limits.objection.days", ART_23),
    # 第二十二条第二款、第四十六条第五项: locked by the national baseline.
    "art46-5-never-to-accused-switched-off": (
        "routing:\n  accusation:\n    never_to_accused: false\n", 6,
        "routing.accusation.never_to_accused: false changes a locked item; it is locked at true",
        "routing.accusation.never_to_accused", ART_46_5),
    # 第四十六条第五项: a locked item may not be removed either.
    "art46-5-never-to-accused-removed": (
        "remove:\n  - routing.accusation.never_to_accused\n", 5,
        "would remove the locked item routing.accusation.never_to_accused",
        "routing.accusation.never_to_accused", ART_46_5),
}


@pytest.mark.parametrize(("body", "line", "message", "bound", "article"), BEYOND_A_BOUND.values(),
                         ids=BEYOND_A_BOUND.keys())
def test_what_breaks_a_national_bound_is_refused_at_its_line(write_ruleset, issues_against_bundled, national_bound,
                                                             body, line, message, bound, article):
    issue = only_issue(issues_against_bundled(write_ruleset("county.yaml", yinan(body))), "county.yaml", line)
    assert message in issue
    assert national_bound(bound) in issue and article in issue


@pytest.mark.parametrize("body", [
    "time_limits:\n  conclude: {days: 37, unit: working}\n",  # 第三十四条: 37 working days span 59 calendar days at most
    "time_limits:\n  objection: {days: 18, unit: calendar}\n",  # 第二十三条第三款: 18 days hold 5 working days at least
    "time_limits:\n  conclude: {days: 40}\nbounds:\n  time_limits.conclude.days: {max: 45, basis: 沂南县办法}\n",
], ids=["art34-37-working-days", "art23-3-18-calendar-days", "county-bound-max-45"])
def test_what_stays_within_the_national_bounds_is_accepted(write_ruleset, issues_against_bundled, body):
    assert issues_against_bundled(write_ruleset("county.yaml", yinan(body))) == []


def test_a_limit_may_not_switch_to_working_days_without_restating_its_days(write_ruleset, issues_against_bundled):
    # 《信访工作条例》第三十四条: the inherited 60 days, read as working days, would span up to 91 calendar days;
    # a time limit names its days wherever it is written, so it is measured against the bound.
    county = write_ruleset("county.yaml", yinan("time_limits:\n  conclude:\n    unit: working\n"))
    issue = only_issue(issues_against_bundled(county), "county.yaml", 5)
    assert "time_limits.conclude: missing required key 'days'" in issue


def test_a_version_is_checked_against_each_national_version_in_force_during_its_life(write_ruleset,
                                                                                     issues_against_bundled):
    # Yinan's 2021 version was in force under 《信访条例》 (2005, Art. 33: 60 days) until 2022-04-30, then under
    # 《信访工作条例》 (Art. 34: 60 days): handling in 90 days breaks each, and each is named.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2021.1"
        effective_from: 2021-01-01
        time_limits:
          conclude: {days: 90, unit: calendar}
        """)
    under_2005, under_2022 = issues_against_bundled(county)
    assert "county.yaml:5:" in under_2005 and "000000_national/2005-05-01.yaml:" in under_2005
    assert "《信访条例》第三十三条" in under_2005 and "in force from" not in under_2005
    assert "county.yaml:5:" in under_2022 and f"{NATIONAL}:" in under_2022 and ART_34 in under_2022
    assert under_2022.endswith("(in force from 2022-05-01)")


def test_a_bound_that_arrives_later_is_reported_once(write_ruleset, issues_against_bundled, national_bound):
    # 《信访工作条例》第二十三条第三款 (from 2022-05-01): at least 5 working days to object; 《信访条例》 had no such
    # step. Linyi's first version (2023-01-01) changes the chain again; the problem is told once, with its date.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2021.1"
        effective_from: 2021-01-01
        time_limits:
          objection: {days: 3, unit: working}
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 5)
    assert "3 working days is below the bound of 5" in issue and national_bound("time_limits.objection.days") in issue
    assert ART_23 in issue and issue.endswith("(in force from 2022-05-01)")


# --- accusations never go to the accused (Art. 30, 46(5)) -----------------------------------------


@pytest.mark.parametrize("when", ["{kinds: [accusation]}", '{categories: ["06"]}'], ids=["by-kind", "by-category"])
def test_a_routing_rule_may_not_send_accusations_to_a_non_discipline_unit(write_ruleset, issues_against_bundled,
                                                                           when):
    # 《信访工作条例》第三十条、第四十六条第五项: 检举控告类事项交纪检监察机关，不得转交被检举控告的人员和单位
    county = write_ruleset("county.yaml", f"""\
        jurisdiction: {{code: "371321", name: 沂南县, level: county}}
        version: "2025.1"
        effective_from: 2025-01-01
        routing:
          rules:
            graft_to_the_town:
              when: {when}
              unit: competent
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 8)
    assert "routing rule 'graft_to_the_town' can send accusations to 'competent'" in issue
    assert ART_30 in issue and ART_46_5 in issue


def test_accusations_may_not_be_routed_away_from_the_discipline_body(write_ruleset, issues_against_bundled,
                                                                     national_bound):
    # 《信访工作条例》第三十条: routing.accusation.unit is locked to the discipline body.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        routing:
          accusation:
            unit: competent
        """)
    lines = issues_against_bundled(county)
    assert lines and all("county.yaml:6:" in line for line in lines), lines
    locked = [line for line in lines if "locked" in line]
    assert len(locked) == 1 and national_bound("routing.accusation.unit") in locked[0] and ART_30 in locked[0]


# --- locks and removals ---------------------------------------------------------------------------


def test_removing_the_section_that_holds_a_locked_item_is_refused(write_ruleset, issues_against_bundled):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        remove:
          - routing.accusation
        """)
    lines = issues_against_bundled(county)
    assert lines and all("county.yaml:5:" in line for line in lines), lines
    assert any("routing.accusation.never_to_accused" in line and NATIONAL in line for line in lines)
    assert any("routing.accusation.unit" in line and ART_30 in line for line in lines)


def test_only_what_is_inherited_can_be_removed(write_ruleset, issues_against_bundled):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        remove:
          - escalation.steps.conclude_overdue_long
          - routing.rules.no_such_rule
        """)
    issue = only_issue(issues_against_bundled(county), "county.yaml", 6)
    assert "'routing.rules.no_such_rule' is not inherited from the level above" in issue


def test_a_lock_on_a_whole_mapping_covers_every_value_in_it(write_ruleset, issues_against_bundled):
    # A city locks the whole 'pending elsewhere' rule (《信访工作条例》第十九条第三款); a county may not change its parts.
    city = write_ruleset("rules/linyi.yaml", """\
        jurisdiction: {code: "371300", name: 临沂市, level: city}
        version: "2023.1"
        effective_from: 2023-01-01
        bounds:
          admissibility.pending_elsewhere: {locked: true, basis: 《信访工作条例》第十九条第三款}
        """)
    write_ruleset("rules/yinan.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        admissibility:
          pending_elsewhere:
            refuse: false
        """)
    issue = only_issue(issues_against_bundled(city.parent), "yinan.yaml", 6)
    assert "changes a locked item" in issue and "linyi.yaml:5" in issue and "第十九条第三款" in issue


# --- hostile YAML: refused fast, with a clear message ---------------------------------------------


def refused_fast(issues_against_bundled, path) -> str:
    started = time.perf_counter()
    lines = issues_against_bundled(path)
    elapsed = time.perf_counter() - started
    assert elapsed < FAST_SECONDS, f"took {elapsed:.1f} s"
    assert len(lines) == 1, lines
    return lines[0]


def test_an_alias_bomb_is_refused_before_it_expands(write_ruleset, issues_against_bundled):
    # Nine levels of nine aliases each would expand to 9**9 (387 million) strings.
    levels = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = write_ruleset("bomb.yaml", "\n".join(levels) + "\n")
    issue = refused_fast(issues_against_bundled, bomb)
    assert issue.startswith(f"{bomb}:1:") and "anchor '&l0' is not allowed" in issue


@pytest.mark.parametrize(("text", "line"), [
    ("time_limits: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),                       # flow: [[[[…]]]]
    ("".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "leaf\n", 51),   # block: 60 indented keys
], ids=["flow", "block"])
def test_deep_nesting_is_refused(write_ruleset, issues_against_bundled, text, line):
    deep = write_ruleset("deep.yaml", text)
    issue = refused_fast(issues_against_bundled, deep)
    assert f"deep.yaml:{line}:" in issue and "nesting is deeper than 50 levels" in issue


def test_a_file_of_many_megabytes_is_refused_unread(write_ruleset, issues_against_bundled):
    big = write_ruleset("big.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        """)
    with big.open("a", encoding="utf-8") as handle:
        handle.write("change_note: '" + "长" * 7_000_000 + "'\n")  # 21 MB of UTF-8
    issue = refused_fast(issues_against_bundled, big)
    assert "big.yaml:1:1:" in issue and "file is 21.0 MB; rule sets are limited to 2.0 MB" in issue


def test_a_file_that_is_not_utf8_is_refused(write_ruleset, issues_against_bundled):
    # Saved as GBK, as some Windows editors do.
    gbk = write_ruleset("gbk.yaml", (
        'jurisdiction: {code: "371321", name: 沂南县, level: county}\n'
        'version: "2025.1"\n'
        "effective_from: 2025-01-01\n"
        "title: 沂南县信访工作实施办法\n").encode("gbk"))
    issue = refused_fast(issues_against_bundled, gbk)
    assert "gbk.yaml:1:" in issue and "not valid UTF-8" in issue and "save it as UTF-8" in issue
