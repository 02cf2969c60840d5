"""The rule-set editor through Flask's test client: form ↔ YAML sync, checks, CSRF, scope, stale saves, submit, publish."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from xinfang.config import bundled_library, today_in_china
from xinfang.server import accounts as auth
from xinfang.server.accounts import DEMO_PASSWORD
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db as database_module
from xinfang.server.web.app import create_app

CONCLUDE = "f:time_limits.conclude.days:int"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('editor') / 'xinfang.sqlite3'}"
    ensure_database(url, bundled_library())
    engine = database_module.make_engine(url)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session, session.begin():
        patch.setattr(auth, "hash_password", lambda p: generate_password_hash(p, method="pbkdf2:sha256:1000"))
        auth.seed_demo_users(session)
    engine.dispose()
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "SWEEP_INTERVAL_SECONDS": 0})


def token_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def signed_in(app, username: str):
    client = app.test_client()
    token = token_of(client.get("/sign-in").get_data(as_text=True))
    assert client.post("/sign-in", data={"username": username, "password": DEMO_PASSWORD,
                                         "csrf_token": token}).status_code == 302
    return client


class _EditorForm(HTMLParser):
    """The values the editor form would send, as a browser collects them (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.inside = False
        self.textarea: list[str] | None = None
        self.select: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "editor-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.values.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self.textarea = [a["name"], ""]
        elif tag == "select":
            self.select = [a["name"], None, None]
        elif tag == "option" and self.select:
            if self.select[2] is None:
                self.select[2] = a.get("value", "")
            if "selected" in a:
                self.select[1] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self.textarea:
            self.values.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select:
            self.values.append((self.select[0], self.select[1] if self.select[1] is not None else self.select[2]))
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data


def editor_form(html: str, **changes: str) -> MultiDict:
    parser = _EditorForm()
    parser.feed(html)
    return MultiDict([(k, changes.get(k, v)) for k, v in parser.values])


def field(html: str, name: str) -> str:
    return dict(editor_form(html).items(multi=True))[name]


def new_draft(client, code: str = "371321") -> tuple[int, str]:
    token = token_of(client.get(f"/rulesets/{code}").get_data(as_text=True))
    response = client.post(f"/rulesets/{code}/drafts", data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    draft_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/rulesets/drafts/{draft_id}")
    assert page.status_code == 200
    return draft_id, page.get_data(as_text=True)


@pytest.fixture
def officer(app):
    return signed_in(app, "yinan_officer")


def check(client, draft_id: int, form: MultiDict, trigger: str):
    return client.post(f"/rulesets/drafts/{draft_id}/check", data=form,
                       headers={"HX-Request": "true", "HX-Trigger-Name": trigger})


# Form ↔ YAML

def test_new_draft_gets_a_new_label_and_tomorrow(officer):
    _, html = new_draft(officer)
    text = field(html, "yaml_text")
    tomorrow = today_in_china() + dt.timedelta(days=1)
    assert f"effective_from: {tomorrow}" in text
    assert f'version: "{tomorrow.year}.' in text
    assert "# 沂南县规则集" in text  # the base version's comments travel with it


def test_a_form_change_rewrites_the_one_key_and_the_yaml_comes_back(officer):
    draft_id, html = new_draft(officer)
    before = field(html, "yaml_text")
    response = check(officer, draft_id, editor_form(html, **{CONCLUDE: "30"}), CONCLUDE)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert 'id="yaml-box" hx-swap-oob="true"' in body and 'id="form-base"' in body
    after = unescape(re.search(r'<textarea id="yaml_text"[^>]*>\n(.*?)</textarea>', body, re.S).group(1))
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["  conclude: {days: 30, unit: calendar, basis: 《沂南县信访工作实施办法（2024）》}"]
    assert len(after.splitlines()) == len(before.splitlines()) + 1  # one line added, nothing else
    assert 'id="forms-panel"' not in body  # the form the officer is typing in is left alone


def test_the_routing_hour_is_set_in_the_form(officer):
    # 问题流转不过夜 (《沂南县信访工作实施办法（2024）》): the hour routing ends at is a box of its own, 09:00 shown.
    draft_id, html = new_draft(officer)
    assert re.search(r'name="f:time_limits.route.by:str"[^>]*value="09:00"', html)
    route = "f:time_limits.route.by:str"
    response = check(officer, draft_id, editor_form(html, **{route: "08:30"}), route)
    after = unescape(re.search(r'<textarea id="yaml_text"[^>]*>\n(.*?)</textarea>', response.get_data(as_text=True),
                               re.S).group(1))
    assert 'route: {days: 1, unit: calendar, by: "08:30",' in after


def test_a_yaml_change_re_renders_the_forms(officer):
    draft_id, html = new_draft(officer)
    text = field(html, "yaml_text").replace("  route: {days: 1,", "  route: {days: 2,")
    response = check(officer, draft_id, editor_form(html, yaml_text=text), "yaml_text")
    body = response.get_data(as_text=True)
    assert 'id="forms-panel" hx-swap-oob="true"' in body
    assert re.search(r'name="f:time_limits.route.days:int" value="2"', body)
    assert "yaml-box" not in body


def test_without_javascript_the_check_returns_the_whole_page(officer):
    draft_id, html = new_draft(officer)
    response = officer.post(f"/rulesets/drafts/{draft_id}/check", data=editor_form(html, **{CONCLUDE: "30"}))
    body = response.get_data(as_text=True)
    assert "<!doctype html>" in body and "conclude: {days: 30" in body
    assert "有未保存的修改" in body


# Validation, submit refused with errors

def test_ninety_days_shows_the_bound_at_its_line_and_cannot_be_submitted(officer):
    draft_id, html = new_draft(officer)
    form = editor_form(html, **{CONCLUDE: "90"})
    body = check(officer, draft_id, form, CONCLUDE).get_data(as_text=True)
    line = next(n for n, text in enumerate(
        re.search(r'<textarea id="yaml_text"[^>]*>\n(.*?)</textarea>', body, re.S).group(1).splitlines(), 1)
        if "conclude: {days: 90" in text)
    issues = body.split('id="yaml-box"')[0]
    assert f'data-line="{line}"' in issues and f"第 {line} 行" in issues
    assert "超过上级规定的上限" in issues and "不超过 60 日" in issues and "《信访工作条例》第三十四条" in issues
    assert re.search(r'id="submit-button" disabled', body)

    saved = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "90"}))
    page = saved.get_data(as_text=True)
    assert re.search(r'id="submit-button" disabled', page)
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    refused = officer.post(f"/rulesets/drafts/{draft_id}/submit",
                           data={"csrf_token": token_of(page), "revision": revision})
    assert refused.status_code == 422
    assert "不能提交审批" in refused.get_data(as_text=True)


def test_a_draft_with_an_overflowing_field_pattern_still_opens_and_shows_it_at_its_line(officer):
    draft_id, html = new_draft(officer)
    text = field(html, "yaml_text").replace("max_length: 50, hint: 以征收公告", 'pattern: "^[0-9]{4294967296}$", hint: 以征收公告')
    saved = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, yaml_text=text))
    assert saved.status_code in (200, 422)
    page = officer.get(f"/rulesets/drafts/{draft_id}")
    assert page.status_code == 200
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "parcel_number:" in row)
    body = page.get_data(as_text=True)
    assert f"第 {line} 行" in body and "表单项的格式（正则表达式）无法使用" in body


def test_a_field_that_is_not_a_number_is_refused_beside_it(officer):
    draft_id, html = new_draft(officer)
    response = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "三十"}))
    assert response.status_code == 422
    assert "“三十”不是整数" in response.get_data(as_text=True)


# CSRF and scope

def test_saving_without_the_csrf_token_is_refused(officer):
    draft_id, html = new_draft(officer)
    form = editor_form(html, **{CONCLUDE: "30"})
    form.pop("csrf_token")
    assert officer.post(f"/rulesets/drafts/{draft_id}/save", data=form).status_code == 400
    assert "conclude: {days: 30" not in field(officer.get(f"/rulesets/drafts/{draft_id}").get_data(as_text=True),
                                              "yaml_text")


@pytest.mark.parametrize("username", ["ganzhou_officer", "yuanjiang_officer"])
def test_another_countys_officer_cannot_open_or_save_the_draft(app, officer, username):
    draft_id, html = new_draft(officer)
    other = signed_in(app, username)
    response = other.get(f"/rulesets/drafts/{draft_id}")
    assert response.status_code == 403
    assert "不在您的管辖范围内" in response.get_data(as_text=True)
    token = token_of(other.get("/jurisdictions").get_data(as_text=True))
    form = editor_form(html, **{CONCLUDE: "30", "csrf_token": token})
    assert other.post(f"/rulesets/drafts/{draft_id}/save", data=form).status_code == 403
    assert other.post("/rulesets/371321/drafts", data={"csrf_token": token}).status_code == 403


def test_a_clerk_cannot_open_the_editor(app, officer):
    draft_id, _ = new_draft(officer)
    assert signed_in(app, "yinan_clerk").get(f"/rulesets/drafts/{draft_id}").status_code == 403


# Saves: revision, conflicts, tests

def test_a_stale_save_shows_both_texts_and_loses_nothing(app, officer):
    draft_id, html = new_draft(officer)
    other = signed_in(app, "yinan_officer")  # the same draft open in a second window
    other_html = other.get(f"/rulesets/drafts/{draft_id}").get_data(as_text=True)
    assert other.post(f"/rulesets/drafts/{draft_id}/save",
                      data=editor_form(other_html, **{"f:time_limits.route.days:int": "0"})).status_code == 200
    response = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "30"}))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "保存冲突" in body and "您的文本没有丢失" in body
    mine = field(body, "yaml_text")
    assert "conclude: {days: 30" in mine and "route: {days: 1," in mine  # still the officer's text
    assert "route: {days: 0," in body.split('id="editor-form"')[0]  # theirs, shown beside it
    saved = field(officer.get(f"/rulesets/drafts/{draft_id}").get_data(as_text=True), "yaml_text")
    assert "route: {days: 0," in saved and "conclude: {days: 30" not in saved  # nothing overwritten
    again = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(body))  # merged: saved on purpose
    assert again.status_code == 200
    assert "conclude: {days: 30" in field(again.get_data(as_text=True), "yaml_text")


def test_save_runs_the_scenarios_and_a_sample_can_take_the_new_result(officer):
    draft_id, html = new_draft(officer)
    response = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "20"}))
    body = response.get_data(as_text=True)
    assert "已保存" in body and "场景测试" in body
    failed = re.findall(r'name="accept" value="([^"]+)"', body)
    assert failed, "a sample expecting the old conclusion date fails"
    form = editor_form(body)
    form["accept"] = unescape(failed[0])  # the button "采用实际结果" of the first failure
    accepted = officer.post(f"/rulesets/drafts/{draft_id}/save", data=form)
    assert len(re.findall(r'name="accept" value=', accepted.get_data(as_text=True))) == len(failed) - 1


def test_impact_fragment_and_page(officer):
    draft_id, _ = new_draft(officer)
    fragment = officer.get(f"/rulesets/drafts/{draft_id}/impact", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<!doctype" not in fragment.get_data(as_text=True)
    assert "在办案件" in fragment.get_data(as_text=True)
    assert "<!doctype html>" in officer.get(f"/rulesets/drafts/{draft_id}/impact").get_data(as_text=True)


# Publish, history, diff, audit

def test_the_author_submits_and_a_second_officer_publishes(app, officer):
    draft_id, html = new_draft(officer)
    page = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "45"}))
    body = page.get_data(as_text=True)
    revision = re.search(r'name="revision" value="(\d+)"', body).group(1)
    described = {"csrf_token": token_of(body), "revision": revision, "title": "沂南县信访工作实施办法（2026）",
                 "change_note": "办结时限缩短为45日"}
    # 45 days moves the deadlines two scenarios expect: nothing goes to the approver until the author says so
    refused = officer.post(f"/rulesets/drafts/{draft_id}/submit", data=described)
    assert refused.status_code == 422 and "2 个场景测试未通过" in refused.get_data(as_text=True)
    assert 'name="confirm_failing"' in refused.get_data(as_text=True)
    submitted = officer.post(f"/rulesets/drafts/{draft_id}/submit", data={**described, "confirm_failing": "1"})
    assert submitted.status_code == 302
    assert officer.post(f"/rulesets/drafts/{draft_id}/approve", data={"csrf_token": token_of(body)}).status_code == 403

    approver = signed_in(app, "yinan_approver")
    view = approver.get(f"/rulesets/drafts/{draft_id}").get_data(as_text=True)
    assert "批准并发布" in view and "readonly" in view
    revision = re.search(r'name="revision" value="(\d+)"', view).group(1)  # the title and note were written in
    day = today_in_china() + dt.timedelta(days=3)
    approval = {"csrf_token": token_of(view), "revision": revision, "effective_from": day.isoformat()}
    assert approver.post(f"/rulesets/drafts/{draft_id}/approve", data=approval).status_code == 422
    done = approver.post(f"/rulesets/drafts/{draft_id}/approve", data={**approval, "confirm_failing": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/rulesets/371321")
    history = approver.get("/rulesets/371321").get_data(as_text=True)
    assert f"自 {day} 起施行" in history and "待施行" in history and "沂南县信访工作实施办法（2026）" in history
    diff = approver.get("/rulesets/371321/diff").get_data(as_text=True)
    assert 'class="added"' in diff or 'class="changed"' in diff
    assert "time_limits.conclude.days" in diff  # the effective value that changed
    audit = approver.get("/rulesets/371321/audit").get_data(as_text=True)
    for action in ("新建草稿", "保存草稿", "提交审批", "批准", "发布"):
        assert action in audit


def test_a_new_version_cannot_carry_the_change_note_of_the_one_before(officer):
    draft_id, html = new_draft(officer)
    page = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "58"}))
    body = page.get_data(as_text=True)
    revision = re.search(r'name="revision" value="(\d+)"', body).group(1)
    assert re.search(r'<textarea id="submit-note" name="change_note"[^>]*>\s*</textarea>', body)  # not the old note
    refused = officer.post(f"/rulesets/drafts/{draft_id}/submit", data={
        "csrf_token": token_of(body), "revision": revision, "title": "沂南县信访工作实施办法（2026）",
        "change_note": ""})
    assert refused.status_code == 422 and "请填写修改说明" in refused.get_data(as_text=True)


def test_diff_of_two_published_versions_side_by_side(officer):
    page = officer.get("/rulesets/371321").get_data(as_text=True)
    link = re.search(r'href="(/rulesets/371321/diff\?old=v\d+&amp;new=v\d+)"', page).group(1).replace("&amp;", "&")
    body = officer.get(link).get_data(as_text=True)
    assert '<table class="data diff">' in body and "行相同" in body


def test_a_row_written_whole_brings_its_other_fields_up_to_date(officer):
    draft_id, html = new_draft(officer)
    body = check(officer, draft_id, editor_form(html, **{CONCLUDE: "30"}), CONCLUDE).get_data(as_text=True)
    # the unit and basis now written in the text come back into their inputs, so a save keeps them
    assert re.search(r'<select id="f-time_limits-conclude-unit" hx-swap-oob="true"[^>]*>', body)
    assert re.search(r'<input id="f-time_limits-conclude-basis" hx-swap-oob="true"[^>]*value="《沂南县', body)
    assert 'id="f-time_limits-conclude-days" hx-swap-oob' not in body  # the one being typed in is left alone


def yaml_of(response) -> str:
    return unescape(re.search(r'<textarea id="yaml_text"[^>]*>\n(.*?)</textarea>', response.get_data(as_text=True),
                              re.S).group(1))


def test_the_assessment_scheme_is_edited_in_the_form(officer):
    # 考评 (《信访工作条例》第八条): 沂南县 writes its own weights and targets; what it inherits from 临沂市 shows grey,
    # and an item first written here is written whole, with the numbers it inherits and this level's basis.
    draft_id, html = new_draft(officer)
    letter, overdue = "f:assessment.deductions.supervision_letter.points:num", "f:assessment.deductions.overdue_case.points:num"
    assert re.search(rf'name="{re.escape(letter)}" value="3"', html)  # 沂南县's own
    assert re.search(rf'name="{re.escape(overdue)}" value=""[^>]*placeholder="1"', html)  # 临沂市's
    text = yaml_of(check(officer, draft_id, editor_form(html, **{overdue: "1.5"}), overdue))
    assert "    overdue_case: {points: 1.5, basis: 《沂南县信访工作实施办法（2024）》}" in text.splitlines()


def test_assessment_weights_that_do_not_sum_to_100_are_told_in_the_form(officer):
    # The weights in force sum to 100 (config/assessment.py): 沂南县 raising one weight alone is refused in Chinese.
    draft_id, html = new_draft(officer)
    weight = "f:assessment.indicators.first_petition_resolution.weight:num"
    body = check(officer, draft_id, editor_form(html, **{weight: "35"}), weight).get_data(as_text=True)
    assert "考评指标的分值合计应为100分，现为105分" in body
    body = check(officer, draft_id, editor_form(html, **{weight: "三十"}), weight).get_data(as_text=True)
    assert "“三十”不是数字" in body


class _HxOutsideForms(HTMLParser):
    """hx-* controls that would do nothing without JavaScript: neither a link nor inside a form with an action."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.bad: list[str] = []
        self.controls = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if any(k.startswith("hx-") and k not in ("hx-headers", "hx-swap-oob") for k in a):
            self.controls += 1
            if not ((tag == "a" and a.get("href")) or (tag == "form" and a.get("action"))
                    or any(t == "form" and s.get("action") for t, s in self.stack)):
                self.bad.append(self.get_starttag_text())
        if tag not in ("input", "meta", "link", "br", "img"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass


def test_every_htmx_control_of_the_editor_works_without_javascript(officer):
    draft_id, html = new_draft(officer)
    audit = _HxOutsideForms()
    audit.feed(html)
    assert audit.bad == [] and audit.controls > 100
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []  # CodeMirror and htmx come from the package
    assert officer.get("/assets/vendor/codemirror/lib/codemirror.js").status_code == 200


def test_the_approver_starts_on_a_queue_of_the_drafts_waiting_for_it(app, officer):
    draft_id, html = new_draft(officer)
    page = officer.post(f"/rulesets/drafts/{draft_id}/save", data=editor_form(html, **{CONCLUDE: "58"}))
    body = page.get_data(as_text=True)
    revision = re.search(r'name="revision" value="(\d+)"', body).group(1)
    officer.post(f"/rulesets/drafts/{draft_id}/submit", data={
        "csrf_token": token_of(body), "revision": revision, "title": "沂南县信访工作实施办法（2027）",
        "change_note": "办结时限改为58日", "confirm_failing": "1"})
    approver = signed_in(app, "yinan_approver")
    assert approver.get("/").headers["Location"].endswith("/rulesets/approvals")
    queue = approver.get("/rulesets/approvals").get_data(as_text=True)
    assert f'href="/rulesets/drafts/{draft_id}"' in queue
    assert "沂南县信访工作实施办法（2027）" in queue and "办结时限改为58日" in queue
    assert officer.get("/rulesets/approvals").status_code == 403  # the queue is the approver's


def test_rollback_is_offered_only_to_a_version_that_was_in_force(app):
    history = signed_in(app, "yinan_approver").get("/rulesets/371321").get_data(as_text=True)
    for row in re.findall(r"<tr[^>]*>.*?</tr>", history, re.S):
        if "待施行" in row or "今天施行" in row:
            assert "回退到此版" not in row
