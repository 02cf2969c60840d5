"""The draft's own scenarios: samples decided by the published rules on the draft's first day, and accepting a result."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Iterable

from xinfang.config import ConfigError, RuleSetLibrary
from xinfang.config.yaml_source import load_yaml
from xinfang.rules.case_input import CaseError
from xinfang.rules.decide import evaluate
from xinfang.rules.scenarios import load_scenarios, scenario_files

from .editor_yaml import EditError, apply_edits, nodes_of, render_flow, render_scalar

log = logging.getLogger(__name__)

# What a sample keeps of a bundled scenario's case: the facts of the request, not its later dates.
CASE_KEYS = ("intake", "text", "category", "kind", "accused_unit", "representatives", "receiving_level",
             "competent_level")
EXPECT = ("track", "deadlines.route.date", "deadlines.conclude.date")
FALLBACK = [{"intake": "letter", "text": "反映小区物业乱收费问题"}]
MAX_SAMPLES = 4


# (library, code, day, files and their mtimes, track names) → the samples: the editor opens without deciding them anew
# until something they depend on changes (a publish makes a new library; an edited scenario file a new mtime).
_samples: dict[tuple, tuple[RuleSetLibrary, str]] = {}
_samples_lock = threading.Lock()


def sample_scenarios(library: RuleSetLibrary, code: str, day: dt.date, paths: Iterable[str | os.PathLike],
                     track_names: dict[str, str]) -> str:
    """Scenario YAML: one sample case per track, received on `day`, expecting what the published rules decide.

    The cases come from the jurisdiction's own scenario files (their facts, re-dated). A change of
    the draft that alters a sample's track or deadline makes it fail: the officer checks the new
    result and writes it in as the expectation.
    """
    files = scenario_files(paths)
    key = (id(library), code, day, tuple((str(f), f.stat().st_mtime_ns) for f in files),
           tuple(sorted(track_names.items())))
    with _samples_lock:
        hit = _samples.get(key)
    if hit is not None and hit[0] is library:
        return hit[1]
    text = _samples_of(library, code, day, files, track_names)
    with _samples_lock:
        if len(_samples) >= 32:
            _samples.clear()
        _samples[key] = (library, text)
    return text


def _samples_of(library: RuleSetLibrary, code: str, day: dt.date, files, track_names: dict[str, str]) -> str:
    cases = []
    for file in files:
        try:
            cases += [s.case for s in load_scenarios(file) if s.jurisdiction == code and "received_on" in s.case]
        except ConfigError:
            continue
    seen: dict[str, tuple[dict, dict]] = {}
    for case in cases + FALLBACK:
        facts = {k: case[k] for k in CASE_KEYS if k in case}
        if "intake" not in facts or "text" not in facts:
            continue
        facts = {"received_on": day, **facts}
        try:
            decision = evaluate(library, code, {**facts, "received_on": day.isoformat()})
        except (CaseError, LookupError, ValueError):
            continue
        if decision.get("admissible") and decision.get("track") not in seen:
            seen[decision["track"]] = (facts, decision)
        if len(seen) >= MAX_SAMPLES:
            break
    lines = [f"# 样例：按现行已发布的规则，在草稿施行日 {day} 收到的事项会怎样办理（页面打开时生成）。",
             "# 草稿改变了其中的办理程序或期限时，样例会失败：核对新结果无误后，把期望改成新结果，再运行。",
             f'jurisdiction: "{code}"', "scenarios:"]
    for n, (track, (facts, decision)) in enumerate(seen.items(), 1):
        name = f"样例{n}：{track_names.get(track, track)}——{facts['text'][:24]}"
        lines.append(f"  - name: {render_scalar(name, flow=False)}")
        lines.append(f"    case: {render_flow(facts)}")
        lines.append("    expect:")
        for path in EXPECT:
            value = _lookup(decision, path)
            if value is not None:
                lines.append(f"      {path}: {render_scalar(_as_date(value), flow=False)}")
    if not seen:
        lines.append("  []")
    return "\n".join(lines) + "\n"


def _lookup(decision: dict, path: str):
    value = decision
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _as_date(value):
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def accept_actual(text: str, line: int, actual: str) -> str:
    """The scenario text with the expectation written at `line` replaced by `actual` (the JSON the run showed)."""
    try:
        value = _as_date(json.loads(actual))
    except ValueError:
        raise EditError(f"实际结果“{actual}”无法写入") from None
    nodes = nodes_of(text)
    found = [p for p, n in nodes.items() if len(p) == 4 and p[0] == "scenarios" and p[2] == "expect" and n.line == line]
    if not found:
        raise EditError(f"第 {line} 行不是一项期望")
    return apply_edits(text, [(found[0], value)])


def scenario_text_ok(text: str) -> bool:
    try:
        load_yaml("scenarios", text=text)
        return True
    except ConfigError:
        return False
