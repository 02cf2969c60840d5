"""CSRF protection: one random token per session, required on every state-changing request of the HTML pages."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, make_response, render_template, request, session

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRFToken"  # htmx sends it from `hx-headers` on <body>
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    """This session's token, made on first use (templates call it: the meta tag, hx-headers, hidden fields)."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def rotate_token() -> str:
    """A fresh token, e.g. at sign-in, so a token seen before signing in is worth nothing after."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def needs_check() -> bool:
    """Every unsafe request needs the token, except API calls not authenticated by the session cookie.

    The JSON API authenticates with HTTP Basic, which a foreign site cannot make a browser send; but
    `current_user()` prefers the session, so an API call riding on a signed-in session is checked too.
    """
    if request.method in SAFE_METHODS:
        return False
    if request.path.startswith("/api/"):
        return session.get("user_id") is not None
    return True


def token_is_valid() -> bool:
    expected = session.get(SESSION_KEY)
    given = request.headers.get(HEADER) or request.form.get(FORM_FIELD)
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def _check() -> None:
    if needs_check() and not token_is_valid():
        if request.path.startswith("/api/"):
            abort(403, "CSRF token missing or invalid: send the X-CSRFToken header, or use HTTP Basic")
        page = render_template("error.html", status=400, title="请求已过期",
                               message="表单的安全令牌缺失或已过期（CSRF）。请返回上一页，刷新后重新提交。")
        abort(make_response(page, 400))


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
