"""The one module that talks to durable-rules 2.0.28: conditions compiled once, typed facts evaluated in the caller."""

from __future__ import annotations

import hashlib
import itertools
import json
import json.encoder
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
"""Around every engine call: an evaluation is five C calls on a shared ruleset, and the engine is not
documented thread-safe (it never releases the GIL, so the lock costs nothing in parallelism)."""


def ruleset_name(prefix: str, content: dict) -> str:
    """`prefix@` + 12 hex digits of sha256(canonical JSON), so a draft's name changes with its content."""
    return f"{prefix}@{hashlib.sha256(_canonical(content).encode()).hexdigest()[:12]}"


def _canonical(content: Any) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class DurableAdapter:
    """Compiled rulesets by name; evaluates one fact per fresh session and returns the matched rule ids.

    Why the C extension `durable_rules_engine` directly, not `durable.engine.Host`: Host starts two
    timer threads at construction (action dispatch, timers) that call into the same rulesets as
    the caller; its Ruleset wraps every action in Closure/Promise objects that swallow exceptions
    into the session state and re-serialize the state per action; and its constructor mutates the
    definition it is given. These rules have no timers, async actions or state, so five C calls
    (create_ruleset, assert_fact, start_action_for_state, complete_and_start_action,
    delete_state) are the whole protocol, run in the calling thread under `_LOCK`.

    Engine behaviour measured on 2.0.28 that this class owns:
    - An event (`post`) is consumed by the FIRST rule that matches it; a fact fires every matching
      rule. So `evaluate` asserts a fact.
    - The session's own state ({"sid", "id", "$s": 1}) is a fact the rules see, so an unguarded
      {"$nex": {"x": 1}} matches it. Every condition is ANDed with a guard on a marker field only
      the evaluated fact carries.
    - delete_state on a session where no action ever started (nothing matched, or matched but
      not started) segfaults. Every ruleset gets the catch-all rule ALWAYS, and a session is
      deleted only once an action has started on it.
    - A ruleset holds at most 1024 live sessions (the next assert raises MemoryError): one fresh
      sid per evaluation, deleted in `finally`.
    - create_ruleset accepts a name twice, but nothing in the project may replace a compiled
      ruleset under a name others hold; hence the registry. A ruleset costs ~85 KiB with one rule,
      ~850 KiB with 30 rules of which 8 are regexes, and lives until its last holder releases it:
      every register() is a holder (a draft's content-hash name is often a published version's).
    - delete_ruleset frees the ruleset's pools but not the sessions still open on it (their facts
      live outside the pools), nor a regex's state machines (measured: 30 plain rules freed whole,
      ~1 MiB of 10 regexes kept). So a ruleset with a session still open is never deleted.
    """

    def __init__(self) -> None:
        self._rulesets: dict[str, tuple[str, int]] = {}  # name -> (canonical content, engine handle)
        self._holders: dict[str, int] = {}  # name -> registrations not yet released
        self._open: dict[int, int] = {}  # engine handle -> sessions created and not deleted
        self._sids = itertools.count()

    def register(self, name: str, rules: Mapping[str, Condition]) -> None:
        """Compile `rules` (rule id -> condition) as `name`; the same content again only adds a holder.

        A name is bound for the life of the process: different content raises ValueError (name
        drafts with `ruleset_name`). Rule ids are any non-empty str (Chinese, dots, quotes) but ALWAYS.

        Conditions are durable-rules JSON over the fact's fields. Verified operators: equality
        {"f": v}, $eq, $neq, $lt, $lte, $gt, $gte, $ex, $nex, $and, $or, $mt / $imt (regex,
        case-insensitive), $iany / $iall over list items ({"$i": ...}), field references
        {"$m": "other"}, arithmetic $add $sub $mul $div ({"$l": .., "$r": ..}). Not operators:
        $ne, $not, $in (one-key objects under $or instead). A comparison with an absent or None
        field is false, $neq included; {"f": None} matches None and $ex counts None as present.
        Regex ($mt) is a full-string match over UTF-8 characters: literals (Chinese included), .,
        *, +, ?, |, (), [], [^], {m,n} (n <= 100), classes %d %a %l %u %s %w %p %x %c (ASCII only:
        %w does not match 汉字); ^ and $ are literals, \\d does not exist. Prefer boolean facts
        computed by the caller ("kw_征地": True) for keyword search.

        Refused with ValueError, because the engine would misread them silently or crash: an
        object with several keys ({"a": 1, "b": 2} tests "a" only; use $and), an empty $and/$or,
        and a regex [...] class over 4096 characters ([一-龥] segfaults create_ruleset).
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
                self._holders[name] += 1
                return
            try:
                handle = _engine.create_ruleset(name, json.dumps(definition, ensure_ascii=False))
            except _engine.error as error:
                raise ValueError(f"durable-rules cannot compile ruleset {name!r}: {error}") from None
            self._rulesets[name] = (content, handle)
            self._holders[name] = 1

    def is_registered(self, name: str) -> bool:
        return name in self._rulesets

    def release(self, name: str) -> bool:
        """Give back one registration of `name`; the last one deletes the compiled ruleset (returns True).

        Published rule sets are never released; a draft's are, once its tests or impact preview are
        done, or every edit would keep ~1 MiB for the life of the process. Another holder of the
        same content keeps it compiled (returns False). Refused with RuntimeError, changing nothing,
        while a session is still open on it: _run deletes every session it starts, so an open one
        is a session the engine could not delete without crashing, and freeing the ruleset under it
        would leak or crash the same way. An unknown name raises KeyError.
        """
        with _LOCK:
            known = self._rulesets.get(name)
            if known is None:
                raise KeyError(f"ruleset {name!r} is not registered")
            handle = known[1]
            if self._open.get(handle):
                raise RuntimeError(f"ruleset {name!r} is in use: {self._open[handle]} session(s) still open on it")
            self._holders[name] -= 1
            if self._holders[name]:
                return False
            del self._holders[name], self._rulesets[name]
            self._open.pop(handle, None)
            _engine.delete_ruleset(handle)
            return True

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
        fired = self._run(name, event, record=True)
        fired.discard(ALWAYS)
        return frozenset(fired)

    def evaluate_trusted(self, name: str, facts: dict[str, Any]) -> frozenset[str]:
        """`evaluate` without checking the facts: for the compiler's facts builder only.

        Typed input is still validated before the engine, once, upstream: parse_case checks the
        Case JSON against its schema, and CompiledRuleSet.facts builds every fact from that typed
        Case and the rule set's own codes, so each value is a str, an int or a bool by construction
        and no name is reserved (the names are the compiler's: category, kind, ..., kw_<n>).
        Checking them again cost ~4 µs a decision. Anything else, a fact someone wrote by hand
        included, goes through `evaluate`. `facts` is taken over: the adapter adds the session id
        and its marker to it instead of copying it.
        """
        fired = self._run(name, facts, record=True)
        fired.discard(ALWAYS)
        return frozenset(fired)

    def raw_post(self, name: str, event: dict) -> None:
        """Benchmark baseline: the engine work of `evaluate` (session created, actions run, session
        deleted) without validation or collecting ids; `event` is trusted as is."""
        self._run(name, dict(event), record=False)

    def _run(self, name: str, event: dict, record: bool) -> set[str]:
        """Assert `event` as a fact in a fresh session, run its actions here and now, delete the session.

        The "action" of each matched rule is this loop body: the engine hands over one
        {rule_id: {...}} batch per matched rule and we record the id. The handle is looked up under
        the lock, so a release() in another thread cannot free it (or hand it to another ruleset) first.
        """
        fired: set[str] = set()
        with _LOCK:
            known = self._rulesets.get(name)
            if known is None:
                raise KeyError(f"ruleset {name!r} is not registered")
            handle = known[1]
            sid = str(next(self._sids))
            event["sid"] = sid
            event[_MARK] = 1
            opened = self._open
            opened[handle] = opened.get(handle, 0) + 1  # until delete_state below succeeds
            started = False
            try:
                state = _engine.assert_fact(handle, _encode(event))[1]
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
                    opened[handle] -= 1
        return fired


def _make_encode():
    """The event as compact JSON, what json.dumps(ensure_ascii=False) writes, with the C encoder built once:
    json.dumps builds a JSONEncoder and then a C encoder on every call, ~30% of encoding a flat fact.
    Events are flat (values str, int, float, bool, None, list of str), so no circular check is needed."""
    def unserializable(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    fallback = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
    try:  # the C encoder's signature is CPython's own: if it ever changes, the plain encoder does the job
        iterencode = json.encoder.c_make_encoder(None, unserializable, json.encoder.encode_basestring, None,
                                                 ":", ",", False, False, True)
        sample = {"a": "征\"", "b": True, "c": -1, "d": None, "e": ["x"], "f": 0.5}
        if "".join(iterencode(sample, 0)) != fallback(sample):
            return fallback
    except (AttributeError, TypeError):
        return fallback
    return lambda event: "".join(iterencode(event, 0))


_encode = _make_encode()


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
            raise ValueError(f"{where}: a condition object needs exactly one key, got {sorted(node)};"
                             " use $and")
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
                ranged = prev is not None and i + 1 < len(pattern) and pattern[i + 1] != "]"
                if pattern[i] == "-" and ranged:
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
