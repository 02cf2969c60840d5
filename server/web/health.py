"""`GET /healthz` (the process answers) and `GET /readyz` (its database is reachable and migrated), without sign-in.

For load balancers and service managers: no session, no user lookup, no rule set read, nothing that
names more than the problem (the database URL is shown without its password).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

__all__ = ["bp"]

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    from xinfang.server.store.db import database_of, readiness
    problems = readiness(database_of(current_app).engine)
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ready")
