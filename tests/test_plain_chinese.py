"""Staff see the regulation's words: no file path, no rule id, no version label, no English sentence (issue 11).

A crawler signs in as a clerk, a unit, an approver and a supervisor of 沂南县 on a seeded database, follows
every link of the staff pages it reaches (GET, same site, a bounded number), and reads what a person sees
on each: the text of the page and its titles, without the markup. The policy officer's file:line is one
click away on their own pages (the rule-set views and the editor), so they are not crawled as staff.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy.orm import Session

from xinfang.config import CHINA, bundled_library, procedure
from xinfang.server.cases.demo_data import generate
from xinfang.server.cases.sweep import sweep
from xinfang.server.store import db

STAFF = ("yinan_clerk", "yinan_ziran", "yinan_approver", "yinan_supervisor", "yinan_discipline")
START = ("/", "/cases", "/intake", "/dashboard")
# Where the policy officer reads sources on purpose (file:line one click away), and what is no page.
NOT_STAFF = ("/rulesets", "/jurisdictions/", "/assets/", "/api/", "/sign-out")
MAX_PAGES = 60  # per user: enough to reach every kind of page, not every case

TECHNICAL = {
    "a file path": re.compile(r"\.ya?ml\b|config/rulesets"),
    "a version label": re.compile(r"\d{6}@20\d\d|@20\d\d\.\d"),
    "a rule id": re.compile(r"\b(classify|route|track|tier|admissibility|escalation|limit):[a-z_]+"),
    "an English sentence": re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){3,}"),
    "an account's login": re.compile(r"\b(?:yinan|linyi)_[a-z]+\b"),  # who acted is named as people know them
}
ALLOWED = re.compile(r"PDF|Excel|XLSX|CSV|htmx|JavaScript")


class _Visible(HTMLParser):
    """What a person sees on a page: its text and its titles, not its markup, scripts or styles; and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name in ("title", "placeholder", "aria-label"):
            if a.get(name):
                self.text.append(a[name])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


@pytest.fixture(scope="module")
def app(demo_database, app_for):
    """沂南县 and its neighbours with a generated year of cases, swept: every stage, notice and escalation occurs."""
    engine = db.make_engine(demo_database)
    with Session(engine) as session:
        generate(session, bundled_library(), cases=150, seed=11)
        sweep(session, dt.datetime.now(CHINA))
        session.commit()
    engine.dispose()
    return app_for(demo_database)


def crawl(user, start=START, within: tuple[str, ...] = ("/",)) -> dict[str, str]:
    """Path → what the user sees there, for the pages under `within` reachable from `start`."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or path.startswith(NOT_STAFF) or not path.startswith(within):
            continue
        response = user.get(path)
        if response.status_code in (301, 302, 303):
            queue.insert(0, urlsplit(response.headers["Location"]).path)
            continue
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        page = _Visible()
        page.feed(response.get_data(as_text=True))
        seen[path] = " ".join(page.text)
        for link in page.links:
            target = urlsplit(urljoin("http://localhost" + path, link))
            if target.netloc == "localhost" and target.path not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def technical_words(pages: dict[str, str]) -> list[str]:
    found = []
    for path, text in pages.items():
        for what, pattern in TECHNICAL.items():
            for match in pattern.finditer(text):
                if not ALLOWED.fullmatch(match.group(0)):
                    found.append(f"{path}: {what}: {match.group(0)!r}")
    return found


def _said(found: list[str]) -> str:
    return "\n".join(found[:40]) + (f"\n… {len(found) - 40} more" if len(found) > 40 else "")


@pytest.mark.parametrize("username", STAFF)
def test_staff_pages_speak_the_regulations_words(app, sign_in, username):
    pages = crawl(sign_in(app, username))
    assert len(pages) >= 3, pages.keys()
    found = technical_words(pages)
    assert not found, _said(found)


def test_the_petitioners_pages_speak_the_regulations_words(app):
    # 网上信访 (Art. 17-18): the public, with no account, reads the same plain Chinese as staff.
    pages = crawl(app.test_client(), start=("/public/",), within=("/public",))
    assert len(pages) >= 3, pages.keys()
    found = technical_words(pages)
    assert not found, _said(found)


@pytest.mark.parametrize("detail, said", [
    pytest.param({"revision": 3, "changed": True, "content_hash": "9f86d081884c7d65"}, "第3次修改；内容有改动", id="update_draft"),
    pytest.param({"revision": 3, "passed": 5, "failed": 1}, "第3次修改；场景通过5个；未通过1个", id="test_draft"),
    pytest.param({"label": "371321@2026.1+371300@2023.1+370000@2016.1+000000@2022.1", "effective_from": "2026-12-08",
                 "content_hash": "9f86d081884c7d65", "draft_id": 4, "author": "yinan_officer",
                 "submitted_by": "yinan_officer"}, "2026-12-08起施行；来自草稿4；起草人 yinan_officer；提交人 yinan_officer",
                 id="publish"),
])
def test_the_audit_log_says_what_was_done_not_its_keys(detail, said):
    from xinfang.admin_ui.audit_detail import audit_detail
    assert audit_detail(detail) == said


def test_the_audit_log_names_people_as_they_are_known():
    from xinfang.admin_ui.audit_detail import audit_detail
    names = {"yinan_officer": "沂南县政策专员"}.get
    assert audit_detail({"author": "yinan_officer", "submitted_by": "yinan_officer"}, names) == \
        "起草人 沂南县政策专员；提交人 沂南县政策专员"


@pytest.mark.parametrize("flag", sorted({a.adds_flag for a in procedure.ACTIONS if a.adds_flag}))
def test_every_mark_an_action_puts_on_a_case_has_a_chinese_name(flag):
    # A clerk reads 交办件 and 督办中 on the case list, never the procedure table's `assigned` or `supervised`.
    from xinfang.admin_ui.case_labels import flag_label
    assert not re.search(r"[A-Za-z]", flag_label(flag)), flag
