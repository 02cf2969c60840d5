"""Limits in hours and by an hour of the day (流转不过夜, issue 14 item 4): the format, the bounds, the deadlines."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from xinfang.config import RuleSetLibrary

YINAN_2025 = 'jurisdiction: {code: "371321", name: 沂南县, level: county}\nversion: "2025.1"\neffective_from: 2025-01-01\n'
ANDI_2025 = 'jurisdiction: {code: "371321101", name: 岸堤镇, level: township}\nversion: "2025.1"\neffective_from: 2025-01-01\n'
YINAN_RULE = "《沂南县信访工作实施办法（2024）》"


def collected(rules_dir, *paths):
    """(the library, every issue) of files checked with the bundled rule sets as the levels above them."""
    return RuleSetLibrary.collect(paths, background=[rules_dir])


def issues_at(rules_dir, path):
    _, issues = collected(rules_dir, path)
    return issues


def county(write_ruleset, body: str, header: str = YINAN_2025, name: str = "county.yaml"):
    return write_ruleset(name, header + textwrap.dedent(body))


# --- the format ----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [
    "{hours: 16, basis: b}",                               # 16 hours from the time received
    '{days: 1, unit: calendar, by: "09:00", basis: b}',    # by 09:00 of the next working day (沂南)
    '{days: 0, by: "17:30", basis: b}',                    # by 17:30 the same day (当日办)
])
def test_a_routing_limit_may_be_written_in_hours_or_by_an_hour(write_ruleset, rules_dir, limit):
    # 《信访工作条例》第二十二条 (15 days) bounds each of them; the county's own 流转不过夜 writes one.
    path = county(write_ruleset, f"time_limits:\n  route: {limit}\n")
    assert [str(i) for i in issues_at(rules_dir, path)] == []


@pytest.mark.parametrize("limit, english, chinese", [
    ("{hours: 16, days: 1}", "a limit in hours has no days, unit, by or extension", "按小时计的期限不再写"),
    ("{hours: 16, unit: working}", "a limit in hours has no days, unit, by or extension", "按小时计的期限不再写"),
    ("{hours: 0}", "expected at least 1", "数值太小"),
    ('{days: 1, by: "9:00"}', "expected a time of day in Beijing time", "时刻，北京时间"),
    ('{days: 1, by: "24:00"}', "expected a time of day in Beijing time", "时刻，北京时间"),
    ("{unit: calendar}", "missing required key 'days'", "缺少必填项 'days'"),
])
def test_a_limit_is_in_days_or_in_hours_never_both(write_ruleset, rules_dir, limit, english, chinese):
    path = county(write_ruleset, f"time_limits:\n  route: {limit}\n")
    (issue,) = issues_at(rules_dir, path)
    assert f"county.yaml:5:" in str(issue) and english in issue.message, str(issue)
    assert chinese in issue.chinese


def test_a_level_writing_hours_drops_the_days_it_inherits(write_ruleset, rules_dir):
    # 临沂市 writes route: {days: 7, unit: calendar}; a county writing {hours: 16} means 16 hours and nothing else.
    path = county(write_ruleset, "time_limits:\n  route: {hours: 16, basis: b}\n")
    library, issues = collected(rules_dir, path)
    assert issues == []
    route = library.effective("371321", dt.date(2025, 3, 1)).get("time_limits.route")
    assert route == {"hours": 16, "basis": "b"}


@pytest.mark.parametrize("step, label", [("conclude", "办理办结"), ("extension", "办理办结的延长")])
def test_hours_only_where_the_clock_starts_at_a_time(write_ruleset, rules_dir, step, label):
    # 《信访工作条例》第三十四条: handling runs from the day accepted, a date without a time, and its extension
    # from the handling deadline's day: counted in days.
    path = county(write_ruleset, f"time_limits:\n  {step}: {{hours: 48, basis: b}}\n")
    (issue,) = issues_at(rules_dir, path)
    assert "county.yaml:5:" in str(issue) and "counted in days, not hours" in issue.message
    assert label in issue.chinese and "不能按小时计" in issue.chinese and "登记转送" in issue.chinese


# --- the bounds of the level above ---------------------------------------------------------------


@pytest.mark.parametrize("hours, refused", [(24, False), (25, True), (48, True)])
def test_a_townships_hours_answer_to_the_countys_one_day(write_ruleset, rules_dir, hours, refused):
    # 沂南县 bounds its townships' routing at 1 day (《沂南县信访工作实施办法（2024）》): 24 hours fit, 25 do not.
    path = county(write_ruleset, f"time_limits:\n  route: {{hours: {hours}, basis: b}}\n", ANDI_2025, "andi.yaml")
    issues = issues_at(rules_dir, path)
    if not refused:
        assert [str(i) for i in issues] == []
        return
    (issue,) = issues
    assert "andi.yaml:5:" in str(issue)
    assert f"time_limits.route.hours: {hours} hours (up to 2 calendar days) is above the bound of 1 calendar day" in \
        issue.message and "371321_yinan/2024-01-01.yaml" in issue.message
    assert issue.chinese.startswith(f"{hours}小时（最长可达2个自然日）超过上级规定的上限1个自然日")
    assert YINAN_RULE in issue.chinese


def test_hours_beyond_article_22_are_refused(write_ruleset, rules_dir, tmp_path):
    # 《信访工作条例》第二十二条: 15 days. A city (日照市 has no routing bound of its own) writing 400 hours
    # (up to 17 days) is refused at the line of its hours, naming the article.
    path = write_ruleset("city.yaml", 'jurisdiction: {code: "371100", name: 日照市, level: city}\nversion: "2025.1"\n'
                                      "effective_from: 2025-01-01\ntime_limits:\n  route: {hours: 400, basis: b}\n")
    issues = issues_at(rules_dir, path)
    assert issues and all("city.yaml:5:" in str(i) for i in issues), [str(i) for i in issues]
    assert any("《信访工作条例》第二十二条" in i.chinese and "最长可达17个自然日" in i.chinese for i in issues)


def test_a_floor_counts_a_by_hours_last_day_as_lost(write_ruleset, rules_dir):
    # 《信访工作条例》第二十三条第三款: the objection window is at least 5 working days; 18 calendar days fit it,
    # but ending at 09:00 on the 18th day leaves 17 whole days, as few as 4 working days.
    ok = county(write_ruleset, "time_limits:\n  objection: {days: 18, unit: calendar, basis: b}\n")
    assert [str(i) for i in issues_at(rules_dir, ok)] == []
    early = county(write_ruleset, 'time_limits:\n  objection: {days: 18, unit: calendar, by: "09:00", basis: b}\n',
                   name="early.yaml")
    (issue,) = issues_at(rules_dir, early)
    assert "below the bound of 5 working days" in issue.message and "低于上级规定的下限5个工作日" in issue.chinese


@pytest.mark.parametrize("limit, refused", [
    ("{days: 1, unit: calendar}", "1 calendar day (up to 48 hours) is above the bound of 24 hours"),
    ('{days: 1, by: "09:00"}', "1 calendar day (up to 33 hours) is above the bound of 24 hours"),
    ("{days: 0}", None),
])
def test_a_bound_in_hours_binds_a_limit_in_days(write_ruleset, rules_dir, limit, refused):
    # A county bounding its townships' routing at 24 hours: a township's 1 day (to the end of the next day) is
    # refused, so is by 09:00 of the next day; the same day (0 days, to its end) fits.
    write_ruleset("yinan/county.yaml", YINAN_2025 + "time_limits:\n  route: {days: 0, basis: b}\n"
                                                    "bounds:\n  time_limits.route.hours: {max: 24, basis: b}\n")
    andi = write_ruleset("yinan/andi.yaml", ANDI_2025 + f"time_limits:\n  route: {limit}\n")
    shown = [str(i) for i in issues_at(rules_dir, andi.parent)]
    if refused is None:
        assert shown == []
    else:
        assert len(shown) == 1 and "andi.yaml:5:" in shown[0] and refused in shown[0], shown


# --- the deadlines: 沂南县's 问题流转不过夜 -----------------------------------------------------------

from xinfang.rules.calendar import BEIJING  # noqa: E402
from xinfang.rules.case_input import CaseError, parse_case  # noqa: E402
from xinfang.rules.decide import evaluate  # noqa: E402

LETTER = {"intake": "letter", "text": "反映村里道路硬化问题"}


@pytest.fixture(scope="module")
def bundled(rules_dir):
    library, issues = RuleSetLibrary.collect([rules_dir])
    assert issues == []
    return library


@pytest.mark.parametrize("received_at, due_at", [
    ("2024-12-05T16:00:00+08:00", "2024-12-06T09:00:00+08:00"),  # a Thursday: Friday morning
    ("2024-12-06T16:00:00+08:00", "2024-12-09T09:00:00+08:00"),  # a Friday: Monday morning, not Saturday
    ("2024-12-06T08:00:00Z", "2024-12-09T09:00:00+08:00"),       # the same moment written in UTC
    ("2024-12-06 16:00", "2024-12-09T09:00:00+08:00"),           # no zone: Beijing time
    ("2024-09-30T16:00:00+08:00", "2024-10-08T09:00:00+08:00"),  # the eve of National Day (chinese-calendar)
    ("2024-09-29T16:00:00+08:00", "2024-09-30T09:00:00+08:00"),  # a make-up working Sunday: the Monday is one too
])
def test_yinan_routes_by_nine_the_next_working_morning(bundled, received_at, due_at):
    # 《沂南县信访工作实施办法（2024）》问题流转不过夜 (09:00: the county names no hour); a 1-day period ending on a
    # rest day ends on the next working day (《民法典》第二百零三条).
    on = received_at[:10]
    decision = evaluate(bundled, "371321", {**LETTER, "received_on": on, "received_at": received_at})
    route = decision["deadlines"]["route"]
    assert route["due_at"] == due_at and route["date"] == due_at[:10] and route["provisional"] is False
    assert "371321_yinan/2024-01-01.yaml" in route["source"] and "问题流转不过夜" in route["source"]
    assert "due_at" not in decision["deadlines"]["conclude"]  # 《信访工作条例》第三十四条: counted in days


def test_the_decision_json_keeps_its_shape_and_adds_due_at(bundled):
    # DESIGN.md: each deadline is {date, provisional, source}; due_at is added where the limit ends at a moment.
    decision = evaluate(bundled, "371321", {**LETTER, "received_on": "2024-12-06", "received_at": "2024-12-06T16:00"})
    assert set(decision["deadlines"]["route"]) == {"date", "provisional", "source", "due_at"}
    assert all(set(d) == {"date", "provisional", "source"} for s, d in decision["deadlines"].items() if s != "route")
    linyi = evaluate(bundled, "371300", {**LETTER, "received_on": "2024-12-06", "received_at": "2024-12-06T16:00"})
    assert "due_at" not in linyi["deadlines"]["route"]  # 临沂市: 7 days, the end of a day


def test_a_limit_in_hours_counts_from_the_time_received(write_ruleset, rules_dir):
    # 16 hours from 16:00 on a Friday end at 08:00 on Saturday, a rest day: at 08:00 on Monday (the office is shut).
    path = county(write_ruleset, "time_limits:\n  route: {hours: 16, basis: b}\n")
    library, _ = collected(rules_dir, path)
    friday = evaluate(library, "371321", {**LETTER, "received_on": "2025-03-07", "received_at": "2025-03-07T16:00"})
    assert friday["deadlines"]["route"]["due_at"] == "2025-03-10T08:00:00+08:00"
    # Only the day known: from the end of it, the latest the petition may have come in.
    day = evaluate(library, "371321", {**LETTER, "received_on": "2025-03-05"})
    assert day["deadlines"]["route"]["due_at"] == "2025-03-06T16:00:00+08:00"


@pytest.mark.parametrize("received_at, problem", [
    ("2024-12-05T16:00:00+08:00", "received_at: 2024-12-05T16:00:00+08:00 is on 2024-12-05 in Beijing time, "
                                  "not on received_on 2024-12-06"),
    ("2024-12-05T17:00:00Z", None),  # 01:00 on 6 December in Beijing
    ("2024-12-06T25:00", "received_at: '2024-12-06T25:00' is not a date and time"),
    ("16:00", "received_at: '16:00' is not a date and time"),
])
def test_received_at_is_a_moment_on_the_day_received(received_at, problem):
    case = {**LETTER, "received_on": "2024-12-06", "received_at": received_at}
    if problem is None:
        assert parse_case(case).received_at == dt.datetime(2024, 12, 6, 1, 0, tzinfo=BEIJING)
        return
    with pytest.raises(CaseError) as err:
        parse_case(case)
    assert err.value.problems[0].startswith(problem), err.value.problems


# --- the escalation rules: the engine and the sweep's schedule agree on a deadline at a moment ---------

from xinfang.rules.escalation import due_escalations, escalation_schedule  # noqa: E402

DEADLINE = dt.datetime(2024, 12, 9, 9, 0, tzinfo=BEIJING)


@pytest.mark.parametrize("now", [
    DEADLINE - dt.timedelta(days=3, hours=10), DEADLINE - dt.timedelta(days=3), DEADLINE - dt.timedelta(minutes=1),
    DEADLINE, DEADLINE + dt.timedelta(minutes=1), DEADLINE + dt.timedelta(hours=15),
    DEADLINE + dt.timedelta(days=1), DEADLINE + dt.timedelta(days=1, seconds=1), DEADLINE + dt.timedelta(days=4),
    DEADLINE + dt.timedelta(days=4, minutes=1), DEADLINE + dt.timedelta(days=9),
])
def test_the_engine_and_the_schedule_agree_on_a_deadline_at_nine(bundled, now):
    # 沂南县's steps (到期前3日预警, 到期亮黄牌, 超期5日亮红牌, 《信访工作条例》第四十三条 route_overdue) watching deadlines
    # due at 09:00: what the engine finds due at `now` is what the schedule the sweep reads lets fire.
    effective = bundled.effective("371321", dt.date(2024, 12, 6))
    deadlines = {"route": DEADLINE, "conclude": DEADLINE}
    opened = dt.date(2024, 12, 6)
    engine = {d.step for d in due_escalations(effective, deadlines=deadlines, opened_on=opened, now=now)}
    today = now.astimezone(BEIJING).date()
    swept = {s.step for s in escalation_schedule(effective, deadlines, opened)
             if s.due_on <= today and (s.until_on is None or s.until_on >= today)
             and (s.due_at is None or s.due_at < now) and (s.until_at is None or s.until_at >= now)}
    assert engine == swept
    assert ("route_overdue" in engine) is (now > DEADLINE)


def test_a_locked_way_of_counting_days_may_not_turn_into_hours(write_ruleset, rules_dir):
    # A county locking how its townships count routing (日历日, by 09:00): a township writing hours, in its own
    # limits or a track's, changes the locked item and is refused at the line of the hours.
    write_ruleset("yinan/county.yaml", YINAN_2025 + "bounds:\n  time_limits.route.unit: {locked: true, basis: b}\n")
    andi = write_ruleset("yinan/andi.yaml", ANDI_2025 + "time_limits:\n  route: {hours: 12, basis: b}\n"
                                                        "tracks:\n  fast:\n    time_limits:\n"
                                                        "      route: {hours: 6, basis: b}\n")
    issues = issues_at(rules_dir, andi.parent)
    lines = sorted(str(i).split("andi.yaml:")[1].split(":")[0] for i in issues)
    assert lines == ["5", "9"], [str(i) for i in issues]
    assert all("改按小时计，就改动了上级锁定的按日计算方式" in i.chinese for i in issues)


def test_the_impact_of_moving_the_routing_hour_names_each_case():
    # An officer moving 问题流转不过夜 from 09:00 to 08:30 changes no date, but every open case's hour.
    from xinfang.server.rulesets.draft_checks import decision_changes

    def decision(hour: str) -> dict:
        return {"deadlines": {"route": {"date": "2024-12-09", "provisional": False, "source": "s",
                                        "due_at": f"2024-12-09T{hour}:00+08:00"}}}

    assert decision_changes(decision("09:00"), decision("08:30")) == [
        {"field": "deadlines.route", "old": "2024-12-09 09:00", "new": "2024-12-09 08:30"}]
    assert decision_changes(decision("09:00"), decision("09:00")) == []
