"""Request bodies read strictly (rules/strict_json.py): a duplicate key, deep nesting or broken JSON is a 400 naming it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from xinfang.rules.strict_json import JsonInputError, loads_strict

from .errors import ApiError


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON: written as Flask writes it, read strictly.

    Flask hands `app.json` to every request as what `request.get_json()` parses with. `loads` raises
    ApiError, not ValueError, so even `get_json(silent=True)` callers answer with the reason
    instead of "not a JSON object".
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return loads_strict(s)
        except JsonInputError as err:
            where = {"line": err.line, "col": err.col} if err.line is not None else {}
            raise ApiError(400, "invalid_json", f"the request body is refused: {err}",
                           [{"field": "body", "message": err.message, **where}]) from None


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
