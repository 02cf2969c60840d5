"""What a person sees when a request fails: a page in Chinese, never Flask's English one or a traceback; and a server
whose database connections are all taken refuses at once as busy (503, Retry-After) instead of failing with a 500."""

from __future__ import annotations

import pytest

from xinfang.server.store.db import database_of


@pytest.fixture
def one_connection(demo_database, app_for):
    """An app whose pool holds one connection and waits a tenth of a second for it."""
    return app_for(demo_database, DATABASE_POOL_SIZE=1, DATABASE_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT=0.1)


# Routes that read the database (a jurisdiction's page reads only the published rule sets, kept between requests).
@pytest.mark.parametrize("path", ["/cases", "/api/v1/cases"])
def test_a_request_finding_every_connection_taken_is_refused_as_busy_and_may_be_sent_again(one_connection, sign_in,
                                                                                          path):
    signed = sign_in(one_connection, "yinan_clerk")
    held = database_of(one_connection).engine.connect()  # another request's, for longer than the pool waits
    try:
        response = signed.get(path)
    finally:
        held.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "busy"
    else:
        assert "系统繁忙" in response.get_data(as_text=True)
    assert signed.get(path).status_code == 200  # the connection back, the same request goes through


def test_an_address_with_no_page_answers_in_chinese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "没有这个页面" in text and "Not Found" not in text


def test_a_crash_shows_a_chinese_page_and_no_traceback(demo_database, app_for):
    app = app_for(demo_database, TESTING=False)

    @app.get("/crash")
    def crash():
        raise RuntimeError("a bug in /srv/xinfang/server/some_module.py")

    response = app.test_client().get("/crash")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "系统出错" in text and ".py" not in text and "RuntimeError" not in text
