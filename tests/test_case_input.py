"""Tests of the Case JSON contract: schema, typed parsing, and the errors a clerk or integrator reads."""

import dataclasses
import datetime as dt
import json

import jsonschema
import pytest

from xinfang.rules.case_input import Case, CaseError, History, case_schema, parse_case

D = dt.date
BASE = {"received_on": "2024-09-20", "intake": "letter", "text": "关于征地补偿的问题"}


def problems(**changes) -> list[str]:
    obj = {**BASE, **changes}
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(CaseError) as caught:
        parse_case(obj)
    return caught.value.problems


def test_schema_is_draft_2020_12_and_closed():
    schema = case_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("/2020-12/schema")
    assert schema["additionalProperties"] is False
    assert schema["properties"]["petitioner"]["additionalProperties"] is False


def test_full_case_is_typed():
    case = parse_case({
        **BASE, "category": "12", "kind": "appeal", "accused_unit": " ", "representatives": 3,
        "petitioner": {"name": "张三", "phone": "13800000000"}, "receiving_level": "city",
        "competent_level": "county", "accepted_on": "2024-09-21", "history": {"same_facts": True},
        "extension_days": 30, "answered_on": "2024-11-01", "review_requested_on": "2024-11-10",
        "review_answered_on": "2024-12-01", "rereview_requested_on": "2024-12-05",
        "hearings": [{"start": "2024-12-10", "end": "2024-12-12"}],
    })
    assert isinstance(case, Case)
    assert case.received_on == D(2024, 9, 20) and case.accepted_on == D(2024, 9, 21)
    assert case.representatives == 3 and isinstance(case.representatives, int)
    assert case.history == History(same_facts=True)
    assert case.hearings == ((D(2024, 12, 10), D(2024, 12, 12)),)
    assert case.petitioner.name == "张三"
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.text = "x"


def test_minimal_case_defaults():
    case = parse_case(BASE)
    assert case.category is None and case.hearings == () and case.history == History()


def test_whole_number_float_is_an_int():
    # JSON Schema counts 8.0 as an integer; the engine must still see the int 8.
    assert parse_case({**BASE, "representatives": 8.0}).representatives == 8
    assert type(parse_case({**BASE, "representatives": 8.0}).representatives) is int


# --- DESIGN.md: unknown fields are refused with a clear error --------------------------------------

def test_unknown_field_refused_naming_it():
    found = problems(urgency="high")
    assert len(found) == 1 and found[0].startswith("urgency: unknown field")


def test_unknown_nested_fields_refused():
    assert problems(history={"appealed": True})[0].startswith("history.appealed: unknown field")
    assert problems(petitioner={"email": "a@b"})[0].startswith("petitioner.email: unknown field")
    assert problems(hearings=[{"start": "2024-01-01", "end": "2024-01-02", "room": "1"}])[0].startswith(
        "hearings[0].room: unknown field")


# --- wrong types are refused before the engine (it compares strings with numbers as text) -----------

@pytest.mark.parametrize("field, value, message", [
    ("representatives", "8", "representatives: expected an integer, found the string '8'"),
    ("representatives", 8.5, "representatives: expected an integer, found the number 8.5"),
    ("representatives", True, "representatives: expected an integer, found true"),
    ("extension_days", "30", "extension_days: expected an integer, found the string '30'"),
    ("received_on", 20240920, "received_on: expected a string, found the number 20240920"),
    ("text", ["a"], "text: expected a string, found a list"),
    ("history", {"pending_elsewhere": "yes"},
     "history.pending_elsewhere: expected true or false, found the string 'yes'"),
])
def test_wrong_type_refused(field, value, message):
    assert problems(**{field: value}) == [message]


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "20240920", "2024/09/20", "2024-9-20"])
def test_bad_date_refused(value):
    assert problems(received_on=value) == [f"received_on: {value!r} is not a date (YYYY-MM-DD)"]


@pytest.mark.parametrize(("field", "value"), [
    ("received_on", "9999-12-31"), ("received_on", "1899-12-31"), ("received_on", "3000-01-01"),
    ("answered_on", "9999-12-30"), ("rereview_requested_on", "9999-01-01"),
])
def test_case_dates_lie_in_the_range_whose_deadlines_can_be_counted(field, value):
    # A deadline counted from 9999-12-31 would fall past the last date Python knows: refused at the input.
    assert problems(**{field: value}) == [f"{field}: {value!r} is not a date from 1900-01-01 to 2999-12-31 (YYYY-MM-DD)"]


def test_a_hearing_near_year_9999_is_refused_naming_it():
    assert problems(hearings=[{"start": "2024-10-01", "end": "9999-12-31"}]) == [
        "hearings[0].end: '9999-12-31' is not a date from 1900-01-01 to 2999-12-31 (YYYY-MM-DD)"]


def test_the_case_schema_states_the_date_range():
    date = case_schema()["$defs"]["date"]
    validator = jsonschema.Draft202012Validator(case_schema())
    assert "1900-01-01 to 2999-12-31" in date["description"]
    assert not validator.is_valid({**BASE, "received_on": "9999-12-31"})
    assert validator.is_valid({**BASE, "received_on": "2999-12-31"})


def test_enums_and_bounds():
    assert problems(intake="email") == [
        "intake: the string 'email' is not one of letter, visit, online, phone, fax, hotline"]
    assert problems(kind="complaint")[0].startswith("kind: the string 'complaint' is not one of")
    assert problems(representatives=0) == ["representatives: 0 is less than the minimum 1"]
    assert problems(category="1 2") == ["category: '1 2' is not a category code (1 to 8 letters or digits)"]


def test_required_fields():
    assert parse_case_problems({"intake": "letter", "text": "x"}) == ["received_on: required field is missing"]
    assert parse_case_problems([]) == ["case: expected an object, found a list"]


def parse_case_problems(obj) -> list[str]:
    with pytest.raises(CaseError) as caught:
        parse_case(obj)
    return caught.value.problems


def test_hearing_ending_before_it_starts():
    assert problems(hearings=[{"start": "2024-05-03", "end": "2024-05-01"}]) == [
        "hearings[0]: end 2024-05-01 is before start 2024-05-03"]


def test_stages_out_of_order():
    assert problems(accepted_on="2024-09-01") == ["accepted_on: 2024-09-01 is before received_on 2024-09-20"]
    assert problems(answered_on="2024-10-01", review_requested_on="2024-09-30") == [
        "review_requested_on: 2024-09-30 is before answered_on 2024-10-01"]


def test_every_problem_listed_at_once():
    found = problems(received_on="2024-13-01", representatives="8", colour="red",
                     hearings=[{"start": "2024-05-03", "end": "2024-05-01"}])
    assert set(found) == {
        "colour: unknown field (the fields here are: " + ", ".join(case_schema()["properties"]) + ")",
        "representatives: expected an integer, found the string '8'",
        "received_on: '2024-13-01' is not a date (YYYY-MM-DD)",
        "hearings[0]: end 2024-05-01 is before start 2024-05-03",
    }


def test_case_error_is_a_value_error_with_one_line_per_problem():
    err = CaseError(["a: x", "b: y"])
    assert isinstance(err, ValueError) and str(err) == "a: x\nb: y"


def test_schema_file_is_valid_json_beside_the_module():
    from importlib import resources

    import xinfang.rules.case_input as module
    text = resources.files(module.__package__).joinpath("case.schema.json").read_text(encoding="utf-8")
    assert json.loads(text)["title"]
