"""Failed sign-ins throttled per account and per address, through the form and HTTP Basic (server/web/throttle.py)."""

from __future__ import annotations

import base64
import re
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from xinfang.config import bundled_library
from xinfang.server import accounts
from xinfang.server.accounts import DEMO_PASSWORD
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db as database_module
from xinfang.server.store.models import AuditLog
from xinfang.server.web.app import create_app

# Small limits, so a test makes a handful of attempts, not fifty.
LIMITS = {"SIGN_IN_LIMIT_PER_ACCOUNT": "3 per 1 hour", "SIGN_IN_LIMIT_PER_ADDRESS": "5 per 1 hour"}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('throttle') / 'xinfang.sqlite3'}"
    ensure_database(url, bundled_library())
    engine = database_module.make_engine(url)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session, session.begin():
        patch.setattr(accounts, "hash_password", lambda p: generate_password_hash(p, method="pbkdf2:sha256:1000"))
        accounts.seed_demo_users(session)
    engine.dispose()
    return url


def app_with(database, **limits):
    """An app of its own (its own memory:// counters) on the shared database."""
    return create_app({"TESTING": True, "DATABASE_URL": database, "SECRET_KEY": "test", "SWEEP_INTERVAL_SECONDS": 0,
                       **LIMITS, **limits})


def form_sign_in(client, username: str, password: str):
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token.group(1)})


def basic(client, username: str, password: str, address: str = "127.0.0.1"):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return client.get("/api/v1/cases", headers={"Authorization": f"Basic {token}"},
                      environ_base={"REMOTE_ADDR": address})


def throttled_rows(app, username: str) -> list[AuditLog]:
    with Session(database_module.database_of(app).engine) as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == "sign_in.throttled",
                                                           AuditLog.object_id == username)))


def test_the_sign_in_form_refuses_even_the_right_password_after_too_many_wrong_ones(database):
    app = app_with(database)
    client = app.test_client()
    for _ in range(3):
        assert form_sign_in(client, "yinan_clerk", "wrong").status_code == 401
    refused = form_sign_in(client, "yinan_clerk", DEMO_PASSWORD)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 3500 < retry_after <= 3600
    page = refused.get_data(as_text=True)
    assert "登录失败次数过多" in page and "60 分钟后" in page and "用户名或密码错误" not in page
    assert client.get("/cases").status_code == 302  # not signed in
    rows = throttled_rows(app, "yinan_clerk")
    assert [(r.detail["by"], r.detail["channel"], r.detail["limit"]) for r in rows][-1] == (
        "account", "form", "3 per 1 hour")


def test_http_basic_answers_429_with_retry_after_in_json_after_too_many_wrong_passwords(database):
    app = app_with(database)
    client = app.test_client()
    for _ in range(3):
        assert basic(client, "yinan_officer", "wrong").status_code == 401
    refused = basic(client, "yinan_officer", DEMO_PASSWORD)
    assert refused.status_code == 429 and refused.is_json
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_sign_in_attempts"
    assert error["details"][0]["retry_after"] == int(refused.headers["Retry-After"]) > 3500
    assert "try again in" in error["message"] and "account" in error["message"]
    assert throttled_rows(app, "yinan_officer")[-1].detail["channel"] == "basic"


def test_one_address_trying_many_names_is_throttled_and_other_addresses_are_not(database):
    app = app_with(database)
    client = app.test_client()
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert basic(client, name, "wrong", "10.0.0.7").status_code == 401
    refused = basic(client, "yinan_supervisor", DEMO_PASSWORD, "10.0.0.7")
    assert refused.status_code == 429 and "address" in refused.get_json()["error"]["message"]
    assert basic(client, "yinan_supervisor", DEMO_PASSWORD, "10.0.0.8").status_code == 200


def test_a_right_password_clears_the_accounts_failures_and_successes_are_never_counted(database):
    app = app_with(database)
    client = app.test_client()
    for _ in range(2):
        assert basic(client, "yinan_approver", "wrong").status_code == 401
    for _ in range(10):  # an integration sending its credentials on every request
        assert basic(client, "yinan_approver", DEMO_PASSWORD).status_code == 200
    for _ in range(2):
        assert basic(client, "yinan_approver", "wrong").status_code == 401
    assert basic(client, "yinan_approver", DEMO_PASSWORD).status_code == 200


def test_after_the_window_the_right_password_is_accepted_again(database):
    app = app_with(database, SIGN_IN_LIMIT_PER_ACCOUNT="2 per 1 second")
    client = app.test_client()
    for _ in range(2):
        assert form_sign_in(client, "linyi_supervisor", "wrong").status_code == 401
    assert form_sign_in(client, "linyi_supervisor", DEMO_PASSWORD).status_code == 429
    time.sleep(1.1)
    assert form_sign_in(client, "linyi_supervisor", DEMO_PASSWORD).status_code == 302
