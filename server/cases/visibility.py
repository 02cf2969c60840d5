"""What a user may see of a case: an accusation's identity and material (Art. 30, 46(5)); personal data masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.config import CHINA, covers, procedure
from xinfang.config.procedure import DUTY_STEPS
from xinfang.server.accounts import Actor, has_role
from xinfang.server.store.case_tables import Petition

__all__ = ["LINK_FLAGS", "MATERIAL", "MATERIAL_DETAIL", "is_accused_unit", "names_accused", "mask_address",
           "mask_id_number", "mask_phone", "may_see_link", "may_see_material", "may_see_personal", "visible_case",
           "visible_detail", "visible_flags", "visible_original"]

# An accusation's petitioner identity and material (the form holds its facts and reasons): never to the
# accused, only to discipline bodies.
MATERIAL = ("petitioner", "text", "accused_unit", "form")
# Roles that see a petitioner's personal data whole in the case view (everyone sees it masked in lists).
PERSONAL_DATA_ROLES = ("clerk", "discipline")
# Words of the petition an event may hold (a refusal's reason, an opinion, a body, a note, the petitioner's comment on
# its rating): withheld with the material.
MATERIAL_DETAIL = ("reason", "opinion", "body", "note", "comment")
# Flags that say a case repeats another (智能判重): a link between two files, shown only with the link itself.
LINK_FLAGS = ("duplicate",)


def mask_id_number(value: str) -> str:
    """370101199001011234 → 3701**********1234."""
    value = value.strip()
    return "*" * len(value) if len(value) <= 8 else value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678."""
    value = value.strip()
    return "*" * len(value) if len(value) <= 7 else value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    """The first six characters (province and city, usually), the rest hidden."""
    value = value.strip()
    return value[:6] + "****" if len(value) > 6 else "****"


def names_accused(accused: str | None, *names: str | None) -> bool:
    """Whether one of `names` (a unit's id or name) and the accused unit contain one another."""
    accused = (accused or "").strip()
    return bool(accused) and any(n and (n.strip() in accused or accused in n.strip()) for n in names if n and n.strip())


def is_accused_unit(user: Actor | None, petition: Petition) -> bool:
    """Whether the user works in the accused unit (Art. 46(5)): it may neither see nor act on the case."""
    return user is not None and names_accused(petition.accused_unit, user.unit, user.unit_name)


def may_see_material(petition: Petition, user: Actor | None) -> bool:
    """An accusation's identity and material: discipline (or admin) in scope, and never anyone of the accused unit."""
    if user is None:
        return False
    if not petition.confidential:
        return True
    if is_accused_unit(user, petition):
        return False
    return has_role(user, "discipline") and covers(user.jurisdiction_code, petition.jurisdiction_code)


def may_see_link(petition: Petition, user: Actor | None) -> bool:
    """Whether `user` may know that the case repeats another: the material of both, so an accuser's earlier
    accusation is never told, not even counted, to anyone but the discipline body (Art. 46(5))."""
    if not may_see_material(petition, user):
        return False
    if petition.duplicate_of_id is None:
        return True
    return petition.original is not None and may_see_material(petition.original, user)


def visible_original(petition: Petition, user: Actor | None) -> Petition | None:
    """The case this one repeats, if `user` may know of the link and the original lies in their scope."""
    if petition.duplicate_of_id is None or not may_see_link(petition, user):
        return None
    original = petition.original
    return original if covers(user.jurisdiction_code, original.jurisdiction_code) else None


def visible_flags(petition: Petition, user: Actor | None) -> list[str]:
    """The case's flags, without the repeat mark when the link is hidden (may_see_link)."""
    flags = list(petition.flags)
    return flags if may_see_link(petition, user) else [f for f in flags if f not in LINK_FLAGS]


def visible_detail(petition: Petition, user: Actor | None, detail: dict[str, Any]) -> dict[str, Any]:
    """An event's detail as `user` may see it: the petition's words with its material, a repeat with its link."""
    hidden = set()
    if not may_see_material(petition, user):
        hidden.update(MATERIAL_DETAIL)
    if visible_original(petition, user) is None:
        hidden.add("duplicate_of")
    return {k: v for k, v in detail.items() if k not in hidden}


def may_see_personal(petition: Petition, user: Actor | None) -> bool:
    """ID number, phone and address whole, in the case view: to clerks and discipline (or admin) seeing the material."""
    return may_see_material(petition, user) and has_role(user, *PERSONAL_DATA_ROLES)


def _petitioner(petition: Petition, user: Actor | None, in_list: bool) -> dict | None:
    found = petition.case_json.get("petitioner")
    if not found:
        return None
    if not in_list and may_see_personal(petition, user):
        return dict(found)
    shown = dict(found)
    for name, mask in (("id_number", mask_id_number), ("phone", mask_phone), ("address", mask_address)):
        if shown.get(name):
            shown[name] = mask(shown[name])
    return shown


def _next_deadline(petition: Petition) -> dict | None:
    running = [d for d in petition.deadlines if d.done_on is None and d.step in DUTY_STEPS]
    if not running:
        return None
    first = min(running, key=lambda d: (d.due_on, d.step))
    return {"step": first.step, "due_on": first.due_on.isoformat(), "provisional": first.provisional} | _due_at(first)


def _due_at(row) -> dict[str, str]:
    """{"due_at": ISO 8601 in Beijing time} for a deadline at a moment (流转不过夜), else nothing."""
    return {"due_at": row.due_at.astimezone(CHINA).isoformat()} if row.due_at is not None else {}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def visible_case(petition: Petition, user: Actor | None, *, in_list: bool) -> dict[str, Any]:
    """The case as `user` may see it, in a list (`in_list`: personal data masked for all) or in the case view.

    An accusation's material is withheld (listed under `redacted`) unless may_see_material(); the case it
    repeats (`duplicate_of`) unless visible_original().
    """
    material = may_see_material(petition, user)
    original = visible_original(petition, user)
    redacted = [] if material else list(MATERIAL)
    text = petition.case_json.get("text") if material else None
    body: dict[str, Any] = {
        "id": petition.id, "number": petition.number, "jurisdiction": petition.jurisdiction_code,
        "ruleset_version": petition.ruleset_version, "received_on": petition.received_on.isoformat(),
        "intake": petition.intake, "kind": petition.kind, "category": petition.category, "channel": petition.channel,
        "track": petition.track, "route_unit": petition.route_unit, "admissible": petition.admissible,
        "stage": petition.stage, "outcome": petition.outcome, "flags": visible_flags(petition, user),
        "confidential": petition.confidential, "duplicate_of": original.id if original is not None else None,
        "petitioner": _petitioner(petition, user, in_list) if material else None,
        "revision": petition.revision, "redacted": redacted, "masked": in_list or not may_see_personal(petition, user),
    }
    if in_list:
        body["summary"] = text[:60] if text is not None else None
        body["next_deadline"] = _next_deadline(petition)
        return body
    case = {k: v for k, v in petition.case_json.items() if k not in MATERIAL}
    if material:
        case.update({k: petition.case_json[k] for k in ("text", "accused_unit", "form") if k in petition.case_json})
        if body["petitioner"] is not None:
            case["petitioner"] = body["petitioner"]
    decision = dict(petition.decision)
    if not material:  # the keywords matched are words of the text
        decision["trace"] = [{k: v for k, v in t.items() if k != "matched"} for t in decision.get("trace", [])]
    body.update(
        text=text, accused_unit=petition.accused_unit if material else None, case=case, decision=decision,
        deadlines=[{"step": d.step, "due_on": d.due_on.isoformat(), "provisional": d.provisional, "source": d.source,
                    "done_on": _iso(d.done_on)} | _due_at(d)
                   for d in sorted(petition.deadlines, key=lambda d: (d.due_on, d.step))],
        allowed_actions=procedure.actions_allowed(petition.stage, petition.outcome), created_by=petition.created_by,
        created_at=_iso(petition.created_at), updated_at=_iso(petition.updated_at))
    return body
