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
                            SWEEP_INTERVAL_SECONDS=300)  # escalation sweeps in the server; 0 disables them
    app.config.from_prefixed_env("XINFANG")
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if v is not None})
    app.json.ensure_ascii = False
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    rules = app.config["RULES_DIR"]
    files = RuleSetLibrary.load([Path(rules)]) if rules else bundled_library()

    from . import api, db, errors, library_store
    db.init_app(app)
    library_store.init_app(app, files)  # the database's published versions; these files until imported
    errors.init_app(app)
    app.register_blueprint(api.bp)
    from . import forms_api, indicators_api, openapi
    for blueprint in (forms_api.bp, indicators_api.bp, openapi.bp):
        app.register_blueprint(blueprint)
    from . import cases_api
    app.register_blueprint(cases_api.bp)
    from . import rulesets_api
    app.register_blueprint(rulesets_api.bp)
    from xinfang.admin_ui import init_app as init_admin_ui
    init_admin_ui(app)  # the htmx pages (admin_ui/) and their CSRF protection
    from . import scheduler
    scheduler.init_app(app)  # not under testing
    return app


def library_of(app: Flask) -> RuleSetLibrary:
    """The rule sets the app decides with: the versions published in its database (server/library_store.py)."""
    from .library_store import current_library
    # Callers often pass `current_app`; the store caches per request on the real app object.
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    return current_library(real)


def _instance_secret(app: Flask) -> str:
    """A session-signing key kept in the instance folder, made on first start (set XINFANG_SECRET_KEY in production)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
