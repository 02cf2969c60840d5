"""Tests for config/yaml_source.py: safe loading of rule-set YAML with source positions."""

from __future__ import annotations

import datetime
import pickle

import pytest
import yaml

from xinfang.config import yaml_source
from xinfang.config.errors import ConfigError, ConfigIssue, Position
from xinfang.config.yaml_source import dump_path, load_yaml

PARSERS = {"libyaml": getattr(yaml, "CSafeLoader", None), "python": yaml.SafeLoader}


@pytest.fixture(autouse=True, params=sorted(PARSERS))
def parser(request, monkeypatch):
    """Every test runs on the libyaml parser and on the pure Python fallback."""
    loader = PARSERS[request.param]
    if loader is None:
        pytest.skip("PyYAML built without libyaml")
    monkeypatch.setattr(yaml_source, "_LOADER", loader)
    return request.param


def load_error(text: str | bytes, name: str = "bad.yaml", **limits) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_yaml(name, text=text, **limits)
    return caught.value


# --- values and positions -------------------------------------------------------------------

RULESET = """\
jurisdiction:
  code: "330100"
  name: 杭州市
effective_from: 2027-01-01
time_limits:
  conclude: {days: 60, basis: 第三十二条}
  extension_max: 30
remove:
  - categories.07
  - ~
"""


def test_values_have_the_types_safeloader_gives():
    doc = load_yaml("r.yaml", text=RULESET)
    assert doc.data == yaml.safe_load(RULESET)
    assert isinstance(doc.data["effective_from"], datetime.date)
    assert list(doc.data) == ["jurisdiction", "effective_from", "time_limits", "remove"]
    text = "a: 1.5\nb: yes\nc: null\nd: 2027-01-01 09:30:00\ne: '07'\nf: !!str 123\ng: [.inf, 0x1F]\n"
    assert load_yaml("v.yaml", text=text).data == yaml.safe_load(text)


def test_positions_point_at_each_value_and_key():
    doc = load_yaml("r.yaml", text=RULESET)
    assert doc.file == "r.yaml"
    assert doc.positions[()] == Position("r.yaml", 1, 1)
    assert str(doc.positions[("jurisdiction", "name")]) == "r.yaml:3:9"
    assert str(doc.key_positions[("jurisdiction", "name")]) == "r.yaml:3:3"
    assert str(doc.positions[("time_limits", "conclude", "days")]) == "r.yaml:6:20"
    assert str(doc.key_positions[("time_limits", "conclude", "days")]) == "r.yaml:6:14"
    assert str(doc.positions[("remove", 1)]) == "r.yaml:10:5"
    assert str(doc.positions[("jurisdiction",)]) == "r.yaml:2:3"  # a mapping value: its first key


def test_columns_count_characters_not_bytes():
    doc = load_yaml("r.yaml", text="名称: 杭州市\n")
    assert str(doc.positions[("名称",)]) == "r.yaml:1:5"


def test_position_of_a_missing_path_is_its_nearest_ancestor():
    doc = load_yaml("r.yaml", text=RULESET)
    assert str(doc.position(("time_limits", "conclude", "unit"))) == "r.yaml:6:13"  # the `{`
    assert str(doc.position(("nothing", "here"))) == "r.yaml:1:1"
    assert doc.position(("time_limits", "extension_max")) == doc.positions[("time_limits", "extension_max")]


def test_loads_from_a_path_and_names_it_in_messages(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(RULESET, encoding="utf-8")
    assert load_yaml(path).data["time_limits"]["extension_max"] == 30
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{path}:2:1: "):
        load_yaml(path)


def test_unreadable_file_is_a_config_error_naming_it(tmp_path):
    err = load_error(None, name=str(tmp_path / "missing.yaml"))
    assert err.issues[0].position is None
    assert str(err).startswith(f"{tmp_path / 'missing.yaml'}: cannot read the file")


# --- refusals --------------------------------------------------------------------------------

def test_duplicate_key_is_an_error_naming_both_lines():
    err = load_error("time_limits:\n  days: 1\n  conclude: 60\n  other: 1\n  conclude: 90\n")
    assert str(err) == "bad.yaml:5:3: duplicate key 'conclude' (first at line 3)"


def test_duplicate_key_counts_a_year_and_its_quoted_form_as_one_key():
    err = load_error("holidays:\n  2027: []\n  '2027': []\n")
    assert "bad.yaml:3:3: duplicate key '2027' (first at line 2)" in str(err)


def test_anchors_and_aliases_are_refused():
    err = load_error("a: &limit 60\nb: 1\n")
    assert "bad.yaml:1:4: anchor '&limit' is not allowed" in str(err)
    err = load_error("a: [1, *limit]\n")
    assert "bad.yaml:1:8: alias '*limit' is not allowed" in str(err)


def test_billion_laughs_is_refused_at_its_first_anchor():
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    lines.append("boom: *lol9")  # 10**9 strings if expanded
    err = load_error("\n".join(lines) + "\n")
    assert "bad.yaml:1:7: anchor '&lol0' is not allowed" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        "{a: " * 10_000 + "1" + "}" * 10_000,
        "- " * 10_000 + "x\n",
    ],
    ids=["sequences", "mappings", "block-sequences"],
)
def test_nesting_deeper_than_max_depth_is_refused(text):
    err = load_error(text)  # a RecursionError or a stack overflow would fail this test
    assert str(err.issues[-1]).startswith("bad.yaml:1:")
    assert err.issues[-1].message == "nesting is deeper than 50 levels"


def test_block_nesting_deeper_than_max_depth_is_refused_at_the_offending_line():
    text = "".join(" " * level + "a:\n" for level in range(8)) + " " * 8 + "a: 1\n"
    assert load_yaml("ok.yaml", text=text, max_depth=9).data["a"]["a"]["a"]
    err = load_error(text, max_depth=8)
    assert str(err) == "bad.yaml:9:9: nesting is deeper than 8 levels"


def test_file_over_max_bytes_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "bad.yaml"
    with open(path, "wb") as handle:
        handle.truncate(5_200_000)  # sparse: costs no disk

    def never_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(yaml_source, "open", never_open, raising=False)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert str(caught.value) == f"{path}:1:1: file is 5.2 MB; rule sets are limited to 2.0 MB"


def test_text_over_max_bytes_is_refused():
    err = load_error("a: " + "x" * 1_997, max_bytes=1_000)
    assert str(err) == "bad.yaml:1:1: file is 2.0 kB; rule sets are limited to 1.0 kB"
    err = load_error("名" * 400, max_bytes=1_000)  # 400 characters, 1,200 bytes in UTF-8
    assert str(err) == "bad.yaml:1:1: file is 1.2 kB; rule sets are limited to 1.0 kB"


def test_non_utf8_byte_is_refused_naming_its_line_and_column():
    err = load_error(b"a: 1\nname: " + "杭州".encode() + b"\xe9\n")
    assert str(err) == "bad.yaml:2:9: file is not valid UTF-8 (byte 0xe9); save it as UTF-8"
    err = load_error("a: 1\nb: 杭州\n".encode("gbk"))
    assert str(err).startswith("bad.yaml:2:4: file is not valid UTF-8")


def test_utf8_bom_is_accepted():
    doc = load_yaml("bom.yaml", text=b"\xef\xbb\xbfname: \xe6\x9d\xad\n")
    assert doc.data == {"name": "杭"}
    assert str(doc.key_positions[("name",)]) == "bom.yaml:1:1"
    assert load_yaml("bom.yaml", text="\ufeffa: 1\n").data == {"a": 1}


def test_control_character_is_refused_with_its_position():
    assert str(load_error("a: 1\nb: x\x07y\n")) == "bad.yaml:2:5: character U+0007 is not allowed in a YAML file"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\n b: 2\n", "bad.yaml:2:3: YAML syntax error: mapping values are not allowed"),
        ("a: [1, 2\nb: 3\n", "bad.yaml:2:2: YAML syntax error: "),
        ("a: 'open\n", "bad.yaml:2:1: YAML syntax error: found unexpected end of stream"),
        ("a:\n\tb: 1\n", "bad.yaml:2:1: YAML syntax error: found character"),
    ],
    ids=["bad-indent", "unclosed-flow", "unclosed-quote", "tab"],
)
def test_syntax_error_names_the_problem_position(text, where):
    assert str(load_error(text)).startswith(where)


def test_int_keys_become_strings_as_written():
    doc = load_yaml("k.yaml", text="holidays:\n  2027: [2027-01-01]\ncategories:\n  01: x\n  08: y\n")
    assert doc.data == {"holidays": {"2027": [datetime.date(2027, 1, 1)]}, "categories": {"01": "x", "08": "y"}}
    assert str(doc.key_positions[("holidays", "2027")]) == "k.yaml:2:3"


@pytest.mark.parametrize(
    ("key", "col"),
    [("yes", 3), ("on", 3), ("true", 3), ("~", 3), ("null", 3), ("1.5", 3), ("[a]", 3), ("{a: 1}", 3)],
)
def test_non_string_key_is_an_error(key, col):
    err = load_error(f"units:\n  {key}: 1\n  ok: 2\n")
    assert str(err).startswith(f"bad.yaml:2:{col}: key must be a string")


def test_yes_key_error_says_how_to_fix_it():
    assert str(load_error("yes: 1\n")) == "bad.yaml:1:1: key must be a string, not yes (read as bool; quote it: 'yes')"


@pytest.mark.parametrize(
    "value",
    ["!!python/object/apply:os.system ['echo hi']", "!foo 1", "!!binary aGk=", "!!set {a}", "!!omap [{a: 1}]"],
)
def test_custom_tags_are_refused(value):
    assert str(load_error(f"a: 1\nb: {value}\n")).startswith("bad.yaml:2:4: tag !")


def test_merge_keys_are_refused():
    assert str(load_error("a:\n  <<: {b: 1}\n")).startswith("bad.yaml:2:3: merge keys ('<<') are not supported")


@pytest.mark.parametrize(
    ("value", "message"),
    [("2027-02-30", "invalid date '2027-02-30'"), ("!!int ten", "invalid int 'ten'"), ("!!bool maybe", "invalid bool")],
)
def test_invalid_scalar_is_an_error(value, message):
    assert str(load_error(f"a:\n  b: {value}\n")).startswith(f"bad.yaml:2:6: {message}")


def test_multiple_documents_are_refused():
    assert str(load_error("a: 1\n---\nb: 2\n")) == "bad.yaml:2:1: a second YAML document: one rule set per file"


@pytest.mark.parametrize("text", ["", b"", "  \n\n", "# only a comment\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(text):
    assert str(load_error(text)) == "bad.yaml:1:1: file is empty"


def test_all_independent_issues_are_reported_together():
    err = load_error("a: 1\na: 2\nyes: 3\nc: !foo 4\n")
    assert [str(issue.position) for issue in err.issues] == ["bad.yaml:2:1", "bad.yaml:3:1", "bad.yaml:4:4"]
    assert len(str(err).splitlines()) == 3


# --- helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ((), "(root)"),
        (("time_limits", "conclude", "days"), "time_limits.conclude.days"),
        (("remove", 0), "remove[0]"),
        (("holidays", "2027", 3, "date"), "holidays.2027[3].date"),
        ((0, "name"), "[0].name"),
        (("分类", "01"), "分类.01"),
        (("a.b", "c d"), "['a.b']['c d']"),
    ],
)
def test_dump_path_is_readable(path, shown):
    assert dump_path(path) == shown


def test_config_error_is_one_line_per_issue_and_pickles():
    err = ConfigError([ConfigIssue(Position("a.yaml", 3, 5), "bound broken"), ConfigIssue(None, "no position")])
    assert str(err) == "a.yaml:3:5: bound broken\nno position"
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    assert ConfigError(ConfigIssue(None, "one")).issues == [ConfigIssue(None, "one")]
