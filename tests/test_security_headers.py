"""Security headers on every response and a Secure session cookie in production (server/web/security_headers.py).

That the pages satisfy the Content-Security-Policy is checked in chromium: tests/browser/conftest.py fails any
browser test whose pages report a violation.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask

from xinfang.server.accounts import DEMO_PASSWORD
from xinfang.server.cli import main


@pytest.mark.parametrize("path", ["/sign-in", "/api/v1/jurisdictions/371321", "/api/v1/cases", "/api/v1/nowhere",
                                  "/nowhere", "/assets/vendor/htmx/htmx.min.js", "/api/v1/openapi.json"])
def test_every_response_forbids_framing_sniffing_and_foreign_scripts(app, path):
    response = app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_pages_tell_htmx_to_inject_no_style_and_eval_nothing(app):
    page = app.test_client().get("/sign-in").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config
    assert "style=" not in page and "<script>" not in page


def test_the_session_cookie_is_secure_and_http_only_by_default(app, token_of):
    client = app.test_client()
    token = token_of(client.get("/sign-in").get_data(as_text=True))
    signed_in = client.post("/sign-in", data={"username": "yinan_clerk", "password": DEMO_PASSWORD,
                                             "csrf_token": token})
    cookie = signed_in.headers["Set-Cookie"]
    assert signed_in.status_code == 302 and "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(("environment", "secure"), [({}, False), ({"XINFANG_SESSION_COOKIE_SECURE": "true"}, True)])
def test_xinfang_serve_on_local_http_sends_the_cookie_without_secure_unless_told(tmp_path, monkeypatch, environment,
                                                                                  secure):
    # `make run` serves http://127.0.0.1:5000: a Secure cookie would never come back and nobody could sign in.
    served = {}
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.update(secure=self.config["SESSION_COOKIE_SECURE"]))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["serve", "--no-demo-accounts", "--no-demo-data",
                                       "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert served == {"secure": secure}
