"""Tests of the legal calendar and period arithmetic, one per rule, on the real 2024-2026 schedules."""
from datetime import date, datetime, time, timedelta
from functools import cache

import chinese_calendar
import pytest

from xinfang.rules.calendar import (
    BEIJING,
    LAST_DAY,
    MAX_PERIOD_DAYS,
    DayOutOfRange,
    HolidayTable,
    LegalCalendar,
    PeriodEnd,
    calendar_for,
    parse_day,
)

D = date


@pytest.fixture(scope="module")
def cal() -> LegalCalendar:
    return calendar_for()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# --- Civil Code Art. 201: the start day is not counted -----------------------------------------

def test_start_day_not_counted(cal):
    # Civil Code Art. 201. 2025-03-03 is a Monday: day 1 is Tue 03-04; day 15 is Tue 03-18.
    assert chinese_calendar.is_workday(D(2025, 3, 4)) and chinese_calendar.is_workday(D(2025, 3, 18))
    assert cal.period_end(D(2025, 3, 3), 1, "calendar") == PeriodEnd(D(2025, 3, 4), False)
    assert cal.period_end(D(2025, 3, 3), 15, "calendar").date == D(2025, 3, 18)
    # Working days too: from Fri 2025-03-07 the first working day is Mon 03-10, not the Friday.
    assert cal.period_end(D(2025, 3, 7), 1, "working").date == D(2025, 3, 10)


# --- Civil Code Art. 203: a period ending on a rest day ends on the next working day ------------

@pytest.mark.parametrize(
    "start, end",
    [
        # National Day 2025: rest 10-01 (Wed)..10-08 (Wed); 10-11 (Sat) is a make-up working day.
        # 09-16 + 15 = 10-01 (holiday) -> the whole break is passed over -> Thu 10-09.
        (D(2025, 9, 16), D(2025, 10, 9)),
        # 09-20 + 15 = Sun 10-05 (holiday) -> Thu 10-09.
        (D(2025, 9, 20), D(2025, 10, 9)),
        # 09-26 + 15 = Sat 10-11, a make-up working day: it stays, not rolled to Mon 10-13.
        (D(2025, 9, 26), D(2025, 10, 11)),
        # Spring Festival 2026: rest Sun 02-15..Mon 02-23; Sat 02-14 and Sat 02-28 are working.
        # 02-01 + 15 = Mon 02-16 (holiday) -> Tue 02-24.
        (D(2026, 2, 1), D(2026, 2, 24)),
        # 01-30 + 15 = Sat 02-14, make-up working day: stays.
        (D(2026, 1, 30), D(2026, 2, 14)),
        # 02-13 + 15 = Sat 02-28, make-up working day: stays.
        (D(2026, 2, 13), D(2026, 2, 28)),
        # An ordinary weekend: 2025-03-07 + 15 = Sat 03-22 -> Mon 03-24.
        (D(2025, 3, 7), D(2025, 3, 24)),
    ],
)
def test_last_rest_day_rolls_forward(cal, start, end):
    # Civil Code Art. 203 (N22 Art. 22: 15 days). Premises checked against chinese-calendar.
    last = start + timedelta(15)
    assert chinese_calendar.is_workday(end)
    assert all(chinese_calendar.is_holiday(day) for day in _days(last, end - timedelta(1)))
    assert cal.period_end(start, 15, "calendar") == PeriodEnd(end, False)


# --- Working-day periods: N22 Art. 23 ¶3, objection within 5 working days ------------------------

@pytest.mark.parametrize(
    "received, end",
    [
        # Thu 2026-02-12: Fri 02-13 (1), Sat 02-14 make-up (2), 02-15..23 holidays incl. the weekdays
        # 02-16..20 and 02-23 skipped, Tue 02-24 (3), Wed 02-25 (4), Thu 02-26 (5).
        (D(2026, 2, 12), D(2026, 2, 26)),
        # Fri 2025-09-26: Sat 09-27 rest, Sun 09-28 make-up (1), Mon 09-29 (2), Tue 09-30 (3),
        # 10-01..08 holidays skipped, Thu 10-09 (4), Fri 10-10 (5).
        (D(2025, 9, 26), D(2025, 10, 10)),
    ],
)
def test_working_day_period_counts_make_up_days_not_holidays(cal, received, end):
    # N22 Art. 23 ¶3 (5 working days); Civil Code Art. 201.
    counted = [day for day in _days(received + timedelta(1), end) if chinese_calendar.is_workday(day)]
    assert len(counted) == 5 and counted[-1] == end
    assert cal.period_end(received, 5, "working") == PeriodEnd(end, False)


# --- N22 Art. 34: handling within 60 days, extension at most 30 -----------------------------------

def test_handling_period_60_days_and_extension(cal):
    # N22 Art. 34; Civil Code Art. 201, 203. Accepted Tue 2025-08-05: day 60 is Sat 10-04, inside
    # National Day -> Thu 10-09. Extended by 30: 90 days from acceptance is Mon 11-03, a working day
    # (not 30 days from the rolled 10-09, which would be Sat 11-08 -> Mon 11-10).
    assert D(2025, 8, 5) + timedelta(60) == D(2025, 10, 4) and chinese_calendar.is_holiday(D(2025, 10, 4))
    assert D(2025, 8, 5) + timedelta(90) == D(2025, 11, 3) and chinese_calendar.is_workday(D(2025, 11, 3))
    assert cal.period_end(D(2025, 8, 5), 60, "calendar") == PeriodEnd(D(2025, 10, 9), False)
    assert cal.period_end(D(2025, 8, 5), 60 + 30, "calendar") == PeriodEnd(D(2025, 11, 3), False)
    # Across Spring Festival 2026 the holidays are calendar days like any other: Mon 01-05 + 60 =
    # Fri 03-06, a working day.
    assert cal.period_end(D(2026, 1, 5), 60, "calendar") == PeriodEnd(D(2026, 3, 6), False)


# --- N22 Art. 36: hearing time is not counted in the re-review period ------------------------------

@pytest.mark.parametrize(
    "hearings, end",
    [
        # Re-review requested Tue 2025-05-06, 30 days: Thu 06-05 (a working day).
        ([], D(2025, 6, 5)),
        # A 4-day hearing Mon 05-12..Thu 05-15: 34 calendar days -> Mon 06-09.
        ([(D(2025, 5, 12), D(2025, 5, 15))], D(2025, 6, 9)),
        # Overlapping hearings 05-12..14 and 05-13..15 cover the same 4 days: counted once -> 06-09
        # (counted twice it would be 36 days -> Wed 06-11).
        ([(D(2025, 5, 12), D(2025, 5, 14)), (D(2025, 5, 13), D(2025, 5, 15))], D(2025, 6, 9)),
        # Two separate 1-day hearings, given out of order: 32 days -> Sat 06-07 -> Mon 06-09.
        ([(D(2025, 5, 20), D(2025, 5, 20)), (D(2025, 5, 12), D(2025, 5, 12))], D(2025, 6, 9)),
        # A hearing straddling the request day only pauses the days after it: 05-07 -> 31 days ->
        # Fri 06-06.
        ([(D(2025, 5, 5), D(2025, 5, 7))], D(2025, 6, 6)),
        # A hearing after the period has ended changes nothing.
        ([(D(2025, 7, 1), D(2025, 7, 3))], D(2025, 6, 5)),
        # A hearing on the day the period would have rolled forward to (Sat 06-07 -> Mon 06-09, a
        # hearing that Monday): the period cannot end inside it -> Tue 06-10.
        ([(D(2025, 5, 12), D(2025, 5, 13)), (D(2025, 6, 9), D(2025, 6, 9))], D(2025, 6, 10)),
    ],
)
def test_hearing_pauses_rereview(cal, hearings, end):
    # N22 Art. 36 (30 days; 听证 time not counted); Civil Code Art. 203.
    assert chinese_calendar.is_workday(end)
    assert cal.period_end(D(2025, 5, 6), 30, "calendar", hearings) == PeriodEnd(end, False)


# --- Same-day track (当日办, Yinan County): a zero-day period --------------------------------------

@pytest.mark.parametrize("unit", ["calendar", "working"])
def test_zero_days_ends_on_start_day_or_next_working_day(cal, unit):
    # Local practice (Yinan 当日办), counted under Civil Code Art. 203: Mon 2025-03-03 is itself the
    # end; Wed 2025-10-01 (National Day) -> Thu 10-09; Sat 2025-10-11 (make-up day) is itself the end.
    assert cal.period_end(D(2025, 3, 3), 0, unit) == PeriodEnd(D(2025, 3, 3), False)
    assert cal.period_end(D(2025, 10, 1), 0, unit) == PeriodEnd(D(2025, 10, 9), False)
    assert cal.period_end(D(2025, 10, 11), 0, unit) == PeriodEnd(D(2025, 10, 11), False)


# --- Years with no published calendar (DESIGN.md "Periods") -------------------------------------

TABLE_2027 = HolidayTable(  # a configured 2027 New Year break, Fri 01-01..Sun 01-03
    2027, rest_days=frozenset(_days(D(2027, 1, 1), D(2027, 1, 3))), working_days=frozenset()
)


def test_unknown_year_weekends_only_and_provisional(cal):
    # Civil Code Art. 203 on weekends alone. 2026-12-17 + 15 = Fri 2027-01-01: a weekday, so it stands.
    # 5 working days from Tue 2026-12-29: 12-30, 12-31, Fri 01-01, Mon 01-04, Tue 01-05.
    assert not cal.is_known_year(2027) and cal.is_known_year(2026)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 1))
    assert cal.period_end(D(2026, 12, 17), 15, "calendar") == PeriodEnd(D(2027, 1, 1), True)
    assert cal.period_end(D(2026, 12, 29), 5, "working") == PeriodEnd(D(2027, 1, 5), True)
    assert cal.period_end(D(2027, 6, 1), 60, "calendar").provisional
    # Entirely within 2026, or a zero-day period on 2026-12-31, is not provisional.
    assert cal.period_end(D(2026, 12, 1), 30, "calendar") == PeriodEnd(D(2026, 12, 31), False)
    assert cal.period_end(D(2026, 12, 31), 0, "calendar") == PeriodEnd(D(2026, 12, 31), False)


def test_table_makes_year_known(cal):
    # Civil Code Art. 203 with the 2027 table: Fri 01-01 is now a holiday -> Mon 01-04; working days
    # from Tue 2026-12-29: 12-30, 12-31, Mon 01-04, Tue 01-05, Wed 01-06.
    configured = calendar_for([TABLE_2027])
    assert configured.is_known_year(2027)
    assert configured.period_end(D(2026, 12, 17), 15, "calendar") == PeriodEnd(D(2027, 1, 4), False)
    assert configured.period_end(D(2026, 12, 29), 5, "working") == PeriodEnd(D(2027, 1, 6), False)


def test_table_overrides_package_year():
    # A rule set's table replaces the package for its year (a corrected 2025 National Day, 10-01..09):
    # 09-16 + 15 = 10-01 -> Fri 10-10. The package's other 2025 days no longer apply: Sat 10-11 is
    # a weekend again and Tue 01-28 (Spring Festival eve) a working day. 2024 still comes from the package.
    table = HolidayTable(2025, frozenset(_days(D(2025, 10, 1), D(2025, 10, 9))), frozenset())
    corrected = calendar_for([table])
    assert corrected.period_end(D(2025, 9, 16), 15, "calendar") == PeriodEnd(D(2025, 10, 10), False)
    assert corrected.is_rest_day(D(2025, 10, 11)) and not corrected.is_rest_day(D(2025, 1, 28))
    assert corrected.is_rest_day(D(2024, 10, 7)) and not corrected.is_rest_day(D(2024, 10, 12))


def test_table_day_in_neighbouring_year():
    # A notice may open the New Year break in the year before (as the 2024 one did on 2023-12-30):
    # that day counts where it falls, so 2026-12-31 becomes a rest day. 2026-12-16 + 15 = 12-31 ->
    # Mon 2027-01-04 over the configured 01-01..03.
    table = HolidayTable(2027, TABLE_2027.rest_days | {D(2026, 12, 31)}, frozenset())
    configured = calendar_for([table])
    assert configured.period_end(D(2026, 12, 16), 15, "calendar") == PeriodEnd(D(2027, 1, 4), False)


def test_extra_days_adjust_locally():
    # Local adjustments over the package: a local rest day Tue 2025-03-18 moves 03-03 + 15 to Wed 03-19;
    # a declared working Sat 2025-03-22 stops 03-07 + 15 from rolling to Mon 03-24.
    local = calendar_for(extra_rest_days=[D(2025, 3, 18)], extra_working_days=[D(2025, 3, 22)])
    assert local.period_end(D(2025, 3, 3), 15, "calendar").date == D(2025, 3, 19)
    assert local.period_end(D(2025, 3, 7), 15, "calendar").date == D(2025, 3, 22)


def test_rest_days_match_package(cal):
    # Civil Code Art. 203's "rest day" is exactly chinese-calendar's holiday, day by day, 2004-2026.
    for day in _days(D(2004, 1, 1), D(2026, 12, 31)):
        assert cal.is_rest_day(day) == chinese_calendar.is_holiday(day), day


_is_workday = cache(chinese_calendar.is_workday)  # each call re-scans the package's table


def _reference_end(start, days, unit, pauses=()):
    """A day-by-day count asking chinese-calendar about each day: slow, obviously right."""
    paused = {day for first, last in pauses for day in _days(first, last)}
    day, counted = start, 0
    while counted < days:
        day += timedelta(1)
        if day not in paused and (unit == "calendar" or _is_workday(day)):
            counted += 1
    if unit == "calendar" or days == 0:
        while not _is_workday(day) or day in paused:
            day += timedelta(1)
    return day


@pytest.mark.parametrize("unit", ["calendar", "working"])
def test_periods_match_day_by_day_count(cal, unit):
    # Civil Code Art. 201, 203 and N22 Art. 36 against a naive count, every 3rd start day of 2024-2026.
    hearing = [(D(2025, 1, 20), D(2025, 2, 10)), (D(2025, 2, 5), D(2025, 2, 12)),
               (D(2026, 9, 30), D(2026, 10, 2))]
    for start in _days(D(2024, 1, 1), D(2026, 7, 31))[::3]:
        for days in (0, 1, 3, 5, 15, 30, 60, 90):
            assert cal.period_end(start, days, unit).date == _reference_end(start, days, unit), (start, days)
        paused = cal.period_end(start, 30, unit, hearing).date
        assert paused == _reference_end(start, 30, unit, hearing), start


# --- Arguments -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "days, unit, pauses, message",
    [
        (-1, "calendar", (), "non-negative"),
        (1.5, "calendar", (), "non-negative"),
        (5, "workday", (), "unit"),
        (30, "calendar", [(D(2025, 5, 15), D(2025, 5, 12))], "before it starts"),
    ],
)
def test_invalid_arguments_refused(cal, days, unit, pauses, message):
    with pytest.raises(ValueError, match=message):
        cal.period_end(D(2025, 5, 6), days, unit, pauses)


def test_invalid_configuration_refused():
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        calendar_for().period_end(datetime(2025, 5, 6, 12), 1, "calendar")
    with pytest.raises(ValueError, match="both"):
        HolidayTable(2027, {D(2027, 1, 1)}, {D(2027, 1, 1)})
    with pytest.raises(ValueError, match="two different holiday tables"):
        LegalCalendar([TABLE_2027, HolidayTable(2027, frozenset(), frozenset())])
    with pytest.raises(ValueError, match="both"):
        LegalCalendar(extra_rest_days=[D(2025, 1, 2)], extra_working_days=[D(2025, 1, 2)])


def test_calendar_for_is_cached():
    # Rule sets reuse a handful of calendars: equal arguments, in any order or container, share one.
    assert calendar_for() is calendar_for()
    assert calendar_for([TABLE_2027], [D(2025, 3, 18)]) is calendar_for((TABLE_2027,), {D(2025, 3, 18)})
    assert calendar_for([TABLE_2027]) is not calendar_for()


# --- the range of days counted: deadline arithmetic cannot overflow ---------------------------

@pytest.mark.parametrize("unit", ["calendar", "working"])
def test_the_longest_period_from_the_last_day_counted_ends_before_year_10000(cal, unit):
    # No input can make a deadline overflow date.max: every start, pause and length is bounded.
    end = cal.period_end(LAST_DAY, MAX_PERIOD_DAYS, unit, [(D(2999, 1, 1), LAST_DAY)])
    assert LAST_DAY < end.date < D(3200, 1, 1) and end.provisional


@pytest.mark.parametrize(("start", "days", "pauses"), [
    (D(9999, 12, 30), 15, ()), (D(3000, 1, 1), 1, ()), (D(1899, 12, 31), 1, ()),
    (D(2024, 1, 1), MAX_PERIOD_DAYS + 1, ()), (D(2024, 1, 1), 10, [(D(2024, 1, 2), D(9999, 12, 31))]),
])
def test_a_period_outside_the_counted_range_is_refused_not_overflowed(cal, start, days, pauses):
    with pytest.raises(DayOutOfRange):
        cal.period_end(start, days, "working", pauses)


def test_parse_day_names_the_range():
    assert parse_day("2999-12-31") == LAST_DAY
    with pytest.raises(DayOutOfRange, match="'9999-12-31' is not a date from 1900-01-01 to 2999-12-31"):
        parse_day("9999-12-31")
    with pytest.raises(ValueError, match=r"'2024-02-30' is not a date \(YYYY-MM-DD\)"):
        parse_day("2024-02-30")


@pytest.mark.parametrize(
    "registered, routed_by",
    [
        (datetime(2025, 3, 4, 16, 0), datetime(2025, 3, 5, 9, 0)),  # a weekday: the next morning
        (datetime(2025, 3, 7, 16, 0), datetime(2025, 3, 10, 9, 0)),  # a Friday: Monday morning
        (datetime(2025, 9, 27, 16, 0), datetime(2025, 9, 28, 9, 0)),  # a Saturday before a make-up Sunday
        (datetime(2025, 9, 30, 16, 0), datetime(2025, 10, 9, 9, 0)),  # before 国庆: the first day after it
    ],
)
def test_routing_does_not_stay_overnight_by_nine_the_next_working_day(cal, registered, routed_by):
    # 沂南县 问题流转不过夜: registered at 16:00, routed by 09:00 of the next working day (Beijing time)
    assert cal.hours_end(registered, 24, by=time(9, 0)) == routed_by.replace(tzinfo=BEIJING)


def test_hours_limit_ending_on_a_rest_day_moves_to_the_next_working_day(cal):
    # Civil Code Art. 203, as for days: an end on a rest day moves to the next working day, same hour
    assert cal.hours_end(datetime(2025, 3, 7, 16, 0), 24) == datetime(2025, 3, 10, 16, 0, tzinfo=BEIJING)
    assert cal.hours_end(datetime(2025, 3, 4, 8, 0), 8) == datetime(2025, 3, 4, 16, 0, tzinfo=BEIJING)
