"""Form-field patterns of rule sets: RE2 syntax, matched in linear time, refused at validation when unusable.

A pattern comes from a policy officer's YAML and is matched against what every clerk and petitioner
types, so it must never cost more than linear time (Python's `re` backtracks: `^(a+)+$` takes seconds
on 30 characters) nor crash (`{4294967296}` overflows `re`). RE2 (google-re2) guarantees linear-time
matching and refuses what it cannot do so (back-references, look-around). It reads a repetition count
it cannot parse as literal text, so counts are also checked here, with the construct named.
"""

from __future__ import annotations

import functools
import re

import re2

__all__ = ["MAX_REPEAT", "PatternError", "pattern_problem", "compiled_pattern", "pattern_matches"]

MAX_REPEAT = 1000  # RE2's own limit on {n,m}; a larger count would be read as literal text
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
# A `{n}`, `{n,}` or `{n,m}` repetition, and what may stand before it unescaped.
_REPEAT = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")
_HINTS = {
    "invalid perl operator: (?=": "look-ahead (?=…) is not supported",
    "invalid perl operator: (?!": "negative look-ahead (?!…) is not supported",
    "invalid perl operator: (?<": "look-behind (?<…) is not supported",
    "invalid escape sequence: \\1": "back-references (\\1) are not supported",
}


class PatternError(ValueError):
    """A pattern the form check cannot use; the message names the construct."""


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a form field's pattern (in the officer's words), or None when it can."""
    try:
        compiled_pattern(pattern)
    except PatternError as err:
        return str(err)
    return None


@functools.lru_cache(maxsize=1024)
def compiled_pattern(pattern: str):
    """The RE2 regex of a pattern, compiled once per process; raises PatternError naming the construct."""
    count = _too_large_count(pattern)
    if count is not None:
        raise PatternError(f"the repetition {count} repeats more than {MAX_REPEAT} times")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as err:
        raise PatternError(_reason(err)) from None


def pattern_matches(pattern: str, value: str) -> bool:
    """True when `value` contains a match of `pattern` (as `re.search`), in time linear in `value`."""
    return compiled_pattern(pattern).search(value) is not None


def _too_large_count(pattern: str) -> str | None:
    """The first `{n,m}` outside a [...] class and not escaped whose n or m exceeds MAX_REPEAT."""
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):
                i += 2 if pattern[i + 1] == "]" else 3  # a leading ] is a member of the class
                continue
        elif char == "{":
            found = _REPEAT.match(pattern, i)
            if found and any(n and (len(n) > 6 or int(n) > MAX_REPEAT) for n in found.groups()):
                return found.group(0)
        i += 1
    return None


def _reason(err: re2.error) -> str:
    raw = err.args[0] if err.args else err
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    hint = next((h for prefix, h in _HINTS.items() if message.startswith(prefix)), None)
    return f"{hint} ({message})" if hint else message
