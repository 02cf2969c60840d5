"""The demo generator: deterministic, valid for every rule set (through the workflow), plausible, done once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import flask
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinfang.server.cases.demo_data import demo_period, generate
from xinfang.server.cases.indicators import indicators
from xinfang.server.cli import main
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db
from xinfang.server.store.case_tables import CaseEscalation, CaseEvent, Petition

TODAY = dt.date(2025, 6, 30)  # a fixed day in the past: the same cases whenever the tests run


def fresh(url: str, bundled):
    ensure_database(url, bundled)
    return db.make_engine(url)


def shape(session: Session) -> list[tuple]:
    rows = session.execute(select(Petition.number, Petition.received_on, Petition.intake, Petition.category,
                                  Petition.track, Petition.stage, Petition.outcome, Petition.route_unit,
                                  Petition.case_json).order_by(Petition.id))
    return [tuple(row) for row in rows]


@pytest.fixture(scope="module")
def year(tmp_path_factory, bundled):
    """160 cases over the year to TODAY, generated once for the module."""
    engine = fresh(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}", bundled)
    with Session(engine) as session:
        result = generate(session, bundled, cases=160, seed=7, today=TODAY)
        yield session, result
    engine.dispose()


def test_the_same_seed_gives_the_same_cases(tmp_path, bundled):
    found = []
    for name in ("a", "b"):
        engine = fresh(f"sqlite:///{tmp_path / name}.sqlite3", bundled)
        with Session(engine) as session:
            result = generate(session, bundled, cases=30, seed=3, today=TODAY)
            found.append((shape(session), session.scalar(select(func.count()).select_from(CaseEvent)), result.stages))
        engine.dispose()
    assert found[0] == found[1]
    assert len(found[0][0]) == 30


def test_every_action_was_accepted_by_the_workflow(year):
    session, result = year
    assert result.refused_actions == []
    assert result.cases == 160 and sum(result.stages.values()) == 160
    assert session.scalar(select(func.count()).select_from(Petition)) == 160


def test_cases_span_the_year_and_the_bundled_jurisdictions(year):
    session, _ = year
    start, end = demo_period(TODAY)
    first, last = session.execute(select(func.min(Petition.received_on), func.max(Petition.received_on))).one()
    assert start <= first <= start + dt.timedelta(days=10) and end - dt.timedelta(days=10) <= last <= end
    codes = set(session.scalars(select(Petition.jurisdiction_code)))
    for prefix in ("371321", "3713", "3711", "3607", "430981"):
        assert any(code.startswith(prefix) for code in codes), prefix
    assert any(len(code) == 9 for code in codes)  # townships too
    intakes = Counter(session.scalars(select(Petition.intake)))
    assert intakes.most_common(1)[0][0] == "online" and {"visit", "letter", "hotline"} <= set(intakes)


def test_texts_petitioners_and_forms_are_filled(year):
    session, _ = year
    cases = list(session.scalars(select(Petition)))
    assert all(p.case_json["text"] for p in cases)
    assert sum("欠" in p.case_json["text"] for p in cases if p.category == "13") >= 1
    yinan_land = [p for p in cases if p.category == "1201"]
    assert yinan_land and all(p.jurisdiction_code.startswith("371321") for p in yinan_land)
    assert any("parcel_number" in p.case_json.get("form", {}) for p in yinan_land)
    ids = [p.case_json["petitioner"]["id_number"] for p in cases if "id_number" in p.case_json.get("petitioner", {})]
    assert ids and all(len(i) == 18 for i in ids)
    assert any(p.case_json.get("representatives") for p in cases)  # group visits


def test_the_workflow_went_its_whole_way(year):
    session, result = year
    actions = Counter(session.scalars(select(CaseEvent.action)))
    for action in ("register", "transfer", "assign", "separate", "accept", "refuse", "request_extension",
                   "approve_extension", "supervise", "answer_supervision", "conclude", "request_review"):
        assert actions[action] > 0, action
    assert {"concluded", "refused", "accepted"} <= set(result.stages)
    rated = Counter(session.scalars(select(CaseEvent.detail["satisfaction"].as_string())
                                    .where(CaseEvent.action == "conclude")))
    assert rated["satisfied"] > rated["basically_satisfied"] > rated["unsatisfied"]


def test_the_closing_sweep_fired_escalations(year):
    session, result = year
    fired = session.scalar(select(func.count()).select_from(CaseEscalation).where(CaseEscalation.fired_at.is_not(None)))
    assert result.escalations == fired > 0


def test_indicators_are_plausible(year, bundled):
    session, _ = year
    found = indicators(session, bundled, "000000", *demo_period(TODAY), as_of=TODAY)
    rates = {k: v["rate"] for k, v in found["indicators"].items()}
    assert found["cases"] == 160
    assert 0.9 <= rates["on_time_acceptance"] <= 1
    assert 0.8 <= rates["on_time_conclusion"] <= 1
    assert 0.93 <= rates["first_petition_resolution"] <= 1
    assert 0.9 <= rates["satisfaction"] <= 1
    assert 0 <= rates["repeat_petitions"] <= 0.1
    assert len(found["by_category"]) >= 10 and found["by_category"][0]["count"] < 100


@pytest.mark.parametrize("today", [dt.date(2024, 2, 29), dt.date(2025, 10, 8)])
def test_valid_whatever_the_day(tmp_path, bundled, today):
    """Other days, other holidays and rule-set versions in force: the workflow still accepts every action."""
    engine = fresh(f"sqlite:///{tmp_path / 'x.sqlite3'}", bundled)
    with Session(engine) as session:
        result = generate(session, bundled, cases=40, seed=11, today=today)
    engine.dispose()
    assert result.refused_actions == [] and result.cases == 40


def test_done_once(database_url, bundled):
    engine = fresh(database_url, bundled)
    with Session(engine) as session:
        first = generate(session, bundled, cases=12, today=TODAY)
        again = generate(session, bundled, cases=12, today=TODAY)
        count = session.scalar(select(func.count()).select_from(Petition))
    engine.dispose()
    assert (first.skipped, again.skipped, count) == (False, True, 12)
    assert "已有信访事项" in str(again)


def test_cli_demo(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--cases", "8", "--database", url])
    assert result.exit_code == 0, result.output
    assert "生成演示数据 8/8…" in result.output and "演示数据：生成 8 件" in result.output
    again = runner.invoke(main, ["demo", "--database", url])
    assert again.exit_code == 0 and "已有信访事项，不再生成" in again.output


@pytest.mark.parametrize("option, generated", [(None, True), ("--no-demo-data", False)])
def test_serve_fills_an_empty_database(tmp_path, monkeypatch, option, generated):
    monkeypatch.setattr(flask.Flask, "run", lambda app, host, port: None)
    monkeypatch.setattr("xinfang.server.cases.demo_data.DEFAULT_CASES", 6)
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    result = CliRunner().invoke(main, ["serve", "--database", url, "--no-demo-accounts", *([option] if option else [])])
    assert result.exit_code == 0, result.output
    assert ("演示数据：生成 6 件" in result.output) is generated


def test_the_yinan_dashboard_charts_cases_by_real_unit_with_no_catch_all_bar(year, bundled):
    # 《信访工作条例》第二十一条、第二十二条: each case goes to the unit that handles it, so 按承办单位 shows who is late.
    session, _ = year
    found = indicators(session, bundled, "371321", *demo_period(TODAY), TODAY)
    names = [u["name"] for u in found["by_unit"]]
    assert len(names) >= 5 and all(names), found["by_unit"]
    assert "有权处理的机关、单位" not in names and not any("{" in n for n in names)
    assert "沂南县自然资源和规划局" in names
