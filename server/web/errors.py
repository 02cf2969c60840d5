"""API errors as DESIGN.md's JSON, `{"error": {"code", "message", "details"}}`, for every route under /api/v1."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from xinfang.server.cases.errors import CaseServiceError


class ApiError(Exception):
    """An error the client caused (or may retry); `details` lists field-level problems."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []
        self.headers = headers or {}  # e.g. Retry-After on a 429


def error_response(status: int, code: str, message: str, details: list | None = None):
    return jsonify(error={"code": code, "message": message, "details": details or []}), status


# The case service's kinds of refusal (server/cases/errors.py) as HTTP statuses.
STATUS_OF_KIND = {"not_found": 404, "forbidden": 403, "conflict": 409, "invalid": 422, "stale": 412, "busy": 503}


def from_domain(err: CaseServiceError) -> ApiError:
    return ApiError(STATUS_OF_KIND[err.kind], err.code, err.message, err.details)


def init_app(app: Flask) -> None:
    """JSON errors for the API; the HTML pages keep Flask's own error pages."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        response, status = error_response(err.status, err.code, err.message, err.details)
        response.headers.update(err.headers)
        return response, status

    @app.errorhandler(CaseServiceError)
    def _refused(err: CaseServiceError):
        if not request.path.startswith("/api/"):
            raise err
        return _api_error(from_domain(err))

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if not request.path.startswith("/api/"):
            return err
        return error_response(err.code or 500, (err.name or "error").lower().replace(" ", "_"), err.description or "")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http_error(err)
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            raise err
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def known_jurisdiction(library, code: object, status: int = 404):
    """The jurisdiction a request names, or the API error saying why the code names none.

    404 for a code in the URL or query, 422 for one in a request body.
    """
    from xinfang.config import UnknownJurisdiction
    try:
        return library.tree.get(code)
    except (UnknownJurisdiction, ValueError, TypeError) as err:
        raise ApiError(status, "unknown_jurisdiction", str(err)) from None
