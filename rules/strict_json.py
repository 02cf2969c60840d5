"""JSON read strictly, as the YAML loader reads rule sets: a key given twice or nesting past a bound is refused.

Python's json keeps the last of two equal keys without a word (a case with two `intake`s would be
decided on one the sender may not have meant) and recurses once per nesting level (5,000 levels
raise RecursionError). Every JSON the outside sends, the API's bodies and the CLI's case files, is
read here, so both refuse the same inputs with the same message, naming what was wrong and where.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "JsonInputError", "loads_strict"]

MAX_DEPTH = 64  # a case nests 3 levels, a lifecycle body 4; far above any honest input, far below the stack
# What the nesting scan looks at: quotes and escapes (brackets inside a string do not nest), and brackets.
_TOKEN = re.compile(r'["\\\[\]{}]')


class JsonInputError(ValueError):
    """JSON that is refused: `message` says what was wrong, `line` and `col` (1-based) where, when known."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        self.message, self.line, self.col = message, line, col
        super().__init__(f"line {line} column {col}: {message}" if line is not None else message)


def loads_strict(text: str | bytes) -> Any:
    """The value of a JSON text; raises JsonInputError for invalid JSON, a duplicate key, excessive nesting,
    NaN or Infinity, or a string that is not Unicode text (a lone surrogate)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise JsonInputError(f"not UTF-8: byte {err.start} cannot be decoded") from None
    _check_depth(text)
    try:
        value = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise JsonInputError(f"not valid JSON: {err.msg}", err.lineno, err.colno) from None
    except RecursionError:  # unreachable after _check_depth; kept so no input can crash a caller
        raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels") from None
    _refuse_lone_surrogates(value)
    return value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise JsonInputError(f"duplicate key {json.dumps(key, ensure_ascii=False)}: "
                                 "each key may appear once in an object")
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> None:
    """NaN and Infinity: Python's json reads them, JSON (RFC 8259) has no such numbers."""
    raise JsonInputError(f"{name} is not a JSON number")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(value: Any) -> None:
    """A `\\ud800` escape with no partner decodes to a string that is not Unicode text: it cannot be stored,
    printed or encoded as UTF-8, so it is refused here rather than crash whoever writes it out."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            raise JsonInputError(f"a string holds the lone surrogate \\u{ord(found.group()):04x}: not Unicode text")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


def _check_depth(text: str) -> None:
    """Refuse nesting past MAX_DEPTH before the recursive parser sees it: one linear pass."""
    depth, in_string, escaped_at = 0, False, -1
    for token in _TOKEN.finditer(text):
        char, at = token.group(), token.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, at) + 1
                col = at - (text.rfind("\n", 0, at) + 1) + 1
                raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels", line, col)
        elif char in "]}":
            depth -= 1
