"""Who may see a page: sign-in redirects, roles and jurisdiction scope, always checked on the server."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, make_response, redirect, render_template, request, url_for

from xinfang.server.accounts import has_role, is_source_system
from xinfang.server.store.models import STAFF_ROLES, User
from xinfang.server.web.auth import current_user, in_scope

from . import labels

# Every staff role reads the procedure in force: clerks register by it, supervisors check it.
READ_ROLES = STAFF_ROLES


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after sign-in, or None (never an absolute or protocol-relative URL)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _sign_in_redirect():
    back = request.full_path if request.query_string else request.path
    if request.htmx:  # an htmx request cannot follow a redirect into a fragment: send the whole page there
        target = request.htmx.current_url or back
        split = urlsplit(target)
        back = split.path + (f"?{split.query}" if split.query else "")
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("sign_in.sign_in", next=back)
        return response
    return redirect(url_for("sign_in.sign_in", next=back))


SOURCE_SYSTEM_REFUSAL = "工单接口账号只能通过接口报送工单，不能使用管理页面。"


def forbidden(message: str):
    """Stop with a 403 page saying why."""
    abort(make_response(render_template("error.html", status=403, title="无权访问", message=message), 403))


def login_required_page(view: Callable) -> Callable:
    """Send visitors who are not signed in to the sign-in page, and back here afterwards."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return _sign_in_redirect()
        if is_source_system(current_user()):
            forbidden(SOURCE_SYSTEM_REFUSAL)
        return view(*args, **kwargs)
    return wrapped


def roles_required_page(*roles: str) -> Callable[[Callable], Callable]:
    """Signed in and holding one of `roles` (admin holds them all), else 403."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required_page
        def wrapped(*args, **kwargs):
            if not has_role(current_user(), *roles):
                forbidden("此页面需要以下角色之一：" + "、".join(labels.label(labels.ROLES, r) for r in roles))
            return view(*args, **kwargs)
        return wrapped
    return decorate


# Published rule sets are public law (the jurisdiction pages and a version's text are open to anyone);
# drafts are work in progress, as GET /api/v1/drafts/<id> has it.
DRAFT_READERS = ("policy_officer", "approver")


def reads_drafts(user: User | None, code: str) -> bool:
    """A policy officer or approver whose scope covers the jurisdiction (its own level or one above) reads its drafts."""
    return has_role(user, *DRAFT_READERS) and in_scope(user, code)
