"""The Flask application factory: configuration, the rule-set library, the API blueprint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from xinfang.config import RuleSetLibrary, bundled_library


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then XINFANG_* environment variables, then the mapping given (tests, the CLI)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(RULES_DIR=None, DATABASE_URL=os.environ.get("DATABASE_URL"), JSON_AS_ASCII=False)
    app.config.from_prefixed_env("XINFANG")
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if v is not None})
    app.json.ensure_ascii = False
    rules = app.config["RULES_DIR"]
    app.extensions["xinfang.library"] = RuleSetLibrary.load([Path(rules)]) if rules else bundled_library()

    from . import api
    app.register_blueprint(api.bp)
    return app


def library_of(app: Flask) -> RuleSetLibrary:
    return app.extensions["xinfang.library"]
