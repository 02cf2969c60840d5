"""考评: each unit's and each jurisdiction-below's score under the rule set's scheme, with the points lost and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinfang.config import NoRuleSetInForce, RuleSetLibrary, jurisdiction_prefix
from xinfang.config.assessment import DEDUCTIONS, INDICATORS, LOWER_IS_BETTER, TOTAL_POINTS
from xinfang.server.cases.indicators import breakdown
from xinfang.server.store.case_tables import CaseEscalation, Petition

from .periods import beijing_span

__all__ = ["Assessment", "Loss", "Scored", "assess", "letters_by", "scheme_of", "score"]


@dataclass(frozen=True)
class Loss:
    """Points lost on one item, with the reason in the officer's words."""

    item: str
    points: float
    reason: str


@dataclass
class Scored:
    """One unit or jurisdiction: its score out of 100, its rank, and every loss."""

    key: str
    name: str
    cases: int
    points: float
    losses: list[Loss] = field(default_factory=list)
    rank: int = 0
    indicators: dict[str, Any] = field(default_factory=dict)
    overdue: int = 0
    letters: int = 0

    @property
    def reasons(self) -> str:
        return "；".join(loss.reason for loss in self.losses) or "未扣分"


@dataclass
class Assessment:
    """The scheme's name and the ranked tables: the units, and the jurisdictions below."""

    name: str
    units: list[Scored]
    jurisdictions: list[Scored]


def scheme_of(library: RuleSetLibrary, code: str, at: dt.date) -> dict[str, Any] | None:
    """The 考评 scheme in force at `code` on `at` (inherited from above where the level writes none), or None."""
    try:
        scheme = library.effective(code, at).get("assessment")
    except (NoRuleSetInForce, LookupError, ValueError):
        return None
    return scheme if scheme and scheme.get("indicators") else None


def score(scheme: dict[str, Any], indicators: dict[str, Any], overdue: int, letters: int) -> tuple[float, list[Loss]]:
    """The score out of 100 and its losses. An indicator short of its target loses its weight in proportion to
    the shortfall, weight × (target − rate) / target (重复信访率 above its ceiling: weight × (rate − target) /
    (100 − target)), at most its weight; nothing is lost on an indicator with nothing to measure. Each overdue
    case and each 督办函 then loses its deduction's points; the score is never below 0."""
    losses = []
    for name, spec in scheme.get("indicators", {}).items():
        rate = (indicators.get(name) or {}).get("rate")
        if rate is None:
            continue
        weight, target, percent = float(spec["weight"]), float(spec["target"]), rate * 100
        if name in LOWER_IS_BETTER:
            short = 0.0 if percent <= target else (percent - target) / (100 - target) if target < 100 else 1.0
        else:
            short = 0.0 if percent >= target else (target - percent) / target
        lost = round(weight * min(short, 1.0), 2)
        if lost > 0:
            word = "高于" if name in LOWER_IS_BETTER else "低于"
            losses.append(Loss(name, lost, f"{INDICATORS[name]}{percent:.1f}%，{word}目标{target:g}%，扣{lost:g}分"))
    for item, count in (("overdue_case", overdue), ("supervision_letter", letters)):
        each = float((scheme.get("deductions", {}).get(item) or {}).get("points", 0))
        if count and each:
            lost = round(count * each, 2)
            losses.append(Loss(item, lost, f"{DEDUCTIONS[item]}{count}件，每件扣{each:g}分，扣{lost:g}分"))
    return max(0.0, round(TOTAL_POINTS - sum(loss.points for loss in losses), 2)), losses


def letters_by(session: Session, code: str, start: dt.date, end: dt.date, column) -> dict[Any, int]:
    """督办函 sent in [start, end] (Beijing days) on the cases of `code` and below, counted by a Petition column."""
    since, until = beijing_span(start, end)
    rows = session.execute(
        select(column, func.count()).select_from(CaseEscalation)
        .join(Petition, Petition.id == CaseEscalation.petition_id)
        .where(CaseEscalation.letter.is_(True), CaseEscalation.fired_at >= since, CaseEscalation.fired_at < until,
               Petition.jurisdiction_code.like(jurisdiction_prefix(code) + "%"))
        .group_by(column))
    return {key: int(n) for key, n in rows}


def assess(session: Session, library: RuleSetLibrary, code: str, start: dt.date, end: dt.date,
           as_of: dt.date) -> Assessment | None:
    """The ranked 考评 tables of `code` for cases received in [start, end] (as `indicators` counts them) and the
    督办函 of those days, under the scheme in force at `code` on `end`; None where no scheme is in force.

    The level assesses its own units and the jurisdictions directly below with its own scheme, as 临沂 assesses
    its counties.
    """
    scheme = scheme_of(library, code, end)
    if scheme is None:
        return None
    by_unit = letters_by(session, code, start, end, Petition.route_unit)
    by_code = letters_by(session, code, start, end, Petition.jurisdiction_code)
    by_child: dict[str, int] = {}
    for where, count in by_code.items():
        chain = [j.code for j in library.tree.ancestors(where)]
        below = chain.index(code) + 1 if code in chain else None
        if below is not None:
            key = chain[below] if below < len(chain) else code
            by_child[key] = by_child.get(key, 0) + count
    units = _ranked(scheme, breakdown(session, library, code, start, end, as_of, by="unit"), by_unit)
    children = _ranked(scheme, breakdown(session, library, code, start, end, as_of, by="jurisdiction"), by_child,
                       skip=code)
    return Assessment(scheme.get("name") or "考评", units, children)


def _ranked(scheme: dict[str, Any], rows: list[dict[str, Any]], letters: dict[Any, int], skip: str | None = None
            ) -> list[Scored]:
    scored = []
    for row in rows:
        if row["key"] is None or row["key"] == skip:
            continue
        sent = letters.get(row["key"], 0)
        points, losses = score(scheme, row["indicators"], row["overdue"], sent)
        scored.append(Scored(row["key"], row["name"] or row["key"], row["cases"], points, losses,
                             indicators=row["indicators"], overdue=row["overdue"], letters=sent))
    scored.sort(key=lambda s: (-s.points, -s.cases, s.key))
    for i, item in enumerate(scored):
        item.rank = scored[i - 1].rank if i and scored[i - 1].points == item.points else i + 1
    return scored
