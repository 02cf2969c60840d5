"""Who may do what to a case: the action's roles, the actor's jurisdiction scope, the accused unit, the approver.

Every front end (the API, the pages, imports, the petitioner's side) goes through these checks, because
the case service calls them itself: none of them can be bypassed by calling the service directly.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import JurisdictionTree, procedure
from xinfang.server.accounts import Actor, has_role, in_scope
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import User

from .errors import Forbidden, Invalid
from .visibility import is_accused_unit

__all__ = ["REGISTER_ROLES", "approvers_for", "check_approver", "may_act", "require_action", "require_roles",
           "require_scope"]

REGISTER_ROLES = ("clerk",)  # who registers petitions (Art. 21); admin may do everything


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


def may_act(actor: Actor | None, petition: Petition, action: str) -> bool:
    """The action's roles (config.procedure), and not a member of the unit the case accuses (Art. 46(5))."""
    return has_role(actor, *procedure.action(action).roles) and not is_accused_unit(actor, petition)


def require_action(actor: Actor | None, petition: Petition, action: str, tree: JurisdictionTree) -> None:
    """Scope, then the action's roles, then the accused-unit rule; refuses with the first that fails."""
    require_scope(actor, petition.jurisdiction_code, tree)
    require_roles(actor, procedure.action(action).roles, action)
    if is_accused_unit(actor, petition):
        raise Forbidden("conflict_of_interest", "the case accuses your unit: you may not act on it "
                                                "(《信访工作条例》第四十六条第五项)")


def approvers_for(db: Session, tree: JurisdictionTree, code: str) -> list[User]:
    """The active approvers with authority over jurisdiction `code`: its own and those of the levels above."""
    above = [j.code for j in tree.ancestors(code)]
    users = db.scalars(select(User).where(User.active.is_(True), User.jurisdiction_code.in_(above))
                       .order_by(User.username))
    return [u for u in users if has_role(u, "approver") and "admin" not in u.roles]


def check_approver(db: Session, tree: JurisdictionTree, username: str, requester: str, petition: Petition) -> User:
    """Art. 34: an extension is approved by someone entitled to approve it, in scope, other than the requester."""
    if username.casefold() == requester.casefold():
        raise Invalid("self_approval", f"{requester} cannot approve their own extension: an extension needs an "
                                       f"approver other than the requester (《信访工作条例》第三十四条)",
                      [{"approver": username, "requester": requester}])
    approver = db.scalars(select(User).where(User.username == username)).first()
    if approver is None or not approver.active or not has_role(approver, "approver"):
        raise Invalid("invalid_approver", f"approver {username!r} is no active user with the role approver",
                      [{"approver": username, "reason": "not_an_approver"}])
    if approver.jurisdiction_code not in {j.code for j in tree.ancestors(petition.jurisdiction_code)}:
        raise Invalid("invalid_approver", f"approver {username!r} has no authority over jurisdiction "
                                          f"{petition.jurisdiction_code}",
                      [{"approver": username, "reason": "out_of_scope"}])
    return approver
