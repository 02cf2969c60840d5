"""The Flask application factory: configuration, database, rule-set library, blueprints."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from xinfang.config import RuleSetLibrary, bundled_library


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then XINFANG_* environment variables, then the mapping given (tests, the CLI)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(RULES_DIR=None, DATABASE_URL=os.environ.get("DATABASE_URL"), SECRET_KEY=None,
                            SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                            SESSION_COOKIE_SECURE=True,  # production is HTTPS; `xinfang serve` (local http) turns it off
                            SWEEP_INTERVAL_SECONDS=300)  # of the development server's in-process sweeps; 0: none
    app.config.from_prefixed_env("XINFANG")
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if v is not None})
    from . import json_body
    json_body.init_app(app)  # request bodies: duplicate keys and deep nesting refused (400)
    app.json.ensure_ascii = False
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    rules = app.config["RULES_DIR"]
    files = RuleSetLibrary.load([Path(rules)]) if rules else bundled_library()

    from xinfang.admin_ui import init_app as init_admin_ui
    from xinfang.server.rulesets import library_store
    from xinfang.server.store import db

    from . import (cases_api, errors, forms_api, health, indicators_api, jurisdictions_api, openapi, orders_api,
                   public_api, rulesets_api, security_headers, throttle)
    db.init_app(app)
    library_store.init_app(app, files)  # the database's published versions; these files until imported
    errors.init_app(app)
    throttle.init_app(app)  # failed sign-ins per account and per address
    security_headers.init_app(app)  # CSP, no framing, nosniff, Referrer-Policy on every response
    for module in (jurisdictions_api, forms_api, indicators_api, openapi, cases_api, rulesets_api, orders_api):
        app.register_blueprint(module.bp)
    app.register_blueprint(health.bp)  # /healthz, /readyz: no sign-in
    app.register_blueprint(public_api.bp)  # 网上信访 /api/v1/public: no sign-in, a case by its number and query code
    init_admin_ui(app)  # the htmx pages (admin_ui/) and their CSRF protection
    return app


def _instance_secret(app: Flask) -> str:
    """A session-signing key kept in the instance folder, made on first start (set XINFANG_SECRET_KEY in production)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
