"""API errors as DESIGN.md's JSON, `{"error": {"code", "message", "details"}}`, for every route under /api/v1."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from xinfang.server.cases.errors import CaseServiceError

RETRY_AFTER_SECONDS = "2"
_ERROR_PAGE = "xinfang.error_page"
ErrorPage = Callable[[int], object]  # a status to the page a person sees (admin_ui's, in Chinese)


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


def set_error_page(app: Flask, page: ErrorPage) -> None:
    """The HTML side (admin_ui) says how a page-level error looks; server/ does not know its templates."""
    app.extensions[_ERROR_PAGE] = page


def _page(status: int):
    page = current_app.extensions.get(_ERROR_PAGE)
    return page(status) if page is not None else ("", status)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """JSON errors for the API; for pages, the error page admin_ui sets, never a traceback or an English one."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        response, status = error_response(err.status, err.code, err.message, err.details)
        response.headers.update(err.headers)
        return response, status

    @app.errorhandler(CaseServiceError)
    def _refused(err: CaseServiceError):
        if not _is_api():
            if err.kind == "busy":
                return _busy(err)
            raise err
        return _api_error(from_domain(err))

    @app.errorhandler(PoolTimeout)
    def _busy(err: Exception):
        """Every pooled connection stayed taken for the pool's timeout: refuse at once, and say when to try again."""
        app.logger.warning("busy on %s %s: %s", request.method, request.path, err)
        if _is_api():
            response, status = error_response(503, "busy", "the server is busy; try again shortly")
        else:
            response, status = _page(503)
        response = app.make_response((response, status))
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        if not _is_api():
            if err.response is not None or (err.code or 500) < 400:
                return err  # a page the view made itself (abort(make_response(...))), or a redirect
            return _page(err.code or 500)
        return error_response(err.code or 500, (err.name or "error").lower().replace(" ", "_"), err.description or "")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return _http_error(err)
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if not _is_api():
            if app.testing or app.debug:
                raise err  # the traceback, for the developer and the test that caused it
            return _page(500)
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
