"""The OpenAPI 3.1 document of /api/v1, assembled from the YAML fragments each API module ships in openapi/."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Flask, current_app, jsonify

from xinfang.config import procedure

__all__ = ["API_PREFIX", "OpenApiConflict", "assemble", "bp", "document", "fragment_texts"]

API_PREFIX = "/api/v1"
FRAGMENT_DIR = "openapi"
_CACHE = "xinfang.openapi"

bp = Blueprint("openapi", __name__, url_prefix=API_PREFIX)


class OpenApiConflict(ValueError):
    """Two fragments define the same operation, or the same component differently."""


def fragment_texts() -> list[tuple[str, str]]:
    """(file name, YAML text) of every fragment shipped in the package, by name: each module's own file."""
    folder = resources.files(__package__).joinpath(FRAGMENT_DIR)
    return sorted((entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir()
                  if entry.name.endswith(".yaml"))


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API (DESIGN.md): a stable code, a message, and field-level details",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "description": "machine-readable, e.g. unknown_jurisdiction, bad_date"},
            "message": {"type": "string"},
            "details": {"type": "array", "description": "field-level problems, e.g. {field, message}", "items": {}},
        },
    }},
}
# Shared error responses a fragment refers to as #/components/responses/<name>.
ERROR_RESPONSES = {
    "ErrorBadRequest": ("the request is malformed: a bad date, an unknown parameter value, or a body that is not "
                        "JSON, repeats a key in an object or nests deeper than 64 levels (invalid_json)"),
    "ErrorUnauthorized": "not signed in: send HTTP Basic credentials or the session cookie",
    "ErrorForbidden": "signed in, but the role or the jurisdiction scope does not allow it",
    "ErrorNotFound": "no such resource (an unknown jurisdiction, no rule set in force on that date)",
    "ErrorConflict": "the resource changed meanwhile, or the action does not fit its state",
    "ErrorUnprocessable": "the content is well-formed but invalid; details lists each problem",
}
OPENAPI_PATH = {"get": {
    "operationId": "getOpenApi", "tags": ["meta"], "summary": "This document", "security": [],
    "responses": {"200": {"description": "the OpenAPI 3.1 document",
                          "content": {"application/json": {"schema": {"type": "object"}}}}},
}}


def _base(session_cookie: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "xinfang API",
            "version": "1",
            "summary": "信访 procedure as versioned rule sets: jurisdictions, rule sets, forms, cases, indicators",
            "description": ("Errors are JSON: `{\"error\": {\"code\", \"message\", \"details\"}}`. "
                            "Dates are Asia/Shanghai dates written YYYY-MM-DD, from 1900-01-01 to 2999-12-31 "
                            "(every deadline counted from them stays computable). A JSON body that repeats a key in "
                            "an object or nests deeper than 64 levels is refused (400 invalid_json)."),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/", "description": "this server; every path starts with /api/v1"}],
        "security": [{"basicAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": "meta", "description": "the API's own description"}],
        "paths": {API_PREFIX + "/openapi.json": OPENAPI_PATH},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {name: {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}} for name, text in ERROR_RESPONSES.items()},
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": ("a user's name and password, on each request (integrations). Failed "
                                              "attempts are throttled per account and per client address: past the "
                                              "limit the answer is 429 too_many_sign_in_attempts with Retry-After "
                                              "(seconds), even for the right password")},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": session_cookie,
                                  "description": "the signed session cookie of a browser signed in to the pages"},
            },
        },
    }


def assemble(fragments: Iterable[tuple[str, str]], *, session_cookie: str = "session") -> dict[str, Any]:
    """One document from the fragments' `paths`, `components` and `tags`; a conflict raises OpenApiConflict.

    A fragment may write its paths with or without the /api/v1 prefix (the document's paths carry it),
    so each team writes its file as it likes; `openapi` and `info` in a fragment are ignored.
    """
    doc = copy.deepcopy(_base(session_cookie))
    owners: dict[tuple[str, ...], str] = {}
    for name, text in fragments:
        fragment = yaml.safe_load(text) or {}
        for path, item in (fragment.get("paths") or {}).items():
            full = path if path.startswith(API_PREFIX + "/") or path == API_PREFIX else API_PREFIX + path
            target = doc["paths"].setdefault(full, {})
            for key, value in item.items():
                _claim(owners, ("paths", full, key), name, target.get(key), value)
                target[key] = value
        for kind, items in (fragment.get("components") or {}).items():
            target = doc["components"].setdefault(kind, {})
            for key, value in items.items():
                if target.get(key) not in (None, value):
                    raise OpenApiConflict(f"{name}: components.{kind}.{key} differs from "
                                          f"{owners.get(('components', kind, key))}'s")
                owners.setdefault(("components", kind, key), name)
                target[key] = value
        for tag in fragment.get("tags") or ():
            if tag["name"] not in {t["name"] for t in doc["tags"]}:
                doc["tags"].append(tag)
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc


def with_procedure(doc: dict[str, Any]) -> dict[str, Any]:
    """The case stages, actions and their fields, written into the document from config/procedure.py."""
    schemas = doc["components"]["schemas"]
    if "CaseStage" in schemas:
        schemas["CaseStage"]["enum"] = list(procedure.STAGE_NAMES)
    if "CaseAction" in schemas:
        schemas["CaseAction"]["enum"] = [a.name for a in procedure.ACTIONS]
    if "ActionPayload" in schemas:
        fields = "; ".join(f"{a.name} " + ", ".join([*(f"`{f}` (required)" for f in a.required),
                                                     *(f"`{f}`" for f in a.optional)])
                           for a in procedure.ACTIONS if a.required or a.optional)
        schemas["ActionPayload"]["description"] = (
            "`on` is the action's legal date (default today; not before the file's last event, not in the "
            f"future); every action takes a `note`. The fields of each action (others are refused): {fields}.")
    stages = "|".join(procedure.STAGE_NAMES)
    for operation in (doc["paths"].get(API_PREFIX + "/cases") or {}).values():
        for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
            if parameter.get("name") == "stage":
                parameter["schema"]["pattern"] = f"^({stages})(,({stages}))*$"
    return doc


def _claim(owners: dict, key: tuple[str, ...], name: str, existing: Any, value: Any) -> None:
    # Path-level `parameters` may repeat identically; an operation belongs to one fragment only.
    if existing is not None and (key[-1] not in ("parameters", "summary", "description") or existing != value):
        raise OpenApiConflict(f"{name}: {key[-1]} {key[1]} is already defined by {owners[key]}")
    owners.setdefault(key, name)


def document(app: Flask) -> dict[str, Any]:
    """The app's document, assembled once per app (the fragments are package data: they change with a release)."""
    if _CACHE not in app.extensions:
        app.extensions[_CACHE] = with_procedure(assemble(
            fragment_texts(), session_cookie=app.config.get("SESSION_COOKIE_NAME") or "session"))
    return app.extensions[_CACHE]


@bp.get("/openapi.json")
def openapi_json():
    """This API's OpenAPI 3.1 description, public (it says how to sign in)."""
    return jsonify(document(current_app))
