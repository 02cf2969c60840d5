"""Every bundled YAML scenario as a pytest item, and the scenario runner itself (docs/scenarios.md)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from xinfang.config import ConfigError, bundled_rules_dir
from xinfang.config.library import display_name
from xinfang.rules.scenarios import load_scenarios, run, run_scenario, scenario_files
from xinfang.server.cli import main

BUNDLED = bundled_rules_dir()
# Scenarios that state the law but that the engine does not follow yet: id → the engine bug. Strict, so the
# entry must go when the engine is fixed.
KNOWN_ENGINE_BUGS: dict[str, str] = {}


def _bundled_items():
    """(id, scenario or the ConfigError of its file): an invalid bundled file is one failing item."""
    items = []
    for file in scenario_files([BUNDLED]):
        label = file.relative_to(BUNDLED).as_posix()
        try:
            scenarios = load_scenarios(file)
        except ConfigError as err:
            items.append(pytest.param(err, id=label))
            continue
        for s in scenarios:
            item_id = f"{label}:{s.name}"
            bug = KNOWN_ENGINE_BUGS.get(item_id)
            marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
            items.append(pytest.param(s, id=item_id, marks=marks))
    return items


@pytest.mark.parametrize("scenario", _bundled_items())
def test_bundled_scenario(bundled, scenario):
    if isinstance(scenario, ConfigError):
        pytest.fail(f"invalid scenario file:\n{scenario}", pytrace=False)
    failures = run_scenario(bundled, scenario)
    if failures:
        pytest.fail("\n".join(map(str, failures)), pytrace=False)


def test_every_bundled_jurisdiction_of_this_suite_has_scenarios():
    counts: dict[str, int] = {}
    for file in scenario_files([BUNDLED]):
        folder = file.relative_to(BUNDLED).parts[0]
        counts[folder] = counts.get(folder, 0) + len(load_scenarios(file))
    assert counts["000000_national"] >= 15
    assert counts["370000_shandong"] >= 10 and counts["371300_linyi"] >= 10


# --- the runner ---------------------------------------------------------------------------------

@pytest.fixture
def scenario_file(tmp_path):
    """`scenario_file(text, folder=...)`: a scenario file written under tmp_path/<folder>/scenarios/."""

    def write(text: str, folder: str = "000000_national", name: str = "s.yaml") -> Path:
        path = tmp_path / folder / "scenarios" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


GOOD = """\
    scenarios:
      - name: 60日办结
        case: {received_on: 2024-03-01, intake: letter, text: 小区供暖不热}
        expect:
          track: normal
          deadlines.conclude.date: 2024-04-30
          deadlines.objection.date: 2024-03-08
"""


def test_a_passing_scenario(bundled, scenario_file):
    report = run([scenario_file(GOOD)], bundled)
    assert (report.passed, report.failed, report.lines) == (1, 0, [])
    assert report.summary == "1 passed, 0 failed"


def test_the_jurisdiction_defaults_to_the_folder_code(scenario_file):
    assert load_scenarios(scenario_file(GOOD, folder="371302_lanshan"))[0].jurisdiction == "371302"
    written = scenario_file('jurisdiction: "370102"\n' + textwrap.dedent(GOOD), folder="371302_lanshan", name="b.yaml")
    assert load_scenarios(written)[0].jurisdiction == "370102"


def test_a_failure_names_file_line_path_expected_and_actual(bundled, scenario_file):
    path = scenario_file(GOOD.replace("2024-04-30", "2024-05-01").replace("track: normal", "track: urgent"))
    report = run([path], bundled)
    assert (report.passed, report.failed) == (0, 1)
    shown = display_name(path)
    assert report.lines == [
        f'{shown}:5: 60日办结: track: expected "urgent", got "normal"',
        f'{shown}:6: 60日办结: deadlines.conclude.date: expected "2024-05-01", got "2024-04-30"',
    ]


def test_absent_paths_and_strict_types(bundled, scenario_file):
    path = scenario_file("""\
        scenarios:
          - name: 类型严格
            case: {received_on: 2024-03-01, intake: letter, text: 小区供暖不热}
            expect:
              category: 10
              deadlines.review.date: 2024-04-30
              deadlines.review: null
              admissible: 1
    """)
    lines = run([path], bundled).lines
    assert [line.split(": ", 2)[2] for line in lines] == [
        'category: expected 10, got "10"',
        'deadlines.review.date: expected "2024-04-30", got (absent)',
        "admissible: expected 1, got true",
    ]


def test_expect_flags_and_at(bundled, scenario_file):
    # `at` adds the escalation flags due that day: 03-19 is the day after the route deadline.
    path = scenario_file("""\
        scenarios:
          - name: 转送超期
            case: {received_on: 2024-03-01, intake: letter, text: 小区供暖不热}
            at: 2024-03-19
            expect_flags: [supervise, overdue:route]
          - name: 缺少标记
            case: {received_on: 2024-03-01, intake: letter, text: 小区供暖不热}
            at: 2024-03-18
            expect_flags: [supervise]
    """)
    report = run([path], bundled)
    assert (report.passed, report.failed) == (1, 1)
    assert report.lines[0].endswith('9: 缺少标记: flags: expected to include ["supervise"], got []')


def test_expect_error(bundled, scenario_file):
    path = scenario_file("""\
        scenarios:
          - name: 拒绝
            case: {received_on: 2024-03-01, intake: letter, text: x, extension_days: 31}
            expect_error: extension_days
          - name: 拒绝的理由不同
            case: {received_on: 2024-03-01, intake: letter, text: x, extension_days: 31}
            expect_error: representatives
          - name: 没有拒绝
            case: {received_on: 2024-03-01, intake: letter, text: x}
            expect_error: extension_days
          - name: 意外拒绝
            case: {received_on: 2024-03-01, intake: email, text: x}
            expect: {admissible: true}
    """)
    report = run([path], bundled)
    assert (report.passed, report.failed) == (1, 3)
    assert ':7: 拒绝的理由不同: expect_error: expected a refusal containing "representatives", got refused: ' \
           "extension_days: 31 is more than" in report.lines[0]
    assert report.lines[1].endswith(':10: 没有拒绝: expect_error: expected a refusal containing "extension_days", '
                                    "got a decision (admissible: true)")
    assert ":11: 意外拒绝: case: expected a decision, got the case refused: intake:" in report.lines[2]


def test_an_unknown_jurisdiction_fails_the_scenario(bundled, scenario_file):
    path = scenario_file('jurisdiction: "999999"\n' + textwrap.dedent(GOOD))
    report = run([path], bundled)
    assert report.failed == 1 and ": 60日办结: jurisdiction: expected a rule set in force in 999999" in report.lines[0]


@pytest.mark.parametrize("text, line, message", [
    ("scenarios: []\n", 1, "`scenarios` must be a non-empty list"),
    ("scenario:\n  - name: x\n", 1, "unknown key 'scenario' (a scenario file has: jurisdiction, scenarios)"),
    ("scenarios:\n  - {name: x, case: {}, expect: {a: 1}, expected: {}}\n", 2, "unknown key 'expected'"),
    ("scenarios:\n  - {case: {}, expect: {a: 1}}\n", 2, "every scenario needs a `name`"),
    ("scenarios:\n  - {name: x, case: {}}\n", 2, "the scenario checks nothing"),
    ("scenarios:\n  - {name: x, case: {}, expect: {a: 1}, expect_error: y}\n", 2,
     "`expect_error` replaces `expect` and `expect_flags`"),
    ("scenarios:\n  - {name: x, case: {}, at: 2024-13-01, expect: {a: 1}}\n", 2, "invalid date '2024-13-01'"),
    ("scenarios:\n  - {name: x, case: {}, at: soon, expect: {a: 1}}\n", 2, "`at` must be a date"),
    ("scenarios:\n  - {name: x, case: {}, expect: {a..b: 1}}\n", 2, "`expect` must map dotted paths"),
    ("scenarios:\n  - {name: x, case: {}, expect: {a: 1}}\n  - {name: x, case: {}, expect: {a: 1}}\n", 3,
     "scenario name 'x' is used twice (first on line 2)"),
    ("jurisdiction: 371321\nscenarios:\n  - {name: x, case: {}, expect: {a: 1}}\n", 1,
     "jurisdiction must be a quoted code"),
    ("scenarios:\n  - name: x\n    case: {a: 1\n", 4, ""),
])
def test_invalid_scenario_files_are_clear_errors(scenario_file, text, line, message):
    path = scenario_file(text)
    with pytest.raises(ConfigError) as raised:
        load_scenarios(path)
    prefix = re.compile(rf"{re.escape(display_name(path))}:{line}:\d+: ")
    assert any(prefix.match(str(issue)) and message in issue.message for issue in raised.value.issues), \
        str(raised.value)


def test_no_jurisdiction_outside_a_coded_folder(tmp_path):
    path = tmp_path / "loose.yaml"
    path.write_text("scenarios:\n  - {name: x, case: {}, expect: {a: 1}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":1:1: no jurisdiction"):
        load_scenarios(path)


def test_an_invalid_file_counts_as_failed(bundled, scenario_file):
    bad = scenario_file("scenarios: []\n", name="bad.yaml")
    report = run([bad, scenario_file(GOOD)], bundled)
    assert (report.passed, report.failed) == (1, 1)
    assert report.lines == [f"{display_name(bad)}:1:12: `scenarios` must be a non-empty list of scenarios"]


def test_scenario_files_are_found_in_scenarios_folders_only(tmp_path, scenario_file):
    first = scenario_file(GOOD)
    ruleset = tmp_path / "000000_national" / "2022-05-01.yaml"
    ruleset.write_text("x: 1\n", encoding="utf-8")
    assert scenario_files([tmp_path]) == [first]
    assert scenario_files([first.parent]) == [first]
    assert scenario_files([ruleset]) == [ruleset]  # a file named is taken as it is


# --- xinfang test [PATH...] ---------------------------------------------------------------------

def xinfang(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_prints_failures_and_the_summary(scenario_file):
    good = scenario_file(GOOD)
    result = xinfang("test", good)
    assert result.exit_code == 0 and result.stdout == "1 passed, 0 failed\n"
    bad = scenario_file(GOOD.replace("track: normal", "track: urgent"), name="bad.yaml")
    result = xinfang("test", good.parent)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f'{display_name(bad)}:5: 60日办结: track: expected "urgent", got "normal"', "1 passed, 1 failed"]


def test_cli_runs_the_bundled_scenarios_by_default():
    result = xinfang("test")
    summary = result.stdout.splitlines()[-1]
    passed, failed = map(int, re.fullmatch(r"(\d+) passed, (\d+) failed", summary).groups())
    assert passed >= 50 and len(result.stdout.splitlines()) >= failed + 1
    assert result.exit_code == (1 if failed else 0)


def test_cli_refuses_a_folder_without_scenarios(tmp_path):
    result = xinfang("test", tmp_path)
    assert result.exit_code == 1 and "no scenario files under" in result.stderr
