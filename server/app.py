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
    app.extensions["xinfang.library"] = RuleSetLibrary.load([Path(rules)]) if rules else bundled_library()

    from . import api, db, errors
    db.init_app(app)
    errors.init_app(app)
    app.register_blueprint(api.bp)
    from . import scheduler
    scheduler.init_app(app)  # not under testing
    return app


def library_of(app: Flask) -> RuleSetLibrary:
    return app.extensions["xinfang.library"]


def _instance_secret(app: Flask) -> str:
    """A session-signing key kept in the instance folder, made on first start (set XINFANG_SECRET_KEY in production)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
