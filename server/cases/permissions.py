"""Who may do what to a case: the action's roles, the actor's jurisdiction scope, the accused unit, the approver.

Every front end (the API, the pages, imports, the petitioner's side) goes through these checks, because
the case service calls them itself: none of them can be bypassed by calling the service directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xinfang.config import JurisdictionTree, procedure
from xinfang.server.accounts import PETITIONER, Actor, has_role, in_scope, is_petitioner
from xinfang.server.store.case_tables import Petition

from .errors import Forbidden
from .visibility import is_accused_unit

__all__ = ["REGISTER_ROLES", "check_approver", "is_office", "is_route_unit", "may_act", "own_case",
           "require_action", "require_case_scope", "require_roles", "require_scope", "routed_key", "routed_to_unit"]

REGISTER_ROLES = ("clerk", PETITIONER)  # who registers petitions (Art. 21), a petitioner online; admin may do everything


def require_roles(actor: Actor | None, roles: Iterable[str], what: str) -> None:
    roles = tuple(roles)
    if not has_role(actor, *roles):
        raise Forbidden("forbidden", f"{what} needs the role {' or '.join(roles)}", [{"roles": list(roles)}])


def require_scope(actor: Actor | None, code: str, tree: JurisdictionTree) -> None:
    """The actor's jurisdiction must be `code` or lie above it (never beside it)."""
    if not in_scope(actor, code, tree):
        raise Forbidden("out_of_scope", f"jurisdiction {code} is outside your scope "
                                        f"({actor.jurisdiction_code if actor else 'not signed in'})",
                        [{"jurisdiction": code, "scope": actor.jurisdiction_code if actor else None}])


def routed_key(actor: Actor | None) -> str | None:
    """How a case routed to the actor's unit names it when the unit is of a level below the case (`<code>:<id>`)."""
    return f"{actor.jurisdiction_code}:{actor.unit}" if actor is not None and actor.unit else None


def routed_to_unit(actor: Actor | None, petition: Petition) -> bool:
    """The case was transferred or assigned to the actor's unit, of a jurisdiction below the case's (a county's case
    to a township's 党政综合办公室, Art. 22): that unit handles it though the case is not of its jurisdiction."""
    key = routed_key(actor)
    return key is not None and petition.route_unit == key


def require_case_scope(actor: Actor | None, petition: Petition, tree: JurisdictionTree) -> None:
    """The case lies in the actor's scope, or was routed to the actor's unit below it."""
    if not routed_to_unit(actor, petition):
        require_scope(actor, petition.jurisdiction_code, tree)


def is_office(actor: Actor | None, units: Mapping[str, Any]) -> bool:
    """The receiving petition office (信访工作机构): a clerk of no unit, or of a unit of type petition_office."""
    if actor is None:
        return False
    return actor.unit is None or (units.get(actor.unit) or {}).get("type") == "petition_office"


def is_route_unit(actor: Actor | None, petition: Petition, units: Mapping[str, Any]) -> bool:
    """The unit the case is routed to; when that is the petition office itself, the office."""
    if actor is None:
        return False
    if (units.get(petition.route_unit or "") or {}).get("type") == "petition_office":
        return is_office(actor, units)
    return actor.unit is not None and (actor.unit == petition.route_unit or routed_to_unit(actor, petition))


def _above(actor: Actor, petition: Petition, tree: JurisdictionTree) -> bool:
    return actor.jurisdiction_code in {j.code for j in tree.ancestors(petition.jurisdiction_code)[:-1]}


def _whose(actor: Actor | None, petition: Petition, action: str, tree: JurisdictionTree,
           units: Mapping[str, Any]) -> bool:
    """Whether the actor is the one the action belongs to (config.procedure.ACTS_AS); admin always is."""
    if actor is not None and "admin" in actor.roles:
        return True
    acts_as = procedure.action(action).acts_as
    if acts_as == "office":
        return is_office(actor, units)
    if acts_as == "unit":
        return is_route_unit(actor, petition, units)
    if acts_as == "holder":
        return is_office(actor, units) if petition.stage == "registered" else is_route_unit(actor, petition, units)
    if acts_as == "above":
        return actor is not None and _above(actor, petition, tree)
    if acts_as == "petitioner":
        return is_petitioner(actor)
    return True  # approver (checked with the request), anyone


def may_act(actor: Actor | None, petition: Petition, action: str, tree: JurisdictionTree,
            units: Mapping[str, Any]) -> bool:
    """The action's roles and its owner (config.procedure), and never a member of the unit the case accuses."""
    return (has_role(actor, *procedure.action(action).roles) and _whose(actor, petition, action, tree, units)
            and not is_accused_unit(actor, petition) and own_case(actor, petition))


def own_case(actor: Actor | None, petition: Petition) -> bool:
    """A petitioner online acts on its own case alone (the one its query code opened); staff are not limited here."""
    return not is_petitioner(actor) or actor.number == petition.number


def require_action(actor: Actor | None, petition: Petition, action: str, tree: JurisdictionTree,
                   units: Mapping[str, Any]) -> None:
    """Scope, the action's roles, the accused-unit rule, then whose action it is; refuses with the first that fails."""
    require_case_scope(actor, petition, tree)
    if not own_case(actor, petition):
        raise Forbidden("not_your_case", "a petitioner acts on its own case only", [{"number": petition.number}])
    require_roles(actor, procedure.action(action).roles, action)
    if is_accused_unit(actor, petition):
        raise Forbidden("conflict_of_interest", "the case accuses your unit: you may not act on it "
                                                "(《信访工作条例》第四十六条第五项)")
    if not _whose(actor, petition, action, tree, units):
        acts_as = procedure.action(action).acts_as
        raise Forbidden("not_yours", f"{action} is for {procedure.ACTS_AS[acts_as]}",
                        [{"action": action, "acts_as": acts_as, "unit": petition.route_unit}])


def check_approver(approver: Actor, requester: str) -> None:
    """Art. 34: an extension is approved by someone other than who asked for it (roles and scope: require_action)."""
    if approver.username.casefold() == requester.casefold():
        raise Forbidden("self_approval", f"{requester} cannot approve their own extension: an extension needs an "
                                         f"approver other than the requester (《信访工作条例》第三十四条)",
                        [{"approver": approver.username, "requester": requester}])
