"""No limit the engine applies ever exceeds the national one, wherever a county wrote it (a property test).

Hypothesis writes county rule sets with time limits in random places the format allows (the rule set's
own time_limits, a track's, a mediation tier's: config/limit_holders.py), in calendar or working days.
Validation must refuse exactly the limits outside the national bounds and the extensions of steps no law
provides (BJ Art. 40 is a province's), each at its line; and for a rule
set it accepts, every deadline the engine computes (rules/plan.py limits per track and tier, and a case
decided end to end) ends no later than the national deadline from the same day (no earlier, for the
petitioner's windows that are floors: the objection period, the review and re-review request windows).
"""

from __future__ import annotations

import datetime as dt
import functools

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xinfang.config import RuleSetLibrary, bundled_rules_dir
from xinfang.config.bounds import fewest_working_days, longest_calendar_span
from xinfang.config.limit_holders import limit_holders
from xinfang.config.procedure import EXTENSIONS
from xinfang.rules.case_input import parse_case
from xinfang.rules.deadlines import extended_end
from xinfang.rules.decide import decide
from xinfang.rules.plan import forget, plan_for

COUNTY = "110101"  # 东城区: the national baseline alone above it
DAY = dt.date(2025, 1, 1)
HEADER = f'jurisdiction: {{code: "{COUNTY}", name: 东城区, level: county}}\nversion: "2025.1"\neffective_from: {DAY}\n'
# The track and the tier a county adds, both for category 10 (城市建设), so a case of that category gets them.
OWNERS = {"tracks": ("tracks:", "  local:", "    priority: 100", '    when: {categories: ["10"]}'),
          "mediation": ("mediation:", "  tiers:", "    local:", "      level: village",
                        '      when: {categories: ["10"]}')}
# Case fields that start each step's clock (all on the same day, so every step has a deadline).
STARTS = ("accepted_on", "answered_on", "review_requested_on", "review_answered_on", "rereview_requested_on")


@functools.cache
def national() -> RuleSetLibrary:
    return RuleSetLibrary.load([bundled_rules_dir() / "000000_national"])


@functools.cache
def national_law() -> dict[str, tuple[str, int, str]]:
    """Step → ("max" or "min", the bound, its unit), as the national baseline in force on DAY bounds it."""
    effective = national().effective("000000", DAY)
    return {b.pattern[1]: ("max" if "max" in b.spec else "min", b.spec.get("max", b.spec.get("min")), b.unit)
            for b in effective.bounds if len(b.pattern) == 3 and b.pattern[0] == "time_limits"
            and b.pattern[2] == "days"}


def outside_the_law(step: str, days: int, unit: str) -> bool:
    """The law's own count: a ceiling at the limit's longest span, a floor at its fewest working days."""
    side, bound, law_unit = national_law()[step]
    if side == "max":
        return (longest_calendar_span(days, unit) if law_unit == "calendar" else days) > bound
    return (fewest_working_days(days, unit) if law_unit == "working" else days) < bound


@st.composite
def county_rule_sets(draw):
    """(YAML text, {line of each limit: (step, days, unit, days of its extension or None)})."""
    holders = limit_holders()
    steps = sorted(national_law())
    places = draw(st.lists(st.tuples(st.sampled_from(holders), st.sampled_from(steps)), min_size=1, max_size=8,
                           unique=True))
    by_holder: dict[tuple, list] = {}
    for holder, step in sorted(places):
        unit = draw(st.sampled_from(["calendar", "working"]))
        # Most limits within the law, so that many rule sets are accepted and reach the engine.
        loosen = draw(st.sampled_from([False, False, False, False, True]))
        bound = national_law()[step][1]
        days = draw(st.sampled_from([d for d in range(3 * bound + 10) if outside_the_law(step, d, unit) == loosen]))
        # Now and then an extension of the step, which no law above a county provides (only handling's, Art. 34).
        extended = step not in EXTENSIONS and step not in EXTENSIONS.values() and draw(
            st.sampled_from([False, False, False, False, False, True]))
        by_holder.setdefault(holder, []).append((step, days, unit, draw(st.integers(1, 30)) if extended else None))
    lines = HEADER.splitlines()
    where: dict[int, tuple[str, int, str]] = {}
    for holder, limits in by_holder.items():
        owner = OWNERS.get(holder[0])
        lines += owner if owner else ()
        depth = (len(owner[-1]) - len(owner[-1].lstrip())) // 2 if owner else 0
        lines.append("  " * depth + "time_limits:")
        for step, days, unit, extension in limits:
            more = f", extension: {{days: {extension}}}" if extension else ""
            lines.append("  " * (depth + 1) + f"{step}: {{days: {days}, unit: {unit}{more}}}")
            where[len(lines)] = (step, days, unit, extension)
    return "\n".join(lines) + "\n", where


def within(side: str, end: dt.date, law_end: dt.date) -> bool:
    return end <= law_end if side == "max" else end >= law_end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(county_rule_sets(), st.dates(dt.date(2022, 5, 1), dt.date(2026, 12, 31)))
def test_no_effective_limit_ever_exceeds_the_national_one(generated, start):
    text, where = generated
    library, issues = RuleSetLibrary.collect_texts([("county.yaml", text)], background=national())
    # Refused: exactly the limits outside the law, each at its line, with the article.
    refused = {issue.position.line for issue in issues}
    expected = {line for line, (step, days, unit, extension) in where.items()
                if outside_the_law(step, days, unit) or extension}
    assert refused == expected, [str(i) for i in issues]
    assert all("《信访工作条例》" in issue.message for issue in issues)
    event("refused" if issues else "accepted")
    if issues:
        return
    effective = library.effective(COUNTY, DAY)
    law = plan_for(national().effective(COUNTY, DAY))
    plan = plan_for(effective)
    try:
        periods, law_limits = plan.periods, law.limits(law.default_track, None).table
        for track in [plan.default_track] + [t for t, _ in plan.tracks]:
            for tier in [None, *plan.tiers]:
                applied = plan.limits(track, tier)
                for step, (side, _, _) in national_law().items():
                    if step == "extension":
                        continue
                    mine, theirs = applied.table[step], law_limits[step]
                    end = periods.end(start, mine.days, mine.unit, ()).date
                    assert within(side, end, periods.end(start, theirs.days, theirs.unit, ()).date), (track, tier, step)
                # Art. 34: handling with the longest extension the county allows, against 60 + 30 days.
                handling, extension = applied.table["conclude"], applied.extension
                longest = extended_end(periods, start, handling, extension.days, extension)[0].date
                law_longest = extended_end(periods, start, law_limits["conclude"], law_limits["extension"].days,
                                           law_limits["extension"])[0].date
                assert longest <= law_longest, (track, tier)
        # End to end: a case of category 10 gets the county's track and tier; decide() against the law's.
        stages = {field: start.isoformat() for field in STARTS}
        county_case = parse_case({"received_on": start.isoformat(), "intake": "letter", "text": "小区供暖不热",
                                  "category": "10", **stages, "extension_days": applied.extension.days})
        law_case = parse_case({"received_on": start.isoformat(), "intake": "letter", "text": "小区供暖不热",
                               "category": "10", **stages, "extension_days": law_limits["extension"].days})
        decision = decide(effective, county_case)
        assert ("tracks:" in text) is (decision["track"] == "local")
        assert ("mediation:" in text) is ("tier:local" in decision["flags"])
        got = decision["deadlines"]
        limit = decide(national().effective(COUNTY, DAY), law_case)["deadlines"]
        for step, (side, _, _) in national_law().items():
            if step in got:
                assert within(side, dt.date.fromisoformat(got[step]["date"]),
                              dt.date.fromisoformat(limit[step]["date"])), step
    finally:
        forget(effective)
