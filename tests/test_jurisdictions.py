"""Tests of the national jurisdiction tree and GB/T 2260 codes."""

import dataclasses

import pytest

from xinfang.config.jurisdictions import (
    LEVELS,
    NATIONAL_CODE,
    Jurisdiction,
    JurisdictionTree,
    UnknownJurisdiction,
    canonical_code,
    national_tree,
)


@pytest.fixture(scope="module")
def tree():
    return national_tree()


def chain(tree, code):
    return [(j.code, j.name, j.level) for j in tree.ancestors(code)]


def test_counts(tree):
    # The source lists 2,978 county rows; 东莞 441900, 中山 442000 and 儋州 460400 repeat
    # their city's code and are merged into it (DIVISIONS-SOURCE.md).
    expected = {"national": 1, "province": 31, "city": 342, "county": 2975, "township": 41352}
    assert {level: tree.count(level) for level in LEVELS} == expected
    assert len(tree) == sum(expected.values()) == len(list(tree))


def test_loaded_once(tree):
    assert national_tree() is tree


def test_every_row_passes_add_and_children_match(tree):
    rebuilt = JurisdictionTree(j for j in tree if j.code != NATIONAL_CODE)
    assert list(rebuilt) == list(tree)
    assert all(rebuilt.children(j.code) == tree.children(j.code) for j in tree)


@pytest.mark.parametrize(
    "code, expected",
    [
        (
            "371321",
            [
                ("000000", "全国", "national"),
                ("370000", "山东省", "province"),
                ("371300", "临沂市", "city"),
                ("371321", "沂南县", "county"),
            ],
        ),
        (
            "430981",
            [
                ("000000", "全国", "national"),
                ("430000", "湖南省", "province"),
                ("430900", "益阳市", "city"),
                ("430981", "沅江市", "county"),
            ],
        ),
        (
            "110101",
            [
                ("000000", "全国", "national"),
                ("110000", "北京市", "province"),
                ("110100", "北京市市辖区", "city"),
                ("110101", "东城区", "county"),
            ],
        ),
    ],
)
def test_ancestor_chains(tree, code, expected):
    assert chain(tree, code) == expected


def test_township_chain(tree):
    assert [j.code for j in tree.ancestors(371321001)] == [
        "000000", "370000", "371300", "371321", "371321001"
    ]
    assert tree.get("371321001").level == "township"


def test_county_under_a_province_keeps_its_city_level_row(tree):
    assert chain(tree, "429004")[1:] == [
        ("420000", "湖北省", "province"),
        ("429000", "湖北省省直辖县级行政区划", "city"),
        ("429004", "仙桃市", "county"),
    ]
    assert tree.get("5002").name == "重庆市县"


def test_city_without_counties_holds_its_townships(tree):
    dongguan = tree.get("4419")
    assert (dongguan.code, dongguan.name, dongguan.level) == ("441900", "东莞市", "city")
    below = tree.children(dongguan.code)
    assert below and all(j.level == "township" for j in below)
    assert tree.get("441900003").parent == "441900"


def test_national_and_children(tree):
    assert tree.get(NATIONAL_CODE) == Jurisdiction("000000", "全国", "national", None)
    provinces = tree.children("000000")
    assert len(provinces) == 31 and provinces[0].name == "北京市"
    assert [j.code for j in tree.children("37")] == sorted(j.code for j in tree.children("37"))
    assert tree.children("371321001") == []


@pytest.mark.parametrize(
    "code, canonical",
    [
        ("37", "370000"),
        ("370000", "370000"),
        ("3713", "371300"),
        ("371300", "371300"),
        ("371321", "371321"),
        ("371321001", "371321001"),
        ("000000", "000000"),
        (37, "370000"),
        (3713, "371300"),
        (371321, "371321"),
        (371321001, "371321001"),
        ("  371321 ", "371321"),
        ("３７１３２１", "371321"),
    ],
)
def test_canonical_code(code, canonical):
    assert canonical_code(code) == canonical


@pytest.mark.parametrize(
    "code", ["37132", "3", "3713211", "3713210010", "", "   ", "37a321", "-37", "3713.21", 37132, 0]
)
def test_canonical_code_refuses_bad_input(code):
    with pytest.raises(ValueError, match="is not a GB/T 2260 code: use 2, 4, 6 or 9 digits"):
        canonical_code(code)


def test_canonical_code_message_names_the_code():
    with pytest.raises(ValueError) as error:
        canonical_code("37132")
    assert str(error.value) == "'37132' is not a GB/T 2260 code: use 2, 4, 6 or 9 digits"


@pytest.mark.parametrize("code", [None, 37.0, True, b"37"])
def test_canonical_code_refuses_other_types(code):
    with pytest.raises(TypeError):
        canonical_code(code)


def test_get_unknown_and_malformed(tree):
    with pytest.raises(UnknownJurisdiction, match="no jurisdiction has code '371398'"):
        tree.get("371398")
    with pytest.raises(UnknownJurisdiction, match="'710000' .given as '71'"):
        tree.get("71")  # Taiwan has a code but no data
    with pytest.raises(UnknownJurisdiction, match="'37132' is not a GB/T 2260 code: use 2, 4"):
        tree.get("37132")
    assert issubclass(UnknownJurisdiction, LookupError)


def test_contains(tree):
    assert "371321" in tree and 37 in tree and "3713" in tree and "371321001" in tree
    assert "371398" not in tree and "37132" not in tree and None not in tree


def test_search_by_name(tree):
    found = tree.search("沂南")
    assert found[0].code == "371321" and found[0].name == "沂南县"
    assert all("沂南" in j.name for j in found)


def test_search_exact_name_first_then_level(tree):
    found = tree.search("东城区")
    assert found[0] == tree.get("110101")
    assert [LEVELS.index(j.level) for j in found[1:]] == sorted(
        LEVELS.index(j.level) for j in found[1:]
    )


def test_search_by_code_prefix(tree):
    found = tree.search("3713", limit=500)
    assert found[0].code == "371300"
    assert "371321" in {j.code for j in found}
    assert all(j.code.startswith("3713") for j in found)
    assert [j.code for j in tree.search("37", limit=3)] == ["370000", "370100", "370200"]


def test_search_limit_and_blank(tree):
    assert len(tree.search("街道", limit=7)) == 7
    assert tree.search("  ") == []
    assert tree.search("不存在的地方") == []


def test_jurisdiction_is_frozen(tree):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.get("371321").name = "x"


ZONE = Jurisdiction("371399", "临沂新区", "county", "371300")


def test_add_a_development_zone(tree):
    local = tree.copy()
    local.add(ZONE)
    assert local.get("371399") is ZONE
    assert ZONE in local.children("3713")
    assert [j.code for j in local.ancestors("371399")] == ["000000", "370000", "371300", "371399"]
    town = Jurisdiction("371399001", "高新区街道", "township", "371399")
    local.add(town)
    assert local.children("371399") == [town]
    assert "371399" not in tree  # the shared tree is untouched


@pytest.mark.parametrize(
    "zone, message",
    [
        (dataclasses.replace(ZONE, parent="379900"), "its parent '379900' is not in the tree"),
        (dataclasses.replace(ZONE, parent=None), "its parent None is not in the tree"),
        (dataclasses.replace(ZONE, parent="3713"), "its parent '3713' is not in the tree"),
        (dataclasses.replace(ZONE, parent="371321"), "a county cannot sit below a county"),
        (dataclasses.replace(ZONE, parent="370000", code="381371"), "begin with its parent's '37'"),
        (dataclasses.replace(ZONE, code="371321"), "already '沂南县'"),
        (dataclasses.replace(ZONE, code="3713991"), "is not a GB/T 2260 code"),
        (dataclasses.replace(ZONE, code=371399), "not canonical; write '371399'"),
        (dataclasses.replace(ZONE, level="city"), "reads as a county code, not a city"),
        (dataclasses.replace(ZONE, level="national"), "level 'national' is not one of"),
        (dataclasses.replace(ZONE, name=" "), "the name is empty"),
    ],
)
def test_add_rejects(tree, zone, message):
    local = tree.copy()
    with pytest.raises(ValueError, match=message):
        local.add(zone)
    assert "371399" not in local


def test_count_rejects_unknown_level(tree):
    with pytest.raises(ValueError, match="unknown level 'district'"):
        tree.count("district")
