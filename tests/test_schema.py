"""Tests of the rule-set JSON Schema and of the positioned messages its errors become."""
import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from xinfang.config.validate_schema import SCHEMA_RESOURCE, load_schema, ruleset_validator, schema_issues
from xinfang.config.yaml_source import load_yaml

CONFIG = resources.files("xinfang.config")
# A county header: three lines, so a test's own lines start at line 4.
HEADER = """\
jurisdiction: {code: "371321", name: 沂南县, level: county}
version: "2024.1"
effective_from: 2024-01-01
"""


def issues_of(body: str, header: str = HEADER) -> list[str]:
    return [str(issue) for issue in schema_issues(load_yaml("t.yaml", text=header + body))]


def only_issue(body: str, header: str = HEADER) -> str:
    found = issues_of(body, header)
    assert len(found) == 1, found
    return found[0]


# --- the schema itself and the bundled files ---------------------------------------------------

def test_schema_passes_the_2020_12_metaschema():
    schema = json.loads(CONFIG.joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_has_no_duplicate_keys():
    # json.loads keeps the last of two equal keys silently: a second `$defs` entry would hide the first.
    def refuse_duplicates(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(CONFIG.joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"), object_pairs_hook=refuse_duplicates)


def test_every_mapping_in_the_schema_refuses_unknown_keys():
    def objects(node, where="#"):
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield where, node
            for key, sub in node.items():
                yield from objects(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                yield from objects(sub, f"{where}/{index}")

    open_ = [where for where, node in objects(load_schema()) if "additionalProperties" not in node
             and not where.endswith("/if/properties/jurisdiction")]
    assert open_ == []


def test_validator_is_built_once():
    assert ruleset_validator() is ruleset_validator()


@pytest.mark.parametrize("name", ["2005-05-01.yaml", "2022-05-01.yaml"])
def test_bundled_national_rule_sets_are_valid(name):
    path = CONFIG.joinpath("rulesets", "000000_national", name)
    assert schema_issues(load_yaml(str(path), text=path.read_text(encoding="utf-8"))) == []


def test_minimal_county_document_is_valid():
    assert issues_of("time_limits:\n  conclude: {days: 30}\n") == []


def test_header_alone_is_valid_below_national():
    assert issues_of("") == []


def test_national_document_needs_every_section():
    national = CONFIG.joinpath("rulesets", "000000_national", "2022-05-01.yaml").read_text(encoding="utf-8")
    start = national.index("\ntime_limits:")
    end = national.index("\ntracks:")
    # At the document's mapping: line 4, below the file's three comment lines.
    assert only_issue("", header=national[:start] + national[end:]) == (
        "t.yaml:4:1: missing required top-level key 'time_limits' (the national baseline defines every section)")


# --- one test per class of error: the right line, column and message ---------------------------

def test_unknown_key_points_at_the_key_and_suggests_the_closest():
    assert only_issue("time_limits:\n  review:\n    days: 30\n    daz: 30\n") == (
        "t.yaml:7:5: unknown key 'daz' in time_limits.review (allowed: days, unit, by, hours, extension, basis); "
        "did you mean 'days'?")


def test_unknown_top_level_key():
    message = only_issue("time_limit:\n  conclude: {days: 30}\n")
    assert message.startswith("t.yaml:4:1: unknown key 'time_limit' at the top level (allowed: jurisdiction, ")
    assert message.endswith("did you mean 'time_limits'?")


def test_unknown_key_without_a_close_match_has_no_suggestion():
    assert "did you mean" not in only_issue("tracks:\n  fast: {zzzzzz: 1}\n")


def test_missing_required_key_points_at_the_parent_mapping():
    assert only_issue("time_limits:\n  conclude:\n    unit: working\n") == (
        "t.yaml:5:3: time_limits.conclude: missing required key 'days'")


def test_missing_header_key():
    header = 'jurisdiction: {code: "371321", name: 沂南县, level: county}\nversion: "1"\n'
    assert only_issue("", header=header) == "t.yaml:1:1: missing required top-level key 'effective_from'"


def test_quoted_integer_is_a_type_error_that_mentions_the_quotes():
    assert only_issue('time_limits:\n  conclude: {days: "60"}\n') == (
        "t.yaml:5:20: time_limits.conclude.days: expected an integer, found the string '60' (remove the quotes)")


def test_unquoted_code_is_a_type_error_that_asks_for_quotes():
    assert only_issue("classification:\n  default_category: 99\n") == (
        "t.yaml:5:21: classification.default_category: expected a string, found the integer 99 (put it in quotes)")


def test_float_is_not_an_integer():
    assert only_issue("time_limits:\n  conclude: {days: 60.0}\n") == (
        "t.yaml:5:20: time_limits.conclude.days: expected an integer, found the number 60.0")


def test_empty_section_is_a_type_error():
    assert only_issue("time_limits:\n") == (
        "t.yaml:4:13: time_limits: expected a mapping, found nothing (an empty value)")


def test_enum_lists_the_allowed_values_and_suggests_one():
    assert only_issue("time_limits:\n  conclude: {days: 30, unit: workday}\n") == (
        "t.yaml:5:30: time_limits.conclude.unit: expected one of calendar, working, "
        "found the string 'workday'; did you mean 'working'?")


def test_pattern_says_what_a_valid_value_looks_like():
    header = 'jurisdiction: {code: "37132", name: 沂南县, level: county}\nversion: "1"\neffective_from: 2024-01-01\n'
    assert only_issue("", header=header) == (
        't.yaml:1:22: jurisdiction.code: expected a GB/T 2260 code in quotes: "000000" (national), '
        '6 digits ("371321") or 9 digits for a township ("430981102"), found the string \'37132\'')


def test_bad_map_key_points_at_the_key():
    assert only_issue('classification:\n  categories:\n    "12-01": {name: 征地}\n') == (
        "t.yaml:6:5: classification.categories: key '12-01' is not valid: "
        'expected a category code of 1 to 8 letters or digits, in quotes ("01")')


def test_bad_id_key():
    assert only_issue("tracks:\n  Fast: {name: 快办}\n").startswith(
        "t.yaml:5:3: tracks: key 'Fast' is not valid: expected an id: a lowercase letter")


def test_quoted_date_is_refused():
    header = HEADER.replace("effective_from: 2024-01-01", 'effective_from: "2024-01-01"')
    assert only_issue("", header=header) == (
        "t.yaml:3:17: effective_from: expected a date (YYYY-MM-DD, without quotes), "
        "found the string '2024-01-01' (remove the quotes)")


def test_date_and_time_is_refused():
    assert only_issue("effective_until: 2024-12-31 12:00:00\n") == (
        "t.yaml:4:18: effective_until: expected a date (YYYY-MM-DD), "
        "found the date and time 2024-12-31 12:00:00: write the date only")


def test_dates_in_holiday_tables():
    assert issues_of("calendar:\n  holiday_tables:\n    2027:\n      rest_days: [2027-01-01]\n") == []
    assert only_issue("calendar:\n  holiday_tables:\n    2027:\n      rest_days: [January 1]\n") == (
        "t.yaml:7:19: calendar.holiday_tables.2027.rest_days[0]: "
        "expected a date (YYYY-MM-DD, without quotes), found the string 'January 1'")


def test_days_out_of_range():
    assert only_issue("time_limits:\n  conclude: {days: -1}\n") == (
        "t.yaml:5:20: time_limits.conclude.days: expected at least 0, found the integer -1")
    assert only_issue("time_limits:\n  conclude: {days: 3651}\n") == (
        "t.yaml:5:20: time_limits.conclude.days: expected at most 3650, found the integer 3651")


def test_bound_needs_a_basis_and_a_limit():
    assert only_issue("bounds:\n  time_limits.conclude.days: {max: 30}\n") == (
        "t.yaml:5:3: bounds['time_limits.conclude.days']: missing required key 'basis'")
    assert only_issue("bounds:\n  time_limits.conclude.days: {basis: 某条}\n") == (
        "t.yaml:5:3: bounds['time_limits.conclude.days']: a bound needs max, min or locked: true")


def test_bound_path_must_be_dotted_from_a_section():
    assert only_issue("bounds:\n  conclude.days: {max: 30, basis: 某条}\n").startswith(
        "t.yaml:5:3: bounds: key 'conclude.days' is not valid: expected a dotted path starting with a section name")


def test_lock_cannot_be_false():
    assert only_issue("bounds:\n  routing.accusation.unit: {locked: false, basis: 某条}\n") == (
        "t.yaml:5:37: bounds['routing.accusation.unit'].locked: expected true, found the boolean false")


def test_remove_takes_dotted_paths():
    assert issues_of("remove: [routing.rules.old_rule, tracks.simple]\n") == []
    assert only_issue("remove: [tracks.*]\n").startswith("t.yaml:4:10: remove[0]: expected a dotted path")


def test_escalation_step_gives_one_relative_day_count():
    body = "escalation:\n  steps:\n    warn_early:\n      watch: conclude\n      before_days: 3\n      after_days: 1\n"
    assert only_issue(body) == (
        "t.yaml:6:5: escalation.steps.warn_early: give only one of before_days, after_days, open_days")


def test_choice_field_needs_options():
    assert only_issue("intake:\n  fields:\n    method: {label: 方式, type: choice}\n") == (
        "t.yaml:6:5: intake.fields.method: missing required key 'options' (a choice field lists its options)")


def test_field_pattern_must_compile():
    assert only_issue('intake:\n  fields:\n    code: {pattern: "([0-9"}\n').startswith(
        "t.yaml:6:21: intake.fields.code.pattern: expected a regular expression in RE2 syntax, found the string '([0-9'")


@pytest.mark.parametrize(("pattern", "named"), [
    ("^[0-9]{4294967296}$", "the repetition {4294967296} repeats more than 1000 times"),  # OverflowError in `re`
    ("^[0-9]{5,99999999999}$", "the repetition {5,99999999999} repeats more than 1000 times"),
    ("^[0-9]{1001}$", "the repetition {1001} repeats more than 1000 times"),
    ("^(a{100}){100}$", "invalid repetition size: {100}"),  # nested counts multiply
    ("^(a)\\\\1$", "back-references (\\1) are not supported"),
    ("^(?=a)", "look-ahead (?=…) is not supported"),
])
def test_a_field_pattern_the_form_check_cannot_run_in_linear_time_is_refused_at_its_line(pattern, named):
    issue = only_issue(f'intake:\n  fields:\n    code: {{pattern: "{pattern}"}}\n')
    assert issue.startswith("t.yaml:6:21: intake.fields.code.pattern: expected a regular expression in RE2 syntax")
    assert named in issue


@pytest.mark.parametrize("pattern", ["^[0-9]{17}[0-9Xx]$", "^[0-9+\\\\-]{5,20}$", "^(a+)+$", "a{1000}",
                                     "[{99999}]", "\\\\{99999}", "^[[:alpha:]]+$", "^\\\\p{Han}{2,4}$"])
def test_field_patterns_in_re2_syntax_are_valid(pattern):
    assert issues_of(f'intake:\n  fields:\n    code: {{pattern: "{pattern}"}}\n') == []


def test_duplicate_list_item_points_at_the_repeat():
    assert only_issue("intake:\n  channels:\n    visit: {fields: [name, text, name]}\n") == (
        "t.yaml:6:34: intake.channels.visit.fields: 'name' is listed twice")


def test_empty_condition_is_refused():
    assert only_issue("tracks:\n  fast:\n    when: {}\n") == (
        "t.yaml:6:5: tracks.fast.when: expected at least 1 key, found none")


def test_when_takes_the_documented_keys():
    body = """\
tracks:
  fast:
    when:
      categories: ["10"]
      kinds: [appeal]
      intakes: [visit]
      channels: [petition]
      keywords: [欠薪]
      min_representatives: 2
      max_representatives: 5
"""
    assert issues_of(body) == []


def test_document_that_is_not_a_mapping():
    assert issues_of("", header="- a\n- b\n") == ["t.yaml:1:1: the document: expected a mapping, found a list"]


def test_long_values_are_cut():
    message = only_issue(f"effective_until: {'长' * 500}\n")
    assert message.count("长") < 60 and message.endswith("…'")
    message = only_issue(f"time_limits:\n  conclude: {{days: \"{'6' * 500}\"}}\n")
    assert message.count("6") < 70 and message.endswith("…'")


# --- several errors ----------------------------------------------------------------------------

def test_every_error_is_reported_in_line_order():
    body = """\
time_limits:
  conclude: {days: "60", unit: calender}
  conclued: {days: 30}
tracks:
  fast: {priority: high}
escalation:
  steps:
    late: {watch: conclude, after_days: 1, action: shout}
"""
    found = issues_of(body)
    assert [line.split(":")[1] for line in found] == ["5", "5", "6", "8", "11"]
    assert found[0].startswith("t.yaml:5:20: time_limits.conclude.days: expected an integer")
    assert found[1].startswith("t.yaml:5:32: time_limits.conclude.unit: expected one of calendar, working")
    assert found[2].startswith("t.yaml:6:3: unknown key 'conclued' in time_limits")
    assert found[3].startswith("t.yaml:8:20: tracks.fast.priority: expected an integer, found the string 'high'")
    assert found[4].startswith("t.yaml:11:52: escalation.steps.late.action: expected one of warn, flag")


def test_local_steps_and_hearing_pauses():
    body = "time_limits:\n  review_acceptance: {days: 3, unit: working}\n  rereview_acceptance: {days: 3, unit: working}\n"
    assert issues_of(body) == []
    assert only_issue("time_limits:\n  review: {days: 30, paused_by_hearings: true}\n").startswith(
        "t.yaml:5:22: unknown key 'paused_by_hearings' in time_limits.review (allowed: days, unit, by, hours, extension, basis)")
    assert issues_of("time_limits:\n  rereview: {days: 30, paused_by_hearings: true}\n") == []


def test_escalation_watches_a_known_step():
    assert only_issue("escalation:\n  steps:\n    late: {watch: conclusion, after_days: 1}\n").endswith(
        "found the string 'conclusion'; did you mean 'conclude'?")


@pytest.mark.parametrize("source, where", [
    ("name: 12345热线\n      channel: wechat\n      columns: {order_id: 工单编号, received_on: 来电时间, text: 诉求内容}",
     "t.yaml:8:16: intake.sources.hotline_12345.channel: expected one of online, letter, phone, fax, visit, hotline"),
    ("name: 12345热线\n      channel: hotline\n      columns: {order_id: 工单编号, text: 诉求内容}",
     "t.yaml:9:7: intake.sources.hotline_12345.columns: missing required key 'received_on'"),
])
def test_work_order_source_names_its_channel_and_the_columns_of_id_date_and_request(source, where):
    # 12345 orders "查实后可以视同信访事项": a source's mapping is validated with the rest, at file:line
    message = only_issue(f"intake:\n  sources:\n    hotline_12345:\n      {source}\n")
    assert message.startswith(where), message
