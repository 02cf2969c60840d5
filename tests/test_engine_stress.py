"""Stress test: 8 threads, 100,000 evaluations over several rule-set versions, each equal to the single-threaded one."""

import datetime as dt
import random
import threading

from xinfang.rules.case_input import CaseError
from xinfang.rules.decide import evaluate

THREADS = 8
TOTAL = 100_000
CASES = 400

LOCAL = """
    routing:
      rules:
        housing: {when: {categories: ["10"], keywords: [物业, 供暖]}, unit: competent, level: same}
    tracks:
      urgent: {name: 紧急办, priority: 20, when: {keywords: [欠薪, 断水]},
               time_limits: {route: {days: 1, unit: calendar}, conclude: {days: 15, unit: calendar}}}
      simple: {name: 简易办, priority: 10, when: {keywords: [咨询]},
               time_limits: {conclude: {days: 10, unit: working}}}
    mediation:
      tiers:
        village: {name: 村级, level: village, when: {keywords: [邻里]},
                  time_limits: {conclude: {days: 7, unit: calendar}}}
        county: {name: 县级, level: county, when: {min_representatives: 2},
                 time_limits: {conclude: {days: 30, unit: calendar}}}
    """
WORDS = ["征地", "拆迁", "欠薪", "咨询", "邻里", "物业", "供暖", "法院判决", "举报", "受贿", "污染", "仲裁", "学校",
         "断水", "不作为", "建议", "党纪处分", "行政复议", "低保", "道路", "请帮忙"]


def random_case(rng: random.Random) -> tuple[str, dict]:
    """A case (and the jurisdiction it is filed in) covering national 2005, national 2022, Shandong and a local set."""
    received = dt.date(2019, 1, 1) + dt.timedelta(rng.randrange(8 * 365))
    code = rng.choice(["000000", "370000", "110101"])
    case = {"received_on": received.isoformat(), "intake": rng.choice(["letter", "visit", "online", "phone"]),
            "text": "".join(rng.sample(WORDS, rng.randint(0, 3)))}
    if rng.random() < 0.3:
        case["representatives"] = rng.randint(1, 8)
    if rng.random() < 0.2:
        case["history"] = {"pending_elsewhere": rng.random() < 0.5, "rereview_concluded": rng.random() < 0.5,
                           "same_facts": rng.random() < 0.5}
    if rng.random() < 0.2:
        case |= {"receiving_level": rng.choice(["province", "city"]), "competent_level": "county"}
    if rng.random() < 0.2:
        case["accused_unit"] = rng.choice(["纪检监察机关", "某局"])
        case["kind"] = "accusation"
    if rng.random() < 0.2:
        case["extension_days"] = rng.choice([10, 30, 40])  # 40 is above the bound: a CaseError
    day = received
    for stage in ("answered_on", "review_requested_on", "review_answered_on", "rereview_requested_on"):
        if rng.random() < 0.4:
            break
        day += dt.timedelta(rng.randint(10, 50))
        case[stage] = day.isoformat()
    if "rereview_requested_on" in case and rng.random() < 0.5:
        start = day + dt.timedelta(rng.randint(1, 10))
        case["hearings"] = [{"start": start.isoformat(), "end": (start + dt.timedelta(rng.randint(0, 5))).isoformat()}]
    return code, case


def outcome(library, local, code, case):
    try:
        return evaluate(local if code == "110101" else library, code, case)
    except CaseError as err:
        return ("CaseError", tuple(err.problems))


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_eight_threads_agree_with_one(bundled, local_ruleset):
    local, issues = local_ruleset(LOCAL)
    assert issues == []
    rng = random.Random(20240501)
    cases = [random_case(rng) for _ in range(CASES)]
    expected = [outcome(bundled, local, code, case) for code, case in cases]
    versions = {e["ruleset_version"] for e in expected if isinstance(e, dict)}
    assert {"000000@2005.1", "000000@2022.1", "000000@2022.1+370000@2016.1",
            "000000@2022.1+110101@2024.1"} <= versions
    assert any(isinstance(e, tuple) for e in expected)  # refused input is part of the load

    before = rss_kib()
    failures: list[str] = []
    done = [0] * THREADS

    def work(index: int) -> None:
        try:
            for n in range(TOTAL // THREADS):
                i = (index * 7919 + n * 31) % CASES
                code, case = cases[i]
                if outcome(bundled, local, code, case) != expected[i]:
                    failures.append(f"thread {index}: case {i} differs")
                    return
                done[index] += 1
        except BaseException as err:  # noqa: BLE001 - reported below
            failures.append(f"thread {index}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = rss_kib()
    print(f"\nstress: {sum(done):,} evaluations in {THREADS} threads; VmRSS {before:,} KiB → {after:,} KiB "
          f"({after - before:+,} KiB)")
    assert failures == []
    assert sum(done) == TOTAL
    assert after - before < 200 * 1024  # a loose leak guard: a leak per evaluation would show at 100,000
