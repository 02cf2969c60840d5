"""The one module that talks to durable-rules (2.0.28): compile rule conditions, evaluate typed facts synchronously.

Why it drives `durable_rules_engine` (the C extension) directly rather than `durable.engine.Host`:
Host starts two timer threads at construction (action dispatch, timers) that call into the same
rulesets as the caller; Host's `Ruleset.do_actions` wraps each action in Closure/Promise objects
that swallow exceptions into the session state and round-trip the state JSON per action; and
Ruleset's constructor mutates the definition it is given. Our rules have no timers, no async
actions and no state, so the five C calls used here (create_ruleset, assert_fact,
start_action_for_state, complete_and_start_action, delete_state) are the whole protocol, run
in the calling thread under one process-wide lock.

Sharp edges measured on this machine and owned here:
- Events are consumed by the FIRST rule that matches, so `post` (assert_event) fires one rule
  only; every fact is therefore asserted as a fact (assert_fact), which fires every matching rule.
- The session's own state object ({"sid", "id", "$s": 1}) is itself a fact the rules see, so
  `{"$nex": {"x": 1}}` would match it; every condition is wrapped in a guard on a marker field
  that only the evaluated fact carries.
- delete_state on a session on which no action was ever started segfaults (nothing matched, or
  matched but not started); every ruleset gets the catch-all rule ALWAYS on the guard, and a
  session is deleted only after an action started on it.
- At most 1024 live sessions per ruleset (the 1025th assert raises MemoryError): one fresh sid per
  evaluation, deleted in a finally block.
- A condition object with several keys silently tests the first key only ({"a": 1, "b": 2}
  matches b=3): refused at register; write {"$and": [...]}. Empty $and/$or are refused too.
- A regex character class of more than 4096 characters ([一-龥] is 20,902) segfaults
  create_ruleset: refused at register.
- Strings compare with numbers as text ({"n": 10} matches n="10"; {"$gt": {"n": 9}} misses
  n="10"): facts are typed, see `evaluate`.

Operators accepted by the 2.0.28 engine (verified): equality by plain {"field": value}, $eq, $neq
(not $ne), $lt, $lte, $gt, $gte, $ex, $nex, $and, $or, $mt and $imt (case-insensitive) regex,
$iany / $iall over list items with {"$i": ...}, field references {"$m": "other_field"} and
arithmetic {"$add"|"$sub"|"$mul"|"$div": {"$l": ..., "$r": ...}}. Not operators: $ne, $not, $in.
A $or whose branches both match fires its rule twice; results are sets, so that is invisible.
Regex dialect (full-string match, UTF-8 aware): literals incl. Chinese, ., *, +, ?, |, (), [],
[^], {m,n} (n ≤ 100), and classes %d %a %l %u %s %w %p %x %c, which are ASCII-only (%w does not
match 汉字). No ^/$ anchors (they are literals) and no \\d. Text that needs richer matching is
best precomputed by the caller into boolean facts (e.g. "kw_征地": True).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
from collections.abc import Mapping
from json.decoder import scanstring
from typing import Any

import durable_rules_engine as _engine

Condition = dict

ALWAYS = "__always__"
"""Id of the catch-all rule the adapter adds to every ruleset; never reported."""

_MARK = "__xinfang_fact__"
_GUARD = {"$ex": {_MARK: 1}}
_RESERVED_FACTS = frozenset({"sid", _MARK})
_MAX_REGEX_CLASS = 4096
_INT64 = 2**63

_LOCK = threading.Lock()
"""Serializes every engine call: each evaluation is several C calls on one shared ruleset."""


def ruleset_name(prefix: str, content: dict) -> str:
    """`prefix@` + 12 hex digits of sha256(canonical JSON), so a draft's name changes with its content."""
    return f"{prefix}@{hashlib.sha256(_canonical(content).encode()).hexdigest()[:12]}"


def _canonical(content: Any) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class DurableAdapter:
    """Compiled rulesets by name; evaluates one fact per fresh session and returns the matched rule ids."""

    def __init__(self) -> None:
        self._rulesets: dict[str, tuple[str, int]] = {}  # name -> (canonical content, engine handle)
        self._sids = itertools.count()

    def register(self, name: str, rules: Mapping[str, Condition]) -> None:
        """Compile `rules` (rule id -> condition) as `name`.

        The engine has no safe way to replace a ruleset, so a name is bound for the life of the
        process: the same content again is a no-op, different content raises ValueError.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"ruleset name must be a non-empty str, got {name!r}")
        for rule_id, condition in rules.items():
            if not isinstance(rule_id, str) or not rule_id or rule_id == ALWAYS:
                raise ValueError(f"ruleset {name!r}: invalid rule id {rule_id!r}")
            if not isinstance(condition, dict):
                raise TypeError(f"ruleset {name!r}, rule {rule_id!r}: condition must be a dict")
            _check_condition(f"ruleset {name!r}, rule {rule_id!r}", condition)
        content = _canonical(dict(rules))
        definition = {rid: {"all": [{"m": {"$and": [_GUARD, cond]}}]} for rid, cond in rules.items()}
        definition[ALWAYS] = {"all": [{"m": _GUARD}]}
        with _LOCK:
            known = self._rulesets.get(name)
            if known is not None:
                if known[0] != content:
                    raise ValueError(f"ruleset {name!r} is already registered with different rules")
                return
            try:
                handle = _engine.create_ruleset(name, json.dumps(definition, ensure_ascii=False))
            except _engine.error as error:
                raise ValueError(f"durable-rules cannot compile ruleset {name!r}: {error}") from None
            self._rulesets[name] = (content, handle)

    def is_registered(self, name: str) -> bool:
        return name in self._rulesets

    def evaluate(self, name: str, facts: Mapping[str, Any]) -> frozenset[str]:
        """Ids of the rules whose condition matches `facts` (the catch-all excluded).

        Fact values must be str, int (64-bit), finite float, bool, None, or a list of str; anything
        else raises TypeError naming the field. The engine compares a str with a number as text,
        so a number passed as a string ("10") is the caller's bug and gives wrong answers.
        """
        event = {}
        for key, value in facts.items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"fact names must be non-empty str, got {key!r}")
            if key in _RESERVED_FACTS or key.startswith("$"):
                raise ValueError(f"fact {key!r}: name is reserved by the adapter or the engine")
            if not _is_typed(value):
                raise TypeError(
                    f"fact {key!r}: {type(value).__name__} {value!r:.60} is not allowed; "
                    "use str, int, finite float, bool, None or list of str")
            event[key] = value
        fired = self._run(self._handle(name), event, record=True)
        fired.discard(ALWAYS)
        return frozenset(fired)

    def raw_post(self, name: str, event: dict) -> None:
        """Benchmark baseline: the same engine work as `evaluate` without validation or result collection."""
        self._run(self._handle(name), dict(event), record=False)

    def _handle(self, name: str) -> int:
        try:
            return self._rulesets[name][1]
        except KeyError:
            raise KeyError(f"ruleset {name!r} is not registered") from None

    def _run(self, handle: int, event: dict, record: bool) -> set[str]:
        """Assert `event` as a fact in a fresh session, run its actions here and now, delete the session.

        The "action" of each matched rule is this loop body: the engine hands over one
        {rule_id: {...}} batch per matched rule and we record the id.
        """
        fired: set[str] = set()
        with _LOCK:
            sid = str(next(self._sids))
            event["sid"] = sid
            event[_MARK] = 1
            _, state = _engine.assert_fact(handle, json.dumps(event, ensure_ascii=False))
            started = False
            try:
                batch = _engine.start_action_for_state(handle, state)
                started = batch is not None
                if not started:  # cannot happen while ALWAYS matches; deleting now would segfault
                    raise RuntimeError(f"durable-rules started no action for session {sid}; left undeleted")
                batch = batch[1]
                while batch:
                    if record:
                        fired.add(_rule_id(batch))
                    batch = _engine.complete_and_start_action(handle, state)
            finally:
                if started:
                    _engine.delete_state(handle, sid)
        return fired


def _rule_id(batch: str) -> str:
    """A batch is {"<rule id>": {"m": <the fact>}}: read the id without decoding the fact."""
    if batch.startswith('{"'):
        return scanstring(batch, 2)[0]
    return next(iter(json.loads(batch)))


def _is_typed(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return False


def _check_condition(where: str, node: Any) -> None:
    """Refuse conditions the engine would silently misread (several keys, empty $and/$or) or crash on."""
    if isinstance(node, list):
        for item in node:
            _check_condition(where, item)
    elif isinstance(node, dict):
        if len(node) != 1 and set(node) != {"$l", "$r"}:  # $l/$r: operands of $add/$sub/$mul/$div
            raise ValueError(f"{where}: a condition object needs exactly one key, got {sorted(node)}; use $and")
        for key, value in node.items():
            if key in ("$and", "$or") and not (isinstance(value, list) and value):
                raise ValueError(f"{where}: {key} needs a non-empty list")
            if key in ("$mt", "$imt") and isinstance(value, dict):
                for pattern in value.values():
                    if isinstance(pattern, str) and _widest_class(pattern) > _MAX_REGEX_CLASS:
                        raise ValueError(f"{where}: a [...] class in {pattern!r} spans more than "
                                         f"{_MAX_REGEX_CLASS} characters (crashes the engine)")
            _check_condition(where, value)


def _widest_class(pattern: str) -> int:
    """Characters in the largest [...] class of `pattern`, ranges expanded as the engine does."""
    widest, i = 0, 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            size, prev, i = 0, None, i + 1
            while i < len(pattern) and pattern[i] != "]":
                if pattern[i] == "-" and prev is not None and i + 1 < len(pattern) and pattern[i + 1] != "]":
                    size += abs(ord(pattern[i + 1]) - ord(prev))
                    prev, i = None, i + 2
                else:
                    size, prev, i = size + 1, pattern[i], i + 1
            widest = max(widest, size)
        i += 1
    return widest


_default: DurableAdapter | None = None


def default_adapter() -> DurableAdapter:
    """The process-wide adapter, so every caller shares one registry of compiled rulesets."""
    global _default
    with _LOCK:
        if _default is None:
            _default = DurableAdapter()
        return _default
