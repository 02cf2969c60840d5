"""Escalation decisions: one test per rule of the configured escalation paths, the article in a comment."""

import datetime as dt

import pytest

from xinfang.rules import escalation
from xinfang.rules.case_input import parse_case
from xinfang.rules.durable_adapter import default_adapter
from xinfang.rules.escalation import DueEscalation, completed_steps, deadline_dates, due_escalations, escalation_flags

D = dt.date.fromisoformat
OPENED = D("2024-03-01")
DEADLINE = D("2024-05-06")  # conclude, for a case accepted 2024-03-05 (60 days, May Day roll-forward)
ROUTE = D("2024-03-18")


@pytest.fixture(scope="module")
def national(bundled):
    return bundled.effective("000000", OPENED)


@pytest.fixture(scope="module")
def linyi(bundled):
    return bundled.effective("371302", OPENED)


@pytest.fixture(scope="module")
def yinan(bundled):
    return bundled.effective("371321", OPENED)


def due(effective, now: str, *, deadlines=None, completed=("route",), done=()) -> dict[str, DueEscalation]:
    found = due_escalations(effective, deadlines={"conclude": DEADLINE, "route": ROUTE} if deadlines is None else deadlines,
                            opened_on=OPENED, now=D(now), completed=completed, done=done)
    return {d.step: d for d in found}


def test_warning_n_days_before_the_deadline(linyi, yinan):
    # Linyi (预警在先): 5 days before; Yinan tightens it to 3. Nothing the day before the window opens.
    assert due(linyi, "2024-04-30") == {}
    warning = due(linyi, "2024-05-01")["conclude_warning"]
    assert (warning.action, warning.to, warning.due_on) == ("warn", "petition_office", D("2024-05-01"))
    assert escalation_flags([warning]) == ["warning:conclude"]
    assert due(yinan, "2024-05-02") == {}
    assert due(yinan, "2024-05-03")["conclude_warning"].due_on == D("2024-05-03")


def test_warning_stops_once_the_deadline_has_passed(linyi):
    # A warning is about a deadline still ahead: after it, the overdue steps speak instead.
    assert "conclude_warning" in due(linyi, "2024-05-06")
    assert "conclude_warning" not in due(linyi, "2024-05-07")


def test_yellow_at_the_deadline_and_red_five_days_after(yinan):
    # Yinan 2024 (网上标识、发函): a yellow card on the deadline day, red with a letter 5 days after.
    on_the_day = due(yinan, "2024-05-06")
    assert on_the_day["conclude_yellow"].flag == "yellow" and "conclude_red" not in on_the_day
    assert escalation_flags(on_the_day.values()) == ["flag:yellow", "warning:conclude"]
    assert "conclude_red" not in due(yinan, "2024-05-10")
    late = due(yinan, "2024-05-11")
    red = late["conclude_red"]
    assert (red.flag, red.letter, red.due_on) == ("red", True, D("2024-05-11"))
    # Only the worst colour is shown.
    assert escalation_flags(late.values()) == ["flag:red", "letter", "overdue:conclude", "supervise"]


def test_supervision_with_a_letter_the_day_after_the_deadline(national, linyi):
    # Art. 40, 44: the petition office supervises an overdue case; Linyi adds a supervision letter (locked).
    assert due(national, "2024-05-06") == {}
    plain = due(national, "2024-05-07")["conclude_overdue"]
    assert (plain.action, plain.to, plain.letter) == ("supervise", "petition_office", False)
    with_letter = due(linyi, "2024-05-07")["conclude_overdue"]
    assert with_letter.letter is True and with_letter.source["file"].endswith("371300_linyi/2023-01-01.yaml")
    assert escalation_flags([with_letter]) == ["letter", "overdue:conclude", "supervise"]


def test_joint_conference_after_thirty_days_overdue(national, bundled):
    # Art. 39: 联席会议 after 30 days overdue; under the 2005 regulation (Art. 42) the level above instead.
    assert "conclude_overdue_long" not in due(national, "2024-06-04")
    long = due(national, "2024-06-05")["conclude_overdue_long"]
    assert (long.action, long.to, long.due_on) == ("escalate", "joint_conference", D("2024-06-05"))
    assert "escalated:joint_conference" in escalation_flags([long])
    old = bundled.effective("000000", D("2021-03-01"))
    assert due(old, "2024-06-05")["conclude_overdue_long"].to == "level_above"


def test_leader_assigned_to_a_backlog_case(yinan):
    # Art. 18 (包案); Yinan: a case open 90 days goes to a county leader, whatever its deadlines.
    assert "backlog_leader" not in due(yinan, "2024-05-29")  # 89 days open
    leader = due(yinan, "2024-05-30", deadlines={})["backlog_leader"]  # 2024-03-01 + 90
    assert (leader.action, leader.to, leader.due_on) == ("assign_leader", "leader", D("2024-05-30"))
    assert escalation_flags([leader]) == ["leader_assigned"]
    # A case concluded (its written decision given) is no backlog.
    assert "backlog_leader" not in due(yinan, "2024-06-30", completed=("route", "conclude"))


def test_each_step_once(yinan):
    # A step already carried out is not due again; the others still are.
    now = "2024-06-05"
    assert set(due(yinan, now)) == {"conclude_yellow", "conclude_overdue", "conclude_red",
                                    "conclude_overdue_long", "backlog_leader"}
    left = due(yinan, now, done={"conclude_yellow", "conclude_overdue", "backlog_leader"})
    assert set(left) == {"conclude_red", "conclude_overdue_long"}


def test_a_completed_step_no_longer_escalates(national):
    # Art. 43-45 watch what is late: a case concluded (or routed) in time, or late, stops its clock.
    assert set(due(national, "2024-06-05", completed=())) == {"route_overdue", "conclude_overdue",
                                                              "conclude_overdue_long"}
    assert set(due(national, "2024-06-05", completed=("route",))) == {"conclude_overdue", "conclude_overdue_long"}
    assert due(national, "2024-06-05", completed=("route", "conclude")) == {}


def test_nothing_is_due_before_its_time(national, yinan):
    assert due(national, "2024-03-02", completed=()) == {}
    assert due(yinan, "2024-03-02", completed=()) == {}
    # A deadline not yet known (a stage not reached) cannot be overdue.
    assert due(national, "2025-01-01", deadlines={}) == {}


def test_each_due_step_names_its_rule_and_source(yinan, line_of, rules_dir):
    red = due(yinan, "2024-05-11")["conclude_red"]
    assert red.rule == "escalation:conclude_red" and red.name.startswith("超期5日亮红牌")
    yinan_file = rules_dir / "371321_yinan" / "2024-01-01.yaml"
    # Where the step is written (effective.source_of: the first line of its body).
    assert red.source == {"file": red.source["file"], "line": line_of(yinan_file, "name: 超期5日亮红牌")}
    assert red.source["file"].endswith("371321_yinan/2024-01-01.yaml")


def test_the_engine_decides_on_typed_facts(yinan):
    # One durable-rules ruleset per escalation section, named by content; Python only counts days.
    rules = escalation.escalation_rules(yinan)
    assert rules.name.startswith("escalation@") and default_adapter().is_registered(rules.name)
    facts = escalation.escalation_facts(rules, deadlines={"conclude": DEADLINE}, opened_on=OPENED,
                                        now=D("2024-05-11"), done={"conclude_yellow"})
    assert facts["days_past_conclude"] == 5 and facts["open_days"] == 71
    assert facts["done_conclude_yellow"] is True and facts["done_conclude_red"] is False
    assert all(type(v) in (int, bool) for v in facts.values())
    assert default_adapter().evaluate(rules.name, facts) == {"escalation:conclude_overdue",
                                                             "escalation:conclude_red"}


def test_due_steps_come_earliest_first(yinan):
    assert [d.step for d in due_escalations(yinan, deadlines={"conclude": DEADLINE}, opened_on=OPENED,
                                            now=D("2024-06-05"))] == [
        "conclude_yellow", "conclude_overdue", "conclude_red", "backlog_leader", "conclude_overdue_long"]


def test_the_stages_of_a_case_complete_steps():
    # Art. 23: acceptance is registered, routed and told (受理告知书), and no transfer is left to object to.
    case = parse_case({"received_on": "2024-03-01", "intake": "letter", "text": "供暖",
                       "accepted_on": "2024-03-05", "answered_on": "2024-05-20"})
    assert completed_steps(case) == {"route", "notify", "objection", "conclude", "feedback"}
    assert completed_steps(case, at=D("2024-05-19")) == {"route", "notify", "objection"}  # not yet answered


def test_deadline_dates_reads_a_decision():
    decision = {"deadlines": {"conclude": {"date": "2024-05-06", "provisional": False, "source": "x"}}}
    assert deadline_dates(decision) == {"conclude": DEADLINE}


def test_a_warning_on_the_deadline_day_itself(local_ruleset):
    # before_days: 0 warns on the deadline day only, not for ever after it.
    library, issues = local_ruleset("""\
        escalation:
          steps:
            same_day_warning: {name: 当日提醒, watch: conclude, before_days: 0, action: warn, to: petition_office,
                               basis: 测试}
    """)
    assert issues == []
    effective = library.effective("110101", OPENED)
    assert "same_day_warning" in due(effective, "2024-05-06")
    assert "same_day_warning" not in due(effective, "2024-05-05")
    assert "same_day_warning" not in due(effective, "2024-05-07")
