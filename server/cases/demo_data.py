"""A deterministic year of synthetic petitions in the bundled jurisdictions, registered and handled by the workflow."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from xinfang.config import CHINA, RuleSetLibrary, procedure, today_in_china
from xinfang.rules.calendar import calendar_for
from xinfang.rules.plan import plan_for
from xinfang.server.accounts import system_actor
from xinfang.server.store.case_tables import Petition

from . import demo_texts as texts
from .case_file import pinned_effective
from .errors import CaseServiceError
from .forms import form_definition
from .registration import register_case
from .sweep import sweep
from .workflow import act

__all__ = ["ACTOR", "DEFAULT_CASES", "DEFAULT_SEED", "DemoResult", "demo_period", "generate", "has_cases"]

DEFAULT_CASES = 1000  # ~25 ms of CPU each through the workflow (README, "Demo data")
DEFAULT_SEED = 20220501  # the day 《信访工作条例》 came into force
ACTOR = system_actor("演示数据")  # registers every generated case and plays the office and each unit
APPROVER = system_actor("演示数据审批人", roles=("approver",))  # approves the extensions (Art. 34: not who asked)
ASSIGNED = 0.3  # the share the office assigns (交办, with feedback) rather than transfers (转送)
BATCH = 100  # cases per transaction: memory stays flat, progress is visible
REFERRED = ("litigation", "arbitration", "party_appeal", "administrative")  # other procedures: refused, told where
OUTCOMES = {"support": 38, "explain": 42, "not_support": 8, "mediated": 12}
RATINGS = {  # outcome → satisfied, basically satisfied, unsatisfied (Ganzhou's report: 97.73% satisfied)
    "support": (92, 7.5, 0.5), "explain": (78, 20, 2), "not_support": (45, 35, 20), "mediated": (88, 11, 1)}
REVIEW_FACTOR = {"yinan": 0.35, "rizhao": 3.0}  # Yinan: first-petition resolution ≥98%; Rizhao: 77 reviews a year


@dataclass
class DemoResult:
    """What a run made: cases by stage, escalations the closing sweep fired, actions the workflow refused."""

    cases: int = 0
    skipped: bool = False
    seconds: float = 0.0
    stages: Counter = field(default_factory=Counter)
    escalations: int = 0
    refused_actions: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.skipped:
            return "演示数据：数据库中已有信访事项，未生成"
        stages = "、".join(f"{procedure.stage(k).label} {v}" for k, v in self.stages.most_common())
        return (f"演示数据：生成 {self.cases} 件（{stages}），触发督办/预警 {self.escalations} 项，"
                f"用时 {self.seconds:.1f} 秒")


def demo_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The twelve months ending today: from the first day of the month eleven months back."""
    month = today.year * 12 + today.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1), today


def has_cases(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Petition.id.is_not(None)))))


def generate(session: Session, library: RuleSetLibrary, *, cases: int = DEFAULT_CASES, seed: int = DEFAULT_SEED,
             today: dt.date | None = None, progress: Callable[[int, int], None] | None = None) -> DemoResult:
    """Register `cases` petitions received over the year to `today` and act on them; then sweep. Commits.

    Does nothing when the database already holds a case. The same seed, count and `today` give the same cases.
    """
    if has_cases(session):
        return DemoResult(skipped=True)
    started = time.perf_counter()
    today = today or today_in_china()
    rng = random.Random(seed)
    result = DemoResult()
    specs = _specs(rng, library, cases, *demo_period(today))
    for done, spec in enumerate(specs, 1):
        try:
            petition = register_case(session, library, spec.case, actor=ACTOR, jurisdiction_code=spec.code).petition
        except CaseServiceError as err:  # refused before anything is stored: reported, the demo goes on without it
            result.refused_actions.append(f"{spec.code} register {spec.case['received_on']}: {err.message}")
        else:
            _Handling(session, library, rng, petition, spec, today, result).run()
            result.stages[petition.stage] += 1
        if done % BATCH == 0 or done == len(specs):
            session.commit()
            session.expunge_all()
            if progress:
                progress(done, len(specs))
    result.cases = sum(result.stages.values())
    real_today = today_in_china()
    now = dt.datetime.now(CHINA) if today == real_today else dt.datetime.combine(today, dt.time(18), CHINA)
    result.escalations = sweep(session, now, worker=ACTOR.username).fired
    session.commit()
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Spec:
    code: str
    region: str
    case: dict[str, Any]


def _specs(rng: random.Random, library: RuleSetLibrary, count: int, start: dt.date, end: dt.date) -> list[_Spec]:
    """The cases to register, in the order they were received (case numbers follow the dates)."""
    places = [(region, code, share * weight / sum(w for _, w in spots))
              for region, (share, spots) in texts.REGIONS.items() for code, weight in spots]
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    rest = calendar_for().is_rest_day
    picked_days = sorted(rng.choices(days, weights=[0.4 if rest(d) else 1.0 for d in days], k=count))
    picked_places = rng.choices(places, weights=[w for _, _, w in places], k=count)
    recent: dict[str, list[tuple[dt.date, dict, str]]] = {}  # region → earlier petitioners, for repeat petitions
    specs = []
    for day, (region, code, _) in zip(picked_days, picked_places):
        effective = library.effective(code, day)
        spec = _Spec(code, region, _case(rng, library, effective, code, region, day, rest(day), recent))
        specs.append(spec)
    return specs


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _case(rng, library, effective, code, region, day, rest_day, recent) -> dict[str, Any]:
    data = effective.data
    categories = data["classification"]["categories"]
    weights = {**texts.CATEGORY_WEIGHTS, **texts.REGION_CATEGORY_WEIGHTS.get(region, {})}
    if day.month in (12, 1, 2):  # wages are claimed before the Spring Festival
        weights["13"] = weights["13"] * 2
    weights = {k: w for k, w in weights.items() if k in categories and k in texts.TEXTS}
    intakes = {k: w * (0.2 if rest_day and k in ("visit", "letter") else 1)
               for k, w in texts.INTAKE_WEIGHTS.items() if k in data["intake"]["channels"]}
    intake = _weighted(rng, intakes)
    chain = library.tree.ancestors(code)
    town, county = chain[-1].name, next((j.name for j in reversed(chain) if j.level in ("county", "city")), "")
    slots = texts.slots(rng, town, county)
    earlier = [p for p in recent.get(region, ()) if (day - p[0]).days <= 80]
    repeat = earlier and rng.random() < (0.06 if region == "ganzhou" else 0.03)
    if repeat:
        _, petitioner, category = rng.choice(earlier)
        intake = "online" if "online" in intakes else intake
    else:
        category = _weighted(rng, weights)
        petitioner = {"name": texts.person_name(rng), "id_number": texts.id_number(rng, code),
                      "phone": texts.phone(rng), "address": _address(rng, chain, slots)}
    consult = category in texts.CONSULTATION and intake in ("visit", "phone", "hotline") and rng.random() < 0.3
    text = texts.CONSULTATION[category] if consult else rng.choice(texts.TEXTS[category]).format_map(slots)
    case: dict[str, Any] = {"received_on": day.isoformat(), "intake": intake, "category": category, "text": text}
    definition = form_definition(effective, intake, category)
    for f in definition["fields"]:
        _fill(rng, case, f, petitioner, slots, category)
    if not repeat and case.get("petitioner"):
        recent.setdefault(region, []).append((day, petitioner, category))
        del recent[region][:-200]
    return case


def _address(rng: random.Random, chain, slots) -> str:
    place = "".join(j.name for j in chain[1:])
    where = slots["village"] if chain[-1].level == "township" else slots["community"]
    return f"{place}{where}{rng.randint(1, 99)}号"


def _fill(rng: random.Random, case: dict, f: dict, petitioner: dict, slots: dict, category: str) -> None:
    """Set one form field the way a clerk would: every required one, most of the others."""
    name, path = f["name"], f["path"]
    if name in ("received_on", "text", "category") or (not f["required"] and rng.random() < 0.25):
        return
    if path.startswith("petitioner."):
        value = petitioner.get(name)
    elif name == "representatives":
        value = rng.randint(2, f["maximum"] or 5) if rng.random() < 0.12 else None
    elif name == "accused_unit":
        value = slots["village"] + "村民委员会"
    elif name in ("facts", "reasons"):
        value = rng.choice(texts.FACTS).format_map(slots) if name == "facts" else "请求依法依规处理。"
    elif f["type"] == "choice":
        value = rng.choice(f["options"])["value"]
    elif f["type"] == "integer":
        value = rng.randrange(20_000, 480_000, 500)
    elif name == "parcel_number":
        value = f"YN-{category}-{rng.randint(1, 480):04d}"
    else:
        value = None
    if value is None:
        return
    *parents, leaf = path.split(".")
    node = case
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = value


class _Handling:
    """One case's course after registration: each action on its day, stopping at today (later ones not yet)."""

    def __init__(self, session, library, rng, petition, spec, today, result) -> None:
        self.session, self.library, self.rng, self.petition = session, library, rng, petition
        self.spec, self.today, self.result = spec, today, result
        self.last = petition.received_on
        self.unsatisfied = False

    def due(self, step: str, running: bool = False) -> dt.date | None:
        """The step's deadline (`running`: only while the step is not done)."""
        return next((d.due_on for d in self.petition.deadlines
                     if d.step == step and not (running and d.done_on)), None)

    def act(self, action: str, on: dt.date, *, actor=ACTOR, **payload) -> bool:
        """Apply the action if its day has come; False (the case waits) when it is after today."""
        on = max(on, self.last)
        if on > self.today:
            return False
        try:
            act(self.session, self.library, self.petition.id, action, payload, actor=actor, on=on)
        except CaseServiceError as err:  # a workflow refusal means the generator is wrong: reported, the case stops here
            self.session.expire(self.petition)  # back to its last stored state
            self.result.refused_actions.append(f"{self.petition.number} {action} {on}: {err.message}")
            return False
        self.last = on
        return True

    def days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(low, max(low, high)))

    def run(self) -> None:
        p, rng = self.petition, self.rng
        if p.channel == "litigation":  # 诉访分离 (Art. 22 ¶2): to the political-legal organs, out of the procedure
            self.act("separate", p.received_on + self.days(0, 2), reason=texts.REFUSAL_REASONS["litigation"])
            return
        if p.channel in REFERRED or not p.admissible:
            reason = texts.REFUSAL_REASONS.get(p.channel) or (p.decision or {}).get("reason")
            self.act("refuse", p.received_on + self.days(0, 4), reason=reason)
            return
        if rng.random() < 0.02:
            self.act("refuse", p.received_on + self.days(1, 6), reason=texts.REFUSAL_REASONS["petition"])
            return
        if not self.route() or not self.accept():
            return
        if "assigned" in p.flags:
            self.within("feedback", 2, 10, "report", progress="已调查核实，正在依法依规办理。")
        if rng.random() < 0.025:  # stuck: never concluded (overdue, escalated by the sweep)
            return
        self.extend()
        if self.conclude():
            self.review()

    def route(self) -> bool:
        """The office transfers the case to its unit, or assigns it with feedback; what the office handles itself
        needs neither (沂南县 routes within a day: 问题流转不过夜)."""
        p = self.petition
        effective = pinned_effective(self.library, p.ruleset_version, p.jurisdiction_code, p.received_on)
        units = effective.get("units") or {}
        if (units.get(p.route_unit or "") or {}).get("type") == "petition_office":
            return True
        unit = p.route_unit if p.route_unit in units else next(u for u, s in units.items()
                                                                if s.get("type") == "competent")
        action = "assign" if p.channel != "discipline" and self.rng.random() < ASSIGNED else "transfer"
        return self.act(action, p.received_on + self.days(0, 1), unit=unit)

    def accept(self) -> bool:
        """Mostly within the routing and notice periods (沂南县 routes within a day); a few late."""
        p, notify = self.petition, self.due("notify")
        first = min((d for d in (notify, self.due("route", running=True)) if d), default=None)
        if p.track == "same_day":
            on = self.last
        elif notify and self.rng.random() < (0.01 if self.spec.region == "yinan" else 0.035):
            on = notify + self.days(1, 12)
        else:
            on = self.last + self.days(0, 6)
            on = min(on, first) if first else on
        return self.act("accept", on)

    def extend(self) -> None:
        if self.petition.track == "same_day" or self.rng.random() >= 0.06:
            return
        effective = pinned_effective(self.library, self.petition.ruleset_version, self.petition.jurisdiction_code,
                                     self.petition.received_on)
        tier = next((f[5:] for f in self.petition.flags if f.startswith("tier:")), None)
        bound = plan_for(effective).limits(self.petition.track, tier).extension
        due = self.due("conclude")
        if bound is None or due is None or bound.days < 1:
            return
        on = self.last + dt.timedelta(days=max(0, int((due - self.last).days * 0.7)))
        if self.act("request_extension", on, days=self.rng.randint(max(1, bound.days // 2), bound.days),
                    reason="案情复杂，需进一步调查核实"):
            self.act("approve_extension", on + self.days(0, 2), actor=APPROVER)

    def conclude(self) -> bool:
        p, rng, due = self.petition, self.rng, self.due("conclude")
        late = rng.random() < (0.015 if self.spec.region == "yinan" else 0.05)
        if p.track == "same_day" or due is None:
            on = self.last
        elif late:
            on = due + self.days(1, 25)
            if rng.random() < 0.5:  # the office supervises the late unit, which answers in writing (Art. 40)
                if self.act("supervise", due + self.days(1, 3), reason="超期未办结，督促依法办理"):
                    self.act("answer_supervision", self.last + self.days(1, 5), answer="已加快办理，近期答复信访人。")
        else:
            on = self.last + dt.timedelta(days=round((due - self.last).days * rng.uniform(0.25, 0.95)))
        outcome = _weighted(rng, OUTCOMES if p.kind != "accusation" else {"support": 40, "explain": 60})
        payload: dict[str, Any] = {"outcome": outcome, "opinion": "经调查核实，已依法依规作出处理并书面答复信访人。"}
        if rng.random() < (0.3 if p.kind == "accusation" else 0.88):
            payload["satisfaction"] = _weighted(rng, dict(zip(("satisfied", "basically_satisfied", "unsatisfied"),
                                                              RATINGS[outcome])))
        self.unsatisfied = payload.get("satisfaction") == "unsatisfied"
        return self.act("conclude", on, **payload)

    def review(self) -> None:
        p, rng = self.petition, self.rng
        if p.outcome == "mediated":
            return
        chance = REVIEW_FACTOR.get(self.spec.region, 1.0) * (0.01 + 0.35 * self.unsatisfied
                                                             + 0.06 * (p.outcome == "not_support"))
        if rng.random() >= chance or not self.within("review_request", 2, 25, "request_review", body="上一级机关"):
            return
        if not self.within("review", 3, 25, "review_opinion", outcome=_weighted(
                rng, {"support": 15, "explain": 45, "not_support": 40}), opinion="复查意见：维持原处理意见。"):
            return
        if rng.random() < 0.4 and self.within("rereview_request", 2, 25, "request_rereview", body="再上一级机关"):
            if rng.random() < (0.5 if self.spec.region == "rizhao" else 0.3):
                if not (self.act("hearing_start", self.last + self.days(3, 8))
                        and self.act("hearing_end", self.last + self.days(0, 2))):
                    return
            if not self.within("rereview", 3, 25, "rereview_opinion", outcome="not_support",
                               opinion="复核意见：维持复查意见。"):
                return
        self.act("close", self.last + self.days(1, 10))

    def within(self, step: str, low: int, high: int, action: str, **payload) -> bool:
        """The action a few days on, never after the step's deadline."""
        on, due = self.last + self.days(low, high), self.due(step)
        return self.act(action, min(on, due) if due else on, **payload)
