"""Benchmark of decide(): decisions per second against the raw durable-rules post rate, and compile time per rule set.

Run: .venv/bin/python bench/bench_decisions.py [--n 20000] [--rounds 10]
Not a timed test: it prints what it measures on this machine. Rates are CPU time of this process,
best of alternating rounds, so other load on the machine disturbs them little.
"µs Python" is decide() with the engine's answers looked up instead of asked (the Python around the
engine); "µs Python+raw" the same with a raw post of the case's facts in the engine's place, case by
case: what decide() costs when its Python and the engine's work alternate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import time

from xinfang.config import bundled_library
from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.compiler import Compiler
from xinfang.rules.decide import decide, engine_facts, evaluate
from xinfang.rules.durable_adapter import DurableAdapter, default_adapter
from xinfang.rules.plan import build_plan, plan_for

WORDS = ["征地", "拆迁", "欠薪", "咨询", "物业", "法院判决", "举报", "受贿", "污染", "仲裁", "学校", "不作为", "建议",
         "低保", "道路", "征地拆迁补偿款", "请帮忙"]
SETS = [("000000", dt.date(2024, 6, 1), "national 2022"), ("000000", dt.date(2020, 6, 1), "national 2005"),
        ("371321", dt.date(2024, 6, 1), "Yinan 2024 (4 levels)")]


def cases(n: int, start: dt.date, seed: int = 7, as_json: bool = False) -> list:
    """Realistic cases received over a year from `start`: letters and visits, some groups, some later stages."""
    rng = random.Random(seed)
    out: list = []
    while len(out) < n:
        received = start + dt.timedelta(rng.randrange(365))
        obj = {"received_on": received.isoformat(), "intake": rng.choice(["letter", "visit", "online", "phone"]),
               "text": "".join(rng.sample(WORDS, rng.randint(1, 3)))}
        if rng.random() < 0.3:
            obj["representatives"] = rng.randint(1, 6)
        if rng.random() < 0.3:
            obj["answered_on"] = (received + dt.timedelta(50)).isoformat()
            obj["review_requested_on"] = (received + dt.timedelta(70)).isoformat()
        try:
            parsed = parse_case(obj)
        except CaseError:
            continue
        out.append(obj if as_json else parsed)
    return out


def cpu_rate(call, items: list, n: int) -> float:
    start = time.process_time()
    for i in range(n):
        call(items[i % len(items)])
    return n / (time.process_time() - start)


class _Answers:
    """Stands in for the adapter: the engine's answer for each case, looked up, so decide() runs its Python alone."""

    def __init__(self, answers: dict[tuple, frozenset[str]], post=None) -> None:
        self.answers, self.post = answers, post

    def evaluate_trusted(self, name: str, facts: dict) -> frozenset[str]:
        if self.post is not None:  # the engine's work as raw_post does it, then the answer looked up
            self.post(name, facts)
        return self.answers[tuple(facts.values())]


def compare(code: str, at: dt.date, n: int, rounds: int) -> tuple[float, float, float, float]:
    """Rates of decide(), of raw posts of its facts, of decide()'s Python alone (the engine's answers looked
    up), and of that Python with a raw post in its place, case by case (where the time of decide() goes)."""
    library = bundled_library()
    effective = library.effective(code, at)
    sample = cases(500, at)
    plan = plan_for(effective)
    name = plan.compiled.name
    facts = [engine_facts(effective, case) for case in sample]
    adapter = default_adapter()
    answers = {tuple(f.values()): adapter.evaluate(name, dict(f)) for f in facts}
    for case in sample:  # warm the caches as a server's would be
        decide(effective, case)
    runs = ((adapter, lambda c: decide(effective, c), sample), (adapter, lambda f: adapter.raw_post(name, f), facts),
            (_Answers(answers), lambda c: decide(effective, c), sample),
            (_Answers(answers, adapter.raw_post), lambda c: decide(effective, c), sample))
    best = [0.0] * len(runs)
    try:
        for _ in range(rounds):
            for i, (engine, call, items) in enumerate(runs):
                plan.adapter = engine
                best[i] = max(best[i], cpu_rate(call, items, n // rounds))
    finally:
        plan.adapter = adapter
    return best[0], best[1], best[2], best[3]


def evaluate_rate(code: str, at: dt.date, n: int, rounds: int) -> float:
    """evaluate() from Case JSON: validation, the rule set in force on received_on, decide()."""
    library = bundled_library()
    sample = cases(500, at, as_json=True)
    for obj in sample:
        evaluate(library, code, obj)
    return max(cpu_rate(lambda obj: evaluate(library, code, obj), sample, n // rounds) for _ in range(rounds))


def compile_times() -> list[tuple[str, int, float, float]]:
    """Per bundled version: rules, engine compile time (fresh adapter, so it really compiles), plan time."""
    library = bundled_library()
    out = []
    for code in library.codes():
        for version in library.versions(code):
            effective = library.effective(code, version.effective_from)
            compiled = Compiler(DurableAdapter()).compile(effective)
            start = time.perf_counter()
            build_plan(effective)
            out.append((effective.version_label, len(compiled.rules), compiled.compile_seconds,
                        time.perf_counter() - start))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="calls per rate measurement")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds; the best of each is kept")
    args = parser.parse_args(argv)
    print(f"decide() benchmark — Python {platform.python_version()}, {platform.machine()}")
    print(f"{'rule set':<24} {'decide()/s':>11} {'raw post/s':>11} {'ratio':>6} {'µs decide':>10} {'µs raw':>7}"
          f" {'µs Python':>10} {'µs Python+raw':>14}")
    for code, at, label in SETS:
        ours, raw, python, both = compare(code, at, args.n, args.rounds)
        print(f"{label:<24} {ours:>11,.0f} {raw:>11,.0f} {ours / raw:>6.2f} {1e6 / ours:>10.1f} {1e6 / raw:>7.1f}"
              f" {1e6 / python:>10.1f} {1e6 / both:>14.1f}")
    code, at, label = SETS[0]
    rate = evaluate_rate(code, at, args.n, args.rounds)
    print(f"evaluate() from Case JSON, {label}: {rate:,.0f}/s ({1e6 / rate:.1f} µs: validation, rule-set lookup, decide)")
    print("compile time per bundled rule set (engine ruleset; plan of units, limits, sources):")
    for label, rules, engine, plan in compile_times():
        print(f"  {label:<58} {rules:>3} rules  engine {engine * 1e3:6.2f} ms  plan {plan * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
