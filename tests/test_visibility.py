"""Tests of visible_case (server/cases/visibility.py): one test per confidentiality and masking rule (no database needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinfang.server.cases.visibility import mask_id_number, mask_phone, visible_case
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import User

PERSON = {"name": "张三", "id_number": "370101199001011234", "phone": "13812345678", "address": "山东省临沂市沂南县界湖街道"}


def petition(*, accusation: bool = False, code: str = "371321") -> Petition:
    case = {"received_on": "2024-03-04", "intake": "letter", "text": "举报住建局局长受贿" if accusation else "小区供暖不热",
            "petitioner": dict(PERSON), "form": {"facts": "2023年收受红包"}}
    if accusation:
        case["accused_unit"] = "沂南县住房和城乡建设局"
    trace = [{"rule": "classify:keywords", "matched": ["受贿"] if accusation else ["供暖"], "source": {}}]
    return Petition(id=1, number=f"{code}-2024-000001", jurisdiction_code=code, ruleset_version="v", revision=1,
                    received_on=dt.date(2024, 3, 4), intake="letter", kind="accusation" if accusation else "appeal",
                    category="06" if accusation else "10", channel="discipline" if accusation else "petition",
                    admissible=True, stage="registered", flags=[], confidential=accusation,
                    accused_unit=case.get("accused_unit"), case_json=case, decision={"trace": trace, "flags": []},
                    created_by="clerk")


def user(*roles: str, code: str = "371321", unit: str | None = None, unit_name: str | None = None) -> User:
    return User(username="u", display_name="u", password_hash="-", jurisdiction_code=code, roles=list(roles),
                unit=unit, unit_name=unit_name)


def material_shown(view: dict) -> bool:
    return view["text"] is not None and view["petitioner"] is not None and "form" in view["case"]


def test_masks_id_numbers_and_phones():
    assert mask_id_number("370101199001011234") == "3701**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("1234") == "****" and mask_phone("12345") == "*****"


def test_lists_mask_personal_data_for_everyone():
    for viewer in (user("clerk"), user("admin", code="000000"), user("discipline")):
        item = visible_case(petition(), viewer, in_list=True)
        assert item["petitioner"]["id_number"] == "3701**********1234" and item["petitioner"]["phone"] == "138****5678"
        assert item["petitioner"]["address"] == "山东省临沂市****" and item["masked"]
        assert item["summary"] == "小区供暖不热" and "case" not in item


@pytest.mark.parametrize("roles, whole", [(("clerk",), True), (("discipline",), True), (("admin",), True),
                                          (("supervisor",), False), (("policy_officer",), False)])
def test_the_case_view_shows_personal_data_whole_only_to_roles_allowed(roles, whole):
    view = visible_case(petition(), user(*roles), in_list=False)
    assert (view["petitioner"]["id_number"] == PERSON["id_number"]) is whole
    assert view["masked"] is not whole
    assert view["text"] == "小区供暖不热"  # no accusation: the request itself is not withheld


def test_an_accusations_material_is_withheld_from_those_without_the_discipline_role():
    # Art. 30, 46(5): petitioner identity and material only to discipline bodies.
    for viewer in (user("clerk"), user("supervisor"), user("policy_officer")):
        view = visible_case(petition(accusation=True), viewer, in_list=False)
        assert not material_shown(view) and view["accused_unit"] is None
        assert view["redacted"] == ["petitioner", "text", "accused_unit", "form"]
        assert "matched" not in view["decision"]["trace"][0]  # the keywords are words of the text
        assert visible_case(petition(accusation=True), viewer, in_list=True)["summary"] is None


def test_an_accusations_material_is_shown_to_discipline_and_admin_in_scope():
    for viewer in (user("discipline"), user("admin", code="000000"), user("discipline", code="371300")):
        view = visible_case(petition(accusation=True), viewer, in_list=False)
        assert material_shown(view) and view["accused_unit"] == "沂南县住房和城乡建设局"
        assert view["redacted"] == [] and view["decision"]["trace"][0]["matched"] == ["受贿"]


def test_discipline_outside_the_scope_does_not_see_an_accusations_material():
    view = visible_case(petition(accusation=True), user("discipline", code="360700"), in_list=False)
    assert not material_shown(view)


@pytest.mark.parametrize("unit, unit_name", [("housing", "沂南县住房和城乡建设局"), (None, "住房和城乡建设局"),
                                             ("沂南县住房和城乡建设局", None)])
def test_never_to_the_accused_unit_whatever_the_roles(unit, unit_name):
    # Art. 46(5): not even an admin or a discipline officer who works in the accused unit.
    for roles in (("discipline",), ("admin",), ("discipline", "admin", "clerk")):
        view = visible_case(petition(accusation=True), user(*roles, unit=unit, unit_name=unit_name), in_list=False)
        assert not material_shown(view), roles


def test_another_units_user_is_no_accused():
    view = visible_case(petition(accusation=True), user("discipline", unit="discipline", unit_name="沂南县纪委监委"),
                        in_list=False)
    assert material_shown(view)
