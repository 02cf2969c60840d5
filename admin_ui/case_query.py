"""Case lists on the pages: the filter form a page or an export takes, and the rows as a user may see them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from xinfang.config import EffectiveRuleSet, RuleSetLibrary
from xinfang.config.procedure import STAGE_NAMES
from xinfang.config.units import unit_name
from xinfang.server.cases.queries import CaseFilters
from xinfang.server.cases.visibility import visible_case
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import User

from . import labels
from .case_labels import STAGES as STAGE_LABELS
from .case_labels import countdown, flag_label, flag_tone, moment_of, shown_flags

PER_PAGE = 50
MAX_EXPORT = 10_000  # rows in one export; a larger list is narrowed by its filters first
MAX_DAYS = 3650


@dataclass
class ListForm:
    """The case list's filter form as typed: a jurisdiction (and below), a unit, stage, track, flag, deadlines."""

    jurisdiction: str
    unit: str = ""
    stage: str = ""
    track: str = ""
    flag: str = ""
    due_within: str = ""  # days, as typed (checked by parse_filters)
    overdue: bool = False
    q: str = ""  # a case number, or part of one
    page: int = 1
    problems: list[str] = field(default_factory=list)

    def filters(self, today: dt.date) -> CaseFilters:
        """What the case service selects for this form (server.cases.queries)."""
        return CaseFilters(jurisdiction=self.jurisdiction, at=today, units=(self.unit,) if self.unit else (),
                           stages=(self.stage,) if self.stage else (), track=self.track, flag=self.flag, number=self.q,
                           due_within=int(self.due_within) if self.due_within else None,
                           overdue=True if self.overdue else None, now=moment_of(today))

    def args(self, **override: Any) -> dict[str, Any]:
        """The query string of these filters (empty ones left out), e.g. for the export links."""
        found = {k: v for k, v in asdict(self).items() if k != "problems"} | override
        found["overdue"] = "1" if found["overdue"] else ""
        if found.get("page") == 1:
            found.pop("page")
        return {k: v for k, v in found.items() if v not in ("", None)}


def parse_filters(args: Mapping[str, str], default_jurisdiction: str) -> ListForm:
    """Filters from a query string; a value that cannot be used is dropped, saying why (in `problems`)."""
    f = ListForm(jurisdiction=(args.get("jurisdiction") or default_jurisdiction).strip())
    f.unit, f.track, f.flag, f.q = (args.get(k, "").strip()[:64] for k in ("unit", "track", "flag", "q"))
    f.stage = args.get("stage", "").strip()
    if f.stage and f.stage not in STAGE_NAMES:
        f.problems.append(f"没有“{f.stage}”这一阶段，已忽略")
        f.stage = ""
    raw = args.get("due_within", "").strip()
    if raw:
        if raw.isdigit() and int(raw) <= MAX_DAYS:
            f.due_within = str(int(raw))
        else:
            f.problems.append(f"“{raw}”不是0到{MAX_DAYS}之间的天数，已忽略“N天内到期”")
    f.overdue = args.get("overdue", "") in ("1", "true", "on")
    page = args.get("page", "1")
    f.page = int(page) if page.isdigit() and 0 < int(page) <= 10**6 else 1
    return f


class Names:
    """Chinese names of categories, tracks and units, read from each jurisdiction's rule set in force (cached)."""

    def __init__(self, library: RuleSetLibrary, today: dt.date) -> None:
        self.library, self.today, self._found = library, today, {}

    def effective(self, code: str) -> EffectiveRuleSet | None:
        if code not in self._found:
            try:
                self._found[code] = self.library.effective(code, self.today)
            except (LookupError, ValueError):  # no such jurisdiction, or no rule set in force that day
                self._found[code] = None
        return self._found[code]

    def _section(self, code: str, *path: str) -> Mapping[str, Any]:
        data = self.effective(code).data if self.effective(code) else {}
        for key in path:
            data = data.get(key) or {}
        return data

    def category(self, code: str, category: str) -> str:
        return self._section(code, "classification", "categories").get(category, {}).get("name", "")

    def track(self, code: str, track: str | None) -> str:
        return self._section(code, "tracks").get(track or "", {}).get("name", track or "")

    def unit(self, code: str, unit: str | None) -> str:
        effective = self.effective(code)
        return unit_name(effective, unit, self.library) if effective is not None else unit or ""

    def jurisdiction(self, code: str) -> str:
        try:
            return self.library.tree.get(code).name
        except (LookupError, ValueError):
            return code


def case_rows(petitions: Iterable[Petition], user: User, names: Names) -> list[dict[str, Any]]:
    """Each case as visibility.visible_case shows it in a list (personal data masked), with its countdown."""
    rows = []
    for p in petitions:
        row = visible_case(p, user, in_list=True)
        nxt = row["next_deadline"]
        code = p.jurisdiction_code
        row.update(
            jurisdiction_name=names.jurisdiction(code), category_name=names.category(code, p.category),
            track_name=names.track(code, p.track), unit_name=names.unit(code, p.route_unit),
            stage_name=STAGE_LABELS.get(p.stage, p.stage), intake_name=labels.label(labels.INTAKES, p.intake),
            countdown=countdown(nxt["due_on"], names.today, nxt.get("due_at")) if nxt else None,
            next_step=labels.label(labels.STEPS, nxt["step"]) if nxt else "",
            flag_items=[{"flag": fl, "label": flag_label(fl), "tone": flag_tone(fl)} for fl in shown_flags(row["flags"])])
        rows.append(row)
    return rows
