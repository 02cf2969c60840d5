"""Superior law binds a limit wherever the format lets it be written: the rule set's own time_limits, every
track's, every mediation tier's, and any holder the schema adds later (config/limit_holders.py).

Each test writes the loosening limit in every place the schema allows it (the places are read from the
schema, not listed here) and sees it refused at the line of its `days`, naming the national bound's file,
line and article. 110101 东城区 inherits the national baseline alone.
"""

from __future__ import annotations

import copy

import pytest

from xinfang.config import limit_holders as holders_module
from xinfang.config import validate_schema
from xinfang.config.limit_holders import limit_holders, limit_paths, own_limits_holder
from xinfang.config.validate_schema import load_schema

HEADER = 'jurisdiction: {code: "110101", name: 东城区, level: county}\nversion: "2025.1"\neffective_from: 2025-01-01\n'
NATIONAL_RULE = "全国 (000000@2022.1)"
HOLDERS = limit_holders()
HOLDER_IDS = [".".join(holder) for holder in HOLDERS]


def limit_at(holder: tuple[str, ...], step: str, spec: dict) -> tuple[str, int]:
    """A county rule set writing `spec` as the limit of `step` in `holder` ('*' → local), and the line of `days`."""
    lines = HEADER.splitlines()
    for depth, key in enumerate(holder + (step,)):
        lines.append("  " * depth + f"{'local' if key == '*' else key}:")
    depth = len(holder) + 1
    for key, value in spec.items():
        lines.append("  " * depth + f"{key}: {value}")
    return "\n".join(lines) + "\n", lines.index("  " * depth + f"days: {spec['days']}") + 1


@pytest.fixture
def refused_at(write_ruleset, issues_against_bundled):
    """`refused_at(holder, step, spec)`: the one issue of that county rule set, checked to be at the line of `days`."""

    def refuse(holder, step, spec) -> str:
        text, line = limit_at(holder, step, spec)
        county = write_ruleset("county.yaml", text)
        lines = issues_against_bundled(county)
        assert len(lines) == 1, "\n".join(lines)
        assert lines[0].startswith(f"{county}:{line}:"), lines[0]
        where = ".".join("local" if key == "*" else key for key in holder + (step, "days"))
        assert lines[0].split(": ", 1)[1].startswith(f"{where}: "), lines[0]
        return lines[0]

    return refuse


def test_the_places_a_limit_can_be_written_come_from_the_schema():
    # The rule set's own time_limits first: a bound written there binds the step in every holder.
    assert HOLDERS == (("time_limits",), ("tracks", "*", "time_limits"), ("mediation", "tiers", "*", "time_limits"))
    assert own_limits_holder() == ("time_limits",)
    assert limit_paths("route")[1] == ("tracks", "*", "time_limits", "route")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_22_routing_within_15_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第二十二条: 信访工作机构应当自收到信访事项之日起15日内……转送、交办
    issue = refused_at(holder, "route", {"days": 30})
    assert "30 calendar days is above the bound of 15 calendar days" in issue
    assert f"{NATIONAL_RULE} at " in issue and national_bound("time_limits.route.days") in issue
    assert issue.endswith("《信访工作条例》第二十二条")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_23_3_objection_at_least_5_working_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第二十三条第三款: 5 working days to object to a wrong transfer; 5 calendar days may hold none
    # (a weekend and the Spring Festival), so the floor is compared in working days.
    issue = refused_at(holder, "objection", {"days": 5, "unit": "calendar"})
    assert "5 calendar days (as few as 0 working days) is below the bound of 5 working days" in issue
    assert national_bound("time_limits.objection.days") in issue and issue.endswith("第二十三条第三款")


@pytest.mark.parametrize(("days", "refused"), [(5, False), (17, True), (18, False)],
                         ids=["5-working", "17-calendar", "18-calendar"])
def test_art_23_3_a_calendar_objection_window_counts_at_its_fewest_working_days(
        write_ruleset, issues_against_bundled, days, refused):
    # 《信访工作条例》第二十三条第三款: 18 calendar days hold at least 18 − 2×3 − 7 = 5 working days; 17 may hold 3.
    unit = "working" if days == 5 else "calendar"
    text, _ = limit_at(own_limits_holder(), "objection", {"days": days, "unit": unit})
    assert bool(issues_against_bundled(write_ruleset("county.yaml", text))) is refused


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_34_handling_within_60_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第三十四条: 信访事项应当自受理之日起60日内办结
    issue = refused_at(holder, "conclude", {"days": 90})
    assert "90 calendar days is above the bound of 60 calendar days" in issue
    assert national_bound("time_limits.conclude.days") in issue or national_bound(
        "tracks.*.time_limits.conclude.days") in issue
    assert issue.endswith("《信访工作条例》第三十四条")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_34_handling_in_working_days_counts_at_its_longest_span(refused_at, holder):
    # 《信访工作条例》第三十四条: 38 working days can span 38 + 2×8 + 7 = 61 calendar days.
    issue = refused_at(holder, "conclude", {"days": 38, "unit": "working"})
    assert "38 working days (up to 61 calendar days) is above the bound of 60 calendar days" in issue


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_34_extension_at_most_30_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第三十四条: 延长期限不得超过30日
    issue = refused_at(holder, "extension", {"days": 45})
    assert "45 calendar days is above the bound of 30 calendar days" in issue
    assert national_bound("time_limits.extension.days") in issue and issue.endswith("《信访工作条例》第三十四条")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_35_review_within_30_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第三十五条: 复查机关应当自收到复查请求之日起30日内提出复查意见
    issue = refused_at(holder, "review", {"days": 45})
    assert "45 calendar days is above the bound of 30 calendar days" in issue
    assert national_bound("time_limits.review.days") in issue and issue.endswith("《信访工作条例》第三十五条")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_36_rereview_within_30_days_wherever_it_is_written(refused_at, national_bound, holder):
    # 《信访工作条例》第三十六条: 复核机关应当自收到复核请求之日起30日内提出复核意见
    issue = refused_at(holder, "rereview", {"days": 45})
    assert "45 calendar days is above the bound of 30 calendar days" in issue
    assert national_bound("time_limits.rereview.days") in issue and issue.endswith("《信访工作条例》第三十六条")


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_36_the_request_window_stays_at_least_30_days_wherever_it_is_written(refused_at, national_bound,
                                                                                 holder):
    # 《信访工作条例》第三十六条: 信访人……可以自收到书面答复之日起30日内请求复核: a shorter window is refused.
    issue = refused_at(holder, "rereview_request", {"days": 20})
    assert "20 calendar days is below the bound of 30 calendar days" in issue
    assert national_bound("time_limits.rereview_request.days") in issue


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_limits_within_the_law_are_accepted_wherever_they_are_written(write_ruleset, issues_against_bundled, holder):
    text, _ = limit_at(holder, "route", {"days": 15})
    assert issues_against_bundled(write_ruleset("county.yaml", text)) == []
    text, _ = limit_at(holder, "conclude", {"days": 37, "unit": "working"})
    assert issues_against_bundled(write_ruleset("county.yaml", text)) == []


def test_a_bound_on_one_track_binds_that_track_alone(write_ruleset, issues_against_bundled, line_of, rules_dir):
    # 赣州市 bounds 简易办 more tightly (10 working days); another track answers to the national 60 days alone.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "360702", name: 章贡区, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        tracks:
          simple:
            time_limits:
              conclude: {days: 12, unit: working}
          normal:
            time_limits:
              conclude: {days: 50}
        """)
    (issue,) = issues_against_bundled(county)
    city = "360700_ganzhou/2023-03-01.yaml"
    assert "county.yaml:7:" in issue and "12 working days is above the bound of 10 working days" in issue
    assert f"{city}:{line_of(rules_dir / city, '  tracks.simple.time_limits.conclude.days:')}" in issue


def test_a_new_holder_of_time_limits_in_the_schema_is_bounded_without_being_listed(
        monkeypatch, write_ruleset, issues_against_bundled, national_bound):
    # 《信访工作条例》第二十二条: were categories to get limits of their own, the national bound would bind them.
    schema = copy.deepcopy(load_schema())
    schema["$defs"]["category"]["properties"]["time_limits"] = {"$ref": "#/$defs/timeLimits"}
    caches = (holders_module.limit_holders, holders_module.own_limits_holder, validate_schema.ruleset_validator)
    monkeypatch.setattr(holders_module, "load_schema", lambda: schema)
    monkeypatch.setattr(validate_schema, "load_schema", lambda: schema)
    for cache in caches:
        cache.cache_clear()
    try:
        new = ("classification", "categories", "*", "time_limits")
        assert new in holders_module.limit_holders()
        text, line = limit_at(new, "route", {"days": 30})
        (issue,) = issues_against_bundled(write_ruleset("county.yaml", text))
        assert f"county.yaml:{line}:" in issue and "classification.categories.local.time_limits.route.days: 30" in issue
        assert national_bound("time_limits.route.days") in issue and issue.endswith("第二十二条")
    finally:
        monkeypatch.undo()
        for cache in caches:
            cache.cache_clear()


# --- locks bind wherever the locked item can be written --------------------------------------------


@pytest.mark.parametrize(("limit", "message"), [
    ("{days: 2, unit: calendar}", "tracks.slow.time_limits.review_acceptance.unit: 'calendar' changes a locked item"),
    ("{days: 2}", "tracks.slow.time_limits.review_acceptance: leaving out unit means 'calendar', which changes a "
                  "locked item"),
], ids=["written", "left-out"])
def test_sd_art_43_review_acceptance_stays_in_working_days_in_a_track(write_ruleset, issues_against_bundled, limit,
                                                                       message):
    # 《山东省信访条例》第四十三条: 3 working days to accept a review; 山东省 locks the unit for the levels below.
    county = write_ruleset("county.yaml", f"""\
        jurisdiction: {{code: "371321", name: 沂南县, level: county}}
        version: "2025.1"
        effective_from: 2025-01-01
        tracks:
          slow:
            time_limits:
              review_acceptance: {limit}
        """)
    (issue,) = issues_against_bundled(county)
    assert "county.yaml:7:" in issue and message in issue and "locked at 'working'" in issue
    assert "370000_shandong/2016-01-01.yaml:42" in issue and issue.endswith("《山东省信访条例》第四十三条")


# --- accusations go to discipline bodies: a unit retyped is told at its type (Art. 22 ¶2, 30) --------


def test_art_30_an_inherited_discipline_body_retyped_as_a_bureau_is_refused_at_its_type(write_ruleset,
                                                                                       issues_against_bundled):
    # 《信访工作条例》第二十二条第二款、第三十条: accusations go to discipline bodies; the national baseline routes
    # them to `discipline`, which the county may rename but not make an ordinary bureau.
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "110101", name: 东城区, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        units:
          discipline:
            name: 东城区纪委监委
            type: bureau
        """)
    (issue,) = issues_against_bundled(county)
    assert "county.yaml:7:" in issue
    assert "units.discipline.type: 'bureau' is not a discipline body, and accusations go to this unit " \
           "(routing.accusation.unit)" in issue
    assert issue.endswith("(《信访工作条例》第二十二条第二款、第三十条)")


def test_art_30_a_routing_rule_to_a_unit_retyped_here_is_refused_at_its_type(write_ruleset, issues_against_bundled):
    # 《信访工作条例》第三十条、第四十六条第五项: a city's rule sends accusations to its discipline body; a county
    # below that makes the body a bureau is told at its type line.
    write_ruleset("rules/city.yaml", """\
        jurisdiction: {code: "110100", name: 北京市市辖区, level: city}
        version: "2025.1"
        effective_from: 2025-01-01
        units:
          city_discipline: {name: 市纪委监委, type: discipline}
        routing:
          rules:
            graft: {when: {kinds: [accusation]}, unit: city_discipline}
        """)
    county = write_ruleset("rules/county.yaml", """\
        jurisdiction: {code: "110101", name: 东城区, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        units:
          city_discipline: {type: bureau}
        """)
    (issue,) = issues_against_bundled(county.parent)
    assert "county.yaml:5:" in issue and "units.city_discipline.type: 'bureau' is not a discipline body" in issue
    assert "routing rule 'graft' can send accusations to this unit (routing.rules.graft.unit)" in issue


# --- an extension per step, where a province's law provides one (BJ Art. 40) -----------------------

@pytest.fixture
def beijing(write_ruleset, beijing_review_extension):
    """`beijing(county_text)`: the county rule set, written beside 北京市's (review extendable by 30 days)."""
    header = 'jurisdiction: {code: "110000", name: 北京市, level: province}\nversion: "2022.1"\neffective_from: 2022-05-01\n'

    def write(text: str):
        write_ruleset("rules/110000.yaml", header + beijing_review_extension)
        return write_ruleset("rules/county.yaml", text)

    return write


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_bj_art_40_a_review_extension_is_bounded_by_the_province_wherever_it_is_written(beijing, issues_against_bundled,
                                                                                       holder):
    # 《北京市信访条例》第四十条: 复查期限……可以适当延长，延长期限不得超过30日
    text, line = limit_at(holder, "review", {"days": 30, "extension": "{days: 45}"})
    (issue,) = issues_against_bundled(beijing(text).parent)
    assert f"county.yaml:{line + 1}:" in issue and "extension.days: 45 calendar days is above the bound of 30" in issue
    assert "北京市 (110000@2022.1) at " in issue and issue.endswith("《北京市信访条例》第四十条")
    assert issues_against_bundled(beijing(text.replace("{days: 45}", "{days: 20}")).parent) == []


@pytest.mark.parametrize("holder", HOLDERS, ids=HOLDER_IDS)
def test_art_35_no_review_extension_where_no_law_above_provides_one(write_ruleset, issues_against_bundled, holder):
    # 《信访工作条例》第三十五条 gives review 30 days and no extension: a county may not add one.
    text, _ = limit_at(holder, "review", {"days": 20, "extension": "{days: 10}"})
    (issue,) = issues_against_bundled(write_ruleset("county.yaml", text))
    assert "review.extension.days: no level above provides an extension of review" in issue


def test_the_handling_extension_stays_time_limits_extension(write_ruleset, issues_against_bundled):
    # 《信访工作条例》第三十四条: the handling period's extension is written where it always was.
    county = write_ruleset("county.yaml", HEADER + "time_limits:\n  conclude: {days: 30, extension: {days: 10}}\n")
    (issue,) = issues_against_bundled(county)
    assert "county.yaml:5:" in issue and "extension is written time_limits.extension (Art. 34), not inside" in issue


def test_the_schema_keeps_one_place_for_the_handling_extension():
    # config/procedure.py EXTENSIONS: `time_limits.extension` lengthens `conclude`; neither holds an extension inside.
    from xinfang.config.procedure import EXTENSIONS
    limits = load_schema()["$defs"]["timeLimits"]["properties"]
    for key, step in EXTENSIONS.items():
        assert limits[key]["not"] == limits[step]["not"] == {"required": ["extension"]}
