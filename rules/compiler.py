"""An effective rule set compiled into one durable-rules ruleset over typed facts, each rule traced to its YAML path."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xinfang.config import EffectiveRuleSet
from xinfang.config.jurisdictions import LEVELS

from .case_input import Case
from .durable_adapter import DurableAdapter, default_adapter, ruleset_name

RULESET_PREFIX = "xinfang"
ADMISSIBILITY_RULES = ("pending_elsewhere", "rereview_concluded_same_facts", "level_skipping_visit",
                       "missed_review_deadline")
# Fixed route rule ids; a local routing rule with one of these ids is named route:rules.<id> instead.
RESERVED_ROUTES = frozenset({"accusation", "litigation", "default", "category", "guard"})
_CACHE_SIZE = 64
_MEMO_SIZE = 4096  # sets of matched keywords remembered per rule set (cleared when full)


@dataclass(frozen=True, eq=False)
class CompiledRuleSet:
    """One effective rule set as engine rules: `rules` (id → condition, in trace order), `paths` (id → YAML path)."""

    name: str
    version_label: str
    rules: dict[str, dict]
    paths: dict[str, str]
    keyword_facts: tuple[tuple[str, frozenset[str]], ...]
    keywords: tuple[str, ...]
    compile_seconds: float
    order: dict[str, int] = field(default_factory=dict)
    by_first_char: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _facts_by_keywords: dict[tuple[str, ...], dict[str, bool]] = field(default_factory=dict, repr=False)
    _first_chars: re.Pattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for i, word in enumerate(self.keywords):
            if word:
                self.by_first_char.setdefault(word[0], []).append(i)
        if self.by_first_char:  # one character class: the regex engine scans the text in C
            object.__setattr__(self, "_first_chars", re.compile(f"[{''.join(map(re.escape, self.by_first_char))}]"))

    def facts(self, case: Case, category: str, kind: str, channel: str, matched: Iterable[str],
              review_request_late: bool) -> dict[str, Any]:
        """The typed facts the conditions test; `matched` are the keywords found in the text.

        A fresh dict each call (the adapter takes it over); the keyword facts of each set of matched
        keywords are worked out once.
        """
        if not isinstance(matched, tuple):
            matched = tuple(matched)
        keyword_facts = self._facts_by_keywords.get(matched)
        if keyword_facts is None:
            found = frozenset(matched)
            keyword_facts = {name: not words.isdisjoint(found) for name, words in self.keyword_facts}
            if len(self._facts_by_keywords) >= _MEMO_SIZE:
                self._facts_by_keywords.clear()
            self._facts_by_keywords[matched] = keyword_facts
        history = case.history
        facts = {
            "category": category, "kind": kind, "intake": case.intake, "channel": channel,
            # An individual petition counts as one person: min_representatives: 2 means a group.
            "representatives": case.representatives if case.representatives is not None else 1,
            "pending_elsewhere": history.pending_elsewhere,
            "rereview_concluded": history.rereview_concluded,
            "same_facts": history.same_facts,
            "level_gap": level_gap(case),
            "review_request_late": review_request_late,
        }
        facts.update(keyword_facts)
        return facts

    def matched_keywords(self, text: str) -> tuple[str, ...]:
        """Every configured keyword the text contains, in configuration order (plain substring search).

        Only keywords whose first character occurs in the text are searched for: most are not.
        """
        if self._first_chars is None:
            return ()
        candidates: list[int] = []
        for char in set(self._first_chars.findall(text)):
            candidates += self.by_first_char[char]
        candidates.sort()
        keywords = self.keywords
        return tuple([keywords[i] for i in candidates if keywords[i] in text])


def level_gap(case: Case) -> int:
    """How many levels the receiving body sits above the competent one (0 when either is unknown)."""
    if case.receiving_level is None or case.competent_level is None:
        return 0
    return _LEVEL_INDEX[case.competent_level] - _LEVEL_INDEX[case.receiving_level]


_LEVEL_INDEX = {level: i for i, level in enumerate(LEVELS)}


class _Builder:
    """Accumulates rules in trace order and names one boolean fact per distinct keyword list."""

    def __init__(self) -> None:
        self.rules: dict[str, dict] = {}
        self.paths: dict[str, str] = {}
        self.keyword_facts: dict[frozenset[str], str] = {}
        self.keywords: dict[str, None] = {}

    def add(self, rule_id: str, path: str, parts: list[dict]) -> None:
        self.rules[rule_id] = parts[0] if len(parts) == 1 else {"$and": parts}
        self.paths[rule_id] = path

    def when(self, when: Mapping[str, Any]) -> list[dict]:
        """The format's `when` (every key given must hold) as engine condition parts."""
        parts = []
        for key, fact in (("categories", "category"), ("kinds", "kind"), ("intakes", "intake"),
                          ("channels", "channel")):
            if key in when:
                parts.append(_one_of(fact, [str(v) for v in when[key]]))
        if "keywords" in when:
            parts.append({self.keyword_fact(when["keywords"]): True})
        if "min_representatives" in when:
            parts.append({"$gte": {"representatives": int(when["min_representatives"])}})
        if "max_representatives" in when:
            parts.append({"$lte": {"representatives": int(when["max_representatives"])}})
        return parts

    def keyword_fact(self, words: Iterable[str]) -> str:
        words = [str(w) for w in words]
        self.keywords.update(dict.fromkeys(words))
        key = frozenset(words)
        if key not in self.keyword_facts:
            self.keyword_facts[key] = f"kw_{len(self.keyword_facts)}"
        return self.keyword_facts[key]


def _one_of(fact: str, values: list[str]) -> dict:
    # The engine has no $in: a one-key object per value under $or.
    return {fact: values[0]} if len(values) == 1 else {"$or": [{fact: v} for v in values]}


def build_rules(data: Mapping[str, Any]) -> _Builder:
    """The engine rules of a merged rule set, in the order the trace lists them."""
    b = _Builder()
    admissibility = data.get("admissibility") or {}
    conditions = {
        "pending_elsewhere": [{"pending_elsewhere": True}],
        "rereview_concluded_same_facts": [{"rereview_concluded": True}, {"same_facts": True}],
        "level_skipping_visit": [{"intake": "visit"}, {"$gt": {"level_gap": 1}}],
        "missed_review_deadline": [{"review_request_late": True}],
    }
    for rule in ADMISSIBILITY_RULES:
        if (admissibility.get(rule) or {}).get("refuse"):
            b.add(f"admissibility:{rule}", f"admissibility.{rule}.refuse", conditions[rule])
    limit = ((data.get("intake") or {}).get("group_visit") or {}).get("max_representatives")
    if limit is not None:
        # Art. 20: 多人采用走访形式 — the bound is on the representatives of a visit, not the signers of a letter.
        b.add("admissibility:representatives", "intake.group_visit.max_representatives",
              [{"intake": "visit"}, {"$gt": {"representatives": int(limit)}}])
    routing = data.get("routing") or {}
    not_accusation = {"$neq": {"kind": "accusation"}}
    if (routing.get("accusation") or {}).get("unit"):
        b.add("route:accusation", "routing.accusation.unit", [{"kind": "accusation"}])
    if (routing.get("litigation") or {}).get("unit"):
        b.add("route:litigation", "routing.litigation.unit", [{"channel": "litigation"}, not_accusation])
    for rule_id, rule in (routing.get("rules") or {}).items():
        name = f"route:rules.{rule_id}" if rule_id in RESERVED_ROUTES else f"route:{rule_id}"
        # Accusations and litigation are routed by law (Art. 22 ¶2, 30): a local rule never sees them.
        b.add(name, f"routing.rules.{rule_id}.when",
              b.when(rule.get("when") or {}) + [not_accusation, {"$neq": {"channel": "litigation"}}])
    for track_id, track in (data.get("tracks") or {}).items():
        if track.get("when"):
            b.add(f"track:{track_id}", f"tracks.{track_id}.when", b.when(track["when"]))
    for tier_id, tier in ((data.get("mediation") or {}).get("tiers") or {}).items():
        if tier.get("when"):
            # Mediation (化解) is for petition matters: accusations go to discipline bodies (Art. 30) and
            # matters with a procedure of their own (litigation, arbitration, ...) to it (Art. 31).
            b.add(f"tier:{tier_id}", f"mediation.tiers.{tier_id}.when", b.when(tier["when"]) + [{"channel": "petition"}])
    # Classification keywords take part in the same one-pass keyword search.
    for category in ((data.get("classification") or {}).get("categories") or {}).values():
        b.keywords.update(dict.fromkeys(str(w) for w in category.get("keywords") or ()))
    return b


class Compiler:
    """Compiles each effective rule set once: by identity of its merged data, then by engine content."""

    def __init__(self, adapter: DurableAdapter | None = None) -> None:
        self.adapter = adapter or default_adapter()
        self._cache: dict[tuple[str, int], tuple[object, CompiledRuleSet]] = {}
        self._lock = threading.Lock()

    def compile(self, effective: EffectiveRuleSet) -> CompiledRuleSet:
        data = effective.data
        key = (effective.version_label, id(data))
        hit = self._cache.get(key)
        if hit is not None and hit[0] is data:
            return hit[1]
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] is data:
                return hit[1]
            compiled = self._build(effective)
            if len(self._cache) >= _CACHE_SIZE:  # its engine ruleset stays: a plan may still use it
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (data, compiled)
            return compiled

    def release(self, effective: EffectiveRuleSet) -> bool:
        """Forget a draft's compiled rule set and give back its engine registration (True if that freed it).

        Published rule sets are never released. The caller makes sure no decision is running on it:
        the adapter refuses (RuntimeError) while a session is open.
        """
        key = (effective.version_label, id(effective.data))
        with self._lock:
            hit = self._cache.get(key)
            if hit is None or hit[0] is not effective.data:
                return False
            del self._cache[key]
        return self.adapter.release(hit[1].name)

    def _build(self, effective: EffectiveRuleSet) -> CompiledRuleSet:
        start = time.perf_counter()
        b = build_rules(effective.data)
        # Identical rules share one engine ruleset; a changed draft gets a new name.
        name = ruleset_name(RULESET_PREFIX, b.rules)
        self.adapter.register(name, b.rules)
        return CompiledRuleSet(
            name=name, version_label=effective.version_label, rules=b.rules, paths=b.paths,
            keyword_facts=tuple((fact, words) for words, fact in b.keyword_facts.items()),
            keywords=tuple(b.keywords), compile_seconds=time.perf_counter() - start,
            order={rule_id: i for i, rule_id in enumerate(b.rules)})


_default: Compiler | None = None
_default_lock = threading.Lock()


def default_compiler() -> Compiler:
    """The process-wide compiler over the process-wide adapter."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Compiler()
        return _default


def compile_ruleset(effective: EffectiveRuleSet) -> CompiledRuleSet:
    return default_compiler().compile(effective)
