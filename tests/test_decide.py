"""Tests of decide()/evaluate(): one per regulation rule, named after it, the article in a comment."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.decide import decide, evaluate
from xinfang.rules.durable_adapter import default_adapter
from xinfang.server.cli import main

NATIONAL = "000000"
# The national template filled in for 北京市 (a municipality: the province stands in for its city level).
BEIJING_COMMISSION = "中共北京市纪律检查委员会、北京市监察委员会"
DECISION_FIELDS = {"jurisdiction", "ruleset_version", "admissible", "kind", "category", "channel", "route",
                   "track", "deadlines", "flags", "trace"}


def case(**fields) -> dict:
    return {"received_on": "2024-03-01", "intake": "letter", "text": "小区供暖不热", **fields}


def dates(decision: dict) -> dict[str, str]:
    return {step: d["date"] for step, d in decision["deadlines"].items()}


# --- the Decision JSON ----------------------------------------------------------------------------

def test_decision_has_exactly_the_contract_fields(bundled):
    decision = evaluate(bundled, NATIONAL, case())
    assert set(decision) == DECISION_FIELDS
    assert decision["jurisdiction"] == "000000" and decision["ruleset_version"] == "000000@2022.1"
    assert decision["route"] == {"unit": "housing", "name": "住房和城乡建设部", "level": "national"}
    assert decision["track"] == "normal" and decision["admissible"] is True
    for deadline in decision["deadlines"].values():
        assert set(deadline) == {"date", "provisional", "source"}
        assert deadline["source"].startswith("config/rulesets/000000_national/2022-05-01.yaml:")
    assert all(set(entry["source"]) == {"file", "line"} for entry in decision["trace"])


def test_the_version_in_force_on_the_day_received(bundled):
    # DESIGN.md, Versions: a case keeps the version in force the day it was received.
    old = evaluate(bundled, NATIONAL, case(received_on="2022-04-30"))
    new = evaluate(bundled, NATIONAL, case(received_on="2022-05-01"))
    assert old["ruleset_version"] == "000000@2005.1" and new["ruleset_version"] == "000000@2022.1"
    # The 2005 regulation had no objection period; N22 Art. 23 ¶3 brought it.
    assert "objection" not in old["deadlines"] and "objection" in new["deadlines"]


# --- Civil Code Art. 201, 203: the start day is not counted; a period ending on a rest day rolls forward

def test_civil_code_roll_forward_across_national_day(bundled):
    # Art. 22, 23: 15 days from 2024-09-20 end on 10-05, inside the National Day break (10-01..10-07).
    decision = evaluate(bundled, NATIONAL, case(received_on="2024-09-20"))
    assert dates(decision)["route"] == dates(decision)["notify"] == "2024-10-08"
    assert decision["deadlines"]["route"]["provisional"] is False


def test_civil_code_roll_forward_across_spring_festival(bundled):
    # 2025-01-13 + 15 = 01-28, the first day of the Spring Festival break (01-28..02-04) → 02-05.
    assert dates(evaluate(bundled, NATIONAL, case(received_on="2025-01-13")))["route"] == "2025-02-05"


# --- Art. 23 ¶3: an objection to a wrong transfer within 5 working days --------------------------

@pytest.mark.parametrize("received, end", [
    # From Thu 2024-09-26: Fri 27, Sun 29 (a make-up working day), Mon 30, then the break, Tue 10-08, Wed 10-09.
    ("2024-09-26", "2024-10-09"),
    # From Wed 2025-01-22: Thu 23, Fri 24, Sun 26 (make-up), Mon 27, then the break, Wed 02-05.
    ("2025-01-22", "2025-02-05"),
])
def test_objection_five_working_days_with_make_up_days(bundled, received, end):
    decision = evaluate(bundled, NATIONAL, case(received_on=received))
    assert dates(decision)["objection"] == end
    assert "第二十三条第三款" in decision["deadlines"]["objection"]["source"]


# --- Art. 34: handling within 60 days of acceptance, extension at most 30 -----------------------

def test_conclusion_sixty_days_from_acceptance(bundled):
    # Art. 34: from received_on when not accepted separately; from accepted_on when given.
    assert dates(evaluate(bundled, NATIONAL, case()))["conclude"] == "2024-04-30"
    # 2024-03-05 + 60 = 05-04, a May Day rest day (05-01..05-05) → Mon 05-06.
    assert dates(evaluate(bundled, NATIONAL, case(accepted_on="2024-03-05")))["conclude"] == "2024-05-06"


def test_conclusion_sixty_plus_thirty_days_extension(bundled):
    # Art. 34: an approved extension of 30 days: 90 days from 2024-03-01 is Thu 05-30.
    decision = evaluate(bundled, NATIONAL, case(extension_days=30))
    assert dates(decision)["conclude"] == "2024-05-30"
    assert "extension 30 days" in decision["deadlines"]["conclude"]["source"]


def test_extension_above_the_bound_refused(bundled, line_of, rules_dir):
    # Art. 34: 延长期限不得超过30日.
    with pytest.raises(CaseError) as caught:
        evaluate(bundled, NATIONAL, case(extension_days=45))
    file = rules_dir / "000000_national" / "2022-05-01.yaml"
    line = line_of(file, "extension:        {days: 30")
    assert caught.value.problems == [
        "extension_days: 45 is more than the 30 days allowed "
        f"(《信访工作条例》第三十四条, config/rulesets/000000_national/2022-05-01.yaml:{line})"]


def test_extension_bound_of_the_track(local_ruleset):
    # A track may tighten the extension (Yinan: 15 days); the bound checked is the track's.
    library, issues = local_ruleset("""
        tracks:
          normal:
            time_limits:
              extension: {days: 15, unit: calendar, basis: 本地办法}
        """)
    assert issues == []
    with pytest.raises(CaseError, match=r"extension_days: 20 is more than the 15 days allowed \(本地办法, "):
        evaluate(library, "110101", case(extension_days=20))
    assert dates(evaluate(library, "110101", case(extension_days=15)))["conclude"] == "2024-05-15"


# --- Art. 35, 36: review and re-review windows, each from the date that starts it ----------------

def test_review_and_rereview_windows_from_their_dates(bundled):
    decision = evaluate(bundled, NATIONAL, case(
        answered_on="2024-04-10", review_requested_on="2024-04-20", review_answered_on="2024-05-15",
        rereview_requested_on="2024-05-20"))
    assert dates(decision) | {} == {
        "route": "2024-03-18", "notify": "2024-03-18", "objection": "2024-03-08", "conclude": "2024-04-30",
        "review_request": "2024-05-10",  # 04-10 + 30
        "review": "2024-05-20",  # 04-20 + 30
        "rereview_request": "2024-06-14",  # 05-15 + 30
        "rereview": "2024-06-19",  # 05-20 + 30 = 06-19
    }


def test_step_without_its_start_is_absent(bundled):
    assert set(evaluate(bundled, NATIONAL, case())["deadlines"]) == {"route", "notify", "objection", "conclude"}


def test_rereview_paused_by_hearings(bundled):
    # Art. 36: 听证时间不计入复核期限. 2024-06-03 + 30 = 07-03; five hearing days → Mon 07-08.
    plain = evaluate(bundled, NATIONAL, case(rereview_requested_on="2024-06-03"))
    heard = evaluate(bundled, NATIONAL, case(rereview_requested_on="2024-06-03",
                                             hearings=[{"start": "2024-06-10", "end": "2024-06-14"}]))
    assert dates(plain)["rereview"] == "2024-07-03"
    assert dates(heard)["rereview"] == "2024-07-08"
    # Hearings pause re-review only: the review clock is not paused.
    both = evaluate(bundled, NATIONAL, case(review_requested_on="2024-06-03", rereview_requested_on="2024-06-03",
                                            hearings=[{"start": "2024-06-10", "end": "2024-06-14"}]))
    assert dates(both)["review"] == "2024-07-03"


# --- BJ Art. 40: review may be extended by 30 days where Beijing's law provides it -----------------

@pytest.fixture
def beijing(local_ruleset, beijing_review_extension):
    library, issues = local_ruleset(beijing_review_extension, code="110000", name="北京市", level="province")
    assert issues == []
    return library


def test_bj_art_40_review_extended_by_an_approved_extension(beijing):
    # 2024-04-20 + 30 = 05-20; extended by 30 days, 60 days: 06-19 (a Wednesday).
    plain = evaluate(beijing, "110101", case(review_requested_on="2024-04-20"))
    extended = evaluate(beijing, "110101", case(review_requested_on="2024-04-20", extensions={"review": 30}))
    assert dates(plain)["review"] == "2024-05-20" and dates(extended)["review"] == "2024-06-19"
    assert "extension 30 days" in extended["deadlines"]["review"]["source"]
    assert "《北京市信访条例》第四十条" in extended["deadlines"]["review"]["source"]
    # Only review is extended: the other steps keep their dates.
    assert {k: v for k, v in dates(extended).items() if k != "review"} == \
        {k: v for k, v in dates(plain).items() if k != "review"}


def test_bj_art_40_a_review_extension_above_30_days_is_refused(beijing):
    with pytest.raises(CaseError, match=r"extensions.review: 31 is more than the 30 days allowed "
                                        r"\(《北京市信访条例》第四十条, "):
        evaluate(beijing, "110101", case(review_requested_on="2024-04-20", extensions={"review": 31}))


def test_art_35_no_review_extension_under_the_national_regulation_alone(bundled):
    # 《信访工作条例》第三十五条 provides no extension of review.
    with pytest.raises(CaseError, match="extensions.review: the rule set allows no extension of review"):
        evaluate(bundled, NATIONAL, case(review_requested_on="2024-04-20", extensions={"review": 10}))


def test_the_handling_extension_is_extension_days_not_extensions(bundled):
    # Art. 34: the handling period keeps its own field; `extensions` names the other steps.
    with pytest.raises(CaseError, match="extensions: the string 'conclude' is not one of"):
        evaluate(bundled, NATIONAL, case(extensions={"conclude": 10}))


def test_bj_art_40_rereview_extension_skips_hearing_days(local_ruleset):
    # Art. 36: hearing days do not count in re-review, its extension included: 2024-06-03 + 30 + 10 = 07-13 (Sat),
    # five hearing days later 07-18.
    library, issues = local_ruleset("""
        time_limits:
          rereview: {days: 30, paused_by_hearings: true, extension: {days: 10, basis: 省条例}}
        """, code="110000", name="北京市", level="province")
    assert issues == []
    decision = evaluate(library, "110101", case(rereview_requested_on="2024-06-03", extensions={"rereview": 10},
                                                hearings=[{"start": "2024-06-10", "end": "2024-06-14"}]))
    assert dates(decision)["rereview"] == "2024-07-18"


# --- DESIGN.md, Periods: a year with no known calendar is provisional, never an error ------------

def test_provisional_deadlines_into_2027(bundled):
    decision = evaluate(bundled, NATIONAL, case(received_on="2026-12-20"))
    assert decision["deadlines"]["route"] == {
        "date": "2027-01-04", "provisional": True, "source": decision["deadlines"]["route"]["source"]}
    assert decision["deadlines"]["objection"]["provisional"] is False  # 5 working days end in 2026
    assert "provisional" in decision["flags"]
    assert "provisional" not in evaluate(bundled, NATIONAL, case())["flags"]


def test_holiday_table_in_yaml_makes_2027_known(local_ruleset):
    # A year the package lacks is configured in YAML (a made-up table: 2027-01-04 as a rest day).
    library, issues = local_ruleset("""
        calendar:
          holiday_tables:
            "2027": {rest_days: [2027-01-01, 2027-01-04], working_days: []}
        """)
    assert issues == []
    decision = evaluate(library, "110101", case(received_on="2026-12-20"))
    assert decision["deadlines"]["route"]["date"] == "2027-01-05"
    assert decision["deadlines"]["route"]["provisional"] is False
    assert "provisional" not in decision["flags"]


# --- Admissibility ----------------------------------------------------------------------------------

def test_pending_elsewhere_not_accepted(bundled):
    # Art. 19 ¶3: already accepted or being handled, brought to a higher level: 不予受理.
    decision = evaluate(bundled, NATIONAL, case(history={"pending_elsewhere": True}))
    assert decision["admissible"] is False
    assert decision["reason"] == ("信访事项已经受理或者正在办理，在规定期限内向上级机关再次提出同一信访事项的，不予受理"
                                  "（《信访工作条例》第十九条第三款）")
    assert "not_admissible" in decision["flags"]
    assert list(decision) == ["jurisdiction", "ruleset_version", "admissible", "reason", "kind", "category",
                              "channel", "route", "track", "deadlines", "flags", "trace"]
    # Still registered and the petitioner told (Art. 22, 23); no handling clock runs.
    assert set(decision["deadlines"]) == {"route", "notify"}
    assert any(e["rule"] == "admissibility:pending_elsewhere" for e in decision["trace"])


def test_rereview_concluded_same_facts_not_accepted_again(bundled):
    # Art. 36 ¶3: after re-review, the same facts and reasons: 不再受理.
    refused = evaluate(bundled, NATIONAL, case(history={"rereview_concluded": True, "same_facts": True}))
    assert refused["admissible"] is False and "第三十六条第三款" in refused["reason"]
    new_facts = evaluate(bundled, NATIONAL, case(history={"rereview_concluded": True, "same_facts": False}))
    assert new_facts["admissible"] is True


def test_level_skipping_visit_refused_where_the_rule_set_says(bundled):
    # SD Art. 26: a higher level does not accept a visit that skips a level. N22 Art. 20 does not refuse.
    skipping = dict(intake="visit", receiving_level="province", competent_level="county")
    refused = evaluate(bundled, "370000", case(**skipping))
    assert refused["admissible"] is False and "《山东省信访条例》第二十六条" in refused["reason"]
    assert evaluate(bundled, NATIONAL, case(**skipping))["admissible"] is True
    # One level up is allowed (Art. 20), and a letter is no visit.
    assert evaluate(bundled, "370000", case(intake="visit", receiving_level="city",
                                            competent_level="county"))["admissible"] is True
    assert evaluate(bundled, "370000", case(intake="letter", receiving_level="province",
                                            competent_level="county"))["admissible"] is True


def test_missed_review_deadline_refused_where_the_rule_set_says(bundled):
    # SD Art. 33: a review requested after the 30-day window is not accepted. From 2024-03-01 the window
    # ends 03-31, a Sunday → Mon 04-01.
    late = case(answered_on="2024-03-01", review_requested_on="2024-04-02")
    refused = evaluate(bundled, "370000", late)
    assert refused["admissible"] is False and "《山东省信访条例》第三十三条" in refused["reason"]
    assert evaluate(bundled, "370000", case(answered_on="2024-03-01",
                                            review_requested_on="2024-04-01"))["admissible"] is True
    assert evaluate(bundled, NATIONAL, late)["admissible"] is True
    # The re-review window likewise.
    assert evaluate(bundled, "370000", case(answered_on="2024-03-01", review_requested_on="2024-03-10",
                                            review_answered_on="2024-04-01",
                                            rereview_requested_on="2024-05-20"))["admissible"] is False


def test_representatives_above_five_not_accepted(bundled):
    # Art. 20: a group visit elects at most 5 representatives.
    refused = evaluate(bundled, NATIONAL, case(intake="visit", representatives=8))
    assert refused["admissible"] is False
    assert refused["reason"] == "代表人数8人，超过上限5人（《信访工作条例》第二十条）"
    five = evaluate(bundled, NATIONAL, case(intake="visit", representatives=5))
    assert five["admissible"] is True and "group_visit" in five["flags"]
    assert "group_visit" not in evaluate(bundled, NATIONAL, case(intake="visit"))["flags"]


def test_representatives_bound_is_for_visits_only(bundled):
    # Art. 20: 多人采用走访形式提出…代表人数不超过5人: eight people signing one letter are no group visit.
    letter = evaluate(bundled, NATIONAL, case(intake="letter", representatives=8))
    assert letter["admissible"] is True and "group_visit" not in letter["flags"]


def test_every_refusal_reason_is_given(bundled):
    decision = evaluate(bundled, NATIONAL, case(intake="visit", representatives=6,
                                                history={"pending_elsewhere": True}))
    assert decision["reason"].count("（") == 2 and "代表人数6人" in decision["reason"]


# --- Classification and routing (Art. 22 ¶2, 28 ¶2, 29-31) ------------------------------------

def test_category_suggested_from_keywords_with_the_matched_words(bundled, line_of, rules_dir):
    decision = evaluate(bundled, NATIONAL, case(text="村里征地后一直未发放补偿，还有人非法占地"))
    assert decision["category"] == "12"
    assert decision["trace"][0] == {
        "rule": "classify:keywords", "category": "12", "matched": ["征地", "非法占地"],
        "source": decision["trace"][0]["source"]}
    keywords = line_of(rules_dir / "000000_national" / "2022-05-01.yaml", "keywords: [征地, 土地征收")
    assert decision["trace"][0]["source"]["line"] == keywords


def test_a_keyword_inside_a_longer_keyword_is_not_counted_twice(local_ruleset):
    # 征地拆迁 is the local category's keyword: the 征地 (12) and 拆迁 (10) inside it are not words of their own.
    library, issues = local_ruleset("""
        units:
          land: {name: 征收办, type: competent, level: county}
        classification:
          categories:
            "1201": {name: 征地拆迁补偿, unit: land, keywords: [征地拆迁, 补偿款]}
        """)
    assert issues == []
    decision = evaluate(library, "110101", case(text="征地拆迁"))
    assert decision["category"] == "1201" and decision["trace"][0]["matched"] == ["征地拆迁"]
    assert decision["route"] == {"unit": "land", "name": "征收办", "level": "county"}
    # 征地 written again on its own counts again: 12 has 征地 + 土地补偿 (2) against 1201's one.
    assert evaluate(library, "110101", case(text="征地拆迁后又征地，土地补偿未付"))["category"] == "12"


def test_category_ties_go_to_the_first_category(bundled):
    # One word of 10 (拆迁) and one of 12 (征地): the first in definition order wins.
    assert evaluate(bundled, NATIONAL, case(text="征地拆迁"))["category"] == "10"


def test_no_keyword_gives_the_default_category(bundled):
    decision = evaluate(bundled, NATIONAL, case(text="请帮忙"))
    assert decision["category"] == "99" and decision["trace"][0]["rule"] == "classify:default"
    assert decision["trace"][0]["matched"] == []


def test_given_category_must_exist(bundled):
    with pytest.raises(CaseError, match=r"category: '77' is not a category of 000000@2022.1; valid codes: 01, 02"):
        evaluate(bundled, NATIONAL, case(category="77"))
    decision = evaluate(bundled, NATIONAL, case(category="13", text="征地"))
    assert decision["category"] == "13" and decision["trace"][0]["rule"] == "classify:given"


def test_litigation_separated(bundled):
    # Art. 22 ¶2, 28 ¶2: 诉访分离, to the same-level political-legal organs.
    decision = evaluate(bundled, NATIONAL, case(text="不服法院判决，要求重审"))
    assert decision["category"] == "01" and decision["channel"] == "litigation"
    assert decision["route"]["unit"] == "political_legal"
    assert "litigation_separated" in decision["flags"]
    assert "route:litigation" in [e["rule"] for e in decision["trace"]]


def test_litigation_separated_whatever_a_local_rule_says(local_ruleset):
    library, issues = local_ruleset("""
        routing:
          rules:
            everything_local: {when: {categories: ["01", "10"]}, unit: competent, level: same}
        """)
    assert issues == []
    assert evaluate(library, "110101", case(category="01"))["route"]["unit"] == "political_legal"
    local = evaluate(library, "110101", case(category="10"))
    assert local["route"] == {"unit": "competent", "name": "有权处理的机关、单位", "level": "county"}
    assert "route:everything_local" in [e["rule"] for e in local["trace"]]


def test_accusation_to_discipline_kept_confidential(bundled):
    # Art. 30, 46(5): accusations go to discipline bodies; nothing reaches the accused.
    decision = evaluate(bundled, NATIONAL, case(text="举报某局局长受贿"))
    assert (decision["kind"], decision["category"], decision["channel"]) == ("accusation", "06", "discipline")
    assert decision["route"]["unit"] == "discipline"
    assert "accusation_confidential" in decision["flags"] and "accused_guard" not in decision["flags"]


def test_kind_given_overrides_the_category(bundled):
    decision = evaluate(bundled, NATIONAL, case(kind="accusation", category="12"))
    assert (decision["kind"], decision["channel"], decision["route"]["unit"]) == (
        "accusation", "discipline", "discipline")


HOSTILE = """
    units:
      police: {name: 郯城县公安局, type: public_security, level: county}
    routing:
      accusation: {unit: police}
      rules:
        to_police: {when: {kinds: [accusation]}, unit: police}
    """


def test_accused_guard_against_a_hostile_local_rule(local_ruleset, rules_dir):
    # Art. 30, 46(5): whatever a local rule says, an accusation never goes to the accused unit.
    library, issues = local_ruleset(HOSTILE, code="371322", name="郯城县", background=[rules_dir])
    assert any("locked" in str(issue) for issue in issues)  # validation rejects it; the engine must hold anyway
    decision = evaluate(library, "371322", case(kind="accusation", accused_unit=" 郯城县公安局 ",
                                                text="举报派出所所长受贿"))
    assert decision["route"] == {"unit": "discipline", "name": "中共临沂市纪律检查委员会、临沂市监察委员会（市纪委监委）",
                                 "level": "city"}
    assert "accused_guard" in decision["flags"]
    assert "route:guard" in [e["rule"] for e in decision["trace"]]


def test_accused_guard_when_a_local_unit_bears_the_accused_name(local_ruleset):
    library, issues = local_ruleset("""
        units:
          discipline: {name: 东城区纪委监委, type: discipline, level: county}
        """)
    assert issues == []
    accused = evaluate(library, "110101", case(text="举报区纪委监委某干部", accused_unit="东城区纪委监委"))
    assert accused["route"] == {"unit": "discipline", "name": BEIJING_COMMISSION, "level": "city"}
    assert "accused_guard" in accused["flags"]
    other = evaluate(library, "110101", case(text="举报某局局长受贿", accused_unit="东城区某局"))
    assert other["route"]["name"] == "东城区纪委监委" and "accused_guard" not in other["flags"]


def test_accused_guard_sees_through_abbreviations(local_ruleset):
    # Art. 30, 46(5): petitioners write 区纪委监委, 东城区纪委, 纪委监委 for the district's commission.
    library, issues = local_ruleset("""
        units:
          discipline: {name: 中共北京市东城区纪律检查委员会、北京市东城区监察委员会, type: discipline, level: county}
        """)
    assert issues == []
    for accused in ("东城区纪委监委", "区纪委", "纪委监委", "中共东城区纪委", "东城区监委"):
        decision = evaluate(library, "110101", case(text="举报纪委干部受贿", accused_unit=accused))
        assert "accused_guard" in decision["flags"], accused
        assert decision["route"] == {"unit": "discipline", "name": BEIJING_COMMISSION, "level": "city"}, accused
    # The commission of another place, or another body, is not the route's unit.
    for accused in ("市纪委监委", "西城区纪委", "东城区住房和城乡建设委员会"):
        decision = evaluate(library, "110101", case(text="举报某干部受贿", accused_unit=accused))
        assert "accused_guard" not in decision["flags"] and decision["route"]["level"] == "county", accused


def test_accused_guard_goes_one_level_above_the_accused_unit(local_ruleset):
    # A county that hands accusations to the city's commission (as Yinan did in 2021): an accusation
    # against that commission goes to the province's, not back to it.
    library, issues = local_ruleset("""
        units:
          discipline: {name: 北京市纪委监委, type: discipline, level: city}
        """)
    assert issues == []
    decision = evaluate(library, "110101", case(text="举报受贿", accused_unit="北京市纪委监委"))
    # 北京市 is province and city at once: its commission stands at both levels.
    assert decision["route"] == {"unit": "discipline", "name": BEIJING_COMMISSION, "level": "province"}
    assert "accused_guard" in decision["flags"]


# --- Tracks and tiers ---------------------------------------------------------------------------

TRACKS = """
    tracks:
      urgent:
        name: 紧急办
        priority: 20
        when: {keywords: [欠薪, 断水]}
        time_limits:
          route: {days: 1, unit: calendar, basis: 本地办法}
          conclude: {days: 15, unit: calendar, basis: 本地办法}
      group:
        name: 集体访
        priority: 20
        when: {intakes: [visit], min_representatives: 2}
        time_limits:
          conclude: {days: 20, unit: calendar, basis: 本地办法}
      simple:
        name: 简易办
        priority: 10
        when: {keywords: [咨询]}
        time_limits:
          conclude: {days: 10, unit: working, basis: 本地办法}
    """


def test_track_of_highest_priority_with_its_limits(local_ruleset):
    library, issues = local_ruleset(TRACKS)
    assert issues == []
    urgent = evaluate(library, "110101", case(text="咨询欠薪的问题"))
    assert urgent["track"] == "urgent"
    assert dates(urgent)["route"] == "2024-03-04"  # 03-02 is a Saturday
    assert dates(urgent)["conclude"] == "2024-03-18"  # 03-16 is a Saturday
    assert dates(urgent)["notify"] == "2024-03-18"  # not overridden: the national 15 days
    simple = evaluate(library, "110101", case(text="咨询"))
    assert simple["track"] == "simple" and dates(simple)["conclude"] == "2024-03-15"  # 10 working days
    # A tie in priority goes to the first defined.
    tie = evaluate(library, "110101", case(text="欠薪", intake="visit", representatives=3))
    assert tie["track"] == "urgent"
    assert evaluate(library, "110101", case())["track"] == "normal"
    # Every track that matched is in the trace, where its `when` is written.
    file = library.versions("110101")[0].file
    lines = open(file, encoding="utf-8").read().splitlines()
    assert tie["trace"][2:4] == [
        {"rule": "track:urgent", "source": {"file": file, "line": lines.index("    when: {keywords: [欠薪, 断水]}") + 1}},
        {"rule": "track:group", "source": {"file": file,
                                           "line": lines.index("    when: {intakes: [visit], min_representatives: 2}") + 1}}]


TIERS = """
    mediation:
      tiers:
        village:
          name: 村级化解
          level: village
          when: {keywords: [邻里]}
          time_limits:
            conclude: {days: 7, unit: calendar, basis: 本地办法}
        county:
          name: 县级化解
          level: county
          when: {min_representatives: 2}
          time_limits:
            conclude: {days: 30, unit: calendar, basis: 本地办法}
        township:
          name: 镇级化解
          level: township
          when: {categories: ["10"]}
          time_limits:
            conclude: {days: 15, unit: calendar, basis: 本地办法}
    """


def test_tier_lowest_level_first_with_its_limits(local_ruleset):
    # Yuanjiang: 小事不出村、大事不出镇、矛盾不上交; several tiers matching: the lowest level mediates first.
    library, issues = local_ruleset(TIERS)
    assert issues == []
    both = evaluate(library, "110101", case(text="邻里供暖纠纷", intake="visit", representatives=3))
    assert "tier:village" in both["flags"] and dates(both)["conclude"] == "2024-03-08"
    township = evaluate(library, "110101", case(category="10", intake="visit", representatives=3))
    assert "tier:township" in township["flags"] and dates(township)["conclude"] == "2024-03-18"
    assert not [f for f in evaluate(library, "110101", case(category="12"))["flags"] if f.startswith("tier:")]
    assert [e["rule"] for e in both["trace"]][-3:] == ["tier:village", "tier:county", "tier:township"]
    assert all(e["source"]["file"].endswith("110101_local/2024-01-01.yaml") for e in both["trace"][-3:])
    # Accusations (Art. 30) and litigation (Art. 22 ¶2) are not mediated: the national 60 days apply to an
    # accusation, and a matter for the courts leaves the petition procedure with no handling period at all.
    accusation = evaluate(library, "110101", case(text="举报邻里纠纷调解员受贿"))
    litigation = evaluate(library, "110101", case(text="不服法院关于邻里纠纷的判决"))
    for decision in (accusation, litigation):
        assert not [f for f in decision["flags"] if f.startswith("tier:")]
    assert dates(accusation)["conclude"] == "2024-04-30"
    assert "conclude" not in dates(litigation) and set(dates(litigation)) == {"route", "notify"}


# --- Input is checked before the engine sees it -----------------------------------------------

def test_wrong_types_never_reach_the_engine(bundled, monkeypatch):
    def engine_must_not_run(*args, **kwargs):
        raise AssertionError("the engine saw an invalid case")

    # decide() asserts through the adapter's trusted path (its facts are built from the validated Case):
    # both entries into the engine are watched.
    monkeypatch.setattr(default_adapter(), "evaluate", engine_must_not_run)
    monkeypatch.setattr(default_adapter(), "evaluate_trusted", engine_must_not_run)
    with pytest.raises(CaseError) as caught:
        evaluate(bundled, NATIONAL, case(representatives="8"))
    assert caught.value.problems == ["representatives: expected an integer, found the string '8'"]
    with pytest.raises(CaseError):
        evaluate(bundled, NATIONAL, case(category="77"))
    with pytest.raises(AssertionError):  # the patch is in the engine's path: a valid case reaches it
        evaluate(bundled, NATIONAL, case(representatives=3))


def test_unknown_case_fields_refused(bundled):
    with pytest.raises(CaseError, match=r"^urgency: unknown field"):
        evaluate(bundled, NATIONAL, case(urgency="high"))


# --- The trace and `at` -------------------------------------------------------------------------

def test_trace_names_file_and_line_in_a_stable_order(bundled, line_of, rules_dir):
    decision = evaluate(bundled, "370000", case(intake="visit", representatives=9, text="不服法院判决",
                                               receiving_level="province", competent_level="county"))
    rules = [e["rule"] for e in decision["trace"]]
    assert rules == ["classify:keywords", "admissibility:level_skipping_visit", "admissibility:representatives",
                     "route:litigation", "track:normal"]
    lines = (rules_dir / "370000_shandong" / "2016-01-01.yaml").read_text("utf-8").splitlines()
    assert decision["trace"][1]["source"] == {"file": "config/rulesets/370000_shandong/2016-01-01.yaml",
                                              "line": lines.index("  level_skipping_visit:") + 2}  # its `refuse`
    assert decision == evaluate(bundled, "370000", case(intake="visit", representatives=9, text="不服法院判决",
                                                        receiving_level="province", competent_level="county"))


def test_decide_as_of_a_date_disregards_later_stages(bundled):
    effective = bundled.effective(NATIONAL, dt.date(2024, 3, 1))
    parsed = parse_case(case(answered_on="2024-04-10", review_requested_on="2024-04-20"))
    then = decide(effective, parsed, at=dt.date(2024, 4, 15))
    assert "review_request" in then["deadlines"] and "review" not in then["deadlines"]
    with pytest.raises(CaseError, match="received_on: 2024-03-01 is after the evaluation date 2024-02-01"):
        decide(effective, parsed, at=dt.date(2024, 2, 1))


def test_decide_as_of_a_date_adds_the_escalations_due_that_day(bundled, line_of, rules_dir):
    # Art. 43, 44: routed within 15 days (2024-03-01 + 15 = 03-16 Sat → 03-18 Mon); route_overdue is due
    # one day after. decide() adds it itself (the scenario runner and the API read it from the decision).
    effective = bundled.effective(NATIONAL, dt.date(2024, 3, 1))
    parsed = parse_case(case())
    assert decide(effective, parsed)["deadlines"]["route"]["date"] == "2024-03-18"
    on_time = decide(effective, parsed, at=dt.date(2024, 3, 18))
    assert not [f for f in on_time["flags"] if "route" in f or f == "supervise"]
    late = decide(effective, parsed, at=dt.date(2024, 3, 19))
    assert {"supervise", "overdue:route", "escalation:route_overdue"} <= set(late["flags"])
    assert late["flags"] == sorted(late["flags"])
    national = rules_dir / "000000_national" / "2022-05-01.yaml"
    assert late["trace"][-1] == {"rule": "escalation:route_overdue", "source": {
        "file": "config/rulesets/000000_national/2022-05-01.yaml", "line": line_of(national, "name: 未按期登记转送")}}
    assert late == evaluate(bundled, NATIONAL, case(), at=dt.date(2024, 3, 19))
    # answered: route, notify and conclude are finished, so their clocks no longer escalate
    done = decide(effective, parse_case(case(answered_on="2024-03-10")), at=dt.date(2024, 3, 19))
    assert not [f for f in done["flags"] if f.startswith(("overdue:", "escalation:"))]


# --- xinfang evaluate CODE CASE.json [--at DATE] (DESIGN.md, public contract) --------------------

def test_cli_evaluate_prints_the_decision(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case(received_on="2024-09-20"), ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", "000000", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["deadlines"]["route"]["date"] == "2024-10-08"
    assert "供暖" in result.stdout and "\n  " in result.stdout  # ensure_ascii False, indent 2


def test_cli_evaluate_reads_stdin_and_prints_one_line_per_problem():
    bad = json.dumps(case(representatives="8", received_on="2024-13-01", colour="red"))
    result = CliRunner().invoke(main, ["evaluate", "000000", "-"], input=bad, catch_exceptions=False)
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and "representatives: expected an integer, found the string '8'" in lines
    too_long = json.dumps(case(extension_days=31))
    result = CliRunner().invoke(main, ["evaluate", "000000", "-"], input=too_long, catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("extension_days: 31 is more than the 30 days allowed (《信访工作条例》第三十四条, ")


def test_the_steps_a_case_may_extend_are_the_deadline_steps_of_the_procedure_table():
    # config/procedure.py: every step with a clock, but handling, whose extension is extension_days (Art. 34).
    from xinfang.config.procedure import EXTENSIONS, STEPS
    from xinfang.rules.case_input import case_schema
    extendable = case_schema()["properties"]["extensions"]["propertyNames"]["enum"]
    assert extendable == [s.name for s in STEPS if s.starts and s.name not in EXTENSIONS.values()]
