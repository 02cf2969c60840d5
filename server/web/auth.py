"""Who is asking (the browser session, or HTTP Basic), and the guards every API route goes through."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, g, request, session
from sqlalchemy import select

from xinfang.server import accounts
from xinfang.server.accounts import ROLES, SOURCE_SYSTEM, has_role, is_source_system, verify_password
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import database_of, get_session
from xinfang.server.store.models import User
from xinfang.server.store.recheck import ACCOUNTS, Rechecked

from . import throttle
from .errors import ApiError

__all__ = ["current_user", "in_scope", "login_required", "require_scope", "roles_required", "source_system_required"]

def current_user() -> User | None:
    """The signed-in user: the browser session's, or the API request's HTTP Basic credentials."""
    if "xinfang_user" in g:
        return g.xinfang_user
    user = None
    db = get_session()
    if session.get("user_id") is not None:
        user = db.get(User, session["user_id"])
        if user is not None and not user.active:
            user = None
    elif request.authorization is not None and request.authorization.type == "basic":
        user = _basic_user(db, request.authorization.username or "", request.authorization.password or "")
    g.xinfang_user = user
    return user


def _basic_user(db, username: str, password: str) -> User | None:
    """The HTTP Basic user, throttled like the sign-in form: past the limit, a 429 with Retry-After."""
    try:
        throttle.check(username, "basic")
    except throttle.Throttled as refusal:
        raise ApiError(429, "too_many_sign_in_attempts",
                       f"too many failed sign-ins for this {refusal.by}: try again in {refusal.retry_after} seconds",
                       [{"field": "authorization", "message": f"retry after {refusal.retry_after} s",
                         "retry_after": refusal.retry_after}],
                       headers={"Retry-After": str(refusal.retry_after)}) from None
    candidate = _accounts.get((database_of(current_app).url, username), lambda: _account(db, username))
    if verify_password(candidate, password):
        throttle.succeeded(username)
        return candidate
    throttle.failed(username)
    return None


# HTTP Basic sends the account with every request: read from the database at most every recheck.RECHECK_SECONDS.
_accounts: Rechecked[User | None] = Rechecked(ACCOUNTS)


def _account(db, username: str) -> User | None:
    """The account, detached from the request's session: kept for later requests, read only."""
    user = db.scalars(select(User).where(User.username == username)).first()
    if user is not None:
        db.expunge(user)
    return user


def _signed_in() -> None:
    if current_user() is None:
        raise ApiError(401, "unauthenticated", "sign in, or send HTTP Basic credentials")


def login_required(view: Callable) -> Callable:
    """A staff route: signed in, and not another system's account (those send work orders only)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        _signed_in()
        if is_source_system(current_user()):
            raise ApiError(403, "source_system_account", "a source system's account sends work orders "
                                                         "(POST /api/v1/intake/orders) and nothing else")
        return view(*args, **kwargs)
    return wrapped


def source_system_required(view: Callable) -> Callable:
    """A route for source systems' accounts (admin too): work orders sent in."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        _signed_in()
        if not has_role(current_user(), SOURCE_SYSTEM):
            raise ApiError(403, "forbidden", f"this needs the role {SOURCE_SYSTEM} (a source system's account)")
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    """The user must hold one of `roles` (admin holds them all)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not has_role(current_user(), *roles):
                raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def in_scope(user: User | None, jurisdiction_code: str) -> bool:
    """A user acts on their own jurisdiction and the ones below it (server.accounts.in_scope)."""
    return accounts.in_scope(user, jurisdiction_code, library_of(current_app).tree)


def require_scope(jurisdiction_code: str) -> None:
    """Refuse (403) unless the current user's scope covers the jurisdiction; checked on the server, always."""
    user = current_user()
    if not in_scope(user, jurisdiction_code):
        raise ApiError(403, "out_of_scope", f"jurisdiction {jurisdiction_code} is outside your scope "
                                            f"({user.jurisdiction_code if user else 'not signed in'})")


