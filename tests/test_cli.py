"""The `xinfang` command line: `validate` and `resolve`, as DESIGN.md's public contract states them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ISSUE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$")
# The header of a new version of Yinan County's rule set; a test appends what it changes, from line 4.
YINAN_2025 = ('jurisdiction: {code: "371321", name: 沂南县, level: county}\n'
              'version: "2025.1"\n'
              "effective_from: 2025-01-01\n")


# --- xinfang validate PATH... --------------------------------------------------------------------


def test_validate_accepts_the_bundled_rule_sets(xinfang, rules_dir):
    result = xinfang("validate", rules_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "valid" in result.stderr


def test_validate_prints_one_file_line_col_line_per_issue(xinfang, write_ruleset):
    county = write_ruleset("county.yaml", """\
        jurisdiction: {code: "371321", name: 沂南县, level: county}
        version: "2025.1"
        effective_from: 2025-01-01
        time_limits:
          conclude: {days: 30, dayz: 3}
        intake:
          group_visit:
            max_representatives: "5"
        """)
    result = xinfang("validate", county)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    found = [ISSUE_LINE.match(line) for line in lines]
    assert all(found), lines
    assert [(Path(m["file"]).name, int(m["line"])) for m in found] == [("county.yaml", 5), ("county.yaml", 8)]
    assert "unknown key 'dayz'" in found[0]["message"] and "expected an integer" in found[1]["message"]


@pytest.mark.parametrize(("body", "line", "expected"), [
    # 《信访工作条例》第三十四条: 60 days, set in the national baseline
    ("time_limits:\n  conclude: {days: 90, unit: calendar}\n", 5, ["above the bound of 60", "000000_national/2022-05-01.yaml:", "第三十四条"]),
    # 《信访工作条例》第四十六条第五项: accusations never to the accused
    ("routing:\n  accusation: {never_to_accused: false}\n", 5, ["locked", "第四十六条第五项"]),
    # a duplicate key
    ("time_limits:\n  route: {days: 1}\n  route: {days: 1}\n", 6, ["duplicate key 'route'"]),
], ids=["handling-90-days", "accusations-to-the-accused", "duplicate-key"])
def test_validate_refuses_a_county_file_naming_file_and_line(xinfang, write_ruleset, body, line, expected):
    county = write_ruleset("county.yaml", YINAN_2025 + body)
    result = xinfang("validate", county)
    assert result.exit_code == 1
    [issue] = result.stdout.splitlines()
    assert ISSUE_LINE.match(issue) and f"county.yaml:{line}:" in issue
    assert all(text in issue for text in expected), issue


def test_validate_refuses_hostile_yaml(xinfang, write_ruleset):
    bomb = write_ruleset("bomb.yaml", "a: &a [x, x]\nb: [*a, *a]\n")
    result = xinfang("validate", bomb)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{bomb}:1:") and "anchor '&a' is not allowed" in result.stdout


def test_validate_checks_against_the_levels_above_in_rules_dir(xinfang, write_ruleset, rules_dir, tmp_path):
    # Routing in 10 days breaks Linyi's bound of 7 (bundled), not the national 15 (a --rules folder without Linyi).
    county = write_ruleset("county.yaml", YINAN_2025 + "time_limits:\n  route: {days: 10, unit: calendar}\n")
    national_only = tmp_path / "rules"
    shutil.copytree(rules_dir / "000000_national", national_only / "000000_national")
    bundled = xinfang("validate", county)
    assert bundled.exit_code == 1 and "county.yaml:5:" in bundled.stdout
    assert "above the bound of 7" in bundled.stdout and "371300_linyi/2023-01-01.yaml:" in bundled.stdout
    assert xinfang("validate", county, "--rules", national_only).exit_code == 0


# --- xinfang resolve CODE [--at DATE] ------------------------------------------------------------


def test_resolve_yinan_prints_its_effective_rule_set_with_sources(xinfang):
    result = xinfang("resolve", "371321", "--at", "2024-06-01")
    assert result.exit_code == 0, result.stderr
    yinan = json.loads(result.stdout)
    assert yinan["jurisdiction"] == {"code": "371321", "name": "沂南县", "level": "county", "parent": "371300"}
    assert yinan["at"] == "2024-06-01" and yinan["inherits"] is False
    assert yinan["ruleset_version"] == "000000@2022.1+370000@2016.1+371300@2023.1+371321@2024.1"
    assert [v["jurisdiction"] for v in yinan["chain"]] == ["000000", "370000", "371300", "371321"]
    rules, sources = yinan["ruleset"], yinan["sources"]
    assert rules["time_limits"]["route"]["days"] == 1                # Yinan's own: 问题流转不过夜
    assert sources["time_limits.route.days"]["file"].endswith("371321_yinan/2024-01-01.yaml")
    assert rules["time_limits"]["conclude"]["days"] == 60             # national: 《信访工作条例》第三十四条
    national = sources["time_limits.conclude.days"]
    assert national["file"].endswith("000000_national/2022-05-01.yaml") and national["line"] > 1
    assert national["jurisdiction"] == "000000" and national["version"] == "2022.1"
    assert set(sources) >= {"tracks.urgent.time_limits.conclude.days", "routing.accusation.never_to_accused"}
    assert "conclude" not in rules["tracks"]["normal"].get("time_limits", {})  # the normal track inherits the 60
    conclude = next(b for b in yinan["bounds"] if b["path"] == "time_limits.conclude.days")
    assert conclude["max"] == 60 and "第三十四条" in conclude["basis"]


def test_resolve_before_any_national_version_is_a_clear_error(xinfang):
    result = xinfang("resolve", "371321", "--at", "2004-06-01")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("xinfang: no rule set is in force for 沂南县 (371321) on 2004-06-01")
    assert "2005-05-01" in result.stderr and "Traceback" not in result.stderr


def test_resolve_in_2020_gives_the_2005_national_values(xinfang):
    result = xinfang("resolve", "371321", "--at", "2020-01-01")
    assert result.exit_code == 0, result.stderr
    yinan = json.loads(result.stdout)
    assert yinan["ruleset_version"] == "000000@2005.1+370000@2016.1"
    assert yinan["ruleset"]["time_limits"]["supervision_feedback"]["days"] == 30   # 《信访条例》第三十六条
    assert "objection" not in yinan["ruleset"]["time_limits"]
    assert yinan["sources"]["time_limits.conclude.days"]["file"].endswith("000000_national/2005-05-01.yaml")


def test_resolve_a_district_without_a_rule_set_of_its_own(xinfang):
    result = xinfang("resolve", "110101")
    assert result.exit_code == 0, result.stderr
    dongcheng = json.loads(result.stdout)
    assert dongcheng["jurisdiction"]["name"] == "东城区" and dongcheng["inherits"] is True
    assert [v["jurisdiction"] for v in dongcheng["chain"]] == ["000000"]
    assert dongcheng["ruleset"]["time_limits"]["conclude"]["days"] == 60


@pytest.mark.parametrize(("args", "code", "message"), [
    (["371321", "--at", "2024-13-01"], 2, "'2024-13-01' is not a date: write it as YYYY-MM-DD"),
    (["371321", "--at", "1 June 2024"], 2, "is not a date"),
    (["999999"], 1, "xinfang: no jurisdiction has code '999999'\n"),
    (["37132"], 1, "xinfang: '37132' is not a GB/T 2260 code: use 2, 4, 6 or 9 digits"),
], ids=["month-13", "words", "unknown-code", "not-a-code"])
def test_resolve_explains_a_bad_date_or_code(xinfang, args, code, message):
    result = xinfang("resolve", *args)
    assert result.exit_code == code and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


def test_resolve_reads_the_rule_sets_of_rules_dir(xinfang, write_ruleset, rules_dir, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir / "000000_national", rules / "000000_national")
    write_ruleset("rules/371321_yinan/2025-01-01.yaml", YINAN_2025 + "time_limits:\n  route: {days: 2, unit: calendar}\n")
    result = xinfang("resolve", "371321", "--at", "2025-06-01", "--rules", rules)
    assert result.exit_code == 0, result.stderr
    yinan = json.loads(result.stdout)
    assert yinan["ruleset_version"] == "000000@2022.1+371321@2025.1"      # no Shandong or Linyi in that folder
    assert yinan["ruleset"]["time_limits"]["route"]["days"] == 2


def test_resolve_refuses_an_invalid_rules_dir(xinfang, write_ruleset, rules_dir, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir / "000000_national", rules / "000000_national")
    write_ruleset("rules/yinan.yaml", YINAN_2025 + "time_limits:\n  conclude: {days: 90, unit: calendar}\n")
    result = xinfang("resolve", "371321", "--rules", rules)
    assert result.exit_code == 1 and result.stdout == ""
    assert "yinan.yaml:5:" in result.stderr and "above the bound of 60" in result.stderr
    assert "are not valid (1 issues above)" in result.stderr


# --- the installed console script ---------------------------------------------------------------


def test_the_xinfang_console_script_is_installed_and_runs():
    script = Path(sys.executable).with_name("xinfang")
    assert script.exists(), f"{script} is missing: install the package (pip install -e .)"
    done = subprocess.run([str(script), "resolve", "371321", "--at", "2024-06-01"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ruleset_version"].endswith("371321@2024.1")


# --- xinfang evaluate CODE CASE.json: hostile cases are errors, never tracebacks ----------------

@pytest.mark.parametrize(("text", "message"), [
    ('{"received_on": "9999-12-20", "intake": "letter", "text": "x"}',
     "received_on: '9999-12-20' is not a date from 1900-01-01 to 2999-12-31 (YYYY-MM-DD)\n"),
    ('{"received_on": "2024-06-03", "answered_on": "9999-12-30", "intake": "letter", "text": "x"}',
     "answered_on: '9999-12-30' is not a date from 1900-01-01 to 2999-12-31 (YYYY-MM-DD)\n"),
    ('{"received_on": "2024-06-03", "intake": "letter", "intake": "visit", "text": "x"}',
     'case.json: duplicate key "intake": each key may appear once in an object\n'),
    ("[" * 5000 + "]" * 5000, "case.json:1:65: nested deeper than 64 levels\n"),
    (b"\xff{}", "case.json: not UTF-8: byte 0 cannot be decoded\n"),
    ('{"received_on": "2024-06-03", "intake": "letter", "text": "\\udfff"}',
     "case.json: a string holds the lone surrogate \\udfff: not Unicode text\n"),
    ('{"received_on": "2024-06-03", "intake": "letter", "text": "x", "extension_days": Infinity}',
     "case.json: Infinity is not a JSON number\n"),
], ids=["received-9999", "answered-9999", "duplicate-key", "5000-deep", "not-utf8", "lone-surrogate", "infinity"])
def test_evaluate_refuses_a_hostile_case_file_with_one_line_and_exit_1(xinfang, tmp_path, text, message):
    path = tmp_path / "case.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = xinfang("evaluate", "371321", path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.endswith(message) and "Traceback" not in result.stderr


def test_evaluate_refuses_an_at_date_beyond_the_counted_range(xinfang):
    result = xinfang("evaluate", "371321", "-", "--at", "9999-01-01")
    assert result.exit_code == 2 and "'9999-01-01' is not a date from 1900-01-01 to 2999-12-31" in result.stderr
