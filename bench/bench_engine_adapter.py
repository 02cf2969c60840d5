"""Benchmark of the durable-rules adapter: evaluate vs raw_post, RSS over many evaluations, memory per ruleset.

Run: .venv/bin/python bench/bench_engine_adapter.py [--n 20000] [--mem-n 100000]
Not a timed test: it prints what it measures on this machine.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

from xinfang.rules.durable_adapter import DurableAdapter, ruleset_name

ROUNDS = 10
CATEGORIES = ["0101", "0102", "0103", "0201", "0202", "0301", "0401", "0501"]
KEYWORDS = ["征地", "拆迁", "工资", "医疗", "教育", "环境", "社保", "补偿"]


def thirty_rules(seed: int = 0) -> dict:
    """~30 rules of the shapes the compiler emits: equality, thresholds, $and/$or, $nex, $mt over Chinese."""
    rules = {f"category.{c}": {"category": c} for c in CATEGORIES}
    rules |= {f"text.{k}": {"$mt": {"text": f".*{k}.*"}} for k in KEYWORDS}
    rules |= {
        "group.visit": {"$gt": {"representatives": 5}},
        "group.large": {"$gte": {"representatives": 50 + seed}},
        "kind.accusation": {"kind": "accusation"},
        "kind.appeal": {"kind": "appeal"},
        "accusation.unit_named": {"$and": [{"kind": "accusation"}, {"$ex": {"accused_unit": 1}}]},
        "accusation.no_unit": {"$and": [{"kind": "accusation"}, {"$nex": {"accused_unit": 1}}]},
        "route.county": {"$or": [{"competent_level": "county"}, {"competent_level": "township"}]},
        "route.upper": {"$or": [{"competent_level": "city"}, {"competent_level": "province"}]},
        "intake.visit_group": {"$and": [{"intake": "visit"}, {"$gt": {"representatives": 5}}]},
        "history.repeat": {"$and": [{"rereview_concluded": True}, {"same_facts": True}]},
        "history.pending": {"pending_elsewhere": True},
        "land.group": {"$and": [{"category": "0101"}, {"$gt": {"representatives": 5}}]},
        "extension.over": {"$gt": {"extension_days": 30}},
        "tags.urgent": {"$iany": {"tags": {"$i": "urgent"}}},
    }
    return rules


FACTS = [
    {"category": "0101", "text": "关于征地补偿标准过低的问题", "representatives": 8, "kind": "appeal",
     "intake": "visit", "competent_level": "county", "tags": ["urgent"]},
    {"category": "0301", "text": "单位拖欠工资三个月", "representatives": 1, "kind": "suggestion",
     "intake": "letter", "competent_level": "city", "tags": []},
    {"category": "0202", "text": "举报某局违规审批", "representatives": 1, "kind": "accusation",
     "accused_unit": "某局", "intake": "online", "competent_level": "province", "rereview_concluded": True,
     "same_facts": True, "extension_days": 10},
    {"category": "0501", "text": "其他", "representatives": 0, "kind": "appeal", "intake": "phone"},
]


def rss_kb() -> int:
    """Current resident set size (Linux /proc), in KiB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import resource
    return pages * resource.getpagesize() // 1024


def per_call(call, name: str, n: int) -> float:
    """CPU seconds per call over `n` calls cycling through FACTS (CPU time: the machine is shared)."""
    start = time.process_time()
    for i in range(n):
        call(name, FACTS[i % len(FACTS)])
    return (time.process_time() - start) / n


def best_rates(adapter: DurableAdapter, name: str, n: int, rounds: int) -> tuple[float, float]:
    """Calls per CPU second of evaluate and raw_post: best of alternating rounds, so other load cancels out."""
    per_call(adapter.evaluate, name, 1000)  # warm-up
    per_call(adapter.raw_post, name, 1000)
    evaluate = raw = math.inf
    for _ in range(rounds):
        evaluate = min(evaluate, per_call(adapter.evaluate, name, n // rounds))
        raw = min(raw, per_call(adapter.raw_post, name, n // rounds))
    return 1 / evaluate, 1 / raw


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="evaluations per rate measurement")
    parser.add_argument("--mem-n", type=int, default=100_000, help="evaluations for the RSS measurement")
    parser.add_argument("--rulesets", type=int, default=200, help="rulesets registered to measure each one's cost")
    args = parser.parse_args(argv)

    adapter = DurableAdapter()
    rules = thirty_rules()
    name = ruleset_name("bench", rules)
    adapter.register(name, rules)
    matched = [len(adapter.evaluate(name, facts)) for facts in FACTS]
    print(f"durable-rules adapter benchmark — Python {platform.python_version()}, {platform.machine()}")
    print(f"ruleset: {len(rules)} rules; rules matched per fact: {matched}")

    evaluate, raw = best_rates(adapter, name, args.n, ROUNDS)
    print(f"single thread, CPU time, best of {ROUNDS} alternating rounds of {args.n // ROUNDS:,} calls:")
    print(f"evaluate : {evaluate:10,.0f} evaluations/s  ({1e6 / evaluate:6.1f} µs each)")
    print(f"raw_post : {raw:10,.0f} posts/s        ({1e6 / raw:6.1f} µs each)")
    print(f"ratio evaluate/raw: rate {evaluate / raw:.2f}, time per call {raw / evaluate:.2f}")

    before = rss_kb()
    checkpoints = []
    for i in range(1, args.mem_n + 1):
        adapter.evaluate(name, FACTS[i % len(FACTS)])
        if i % (args.mem_n // 4 or 1) == 0:
            checkpoints.append(rss_kb())
    after = rss_kb()
    print(f"RSS before {args.mem_n:,} evaluations: {before:,} KiB; after: {after:,} KiB "
          f"(delta {after - before:+,} KiB); at each quarter: {', '.join(f'{c:,}' for c in checkpoints)}")

    before = rss_kb()
    for k in range(args.rulesets):
        variant = thirty_rules(seed=k + 1)
        adapter.register(ruleset_name("bench", variant), variant)
    per = (rss_kb() - before) / args.rulesets
    print(f"registering {args.rulesets} more {len(rules)}-rule rulesets: {per:,.0f} KiB each "
          "(never freed: the adapter keeps every ruleset for the life of the process)")


if __name__ == "__main__":
    main()
