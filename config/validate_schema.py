"""JSON Schema validation of one rule-set document, every error turned into a positioned, readable issue."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from .errors import ConfigIssue, Position
from .field_patterns import PatternError, compiled_pattern
from .yaml_source import Path_, YamlDocument, dump_path

__all__ = ["SCHEMA_RESOURCE", "load_schema", "ruleset_validator", "schema_issues"]

SCHEMA_RESOURCE = "schema/ruleset.schema.json"  # inside the xinfang.config package
_SHOW_CHARS = 60  # instance text longer than this is cut: a message is one line, not a dump
_MAX_ALLOWED_SHOWN = 20

# What a valid value looks like, per $defs name; the patterns are read from the schema itself.
_PATTERN_HINTS = {
    "jurisdictionCode": 'a GB/T 2260 code in quotes: "000000" (national), 6 digits ("371321") '
                        'or 9 digits for a township ("430981102")',
    "categoryCode": 'a category code of 1 to 8 letters or digits, in quotes ("01")',
    "id": "an id: a lowercase letter, then lowercase letters, digits or '_' (review_request)",
    "year": "a year of four digits (2027)",
    "boundPath": "a dotted path starting with a section name, '*' for any key (tracks.*.time_limits.conclude.days)",
    "removePath": "a dotted path starting with a section name, without '*' (routing.rules.old_rule)",
}
_TYPE_NAMES_ZH = {"object": "映射（键: 值）", "array": "列表", "string": "文字", "integer": "整数", "number": "数字",
                  "boolean": "true 或 false", "null": "空值"}
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "nothing"}
# The YAML tag a plain scalar would resolve to, per schema type: a string that would become
# the wanted type without its quotes was quoted by mistake.
_UNQUOTED_TAG = {"integer": "int", "number": "float", "boolean": "bool", "date": "timestamp"}
_RESOLVER = Resolver()


@functools.cache
def load_schema() -> dict[str, Any]:
    """The rule-set schema as data; the test suite checks it against the metaschema (too slow for every start)."""
    text = resources.files(__package__).joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def ruleset_validator() -> Draft202012Validator:
    """A Draft202012Validator for rule sets, built once.

    Dates: YAML loads an unquoted `2022-05-01` as a datetime.date, which has no JSON type. The
    schema says `"format": "date"` (so JSON tools read it as an ISO date) and this validator's
    format checker asserts that format against the loaded Python value: a date, not a datetime
    and not a string, so a quoted "2022-05-01" is refused instead of reaching the engine as text.
    Draft 2020-12 treats `format` as an annotation unless a checker is given; we give one holding
    only our two formats (date, regex). "integer" is redefined to mean a Python int, because
    JSON Schema counts 60.0 as an integer and the engine counts days in ints.
    """
    checker = FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("regex", raises=PatternError)(_is_regex)
    types = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int)
    validator_class = validators.extend(Draft202012Validator, type_checker=types)
    return validator_class(load_schema(), format_checker=checker)


def _is_date(instance: Any) -> bool:
    return isinstance(instance, dt.date) and not isinstance(instance, dt.datetime)


def _is_regex(instance: Any) -> bool:
    # RE2, the engine the form check matches with (config/field_patterns.py): raises PatternError.
    if isinstance(instance, str):
        compiled_pattern(instance)
    return True


def _is_int(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def _pattern_hints() -> dict[str, str]:
    defs = load_schema()["$defs"]
    return {defs[name]["pattern"]: hint for name, hint in _PATTERN_HINTS.items()}


def schema_issues(doc: YamlDocument) -> list[ConfigIssue]:
    """Every schema error of `doc`, in file order, each placed where the officer has to edit."""
    found: dict[tuple[Position, str], ConfigIssue] = {}
    for error in ruleset_validator().iter_errors(doc.data):
        for issue in _issues_for(doc, error):
            found.setdefault((issue.position, issue.message), issue)  # `required` repeats per key
    return sorted(found.values(), key=lambda issue: (issue.position.line, issue.position.col, issue.message))


def _issues_for(doc: YamlDocument, error: ValidationError) -> Iterator[ConfigIssue]:
    path: Path_ = tuple(error.absolute_path)
    keyword = error.validator
    if keyword == "additionalProperties":
        yield from _unknown_keys(doc, error, path)
    elif keyword == "required":
        yield from _missing_keys(doc, error, path)
    elif "propertyNames" in error.absolute_schema_path:
        key = error.instance  # a propertyNames error sits at the mapping; its instance is the key
        at = doc.key_positions.get((*path, key)) or doc.position(path)
        problem = f"expected {_expectation(error)}" if keyword == "pattern" else _value_message(error)
        yield ConfigIssue(at, f"{_where(path)}: key {_show(key)} is not valid: {problem}",
                          f"键 {_show(key)} 的写法不对" + _described_zh(error))
    elif keyword == "uniqueItems":
        items = error.instance
        index = next((i for i, item in enumerate(items) if item in items[:i]), None)
        at = doc.position(path if index is None else (*path, index))
        yield ConfigIssue(at, f"{_where(path)}: {'an item' if index is None else _show(items[index])} is listed twice",
                          "列表中有重复的项" + ("" if index is None else f"：{_show(items[index])}"))
    elif keyword in ("anyOf", "oneOf", "not", "minProperties"):
        yield ConfigIssue(_at_mapping(doc, path), f"{_where(path)}: {_rule_message(error)}",
                          "这里不能是空的" if keyword == "minProperties" else
                          "这几项的写法或组合不符合规则" + _described_zh(error))
    else:
        yield ConfigIssue(doc.position(path), f"{_where(path)}: {_value_message(error)}", _value_message_zh(error))


def _unknown_keys(doc: YamlDocument, error: ValidationError, path: Path_) -> Iterator[ConfigIssue]:
    allowed = list(error.schema.get("properties", {}))
    patterns = list(error.schema.get("patternProperties", {}))
    listed = ", ".join(allowed[:_MAX_ALLOWED_SHOWN]) + (", ..." if len(allowed) > _MAX_ALLOWED_SHOWN else "")
    where = f"in {dump_path(path)}" if path else "at the top level"
    for key in error.instance:
        if key in allowed or any(re.search(pattern, key) for pattern in patterns):
            continue
        message = f"unknown key {_show(key)} {where} (allowed: {listed or 'none'})"
        chinese = f"不认识的键 {_show(key)}（这里可以写：{listed or '无'}）"
        guess = _closest(key, allowed)
        if guess:
            message += f"; did you mean '{guess}'?"
            chinese += f"，是不是想写 '{guess}'？"
        yield ConfigIssue(doc.key_positions.get((*path, key)) or doc.position(path), message, chinese)


def _missing_keys(doc: YamlDocument, error: ValidationError, path: Path_) -> Iterator[ConfigIssue]:
    why = why_zh = ""
    if list(error.absolute_schema_path)[-2:] == ["then", "required"]:
        why = f" ({_english(error.schema.get('description', 'required here'))})"
        why_zh = _described_zh(error)
    for key in error.validator_value:
        if key not in error.instance:
            text = f"{dump_path(path)}: missing required key" if path else "missing required top-level key"
            yield ConfigIssue(_at_mapping(doc, path), f"{text} '{key}'{why}", f"缺少必填项 '{key}'{why_zh}")


def _value_message(error: ValidationError) -> str:
    """`expected …, found …` for a value that has the wrong type or is out of its range."""
    keyword, wanted, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        expected = " or ".join(_TYPE_NAMES.get(name, name) for name in names)
        return f"expected {expected}, found {_found(value)}{_quoting(names, value)}"
    if keyword == "enum":
        text = f"expected one of {', '.join(map(str, wanted))}, found {_found(value)}"
        guess = _closest(value, [str(option) for option in wanted]) if isinstance(value, str) else None
        return text + (f"; did you mean '{guess}'?" if guess else "")
    if keyword == "const":
        return f"expected {_show(wanted)}, found {_found(value)}"
    if keyword == "pattern":
        return f"expected {_expectation(error)}, found {_found(value)}"
    if keyword == "format" and wanted == "date":
        if isinstance(value, dt.datetime):
            return f"expected a date (YYYY-MM-DD), found the date and time {value.isoformat(' ')}: write the date only"
        return f"expected a date (YYYY-MM-DD, without quotes), found {_found(value)}{_quoting(['date'], value)}"
    if keyword == "format" and wanted == "regex":
        return f"expected a regular expression in RE2 syntax, found {_found(value)}: {error.cause or 'invalid'}"
    if keyword in ("minimum", "exclusiveMinimum"):
        return f"expected {'at least' if keyword == 'minimum' else 'more than'} {wanted}, found {_found(value)}"
    if keyword in ("maximum", "exclusiveMaximum"):
        return f"expected {'at most' if keyword == 'maximum' else 'less than'} {wanted}, found {_found(value)}"
    if keyword == "minLength":
        return "expected a non-empty string, found an empty one" if wanted == 1 \
            else f"expected at least {wanted} characters, found {len(value)}"
    if keyword == "maxLength":
        return f"expected at most {wanted} characters, found {len(value)}"
    if keyword == "minItems":
        return f"expected at least {wanted} item{'s' if wanted != 1 else ''}, found {len(value)}"
    if keyword == "maxItems":
        return f"expected at most {wanted} items, found {len(value)}"
    return _cut(error.message, 2 * _SHOW_CHARS)


def _value_message_zh(error: ValidationError) -> str:
    """What `_value_message` says, in the officer's words (the value itself is at the line shown beside it)."""
    keyword, wanted, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        quoting = {" (remove the quotes)": "（去掉引号）", " (put it in quotes)": "（加上引号）"}.get(_quoting(names, value), "")
        return f"类型不对：这里应当写{'或'.join(_TYPE_NAMES_ZH.get(name, name) for name in names)}{quoting}"
    if keyword == "enum":
        return f"取值不在允许的范围内：应当是 {'、'.join(map(str, wanted))} 之一"
    if keyword == "const":
        return f"这里只能写 {_show(wanted)}"
    if keyword == "pattern":
        return "写法不对" + (_described_zh(error) or "：请按格式填写")
    if keyword == "format" and wanted == "date":
        return "这里应当写日期，格式为 YYYY-MM-DD，不加引号"
    if keyword == "format" and wanted == "regex":
        return "表单项的格式（正则表达式）无法使用：只支持 RE2 写法，且不能有过大的重复次数"
    if keyword in ("minimum", "exclusiveMinimum"):
        return f"数值太小：应当{'不小于' if keyword == 'minimum' else '大于'} {wanted}"
    if keyword in ("maximum", "exclusiveMaximum"):
        return f"数值太大：应当{'不大于' if keyword == 'maximum' else '小于'} {wanted}"
    if keyword == "minLength":
        return "不能为空" if wanted == 1 else f"至少要写 {wanted} 个字"
    if keyword == "maxLength":
        return f"最多只能写 {wanted} 个字"
    if keyword == "minItems":
        return f"至少要列 {wanted} 项"
    if keyword == "maxItems":
        return f"最多只能列 {wanted} 项"
    return "取值不符合规则集格式"


def _described_zh(error: ValidationError) -> str:
    """The Chinese half of the schema's `中文 / English` description, as `：…`; empty when it has none."""
    chinese, slash, _ = (error.schema.get("description") or "").partition("/ ")
    chinese = chinese.strip().rstrip("。")
    return f"：{chinese}" if slash and chinese and not chinese.isascii() else ""


def _rule_message(error: ValidationError) -> str:
    """A combination of keys that breaks a rule: the schema's own description states the rule."""
    if error.validator == "minProperties":
        return f"expected at least {error.validator_value} key{'s' if error.validator_value != 1 else ''}, found none"
    description = error.schema.get("description")
    return _english(description) if description else _cut(error.message, 2 * _SHOW_CHARS)


def _expectation(error: ValidationError) -> str:
    pattern = error.schema.get("pattern", "")
    hint = _pattern_hints().get(pattern)
    if hint:
        return hint
    description = error.schema.get("description")
    return _english(description) if description else f"a string matching {pattern}"


def _quoting(expected: list[str], value: Any) -> str:
    """Point out YAML quoting, the usual cause of a type error in a hand-written rule set."""
    if isinstance(value, str):
        if len(value) <= _SHOW_CHARS and "\n" not in value:
            tag = _RESOLVER.resolve(ScalarNode, value, (True, False)).rsplit(":", 1)[-1]
            if any(_UNQUOTED_TAG.get(name) == tag for name in expected):
                return " (remove the quotes)"
        return ""
    if "string" in expected and isinstance(value, (bool, int, float, dt.date)):
        return " (put it in quotes)"
    return ""


def _found(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {_cut(str(value))}"
    if isinstance(value, float):
        return f"the number {_cut(repr(value))}"
    if isinstance(value, str):
        return f"the string {_show(value)}" if value else "an empty string"
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat(' ')}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return "'" + _cut(value.replace("\n", "\\n")) + "'"
    if isinstance(value, bool):
        return str(value).lower()
    return _cut(str(value))


def _cut(text: str, limit: int = _SHOW_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _closest(word: str, choices: list[str]) -> str | None:
    """The allowed word a typo most likely meant (lenient cutoff: keys are short, 'daz' → 'days')."""
    lowered = {choice.lower(): choice for choice in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def _english(description: str) -> str:
    """Schema descriptions read `中文 / English`; messages are English, so keep the part after the slash."""
    return description.split(" / ", 1)[-1]


def _where(path: Path_) -> str:
    return dump_path(path) if path else "the document"


def _at_mapping(doc: YamlDocument, path: Path_) -> Position:
    """A rule about a whole mapping points at the key that opens it: the line where it is named."""
    return doc.key_positions.get(path) or doc.position(path)
