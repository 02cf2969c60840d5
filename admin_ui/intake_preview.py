"""What the clerk sees before saving: the category suggested from the text, where it goes, what it repeats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from xinfang.config import RuleSetLibrary, today_in_china
from xinfang.rules.case_input import CaseError, parse_case
from xinfang.rules.decide import decide
from xinfang.server.cases.forms import CHANNEL_NOTES
from xinfang.server.cases.queries import earlier_petitions
from xinfang.server.cases.registration import petitioner_key
from xinfang.server.store.models import User

from .intake_form import MAX_TEXT, IntakeForm, parse_day

SHOWN_STEPS = ("route", "notify", "conclude")


@dataclass
class Preview:
    """The draft case decided by the rule set in force, as the intake page shows it."""

    suggested: dict[str, Any] | None  # {"code", "name", "matched", "by_default"}
    decision: dict[str, Any]
    category_name: str
    channel_note: str | None
    track_name: str | None
    deadlines: list[dict[str, Any]]
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    duplicate_rule: dict[str, Any] | None = None
    petitioner_known: bool = False  # an ID number, or a name and phone, to match earlier petitions by
    chosen: str | None = None  # the category the clerk chose, if any

    @property
    def adoptable(self) -> bool:
        """Whether a "采用建议" button makes sense: keywords matched a category other than the one chosen."""
        return self.suggested is not None and not self.suggested["by_default"] and self.suggested["code"] != self.chosen


def draft_case(form: IntakeForm, case: Mapping[str, Any], *, with_category: bool) -> dict[str, Any] | None:
    """The part of the typed case the engine can decide on now, or None without a request text to read."""
    text = case.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    day = parse_day(form.received_on)
    draft: dict[str, Any] = {"received_on": (day if day and day <= today_in_china() else today_in_china()).isoformat(),
                             "intake": form.intake, "text": text[:MAX_TEXT]}
    if with_category and form.category:
        draft["category"] = form.category
    representatives = case.get("representatives")
    if isinstance(representatives, int) and 1 <= representatives <= 100_000:
        draft["representatives"] = representatives
    accused = case.get("accused_unit")
    if isinstance(accused, str) and accused.strip():
        draft["accused_unit"] = accused[:200]
    return draft


def preview(db: Session, library: RuleSetLibrary, user: User, form: IntakeForm,
            case: Mapping[str, Any]) -> Preview | None:
    """Decide the draft twice: from the text alone (the suggestion) and with the chosen category (the route)."""
    effective = form.effective
    plain = draft_case(form, case, with_category=False)
    if plain is None:
        return None
    try:
        suggested_decision = decide(effective, parse_case(plain))
        chosen = draft_case(form, case, with_category=True)
        decision = decide(effective, parse_case(chosen)) if "category" in chosen else suggested_decision
    except CaseError:
        return None
    classify = suggested_decision["trace"][0]
    categories = effective.data.get("classification", {}).get("categories", {})
    suggested = {"code": classify["category"], "name": categories.get(classify["category"], {}).get("name", ""),
                 "matched": classify.get("matched", []), "by_default": classify["rule"] == "classify:default"}
    track = (effective.data.get("tracks") or {}).get(decision.get("track") or "", {})
    result = Preview(suggested, decision, categories.get(decision["category"], {}).get("name", decision["category"]),
                     CHANNEL_NOTES.get(decision["channel"]), track.get("name"),
                     [{"step": s, **decision["deadlines"][s]} for s in SHOWN_STEPS if s in decision["deadlines"]])
    result.chosen = form.category
    key = petitioner_key(_mapping(case.get("petitioner")))
    result.petitioner_known = key is not None
    found, result.duplicate_rule = earlier_petitions(
        db, library, user, effective, key=key, category=decision["category"],
        received_on=parse_day(plain["received_on"]), case_json=case, confidential=decision["kind"] == "accusation")
    result.duplicates = [{"id": p.id, "number": p.number, "received_on": p.received_on.isoformat(),
                          "category": p.category, "stage": p.stage} for p in found]
    return result


def _mapping(value: Any) -> Mapping | None:
    return value if isinstance(value, Mapping) else None
