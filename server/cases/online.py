"""What a petitioner may do online (网上信访), by the rule set's `public` section: submit where online intake is on,
in the categories offered, and not the same matter twice (智能判重: the configured exact rule, and the same words
in other words by text similarity).

registration.register_case calls these for a petitioner actor, inside its own transaction, so the checks and
the daily limit see the same cases; the public pages ask `earlier_same_matter` before sending.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Mapping
from typing import Any

import rjieba
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import EffectiveRuleSet
from xinfang.server.accounts import is_petitioner
from xinfang.server.store.case_tables import Petition

from .errors import Forbidden, Invalid, NotAllowedNow
from .queries import defined_below, same_matter

__all__ = ["PUBLIC_DEFAULTS", "check_anonymous", "check_online", "earlier_same_matter", "public_settings", "refuse_repeat", "similarity"]

# Where a rule set says nothing: no online intake, no anonymous accusations, the three answers of 赣州's rating.
PUBLIC_DEFAULTS: dict[str, Any] = {"online_intake": False, "anonymous_accusations": False,
                                   "rating_scale": ["satisfied", "basically_satisfied", "unsatisfied"]}


def public_settings(effective: EffectiveRuleSet) -> dict[str, Any]:
    """The `public` section in force, over the defaults."""
    return {**PUBLIC_DEFAULTS, **(effective.get("public") or {})}


def check_online(effective: EffectiveRuleSet, intake: str, category: str) -> None:
    """Online intake must be on here, the case filed online, its category one offered online."""
    settings = public_settings(effective)
    code = effective.jurisdiction.code
    if not settings["online_intake"]:
        raise Forbidden("online_intake_closed", f"jurisdiction {code} takes no petitions online "
                                                "(the rule set's public.online_intake)", [{"jurisdiction": code}])
    if intake != "online":
        raise Forbidden("online_only", f"a petitioner submits online (intake online), not {intake!r}",
                        [{"intake": intake}])
    offered = settings.get("categories")
    if offered and category not in offered:
        raise Forbidden("category_not_online", f"category {category} is not offered online in {code}; "
                                               f"offered: {', '.join(offered)}",
                        [{"category": category, "offered": list(offered)}])


def check_anonymous(effective: EffectiveRuleSet, actor, kind: str, case_json: Mapping[str, Any]) -> None:
    """An anonymous submission: a petitioner online, an accusation (检举控告, never another kind: Art. 17, 19 ask a
    petitioner's name), where the rule set accepts anonymous accusations, and carrying no identity at all."""
    code = effective.jurisdiction.code
    if not is_petitioner(actor) or not public_settings(effective)["anonymous_accusations"]:
        raise Forbidden("anonymous_not_allowed", f"jurisdiction {code} accepts no anonymous accusations "
                                                 "(the rule set's public.anonymous_accusations)", [{"jurisdiction": code}])
    if kind != "accusation":
        raise Invalid("anonymous_not_accusation", f"only an accusation may be sent anonymously; this reads as {kind}",
                      [{"kind": kind}])
    if case_json.get("petitioner"):
        raise Invalid("anonymous_with_identity", "an anonymous accusation carries no petitioner: leave it out",
                      [{"field": "petitioner"}])


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """The text cut into words (rjieba), punctuation and spaces dropped, joined by spaces for rapidfuzz."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(w for w in rjieba.cut(text) if w.strip() and not unicodedata.category(w[0]).startswith("P"))


def similarity(a: str, b: str) -> float:
    """How alike two requests are, 0-100: the token-set ratio of their words, so the same matter told with more or
    fewer words, or in another order, still scores high."""
    return fuzz.token_set_ratio(_words(a or ""), _words(b or ""))


def earlier_same_matter(db: Session, effective: EffectiveRuleSet, *, key: str | None, category: str,
                        received_on: dt.date, case_json: Mapping[str, Any], confidential: bool):
    """The petitioner's earliest case of the same matter: by the rule set's exact rule (intake.duplicates), else by
    text similarity at or above public.similar_text.threshold within its window; None when there is none.

    Only cases of the same confidentiality (an accusation never meets an ordinary petition's file, Art. 46(5)).
    """
    if key is None:
        return None
    found, _ = same_matter(db, effective, key=key, category=category, received_on=received_on,
                           case_json=case_json, confidential=confidential)
    if found:
        return found[-1]
    rule = public_settings(effective).get("similar_text")
    text = case_json.get("text")
    if not rule or not isinstance(text, str):
        return None
    since = received_on - dt.timedelta(days=int(rule["window_days"]))
    earlier = db.scalars(select(Petition).where(
        Petition.petitioner_key == key, Petition.confidential.is_(confidential),
        Petition.received_on >= since, Petition.received_on <= received_on,
        Petition.jurisdiction_code.like(defined_below(effective, "public.similar_text.threshold") + "%"))
        .order_by(Petition.received_on, Petition.id))
    return next((p for p in earlier if similarity(text, p.case_json.get("text") or "") >= rule["threshold"]), None)


def same_person(petition, petitioner: Mapping[str, Any] | None) -> bool:
    """Whether the earlier case was filed by the same name and phone too, not only the same ID number: a repeat is
    told only to whoever could have filed it (someone who knows another's ID number learns nothing)."""
    earlier = petition.case_json.get("petitioner") or {}
    petitioner = petitioner or {}

    def same(field: str) -> bool:
        a = unicodedata.normalize("NFKC", str(earlier.get(field) or "")).replace(" ", "")
        return bool(a) and a == unicodedata.normalize("NFKC", str(petitioner.get(field) or "")).replace(" ", "")
    return same("name") and same("phone")


def refuse_repeat(db: Session, effective: EffectiveRuleSet, *, key: str | None, category: str, received_on: dt.date,
                  case_json: Mapping[str, Any], confidential: bool) -> None:
    """A petitioner online is told it has raised this matter already, with the case's number and date, and nothing is
    registered (智能判重, Art. 19 ¶3). An accusation is never refused this way (the accuser's earlier accusation is
    told to nobody), nor a repeat whose earlier case another name or phone filed: those register as repeats."""
    if confidential:
        return
    earlier = earlier_same_matter(db, effective, key=key, category=category, received_on=received_on,
                                  case_json=case_json, confidential=False)
    if earlier is not None and same_person(earlier, case_json.get("petitioner")):
        raise NotAllowedNow("already_submitted",
                            f"this matter was submitted on {earlier.received_on} as case {earlier.number}: follow it "
                            f"with that case's query code instead of submitting it again",
                            [{"number": earlier.number, "received_on": earlier.received_on.isoformat()}])
