"""Hostile inputs for the fuzz tests (tests/test_fuzz.py): seeded mutators of rule-set YAML and Case JSON.

A mutator takes a valid input and a `random.Random` and returns what a careless integrator or an attacker
might send instead: a value of the wrong type, a date at the edge of the calendar, a number past every
bound, a key twice, nesting thousands deep, bytes that are not UTF-8, a file cut in half. Seeded, so a
failure names the seed that reproduces it.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

# Values that have broken parsers, date arithmetic, regular expressions or SQL somewhere.
HOSTILE_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 40, 1.5, -0.0, 1e308,
    "", " ", "0", "-1", "null", "true", "NaN", "9" * 400, "x" * 20_000,
    "9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "2024-1-1", "20240101", "２０２４-０３-０４",
    "2024-03-04T25:00:00", "9999-12-31T23:59:59+14:00", "-2024-03-04",
    "\u0000", "\ud800", "\u202e反转", "<script>alert(1)</script>", "' OR 1=1 --", "%s%s%n", "{{7*7}}",
    "=cmd|' /C calc'!A0", "../../etc/passwd", "C:\\Windows", "😀" * 50, "１２３４５６７８９０１２３４５６７８",
    [], [None], [[[]]], {}, {"": None}, {"$where": "1"},
)

# What a rule-set file's lines can be turned into.
HOSTILE_SCALARS: tuple[str, ...] = (
    "-1", "0", "4294967296", "1e400", ".inf", "-.inf", ".nan", "~", "null", "yes", "no", '""', "[]", "{}",
    "9999-12-31", "0000-00-00", "2024-02-30", "!!python/object:os.system", "&a", "*a", "*undefined",
    '"^[0-9]{4294967296}$"', '"^(a+)+$"', '"(?<=a)b"', '"[z-a]"', '"\\\\"', "|", ">", "'unterminated",
    '"unterminated', "{days: }", "[1, 2", "%TAG", "\t", "@", "`", "𠀀" * 30, "A" * 5000,
)


def mutate_value(value: Any, rng: random.Random) -> Any:
    """`value` with one node of its tree replaced, removed, added or nested: never the value itself."""
    mutated = copy.deepcopy(value)
    containers = list(_containers(mutated))
    parent, key = rng.choice(containers)
    operation = rng.choice(("replace", "replace", "replace", "delete", "add", "nest", "listify", "hearings"))
    if operation == "delete" and key is not None:
        del parent[key]
    elif operation == "add" and isinstance(parent, dict):
        parent[rng.choice(("unknown", "received_on", "extension_days", "history", "hearings", "x" * 300))] = \
            rng.choice(HOSTILE_VALUES)
    elif operation == "nest" and key is not None:
        parent[key] = _nested(parent[key], rng.choice((2, 10, 70, 200)))
    elif operation == "listify" and key is not None:
        parent[key] = [parent[key]] * rng.choice((1, 2, 1000))
    elif operation == "hearings" and isinstance(parent, dict):
        start, end = rng.choice(HOSTILE_VALUES[20:32]), rng.choice(HOSTILE_VALUES[20:32])
        parent["hearings"] = [{"start": start, "end": end}] * rng.choice((1, 3, 500))
    elif key is not None:
        parent[key] = rng.choice(HOSTILE_VALUES)
    else:
        parent[rng.choice(("received_on", "intake", "text", "petitioner"))] = rng.choice(HOSTILE_VALUES)
    return mutated


def mutate_json_text(value: Any, rng: random.Random) -> bytes:
    """The JSON text of a mutated `value`, or text the JSON grammar itself refuses or reads twice."""
    text = json.dumps(mutate_value(value, rng), ensure_ascii=rng.random() < 0.5)
    operation = rng.choice(("as_is", "as_is", "as_is", "duplicate_key", "truncate", "nan", "deep", "bytes",
                            "bom", "trailing"))
    if operation == "duplicate_key" and text.startswith("{") and len(text) > 2:
        text = '{"intake": "visit", ' + text[1:]
    elif operation == "truncate":
        text = text[: rng.randrange(len(text))]
    elif operation == "nan":
        text = text.replace('"2024-03-04"', "NaN", 1).replace("1", "Infinity", 1)
    elif operation == "deep":
        depth = rng.choice((65, 5000, 100_000))
        text = "[" * depth + "]" * depth
    elif operation == "bytes":
        raw = bytearray(text.encode("utf-8", "surrogatepass"))
        raw.insert(rng.randrange(len(raw) + 1), rng.choice((0xFF, 0xC0, 0x80, 0xED)))
        return bytes(raw)
    elif operation == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    elif operation == "trailing":
        text += rng.choice((",", "}", " {}", "\x00"))
    return text.encode("utf-8", "surrogatepass")


def mutate_yaml(text: str, rng: random.Random) -> str:
    """A rule-set file with one to three lines broken: a value replaced, a line removed, doubled or re-indented."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines))
        line = lines[at]
        operation = rng.choice(("value", "value", "value", "delete", "double", "indent", "garbage", "key"))
        if operation == "value" and ":" in line:
            head = line.split(":", 1)[0]
            lines[at] = f"{head}: {rng.choice(HOSTILE_SCALARS)}"
        elif operation == "delete":
            del lines[at]
        elif operation == "double":
            lines.insert(at, line)
        elif operation == "indent":
            lines[at] = " " * rng.choice((1, 3, 7)) + line
        elif operation == "garbage":
            lines.insert(at, rng.choice(HOSTILE_SCALARS))
        else:
            lines.insert(at, line[: len(line) - len(line.lstrip())] + f"{rng.choice(('x', 'days', '<<', '? '))}: 1")
        if not lines:
            break
    return "\n".join(lines) + rng.choice(("\n", "", "\n\x00", "\n---\n"))


def _containers(value: Any, parent: Any = None, key: Any = None):
    """(parent, key) of every node of `value` (the root as (root, None) when it is a container)."""
    if parent is None and isinstance(value, (dict, list)):
        yield value, None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for child_key, child in items:
        yield value, child_key
        if isinstance(child, (dict, list)):
            yield from _containers(child, value, child_key)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value
