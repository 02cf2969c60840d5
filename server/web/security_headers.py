"""Security headers on every response, pages and API alike: a CSP the pages satisfy, no framing, no sniffing.

The pages load only their own files (htmx and CodeMirror are vendored under admin_ui/static), have no
inline script or style attribute, and draw charts as inline SVG, so the policy names 'self' alone;
htmx is told not to inject its indicator <style> nor to eval (base.html's htmx-config). A route
that needs another header value sets it itself: these are defaults.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # case numbers in URLs never leave the site
}


def init_app(app: Flask) -> None:
    headers = {**HEADERS, "Content-Security-Policy": app.config.get("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
