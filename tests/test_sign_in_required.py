"""No staff page, API route or export answers without sign-in: a walk of the app's whole URL map (issue 13).

Open to anyone are only the petitioner's side (网上信访, /api/v1/public and /public), what README's "Who reads
what" calls public law (the jurisdiction tree, published rule sets, their versions and diffs, the clerks'
forms, POST /api/v1/evaluate), health checks, static files and the sign-in form itself. A route added later
is refused by this test until it is either behind sign-in or named here.
"""

from __future__ import annotations

import re

import pytest

PUBLIC_ENDPOINTS = {
    "static", "admin_ui.static", "health.healthz", "health.readyz", "sign_in.sign_in", "openapi.openapi_json",
    # public law: published rule sets and what they decide (README "Who reads what")
    "api.jurisdictions", "api.jurisdiction", "api.effective_ruleset", "forms_api.forms", "forms_api.form",
    "rulesets.list_versions", "rulesets.get_version", "rulesets.export_version", "cases.evaluate_case",
    "jurisdictions.tree", "jurisdictions.node", "jurisdictions.ruleset",
    "ruleset_history.history", "ruleset_history.diff", "ruleset_history.version",
}
PUBLIC_PREFIXES = ("public_api.", "public_pages.")  # 网上信访: the petitioner's own side, by number and query code
VALUES = {"code": "371321", "case_id": "1", "draft_id": "1", "version_id": "1", "escalation_id": "1",
          "action": "accept", "kind": "acceptance", "intake": "letter", "number": "371321-2024-000001",
          "filename": "htmx.min.js", "order_id": "1", "report_id": "1", "fmt": "pdf"}


def anonymous_requests(app):
    """(method, path, endpoint) of every route but the public ones, its arguments filled with real values."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(PUBLIC_PREFIXES):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: VALUES[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path, rule.endpoint


def test_every_staff_route_refuses_an_anonymous_request(app, token_of):
    reached = []
    for method, path, endpoint in anonymous_requests(app):
        client = app.test_client()  # a new visitor each time (sign-out clears a session)
        token = token_of(client.get("/sign-in").get_data(as_text=True))  # a valid CSRF token: what is left is sign-in
        response = client.open(path, method=method, headers={"X-CSRFToken": token},
                               **({"json": {}} if path.startswith("/api/") else {"data": {"csrf_token": token}}))
        to_sign_in = response.status_code in (302, 303) and "/sign-in" in response.headers.get("Location", "")
        if not (to_sign_in or response.status_code in (401, 403)):
            reached.append((method, path, endpoint, response.status_code))
    assert reached == [], "\n".join(map(str, reached))


def test_the_walk_covers_the_staff_side(app):
    # The walk is only as good as the map it reads: the case file, its exports and the editor are in it.
    walked = {endpoint for _, _, endpoint in anonymous_requests(app)}
    assert {"cases.create_case", "case_page.show", "case_list.export_xlsx", "editor.save",
            "dashboard.show", "rulesets.audit", "orders.inbox", "orders.confirm", "orders.close",
            "orders_api.receive_orders"} <= walked


@pytest.mark.parametrize("endpoint", sorted(PUBLIC_ENDPOINTS - {"static", "admin_ui.static"}))
def test_each_public_endpoint_named_here_exists(app, endpoint):
    assert endpoint in {rule.endpoint for rule in app.url_map.iter_rules()}
