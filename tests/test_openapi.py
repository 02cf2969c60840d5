"""The OpenAPI document: valid, complete (every /api/v1 route), true (schemathesis finds no 500, no schema breach)."""

from __future__ import annotations

import base64
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode, checks
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from xinfang.config import bundled_library
from xinfang.server.accounts import DEMO_PASSWORD, DEMO_USERS
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db
from xinfang.server.store.models import User
from xinfang.server.web.app import create_app
from xinfang.server.web.openapi import OpenApiConflict, assemble, fragment_texts

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An app on a SQLite file holding the bundled rule sets (as `xinfang serve` imports them) and the demo admin."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'xinfang.sqlite3'}"
    # Schemathesis sends wrong credentials by the hundred and expects 401 each time: sign-in throttling
    # (tests/test_sign_in_throttle.py) would answer 429 after the first few, so its limits are lifted here.
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url,
                      "SIGN_IN_LIMIT_PER_ACCOUNT": "1000000 per 1 hour", "SIGN_IN_LIMIT_PER_ADDRESS": "1000000 per 1 hour"})
    ensure_database(url, bundled_library())
    engine = db.make_engine(url)
    with Session(engine) as session:
        spec = next(user for user in DEMO_USERS if user["username"] == "admin")
        # scrypt at its production cost takes ~0.5 s a request here; the same scheme at a low cost keeps
        # HTTP Basic real and the property-based run short (the stored hash names its own parameters).
        session.add(User(**spec, password_hash=generate_password_hash(DEMO_PASSWORD, method="scrypt:1024:8:1")))
        session.commit()
    engine.dispose()
    return app


@pytest.fixture(scope="module")
def document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"
    schemes = document["components"]["securitySchemes"]
    assert (schemes["basicAuth"]["type"], schemes["basicAuth"]["scheme"]) == ("http", "basic")
    assert (schemes["sessionCookie"]["type"], schemes["sessionCookie"]["in"]) == ("apiKey", "cookie")
    assert document["security"] == [{"basicAuth": []}, {"sessionCookie": []}]
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "details"]


def flask_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route the app serves under /api/v1: `<int:case_id>` → `{case_id}`."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods - IGNORED_METHODS}
    return found


def test_every_api_route_is_documented(app, document):
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "put", "post", "patch", "delete")}
    missing = sorted(flask_routes(app) - documented)
    assert not missing, f"routes with no entry in server/web/openapi/*.yaml: {missing}"
    assert not sorted(documented - flask_routes(app)), "documented operations the app does not serve"


def test_my_fragments_ship_and_each_error_response_is_the_shared_error(document):
    names = {name for name, _ in fragment_texts()}
    assert {"jurisdictions.yaml", "forms.yaml", "indicators.yaml"} <= names
    for name, response in document["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name


def test_fragments_merge_with_or_without_the_prefix_and_conflicts_are_refused():
    a = "paths:\n  /things:\n    get: {responses: {'200': {description: ok}}}\n" \
        "components:\n  schemas:\n    Thing: {type: object}\n"
    b = "paths:\n  /api/v1/things:\n    post: {responses: {'201': {description: made}}}\n" \
        "components:\n  schemas:\n    Thing: {type: object}\n"
    merged = assemble([("a.yaml", a), ("b.yaml", b)])
    assert set(merged["paths"]["/api/v1/things"]) == {"get", "post"}
    with pytest.raises(OpenApiConflict, match="get /api/v1/things is already defined by a.yaml"):
        assemble([("a.yaml", a), ("c.yaml", a.replace("Thing: {type: object}", "Other: {}"))])
    with pytest.raises(OpenApiConflict, match="components.schemas.Thing"):
        assemble([("a.yaml", a), ("d.yaml", "components:\n  schemas:\n    Thing: {type: array}\n")])


# Property-based: every documented operation, generated inputs, responses checked against the document.
# Schemathesis's pytest plugin reads Node._nodeid, which pytest 9.2 no longer has, so its Python API drives
# Hypothesis here: the documented examples first, then generated valid and invalid inputs.

ADMIN = {"Authorization": "Basic " + base64.b64encode(f"admin:{DEMO_PASSWORD}".encode()).decode()}
EXAMPLES_PER_OPERATION = 10
BOUNDED = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])


# Every other check runs (no 5xx; status, content type, headers and body as documented; invalid input
# refused). Not "schema-valid input is accepted": the API refuses, with a documented 4xx, what a schema
# cannot state (a period whose `from` is after its `to`, a petition the rules refuse, a reused key).
EXCLUDED = [checks.positive_data_acceptance]


def _run(strategy, failures: list[str], label: str) -> None:
    @given(case=strategy)
    @BOUNDED
    def check(case):
        case.call_and_validate(headers=ADMIN, excluded_checks=EXCLUDED)

    try:
        check()
    except Unsatisfiable:
        pass  # nothing about this operation can be made invalid (negative mode): nothing to send
    except (Exception, BaseExceptionGroup) as error:  # report each operation's failure; the others still run
        failures.append(f"{label}: {error}")


@pytest.mark.schemathesis
def test_the_api_keeps_its_documented_promises(app):
    """No 500, statuses, content types and bodies as documented, as the seeded admin (select alone: -m schemathesis)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, [o.label for o in operations]
    for operation in operations:
        for strategy in schema.get_strategies_from_examples(operation):
            _run(strategy, failures, f"{operation.label} (documented examples)")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation.as_strategy(generation_mode=mode), failures, f"{operation.label} ({mode.value})")
    assert not failures, "\n\n".join(failures)
