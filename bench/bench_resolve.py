"""Benchmark of `xinfang resolve` for every county: load + validate, resolve, to_json; cold and warm.

Run: .venv/bin/python bench/bench_resolve.py [--runs 3] [--at 2024-06-01]
Not a timed test: it prints what it measures on this machine (results: bench/README.md).

Each run is a fresh subprocess, so "cold" is what a new process pays: importing xinfang.config,
loading and validating the bundled rule sets (RuleSetLibrary.load, reported on its own line), then
a first pass over the counties of the national tree. "Warm" is a second pass in the same process,
over the same library. Each pass resolves every county (RuleSetLibrary.effective), builds each one's
JSON document (EffectiveRuleSet.to_json), then writes it out as `xinfang resolve` prints it
(json.dumps with ensure_ascii=False, indent=2); each of the three is timed on its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time

PHASES = ("import", "load_validate", "resolve_cold", "to_json_cold", "dumps_cold",
          "resolve_warm", "to_json_warm", "dumps_warm")


def measure(at: dt.date) -> dict:
    """One run, in this (fresh) process; times in seconds."""
    started = time.perf_counter()
    from xinfang.config import RuleSetLibrary, bundled_rules_dir
    imported = time.perf_counter()
    library = RuleSetLibrary.load([bundled_rules_dir()])
    loaded = time.perf_counter()
    counties = [j.code for j in library.tree if j.level == "county"]
    times = {"import": imported - started, "load_validate": loaded - imported, "counties": len(counties)}
    for label in ("cold", "warm"):
        begin = time.perf_counter()
        resolved = [library.effective(code, at) for code in counties]
        middle = time.perf_counter()
        documents = [e.to_json() for e in resolved]
        built = time.perf_counter()
        size = sum(len(json.dumps(d, ensure_ascii=False, indent=2)) for d in documents)
        end = time.perf_counter()
        times[f"resolve_{label}"] = middle - begin
        times[f"to_json_{label}"] = built - middle
        times[f"dumps_{label}"] = end - built
        times["json_chars"] = size
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh subprocesses to run (median reported)")
    parser.add_argument("--at", default="2024-06-01", help="the date resolved (YYYY-MM-DD)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    at = dt.date.fromisoformat(args.at)
    if args.child:
        print(json.dumps(measure(at)))
        return

    load_before = os.getloadavg()[0]  # other work on the machine skews the figures: shown with them
    runs = []
    for _ in range(args.runs):
        done = subprocess.run([sys.executable, __file__, "--child", "--at", args.at],
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout))
    median = {p: statistics.median(r[p] for r in runs) for p in PHASES}
    best = {p: min(r[p] for r in runs) for p in PHASES}
    counties = runs[0]["counties"]

    print(f"bench_resolve: {counties} counties resolved on {at}, {args.runs} fresh processes "
          f"(median, best); {dt.date.today()}; Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}")
    print(f"JSON written per pass: {runs[0]['json_chars'] / 1e6:.1f} million characters; "
          f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print()
    print(f"{'phase':<34}{'median s':>10}{'best s':>10}{'per county ms':>16}")
    rows = [("import xinfang.config", "import", False),
            ("load + validate bundled rule sets", "load_validate", False),
            ("resolve, cold (1st pass)", "resolve_cold", True),
            ("to_json, cold (1st pass)", "to_json_cold", True),
            ("json.dumps, cold (1st pass)", "dumps_cold", True),
            ("resolve, warm (2nd pass)", "resolve_warm", True),
            ("to_json, warm (2nd pass)", "to_json_warm", True),
            ("json.dumps, warm (2nd pass)", "dumps_warm", True)]
    for name, phase, per in rows:
        each = f"{median[phase] / counties * 1000:.3f}" if per else ""
        print(f"{name:<34}{median[phase]:>10.3f}{best[phase]:>10.3f}{each:>16}")
    cold = median["resolve_cold"] + median["to_json_cold"] + median["dumps_cold"]
    warm = median["resolve_warm"] + median["to_json_warm"] + median["dumps_warm"]
    total = median["import"] + median["load_validate"] + cold
    print(f"{'cold total (import+load+1st pass)':<34}{total:>10.3f}")
    print()
    print(f"ratio warm/cold, resolve:           {median['resolve_warm'] / median['resolve_cold']:.2f}")
    print(f"ratio warm/cold, to_json:           {median['to_json_warm'] / median['to_json_cold']:.2f}")
    print(f"ratio warm/cold, json.dumps:        {median['dumps_warm'] / median['dumps_cold']:.2f}")
    print(f"ratio warm/cold, whole pass:        {warm / cold:.2f}")


if __name__ == "__main__":
    main()
