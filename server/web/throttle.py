"""Failed sign-ins throttled per account and per address (the `limits` library), for the form and HTTP Basic alike.

Failures are counted, not requests: an integration sending the right HTTP Basic password on every
request is never slowed. Past the limit an attempt is refused before its password is checked, so
the right password is refused too until the window has moved on; each refusal is written to the
audit log. The counters live in the storage SIGN_IN_LIMIT_STORAGE names: `memory://` (one process:
`make run`, tests) or e.g. `redis://127.0.0.1:6379` shared by every process of `xinfang serve --workers N`.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse, storage, strategies

from xinfang.server.store.db import database_of
from xinfang.server.store.models import AuditLog

__all__ = ["Throttled", "check", "check_query", "failed", "failed_query", "succeeded", "init_app"]

DEFAULTS = {
    "SIGN_IN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",  # failed attempts on one user name
    "SIGN_IN_LIMIT_PER_ADDRESS": "50 per 15 minutes",  # failed attempts from one client address, any names
    "SIGN_IN_LIMIT_STORAGE": "memory://",
    # 网上信访: wrong query codes, per case number (known or not) and per address (server/web/public_api.py)
    "QUERY_CODE_LIMIT_PER_CASE": "5 per 15 minutes",
    "QUERY_CODE_LIMIT_PER_ADDRESS": "30 per 15 minutes",
}
_EXTENSION = "xinfang.throttle"


class Throttled(Exception):
    """An attempt refused unseen: `by` is "account" or "address", `retry_after` whole seconds until one is allowed."""

    def __init__(self, by: str, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins for this {by}; retry after {retry_after} s")
        self.by, self.retry_after = by, retry_after


class _Limits:
    def __init__(self, app: Flask) -> None:
        self.strategy = strategies.MovingWindowRateLimiter(storage.storage_from_string(app.config["SIGN_IN_LIMIT_STORAGE"]))
        self.items: dict[str, RateLimitItem] = {"account": parse(app.config["SIGN_IN_LIMIT_PER_ACCOUNT"]),
                                                "address": parse(app.config["SIGN_IN_LIMIT_PER_ADDRESS"]),
                                                "case": parse(app.config["QUERY_CODE_LIMIT_PER_CASE"]),
                                                "query_address": parse(app.config["QUERY_CODE_LIMIT_PER_ADDRESS"])}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions[_EXTENSION] = _Limits(app)


def _keys(username: str) -> dict[str, tuple[str, str]]:
    return {"account": ("sign_in_account", username.strip().lower()),
            "address": ("sign_in_address", request.remote_addr or "-")}


def check(username: str, channel: str) -> None:
    """Raise Throttled (and audit it) when this account or this address has used up its failed attempts."""
    limits: _Limits = current_app.extensions[_EXTENSION]
    for by, key in _keys(username).items():
        item = limits.items[by]
        if not limits.strategy.test(item, *key):
            reset = limits.strategy.get_window_stats(item, *key).reset_time
            refusal = Throttled(by, max(1, math.ceil(reset - time.time())))
            _audit(username, channel, refusal, item)
            raise refusal


def failed(username: str) -> None:
    """Count a wrong password (or unknown name) against the account and the address."""
    limits: _Limits = current_app.extensions[_EXTENSION]
    for by, key in _keys(username).items():
        limits.strategy.hit(limits.items[by], *key)


def succeeded(username: str) -> None:
    """A right password clears the account's failures (the address keeps its own)."""
    limits: _Limits = current_app.extensions[_EXTENSION]
    limits.strategy.clear(limits.items["account"], *_keys(username)["account"])


def _audit(username: str, channel: str, refusal: Throttled, item: RateLimitItem) -> None:
    # Its own transaction: the request that is being refused writes nothing else.
    with database_of(current_app).session() as session, session.begin():
        session.add(AuditLog(actor=username[:200] or "-", action="sign_in.throttled", object_type="user",
                             object_id=username[:64] or "-",
                             detail={"by": refusal.by, "address": request.remote_addr, "channel": channel,
                                     "limit": str(item), "retry_after": refusal.retry_after}))


def _query_keys(number: str) -> dict[str, tuple[str, str]]:
    return {"case": ("query_code_case", number.strip()[:40]),
            "query_address": ("query_code_address", request.remote_addr or "-")}


def check_query(number: str) -> None:
    """Raise Throttled when this case number (known or not) or this address has used up its wrong query codes.

    Counted per number whether or not a case has it, so the refusal tells nothing about which numbers exist.
    """
    limits: _Limits = current_app.extensions[_EXTENSION]
    for by, key in _query_keys(number).items():
        item = limits.items[by]
        if not limits.strategy.test(item, *key):
            reset = limits.strategy.get_window_stats(item, *key).reset_time
            raise Throttled(by, max(1, math.ceil(reset - time.time())))


def failed_query(number: str) -> None:
    """Count a wrong query code (or an unknown number) against the number and the address."""
    limits: _Limits = current_app.extensions[_EXTENSION]
    for by, key in _query_keys(number).items():
        limits.strategy.hit(limits.items[by], *key)
