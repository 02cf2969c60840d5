"""The admin pages through Flask's test client: sign-in, CSRF, scope, htmx fragments and the no-JavaScript fallback."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from xinfang.server.accounts import DEMO_PASSWORD

ADMIN_UI = Path(__file__).resolve().parent.parent / "admin_ui"


@pytest.fixture(scope="module")
def app(demo_database, app_for, add_users):
    """The demo database and one user with no role at all."""
    add_users(demo_database, dict(username="no_roles", display_name="无角色", jurisdiction_code="371321", roles=[]))
    return app_for(demo_database)


@pytest.fixture
def submit_sign_in(token_of):
    """`submit_sign_in(client, username, password, next_url)`: the sign-in form posted, its answer returned."""
    def submit(client, username="yinan_officer", password=DEMO_PASSWORD, next_url=None):
        token = token_of(client.get("/sign-in").get_data(as_text=True))
        data = {"username": username, "password": password, "csrf_token": token}
        if next_url is not None:
            data["next"] = next_url
        return client.post("/sign-in", data=data)
    return submit


@pytest.fixture
def officer(client, submit_sign_in):
    assert submit_sign_in(client).status_code == 302
    return client


# Signing in and out

def test_pages_redirect_to_sign_in_and_back(client, submit_sign_in):
    response = client.get("/cases?jurisdiction=371321")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    back = parse_qs(location.query)["next"][0]
    assert back == "/cases?jurisdiction=371321"
    response = submit_sign_in(client, next_url=back)
    assert unquote(response.headers["Location"]) == "/cases?jurisdiction=371321"


def test_htmx_request_without_session_is_sent_to_sign_in_whole_page(client):
    response = client.get("/cases?jurisdiction=371321", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in?next=")


@pytest.mark.parametrize("username, password", [("yinan_officer", "wrong"), ("nobody", DEMO_PASSWORD), ("", "")])
def test_sign_in_refused_says_the_same_either_way(client, username, password, submit_sign_in):
    response = submit_sign_in(client, username, password)
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/cases").status_code == 302  # still signed out


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_returns_to_another_site(client, target, submit_sign_in):
    response = submit_sign_in(client, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_out_ends_the_session(officer, token_of):
    token = token_of(officer.get("/jurisdictions").get_data(as_text=True))
    response = officer.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert officer.get("/cases").status_code == 302


# CSRF

def test_post_without_csrf_token_is_refused(client):
    client.get("/sign-in")  # a session with a token exists, the form just does not send it
    response = client.post("/sign-in", data={"username": "yinan_officer", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_post_with_a_wrong_token_is_refused_and_changes_nothing(officer):
    response = officer.post("/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert officer.get("/jurisdictions").status_code == 200  # still signed in


def test_htmx_sends_the_token_as_a_header(officer, token_of):
    html = officer.get("/jurisdictions").get_data(as_text=True)
    token = token_of(html)
    assert f"hx-headers='{{\"X-CSRFToken\": \"{token}\"}}'" in html
    assert officer.post("/sign-out", headers={"X-CSRFToken": token, "HX-Request": "true"}).status_code == 302


def test_sign_in_rotates_the_token(client, submit_sign_in, token_of):
    before = token_of(client.get("/sign-in").get_data(as_text=True))
    submit_sign_in(client)
    assert token_of(client.get("/jurisdictions").get_data(as_text=True)) != before


def test_api_is_exempt_unless_the_session_authenticates_it(client, submit_sign_in):
    # Without a session cookie the API answers as the API does (here: no such method), not with a CSRF refusal.
    assert client.post("/api/v1/jurisdictions").status_code == 405
    submit_sign_in(client)
    response = client.post("/api/v1/jurisdictions")
    assert response.status_code == 403
    assert "CSRF" in response.get_json()["error"]["message"]


# htmx fragments and the fallback without JavaScript

def test_search_returns_the_fragment_to_htmx_and_the_page_otherwise(officer):
    full = officer.get("/jurisdictions?q=沂南")
    part = officer.get("/jurisdictions?q=沂南", headers={"HX-Request": "true"})
    for response in (full, part):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert "沂南县" in response.get_data(as_text=True)
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in part.get_data(as_text=True)
    assert 'href="/jurisdictions/371321?at=' in part.get_data(as_text=True)


def test_history_restore_gets_the_whole_page(officer):
    response = officer.get("/jurisdictions?q=沂南",
                           headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_children_load_as_a_fragment_into_the_tree(officer):
    response = officer.get("/jurisdictions/371321?at=2024-06-01", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and html.lstrip().startswith("<li")
    assert "界湖街道" in html and "岸堤镇" in html


class _HxAudit(HTMLParser):
    """Finds hx-* controls that would do nothing without JavaScript: not a link, not in a form with an action."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.bad: list[str] = []
        self.controls = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if any(name.startswith("hx-") and name not in ("hx-headers",) for name in attrs):
            self.controls += 1
            in_form = any(t == "form" and a.get("action") for t, a in self.stack)
            works = (tag == "a" and attrs.get("href")) or (tag == "form" and attrs.get("action")) or in_form
            if not works:
                self.bad.append(self.get_starttag_text())
        if tag not in ("input", "meta", "link", "br", "img"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


@pytest.mark.parametrize("path", ["/jurisdictions", "/jurisdictions?q=临沂", "/jurisdictions/371300",
                                  "/jurisdictions/371321/ruleset?at=2024-06-01"])
def test_every_htmx_control_works_without_javascript(officer, path):
    audit = _HxAudit()
    audit.feed(officer.get(path).get_data(as_text=True))
    assert audit.bad == []
    if "ruleset" not in path:
        assert audit.controls > 0


def test_search_works_as_a_plain_form(officer):
    html = officer.get("/jurisdictions").get_data(as_text=True)
    assert re.search(r'<form class="search" role="search" method="get" action="/jurisdictions"', html)
    results = officer.get("/jurisdictions?q=371321").get_data(as_text=True)
    assert "沂南县" in results and "<html" in results


def test_no_page_loads_anything_from_another_site(officer):
    html = officer.get("/jurisdictions").get_data(as_text=True)
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    assert officer.get("/assets/vendor/htmx/htmx.min.js").status_code == 200
    for template in ADMIN_UI.joinpath("templates").rglob("*.html"):
        assert "//" not in re.sub(r"\{#.*?#\}", "", template.read_text("utf-8")).replace("://", ""), template


# The tree and the rule set

def test_node_says_whether_it_inherits_and_from_whom(officer):
    township = officer.get("/jurisdictions/371321001?at=2024-06-01").get_data(as_text=True)
    assert "继承" in township and "自沂南县 2024.1 版" in township
    county = officer.get("/jurisdictions/371321?at=2024-06-01").get_data(as_text=True)
    assert "本级规则集" in county and "2024.1" in county and "2021.1" in county


def test_ruleset_marks_sources_and_bounds(officer):
    html = officer.get("/jurisdictions/371321/ruleset?at=2024-06-01").get_data(as_text=True)
    route = html[html.index('data-key="route"'):]
    route = route[:route.index("</tr>")]
    assert "本级" in route and "不超过 15 日" in route and "第二十二条" in route
    assert "1 日，最后一日 09:00 前（北京时间）" in route  # 沂南县 问题流转不过夜
    notify = html[html.index('data-key="notify"'):]
    assert '"src src-inherited"' in notify[:notify.index("</tr>")] and ">全国<" in notify[:notify.index("</tr>")]
    assert "不超过 60 日" in html and "第三十四条" in html
    assert "上级：正常办" in html  # Yinan renamed the national 正常办 track
    assert re.search(r"2024-01-01\.yaml:\d+", html)


def test_admin_reads_every_ruleset(client, submit_sign_in):
    submit_sign_in(client, "admin")
    assert client.get("/jurisdictions/430981/ruleset?at=2024-06-01").status_code == 200


def test_a_user_without_roles_sees_no_page(client, submit_sign_in):
    submit_sign_in(client, "no_roles")
    assert client.get("/cases").status_code == 403


@pytest.mark.parametrize("path, status", [("/jurisdictions/999999", 404), ("/jurisdictions/abc/ruleset", 404),
                                          ("/jurisdictions?at=2024-13-01", 400),
                                          ("/jurisdictions/371321/ruleset?at=1990-01-01", 404)])
def test_bad_codes_and_dates_get_a_page_saying_so(officer, path, status):
    response = officer.get(path)
    assert response.status_code == status
    assert "<h1>" in response.get_data(as_text=True)
