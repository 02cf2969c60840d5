"""The rule-set lifecycle over a session: draft, edit, validate, test, impact, diff, four-eyes publish, rollback.

Every test runs on SQLite and on PostgreSQL (`database_url`, tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import bundled_library, bundled_rules_dir
from xinfang.rules.decide import evaluate
from xinfang.server.rulesets import lifecycle
from xinfang.server.rulesets.import_export import export_version, import_library
from xinfang.server.rulesets.library_store import published_library
from xinfang.config import bundled_rules_dir
from xinfang.server.rulesets.text import set_header
from xinfang.server.store import db
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.models import PublishedVersionImmutable, RuleSetDraft, RuleSetVersionRecord

TODAY = dt.date(2025, 6, 1)  # Yinan 2024.1 is in force
START = dt.date(2025, 7, 1)
# Yinan 2024.1's normal track inherits the national 60 days; a draft gives it a limit of its own here.
NORMAL_TRACK = "    name: 复杂问题跟踪办\n    time_limits:\n"
NEW_HEADER = dict(version="2025.1", effective_from=START, change_note="普通程序办结时限改为20日")


@pytest.fixture
def session(database_url):
    """A session on a migrated database holding the bundled rule sets as published versions."""
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        import_library(session, bundled_library())
        session.commit()
        yield session
    engine.dispose()


def yinan_2024(session) -> RuleSetVersionRecord:
    return session.scalar(select(RuleSetVersionRecord).where(
        RuleSetVersionRecord.jurisdiction_code == "371321", RuleSetVersionRecord.version == "2024.1"))


def with_conclude(text: str, days: int) -> str:
    """The text with Yinan's normal track concluding in `days` days (a line added under its time_limits)."""
    assert NORMAL_TRACK in text
    return text.replace(NORMAL_TRACK, NORMAL_TRACK + f"      conclude:  {{days: {days}, unit: calendar, basis: 测试}}\n")


def new_draft(session, conclude: int = 20, author: str = "officer") -> RuleSetDraft:
    """A Yinan draft as version 2025.1 from START, its normal track concluding in `conclude` days."""
    draft = lifecycle.create_draft(session, "371321", author, today=TODAY)
    text = with_conclude(set_header(draft.yaml_text, **NEW_HEADER), conclude)
    lifecycle.update_draft(session, draft.id, text, draft.revision, author)
    session.commit()
    return draft


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def open_case(session, code: str, received_on: str, stage: str = "accepted", number: str = "") -> Petition:
    """A stored case as registration would leave it: decided under the published rule set, pinned."""
    case = {"received_on": received_on, "intake": "letter", "text": "小区物业乱收费"}
    decision = evaluate(published_library(session), code, case)
    petition = Petition(
        number=number or f"{code}-{received_on}-{stage}", jurisdiction_code=code,
        ruleset_version=decision["ruleset_version"], received_on=dt.date.fromisoformat(received_on),
        intake="letter", kind=decision["kind"], category=decision["category"], channel=decision["channel"],
        track=decision["track"], route_unit=decision["route"]["unit"], admissible=decision["admissible"],
        stage=stage, case_json=case, decision=decision, created_by="clerk")
    session.add(petition)
    session.flush()
    return petition


def test_a_draft_starts_from_the_version_in_force_and_an_edit_needs_the_current_revision(session):
    draft = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    session.commit()
    base = yinan_2024(session)
    assert (draft.base_version_id, draft.yaml_text, draft.revision) == (base.id, base.yaml_text, 1)

    mine = with_conclude(draft.yaml_text, 25)
    lifecycle.update_draft(session, draft.id, mine, 1, "officer")
    session.commit()
    assert draft.revision == 2

    theirs = draft.yaml_text.replace("conclude:  {days: 25", "conclude:  {days: 28")
    with pytest.raises(lifecycle.StaleRevision) as stale:
        lifecycle.update_draft(session, draft.id, theirs, 1, "officer2")
    details = stale.value.details[0]
    # nothing lost: the saved text stays, and the stale one comes back to be merged
    assert (details["current_revision"], details["current_text"], details["your_text"]) == (2, mine, theirs)
    session.refresh(draft)
    assert (draft.revision, draft.yaml_text) == (2, mine)


def test_a_save_racing_another_is_caught_by_the_revision_check_in_the_update(session, database_url):
    draft = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    session.commit()
    other_engine = db.make_engine(database_url)
    with Session(other_engine) as other:  # another officer saves between our read and our write
        lifecycle.update_draft(other, draft.id, draft.yaml_text + "# theirs\n", 1, "officer2")
        other.commit()
    other_engine.dispose()
    with pytest.raises(lifecycle.StaleRevision) as stale:
        lifecycle.update_draft(session, draft.id, draft.yaml_text + "# mine\n", 1, "officer")
    assert stale.value.details[0]["current_text"].endswith("# theirs\n")
    assert stale.value.details[0]["your_text"].endswith("# mine\n")


def test_validation_names_the_line_of_a_loosened_bound_and_the_article(session):
    draft = new_draft(session, conclude=90)
    issues = lifecycle.validate_draft(session, draft.id, "officer")
    line = line_of(draft.yaml_text, "conclude:  {days: 90")
    national = [i for i in issues if "《信访工作条例》第三十四条" in i.message]
    assert national, [str(i) for i in issues]
    assert (national[0].position.file, national[0].position.line) == (f"draft:{draft.id}", line)
    assert "above the bound of 60" in national[0].message
    with pytest.raises(lifecycle.InvalidDraft) as refused:
        lifecycle.submit(session, draft.id, "officer", today=TODAY)
    assert any(d["line"] == line for d in refused.value.details)


def test_a_published_label_or_start_day_is_an_issue_and_another_jurisdiction_too(session):
    draft = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    messages = [i.message for i in lifecycle.validate_draft(session, draft.id, "officer")]
    assert any("version '2024.1' of 371321 is already published" in m for m in messages), messages
    same_day = set_header(draft.yaml_text, version="2024.9")
    lifecycle.update_draft(session, draft.id, same_day, draft.revision, "officer")
    messages = [i.message for i in lifecycle.validate_draft(session, draft.id, "officer")]
    assert any("is the same as version 2024.1" in m for m in messages), messages
    linyi = draft.yaml_text.replace('code: "371321"', 'code: "371300"', 1)
    lifecycle.update_draft(session, draft.id, linyi, draft.revision, "officer")
    messages = [i.message for i in lifecycle.validate_draft(session, draft.id, "officer")]
    assert any("the draft belongs to 371321" in m for m in messages), messages
    with pytest.raises(lifecycle.InvalidDraft):
        lifecycle.impact(session, draft.id, "officer")


def test_scenarios_run_on_the_draft_pass_or_fail_each(session):
    draft = new_draft(session, conclude=20)
    scenarios = textwrap.dedent("""\
        scenarios:
          - name: 跟踪办20日办结
            case: {received_on: 2025-08-01, intake: letter, text: 小区物业乱收费}
            expect: {track: normal, deadlines.conclude.date: 2025-08-21}
          - name: 仍按30日办结（草稿已改为20日，应失败）
            case: {received_on: 2025-08-01, intake: letter, text: 小区物业乱收费}
            expect: {deadlines.conclude.date: 2025-09-01}
    """)
    report = lifecycle.run_draft_tests(session, draft.id, "officer", [bundled_rules_dir()], scenarios)
    sent = {r["name"]: r for r in report["scenarios"] if "draft-" in r["file"]}
    assert sent["跟踪办20日办结"]["passed"] and sent["跟踪办20日办结"]["uses_draft"]
    failed = sent["仍按30日办结（草稿已改为20日，应失败）"]
    assert not failed["passed"] and failed["uses_draft"]
    assert failed["failures"][0]["path"] == "deadlines.conclude.date"
    assert failed["failures"][0]["actual"] == '"2025-08-21"'
    # the jurisdiction's own scenario files ran too, on their own (2024) dates: under 2024.1, not the draft
    bundled = [r for r in report["scenarios"] if "371321_yinan" in r["file"]]
    assert bundled and not any(r["uses_draft"] for r in bundled if "tracks_2024" in r["file"])
    assert report["passed"] + report["failed"] == len(report["scenarios"]) + len(report["file_issues"])


def test_impact_lists_the_open_cases_below_that_get_another_deadline(session):
    changed = open_case(session, "371321", "2025-05-14")
    open_case(session, "371321", "2025-05-14", stage="closed")
    open_case(session, "360700", "2025-05-14")  # Ganzhou: not below Yinan
    session.commit()
    draft = new_draft(session, conclude=20)
    report = lifecycle.impact(session, draft.id, "officer")
    assert (report["open_cases"], report["changed_cases"]) == (1, 1)
    case = report["cases"][0]
    assert (case["id"], case["number"]) == (changed.id, changed.number)
    # 2025-05-14 + 60 (national, inherited) = 07-13 Sunday → 07-14; + 20 under the draft = 06-03
    assert {"field": "deadlines.conclude", "old": "2025-07-14", "new": "2025-06-03"} in case["changes"]
    assert case["new_ruleset_version"].endswith("371321@2025.1")
    unchanged = new_draft(session, conclude=60)
    assert lifecycle.impact(session, unchanged.id, "officer")["changed_cases"] == 0


def test_diff_against_a_version_shows_text_and_effective_values_with_sources(session):
    draft = new_draft(session, conclude=20)
    base = yinan_2024(session)
    found = lifecycle.diff(session, draft.id, base.id, "officer")
    assert "+      conclude:  {days: 20" in found["text"]
    assert '+version: "2025.1"' in found["text"]
    conclude = next(v for v in found["values"] if v["path"] == "tracks.normal.time_limits.conclude.days")
    assert (conclude["old"], conclude["new"], conclude["change"]) == (None, 20, "added")
    assert conclude["source"]["file"] == f"draft:{draft.id}"
    assert conclude["source"]["line"] == line_of(draft.yaml_text, "conclude:  {days: 20")
    assert not any(v["path"] == "title" for v in found["values"])


def test_publishing_needs_a_second_officer_and_then_is_immutable_and_in_force_from_its_date(session):
    draft = new_draft(session, conclude=20)
    with pytest.raises(lifecycle.Refused, match="not submitted"):
        lifecycle.approve(session, draft.id, "approver", today=TODAY)
    lifecycle.submit(session, draft.id, "officer2", today=TODAY)
    session.commit()
    for who in ("officer", "officer2"):  # the author, then the submitter
        with pytest.raises(lifecycle.FourEyes, match="a second officer must approve it"):
            lifecycle.approve(session, draft.id, who, today=TODAY)
    with pytest.raises(lifecycle.Refused, match="in the past"):
        lifecycle.approve(session, draft.id, "approver", effective_from=dt.date(2025, 5, 1), today=TODAY)

    text = draft.yaml_text
    record = lifecycle.approve(session, draft.id, "approver", today=TODAY)
    session.commit()
    assert (record.label, record.effective_from, record.author, record.approver) == (
        "371321@2025.1", START, "officer", "approver")
    assert record.yaml_text == text and export_version(session, "371321", "2025.1") == text
    assert session.get(RuleSetDraft, draft.id) is None
    with pytest.raises(lifecycle.NotFound, match=f"published as version {record.id}"):
        lifecycle.get_draft(session, draft.id)

    record.effective_from = dt.date(2025, 8, 1)
    with pytest.raises(PublishedVersionImmutable):
        session.flush()
    session.rollback()

    library = published_library(session)
    assert library.version_in_force("371321", START).version == "2025.1"
    assert library.version_in_force("371321", START - dt.timedelta(days=1)).version == "2024.1"
    assert evaluate(library, "371321", {"received_on": "2025-08-01", "intake": "letter", "text": "小区物业乱收费"}
                    )["deadlines"]["conclude"]["date"] == "2025-08-21"


def test_an_edit_after_submission_withdraws_it_and_an_editor_cannot_approve(session):
    draft = new_draft(session, conclude=20)
    lifecycle.submit(session, draft.id, "officer", today=TODAY)
    lifecycle.update_draft(session, draft.id, draft.yaml_text + "# 改\n", draft.revision, "approver")
    with pytest.raises(lifecycle.Refused, match="edited after it was submitted"):
        lifecycle.approve(session, draft.id, "approver2", today=TODAY)
    lifecycle.submit(session, draft.id, "officer", today=TODAY)
    with pytest.raises(lifecycle.FourEyes, match="approver edited"):
        lifecycle.approve(session, draft.id, "approver", today=TODAY)
    assert lifecycle.approve(session, draft.id, "approver2", today=TODAY).version == "2025.1"


def test_the_approver_sets_the_date_and_a_clashing_one_is_refused(session):
    first = new_draft(session, conclude=20)
    lifecycle.submit(session, first.id, "officer", today=TODAY)
    record = lifecycle.approve(session, first.id, "approver", effective_from=dt.date(2025, 8, 1), today=TODAY)
    assert record.effective_from == dt.date(2025, 8, 1) and "effective_from: 2025-08-01\n" in record.yaml_text
    session.commit()
    second = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    text = set_header(second.yaml_text, version="2025.2", effective_from=dt.date(2025, 8, 1), change_note="同日施行")
    lifecycle.update_draft(session, second.id, text, second.revision, "officer")
    with pytest.raises(lifecycle.InvalidDraft) as refused:
        lifecycle.submit(session, second.id, "officer", today=TODAY)
    assert any("is the same as version 2025.1" in d["message"] for d in refused.value.details)


def test_rollback_publishes_an_earlier_text_anew_under_a_new_label_and_date(session):
    draft = new_draft(session, conclude=20)
    lifecycle.submit(session, draft.id, "officer", today=TODAY)
    lifecycle.approve(session, draft.id, "approver", today=TODAY)
    session.commit()
    old = yinan_2024(session)
    back = lifecycle.rollback(session, old.id, "approver", effective_from=dt.date(2025, 9, 1), today=TODAY)
    session.commit()
    assert (back.version, back.effective_from, back.author, back.approver) == (
        "2024.1-r1", dt.date(2025, 9, 1), old.author, "approver")
    body = back.yaml_text.split("\n", 1)[1]  # after the rollback note
    assert body == set_header(old.yaml_text, version="2024.1-r1", effective_from=dt.date(2025, 9, 1))
    assert back.yaml_text.startswith("# 回退（rollback）：重新发布 371321@2024.1")
    assert lifecycle.version_origin(session, back)["rollback_of"] == old.id
    library = published_library(session)
    assert library.version_in_force("371321", dt.date(2025, 9, 1)).version == "2024.1-r1"
    assert library.version_in_force("371321", dt.date(2025, 8, 31)).version == "2025.1"
    with pytest.raises(lifecycle.Refused, match="in the past"):
        lifecycle.rollback(session, old.id, "approver", effective_from=dt.date(2025, 1, 1), today=TODAY)


def test_every_action_leaves_an_audit_row(session):
    open_case(session, "371321", "2025-05-14")
    draft = new_draft(session, conclude=20)
    lifecycle.validate_draft(session, draft.id, "officer")
    lifecycle.run_draft_tests(session, draft.id, "officer", [bundled_rules_dir()])
    lifecycle.impact(session, draft.id, "officer")
    lifecycle.diff(session, draft.id, yinan_2024(session).id, "officer")
    lifecycle.submit(session, draft.id, "officer", today=TODAY)
    record = lifecycle.approve(session, draft.id, "approver", today=TODAY)
    lifecycle.rollback(session, yinan_2024(session).id, "approver", effective_from=dt.date(2025, 9, 1), today=TODAY)
    session.commit()
    rows = lifecycle.audit_trail(session, "371321")
    assert [r.action for r in rows] == ["create_draft", "update_draft", "validate_draft", "test_draft",
                                        "impact_preview", "diff_draft", "submit", "approve", "publish", "rollback"]
    assert {r.actor for r in rows} == {"officer", "approver"}
    publish = rows[-2]
    assert (publish.object_type, publish.object_id, publish.detail["draft_id"]) == (
        "ruleset_version", str(record.id), draft.id)
    assert lifecycle.audit_trail(session, "360700") == []


def test_a_jurisdiction_without_a_version_of_its_own_starts_from_a_header(session):
    draft = lifecycle.create_draft(session, "371322", "officer", today=TODAY)  # 郯城县: inherits everything
    assert draft.base_version_id is None
    assert lifecycle.validate_draft(session, draft.id, "officer") == []
    with pytest.raises(lifecycle.NotFound):
        lifecycle.create_draft(session, "999999", "officer", today=TODAY)


def test_set_header_rewrites_the_header_in_place_and_nothing_else():
    text = ('# note\nversion: "1"  # label\neffective_from: 2024-01-01\r\neffective_until: 2024-12-31\n'
            'title: t\nbounds:\n  version: {max: 1}\n')
    new = set_header(text, version="2", effective_from=dt.date(2025, 1, 1), drop_until=True)
    assert new == ('# note\nversion: "2"  # label\neffective_from: 2025-01-01\r\n'
                   'title: t\nbounds:\n  version: {max: 1}\n')
    with pytest.raises(ValueError, match="not written once"):
        set_header("{version: '1', effective_from: 2024-01-01}\n", version="2")


def test_a_draft_that_breaks_a_published_version_below_is_told_at_that_versions_line(session):
    draft = lifecycle.create_draft(session, "430981", "officer", today=TODAY)  # 沅江市 over 四季红镇
    tighter = draft.yaml_text.replace("township.time_limits.conclude.days: {max: 15",
                                      "township.time_limits.conclude.days: {max: 8")
    lifecycle.update_draft(session, draft.id, tighter, draft.revision, "officer")
    issues = lifecycle.validate_draft(session, draft.id, "officer")
    below = [i for i in issues if "430981102@2024.1, published below" in i.message]
    assert len(below) == 1 and "10 calendar days is above the bound of 8" in below[0].message
    sijihong = session.scalar(select(RuleSetVersionRecord).where(RuleSetVersionRecord.jurisdiction_code == "430981102"))
    assert below[0].position.line == line_of(sijihong.yaml_text, "conclude: {days: 10")


def test_the_engine_rulesets_compiled_for_a_draft_are_released_after_its_checks(session, monkeypatch):
    from xinfang.rules.compiler import RULESET_PREFIX, build_rules
    from xinfang.rules.durable_adapter import default_adapter, ruleset_name

    def engine_name(effective):
        return ruleset_name(RULESET_PREFIX, build_rules(effective.data).rules)

    case = {"received_on": "2025-08-01", "intake": "letter", "text": "咨询低保申请需要哪些材料"}
    published = published_library(session)
    evaluate(published, "371321", case)  # the published rule set is compiled, as the server's would be
    kept = engine_name(published.effective("371321", START))
    same_rules = new_draft(session, conclude=20)  # only a time limit changes: the same engine ruleset
    other_rules = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    text = set_header(other_rules.yaml_text, **NEW_HEADER).replace("intakes: [visit, phone, hotline]",
                                                                     "intakes: [visit, phone, hotline, letter]")
    lifecycle.update_draft(session, other_rules.id, text, other_rules.revision, "officer")
    own = engine_name(lifecycle.checked_draft(session, other_rules).library.effective("371321", START))
    assert own != kept
    open_case(session, "371321", "2025-05-14")
    scenario = ("scenarios:\n  - name: 来信咨询也当日办\n"
                "    case: {received_on: 2025-08-01, intake: letter, text: 咨询低保申请需要哪些材料}\n"
                "    expect: {track: same_day}\n")
    adapter = default_adapter()
    released: list[tuple[str, bool]] = []
    release = adapter.release
    monkeypatch.setattr(adapter, "release", lambda name: released.append((name, release(name))) or released[-1][1])
    for draft in (same_rules, other_rules):
        assert lifecycle.run_draft_tests(session, draft.id, "officer", [], scenario)["passed"] == (draft is other_rules)
        lifecycle.impact(session, draft.id, "officer")
    assert (own, True) in released and not adapter.is_registered(own)  # compiled for the draft, then freed
    assert (kept, False) in released and adapter.is_registered(kept)  # shared with the published version: kept
    assert evaluate(published, "371321", case)["track"] == "normal"


def test_a_new_version_says_what_it_changes_not_what_the_one_before_changed(session):
    """A published version is read by its title and change note: a copy of the version before's is refused."""
    draft = lifecycle.create_draft(session, "371321", "officer", today=TODAY)
    lifecycle.update_draft(session, draft.id, with_conclude(set_header(draft.yaml_text, version="2025.1",
                                                                       effective_from=START), 20),
                           draft.revision, "officer")
    with pytest.raises(lifecycle.Refused, match="change note is that of version 2024.1"):
        lifecycle.submit(session, draft.id, "officer", today=TODAY)
    lifecycle.submit(session, draft.id, "officer", title="沂南县信访工作实施办法（2025）", change_note="办结时限改为20日",
                     today=TODAY)
    record = lifecycle.approve(session, draft.id, "approver", today=TODAY)
    assert (record.title, record.change_note) == ("沂南县信访工作实施办法（2025）", "办结时限改为20日")


def test_failing_scenarios_hold_a_draft_back_until_the_officer_confirms_them(session):
    draft = new_draft(session, conclude=30)
    with pytest.raises(lifecycle.FailingScenarios) as held:
        lifecycle.submit(session, draft.id, "officer", scenario_paths=[bundled_rules_dir()], today=TODAY)
    assert held.value.details and held.value.chinese.startswith("有 ")
    lifecycle.submit(session, draft.id, "officer", scenario_paths=[bundled_rules_dir()], confirm_failing=True,
                     today=TODAY)
    with pytest.raises(lifecycle.FailingScenarios):
        lifecycle.approve(session, draft.id, "approver", scenario_paths=[bundled_rules_dir()], today=TODAY)
    assert lifecycle.approve(session, draft.id, "approver", scenario_paths=[bundled_rules_dir()],
                             confirm_failing=True, today=TODAY).version == "2025.1"


def test_a_published_drafts_id_is_never_given_to_another_draft(session):
    """The audit log names drafts by id: once published (the draft consumed), its id stays its own."""
    draft = new_draft(session)
    lifecycle.submit(session, draft.id, "officer", today=TODAY)
    lifecycle.approve(session, draft.id, "approver", today=TODAY)
    session.commit()
    published_id = draft.id
    other = lifecycle.create_draft(session, "360700", "ganzhou_officer", today=TODAY)
    assert other.id > published_id
