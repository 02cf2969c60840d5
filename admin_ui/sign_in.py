"""Signing in and out of the pages: the session cookie, passwords checked by server.web.auth."""

from __future__ import annotations

import datetime as dt
import functools
import math

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash

from xinfang.config import CHINA
from xinfang.server.accounts import hash_password, is_source_system, verify_password
from xinfang.server.store.db import get_session
from xinfang.server.store.models import User
from xinfang.server.web import throttle
from xinfang.server.web.auth import current_user

from .access import SOURCE_SYSTEM_REFUSAL, safe_next
from .csrf import rotate_token

bp = Blueprint("sign_in", __name__)

WRONG = "用户名或密码错误"  # the same words whether the name or the password is wrong


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """GET shows the form; POST checks the password and returns to `next` (a path on this site)."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url or url_for("admin_ui.home"))
        return render_template("sign_in.html", next=next_url, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        throttle.check(username, "form")
    except throttle.Throttled as refusal:
        flash(try_again_message(refusal.retry_after), "error")
        page = render_template("sign_in.html", next=next_url, username=username)
        return page, 429, {"Retry-After": str(refusal.retry_after)}
    user = get_session().scalars(select(User).where(User.username == username)).first() if username else None
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)  # as slow as a real check: timing tells no names
    if not verify_password(user, password):
        throttle.failed(username)
        flash(WRONG, "error")
        return render_template("sign_in.html", next=next_url, username=username), 401
    throttle.succeeded(username)
    if is_source_system(user):  # another system's account: the order endpoint with HTTP Basic, never the pages
        flash(SOURCE_SYSTEM_REFUSAL, "error")
        return render_template("sign_in.html", next=next_url, username=username), 403
    session.clear()  # nothing from before signing in carries over
    session["user_id"] = user.id
    rotate_token()
    flash(f"欢迎，{user.display_name}。", "success")
    return redirect(next_url or url_for("admin_ui.home"))


def try_again_message(retry_after: int) -> str:
    """When the user may try again, in seconds or minutes and as a time of day in Asia/Shanghai."""
    wait = f"{retry_after} 秒" if retry_after < 60 else f"{math.ceil(retry_after / 60)} 分钟"
    at = (dt.datetime.now(CHINA) + dt.timedelta(seconds=retry_after)).strftime("%H:%M")
    return f"登录失败次数过多，已暂停登录：请在 {wait}后（{at} 以后）再试。"


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password of anyone")


@bp.post("/sign-out")
def sign_out():
    session.clear()
    flash("您已退出登录。", "success")
    return redirect(url_for("sign_in.sign_in"))
