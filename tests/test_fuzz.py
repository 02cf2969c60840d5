"""Fuzz: hostile rule-set YAML and Case JSON get a clear refusal, never a crash (issue 10, "must show").

Each test mutates valid inputs with a seeded mutator (tests/hostile.py) and holds the public contract
(DESIGN.md) for every one: `xinfang validate` exits 0 or 1 with `FILE:LINE:COL: message` lines,
`xinfang evaluate` exits 0 or 1 with no traceback, and the API answers a JSON error, never a 500.
Bounded: XINFANG_FUZZ_RUNS inputs per test (default 120); a larger run is the same test with a larger
number, e.g. `XINFANG_FUZZ_RUNS=3000 pytest tests/test_fuzz.py -s`, which prints its figures.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from hostile import mutate_json_text, mutate_value, mutate_yaml

RUNS = int(os.environ.get("XINFANG_FUZZ_RUNS", "120"))
ISSUE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$")
CLIENT_ERRORS = {400, 401, 403, 404, 409, 413, 415, 422, 429}
LAND = {"received_on": "2024-03-04", "intake": "letter", "text": "我村土地被征收，补偿款至今没有发放到位", "category": "1201",
        "petitioner": {"name": "王秀英", "id_number": "371321198503124526", "phone": "13905390000",
                       "address": "沂南县界湖街道北关村"}}
LATER = {**LAND, "accepted_on": "2024-03-06", "extension_days": 10, "answered_on": "2024-05-01",
         "review_requested_on": "2024-05-10", "review_answered_on": "2024-06-01", "rereview_requested_on": "2024-06-10",
         "hearings": [{"start": "2024-06-12", "end": "2024-06-14"}],
         "history": {"rereview_concluded": False, "same_facts": False, "pending_elsewhere": False}}
ACCUSATION = {"received_on": "2024-03-04", "intake": "visit", "text": "举报县自然资源和规划局某科长收受贿赂", "kind": "accusation",
              "accused_unit": "沂南县自然资源和规划局", "representatives": 1, "petitioner": {"name": "周正"}}
CASES = (LAND, LATER, ACCUSATION)
RULE_SETS = ("371321_yinan/2024-01-01.yaml", "360700_ganzhou", "430981_yuanjiang", "371300_linyi")


def inputs(seed_base: int):
    """(seed, rng) for each run: the seed reproduces one input (`random.Random(seed)`)."""
    for run in range(RUNS):
        seed = seed_base + run
        yield seed, random.Random(seed)


def report(name: str, tried: int, refused: int, crashes: list) -> None:
    print(f"\nfuzz {name}: {tried} inputs, {refused} refused with a clear error, {len(crashes)} crashed")
    assert not crashes, crashes[:5]


def test_validate_of_a_broken_rule_set_exits_1_naming_file_line_and_column(xinfang, rules_dir, tmp_path):
    # DESIGN.md, public contract: `xinfang validate` exits 0 if valid, else 1 with `FILE:LINE:COL: message`.
    sources = [path for name in RULE_SETS for path in sorted((rules_dir / name).parent.glob(
        Path(name).name if name.endswith(".yaml") else f"{name}/*.yaml"))]
    refused, crashes = 0, []
    for seed, rng in inputs(10_000):
        source = rng.choice(sources)
        broken = tmp_path / f"{seed}" / source.parent.name / source.name
        broken.parent.mkdir(parents=True)
        broken.write_text(mutate_yaml(source.read_text("utf-8"), rng), "utf-8")
        try:
            result = xinfang("validate", broken)
        except Exception as err:  # noqa: BLE001 -- any exception is the crash this test looks for
            crashes.append((seed, repr(err)[:300]))
            continue
        lines = result.stdout.splitlines()
        if result.exit_code == 1:
            refused += 1
            bad = [line for line in lines if not (ISSUE_LINE.match(line) and line.startswith(str(broken)))]
            if bad or not lines:
                crashes.append((seed, "not FILE:LINE:COL", bad[:2] or result.stderr[-300:]))
        elif result.exit_code != 0 or lines:
            crashes.append((seed, result.exit_code, result.output[-300:]))
    report("rule-set YAML → xinfang validate", RUNS, refused, crashes)


def test_evaluate_of_a_hostile_case_file_exits_0_or_1_without_a_traceback(xinfang, tmp_path):
    # DESIGN.md, public contract: `xinfang evaluate CODE CASE.json` prints the decision, or refuses the case.
    refused, crashes = 0, []
    for seed, rng in inputs(20_000):
        case_file = tmp_path / f"{seed}.json"
        case_file.write_bytes(mutate_json_text(rng.choice(CASES), rng))
        try:
            result = xinfang("evaluate", "371321", case_file)
        except Exception as err:  # noqa: BLE001
            crashes.append((seed, repr(err)[:300]))
            continue
        if result.exit_code == 1:
            refused += 1
            if "Traceback" in result.output or not result.stderr.strip():
                crashes.append((seed, result.output[-300:]))
        elif result.exit_code != 0:
            crashes.append((seed, result.exit_code, result.output[-300:]))
        else:
            json.loads(result.stdout)
    report("Case JSON → xinfang evaluate", RUNS, refused, crashes)


def api_problems(response) -> str | None:
    """What is wrong with an answer to a hostile body: anything but a decision or a JSON error of the client's."""
    if response.status_code in (200, 201):
        return None
    if response.status_code not in CLIENT_ERRORS:
        return f"status {response.status_code}"
    error = (response.get_json(silent=True) or {}).get("error")
    if not (isinstance(error, dict) and error.get("code") and error.get("message")):
        return f"status {response.status_code} without a JSON error: {response.get_data(as_text=True)[:200]}"
    if "Traceback" in error["message"] or ".py" in error["message"]:
        return f"a traceback or a source path in the message: {error['message'][:200]}"
    return None


@pytest.mark.parametrize(("path", "seed_base"), [
    ("/api/v1/evaluate", 30_000),  # open to anyone: the published rule sets are public law
    ("/api/v1/cases", 40_000),  # registration by the petition office's clerk (Art. 21)
])
def test_the_api_answers_a_hostile_case_body_with_a_json_error_never_a_500(app, sign_in, path, seed_base):
    clerk = sign_in(app, "yinan_clerk")
    refused, crashes = 0, []
    for seed, rng in inputs(seed_base):
        case = rng.choice(CASES)
        body = mutate_json_text({"jurisdiction": "371321", "case": case}, rng) if rng.random() < 0.2 else \
            json.dumps({"jurisdiction": "371321", "case": mutate_value(case, rng)}).encode()
        response = clerk.client.post(path, data=body, content_type="application/json",
                                     headers={"X-CSRFToken": clerk.token})
        problem = api_problems(response)
        if response.status_code == 201:  # what was let in must still open: the case file, over the API and as a page
            opened = [clerk.get(response.headers["Location"]), clerk.get(f"/cases/{response.json['id']}")]
            problem = problem or next((f"registered, then {o.status_code} on {o.request.path}" for o in opened
                                       if o.status_code != 200), None)
        if problem:
            crashes.append((seed, problem))
        refused += response.status_code >= 400
    report(f"Case JSON → POST {path}", RUNS, refused, crashes)
