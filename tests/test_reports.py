"""Scheduled reports (化解进度周调度, 问题解决月通报) and 考评: figures against SQL counts on the demo data, scores under
the rule set's scheme, the files, the daily job, the dashboard's list and table."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from xinfang.config import CHINA, RuleSetLibrary, bundled_rules_dir
from xinfang.config.assessment import INDICATORS
from xinfang.config.procedure import DUTY_STEPS, OPEN_STAGES
from xinfang.server.cases.demo_data import generate
from xinfang.server.cases.indicators import HEADLINE
from xinfang.server.jobs.schedule import SCHEDULED_JOBS, JobRun
from xinfang.server.reports.assessment import assess, score
from xinfang.server.reports.figures import bulletin, dispatch
from xinfang.server.reports.periods import PeriodError, latest_complete, parse_period, previous
from xinfang.server.reports.service import due_reports, find_report, make_report, run_due, store_report
from xinfang.server.rulesets.import_export import ensure_database
from xinfang.server.store import db
from xinfang.server.store.models import UTCDateTime
from xinfang.server.store.report_tables import StoredReport

TODAY = dt.date(2025, 6, 30)  # the demo's last day: its closing sweep fires the escalations then (2025-W27)
WEEK, MONTH = "2025-W27", "2025-03"
YINAN = "371321"


@pytest.fixture(scope="module")
def demo(demo_database, bundled):
    """The module's demo database with a year of 300 cases to TODAY."""
    engine = db.make_engine(demo_database)
    with Session(engine) as session:
        generate(session, bundled, cases=300, seed=7, today=TODAY)
    yield demo_database
    engine.dispose()


@pytest.fixture
def session(demo):
    engine = db.make_engine(demo)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def small_demo(database_url, bundled):
    """80 demo cases on a database of each kind (SQLite, PostgreSQL), for the SQL of the figures."""
    ensure_database(database_url, bundled)
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        generate(session, bundled, cases=80, seed=7, today=TODAY)
        yield session
    engine.dispose()


# Direct counts, written apart from the report code.

PENDING = f"""
    SELECT p.id, p.route_unit, MIN(d.due_on) AS due_on FROM petition p JOIN case_deadline d ON d.petition_id = p.id
    WHERE p.jurisdiction_code LIKE :prefix AND p.received_on <= :end
      AND d.step IN ({", ".join(f"'{s}'" for s in DUTY_STEPS)})
      AND (d.done_on > :end OR (d.done_on IS NULL AND p.stage IN ({", ".join(f"'{s}'" for s in OPEN_STAGES)})))
    GROUP BY p.id, p.route_unit"""


def open_by_unit(session, code: str, end: dt.date) -> dict:
    rows = session.execute(text(f"SELECT route_unit, COUNT(*), SUM(CASE WHEN due_on < :end THEN 1 ELSE 0 END) "
                                f"FROM ({PENDING}) pending GROUP BY route_unit"), {"prefix": code + "%", "end": end})
    return {unit: (int(n), int(late)) for unit, n, late in rows}


def fired_in(session, code: str, start: dt.date, end: dt.date, letters_only: bool = False) -> int:
    query = text("SELECT COUNT(*) FROM case_escalation e JOIN petition p ON p.id = e.petition_id "
                 "WHERE p.jurisdiction_code LIKE :prefix AND e.fired_at >= :since AND e.fired_at < :until"
                 + (" AND e.letter = :yes" if letters_only else "")).bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime()))
    params = {"prefix": code + "%", "since": dt.datetime.combine(start, dt.time(), CHINA),
              "until": dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), CHINA)}
    return session.scalar(query, params | ({"yes": True} if letters_only else {}))


def received_by_unit(session, code: str, start: dt.date, end: dt.date) -> dict:
    rows = session.execute(text(
        "SELECT route_unit, COUNT(*) FROM petition WHERE jurisdiction_code LIKE :prefix "
        "AND received_on BETWEEN :start AND :end AND route_unit IS NOT NULL GROUP BY route_unit"),
        {"prefix": code + "%", "start": start, "end": end})
    return {unit: int(n) for unit, n in rows}


# 周调度 and 月通报: the figures against the SQL counts

def test_weekly_dispatch_counts_the_open_and_overdue_cases_by_unit_and_the_escalations_of_the_week(small_demo, bundled):
    week = parse_period(WEEK, "weekly")
    found = dispatch(small_demo, bundled, YINAN, week)
    expected = open_by_unit(small_demo, YINAN, week.end)
    assert expected, "the demo leaves cases open in 沂南县"
    assert {u["unit"]: (u["open"], u["overdue"]) for u in found.units if u["open"]} == expected
    assert len(found.cases) == sum(n for n, _ in expected.values())
    assert [c["days_left"] for c in found.cases] == sorted(c["days_left"] for c in found.cases)
    fired = fired_in(small_demo, YINAN, week.start, week.end)
    assert fired and len(found.escalations) == fired == sum(u["escalations"] for u in found.units)
    assert sum(u["letters"] for u in found.units) == fired_in(small_demo, YINAN, week.start, week.end, True)
    before = parse_period("2025-W26", "weekly")
    assert dispatch(small_demo, bundled, YINAN, before).escalations == []  # the sweep ran on 2025-06-30


def test_monthly_bulletin_gives_each_unit_this_month_and_the_month_before(small_demo, bundled):
    month = parse_period(MONTH, "monthly")
    found = bulletin(small_demo, bundled, YINAN, month)
    assert {row["key"]: row["cases"] for row in found.units} == received_by_unit(small_demo, YINAN, month.start,
                                                                                 month.end)
    before = previous(month)
    earlier = received_by_unit(small_demo, YINAN, before.start, before.end)
    assert {row["key"]: (row["before"] or {}).get("cases", 0) for row in found.units} == {
        row["key"]: earlier.get(row["key"], 0) for row in found.units}
    children = {row["key"]: row["cases"] for row in found.jurisdictions}
    assert children == {code: n for code, n in small_demo.execute(text(
        "SELECT jurisdiction_code, COUNT(*) FROM petition WHERE jurisdiction_code LIKE :below "
        "AND received_on BETWEEN :start AND :end GROUP BY jurisdiction_code"),
        {"below": YINAN + "_%", "start": month.start, "end": month.end})}


def test_monthly_bulletin_ranks_the_units_by_their_assessment(session, bundled):
    found = bulletin(session, bundled, YINAN, parse_period(MONTH, "monthly"))
    for rows, scored in ((found.units, found.assessment.units), (found.jurisdictions, found.assessment.jurisdictions)):
        ranks = {s.key: s.rank for s in scored}
        assert rows and [ranks[row["key"]] for row in rows] == sorted(ranks[row["key"]] for row in rows)


# 考评: the score under the scheme in force

YINAN_SCHEME = {"indicators": {"on_time_conclusion": {"weight": 60, "target": 95},
                               "repeat_petitions": {"weight": 40, "target": 5}},
                "deductions": {"overdue_case": {"points": 1}, "supervision_letter": {"points": 3}}}


def rate(value):
    return {"rate": value}


@pytest.mark.parametrize(("conclusion", "repeats", "overdue", "letters", "points"), [
    (0.95, 0.05, 0, 0, 100),  # on target: nothing lost
    (0.76, 0.0, 0, 0, 88),  # 19 points short of 95: 60 × 19/95 = 12
    (1.0, 0.24, 0, 0, 92),  # 19 points above the ceiling of 5: 40 × 19/95 = 8
    (None, None, 2, 1, 95),  # nothing measured: only the deductions, 2 × 1 + 1 × 3
    (0.0, 1.0, 200, 0, 0),  # never below 0
])
def test_an_indicator_short_of_its_target_loses_its_weight_in_proportion(conclusion, repeats, overdue, letters,
                                                                          points):
    found, losses = score(YINAN_SCHEME, {"on_time_conclusion": rate(conclusion), "repeat_petitions": rate(repeats)},
                          overdue, letters)
    assert found == points
    assert all("扣" in loss.reason for loss in losses)


def test_the_schemes_weigh_the_indicators_the_dashboard_shows():
    assert tuple(INDICATORS) == HEADLINE
    schema = json.loads((Path(bundled_rules_dir()).parent / "schema" / "ruleset.schema.json").read_text("utf-8"))
    assert tuple(schema["$defs"]["assessment"]["properties"]["indicators"]["properties"]) == HEADLINE


def test_yinan_assesses_with_linyis_scheme_and_its_own_changes(bundled):
    scheme = bundled.effective(YINAN, TODAY).get("assessment")
    assert {k: v["weight"] for k, v in scheme["indicators"].items()} == {
        "on_time_acceptance": 15, "on_time_conclusion": 25, "first_petition_resolution": 30, "repeat_petitions": 10,
        "satisfaction": 20}
    assert scheme["indicators"]["first_petition_resolution"]["target"] == 98  # 沂南县: 一次性化解率不低于98%
    assert scheme["deductions"]["supervision_letter"]["points"] == 3  # heavier than 临沂市's 2


def test_a_units_score_follows_the_weights_of_the_rule_set(session, bundled, tmp_path):
    """Moving 10 points from 按期办结率 to 一次性化解率 in 沂南县's YAML changes the scores, no code changed."""
    start, end = dt.date(2024, 7, 1), TODAY
    before = {s.key: s for s in assess(session, bundled, YINAN, start, end, TODAY).units}
    rules = tmp_path / "rulesets"
    shutil.copytree(bundled_rules_dir(), rules)
    yaml_file = rules / "371321_yinan" / "2024-01-01.yaml"
    source = yaml_file.read_text("utf-8")
    changed = (source.replace("on_time_conclusion:        {weight: 25", "on_time_conclusion:        {weight: 15")
               .replace("first_petition_resolution: {weight: 30", "first_petition_resolution: {weight: 40"))
    assert changed != source
    yaml_file.write_text(changed, "utf-8")
    after = {s.key: s for s in assess(session, RuleSetLibrary.load([rules]), YINAN, start, end, TODAY).units}
    moved = [key for key, s in before.items()
             if any(loss.item in ("on_time_conclusion", "first_petition_resolution") for loss in s.losses)]
    assert moved, "some unit of 沂南县 misses 按期办结率 or 一次性化解率 over the year"
    for key in moved:
        lost = {loss.item: loss.points for loss in before[key].losses}
        expected = before[key].points + lost.get("on_time_conclusion", 0) * 10 / 25 \
            - lost.get("first_petition_resolution", 0) * 10 / 30
        assert after[key].points == pytest.approx(expected, abs=0.02)
        assert after[key].points != before[key].points


def test_the_assessment_counts_each_units_overdue_cases_and_supervision_letters(session, bundled):
    start, end = dt.date(2024, 7, 1), TODAY
    found = assess(session, bundled, YINAN, start, end, TODAY)
    assert fired_in(session, YINAN, start, end, True) == sum(s.letters for s in found.units)
    for s in found.units:
        lost = {loss.item: loss.points for loss in s.losses}
        assert lost.get("overdue_case", 0) == s.overdue * 1 and lost.get("supervision_letter", 0) == s.letters * 3
        assert s.points == pytest.approx(max(0, 100 - sum(lost.values())), abs=0.011)
    assert [s.rank for s in found.units] == sorted(s.rank for s in found.units)
    assert {s.key for s in found.jurisdictions} <= {j.code for j in bundled.tree.children(YINAN)}


def test_no_scheme_in_force_means_no_assessment(session, bundled):
    assert assess(session, bundled, "430981", dt.date(2024, 7, 1), TODAY, TODAY) is None  # 沅江市 writes none


# The rule set's sections: checked at file:line

def county_under_linyi(write_ruleset, body: str):
    header = 'jurisdiction: {code: "371302", name: 兰山区, level: county}\nversion: "2025.1"\neffective_from: 2025-01-01\n'
    return write_ruleset("lanshan.yaml", header + textwrap.dedent(body))


@pytest.mark.parametrize(("body", "line", "expected"), [
    ("""\
        assessment:
          deductions:
            overdue_case: {points: 0.5, basis: 兰山区办法}
        """, 6, ("0.5 is below the 1 points per overdue_case in force above", "371300_linyi/2023-01-01.yaml:")),
    ("""\
        assessment:
          indicators:
            satisfaction: {weight: 30, target: 90}
        """, 5, ("the weights in force sum to 110, not 100", "lanshan.yaml:6")),
    ("""\
        assessment:
          indicators:
            repeat_petitions: {weight: 10, target: 8}
        """, 6, ("a target of 8% is above the 5% in force above",)),
    ("""\
        reports:
          weekly:
            kind: weekly_dispatch
            name: 周调度
            audience: 区委、区政府
            cadence: daily
            level: county
        """, 9, ("cadence",)),
])
def test_a_county_may_not_loosen_the_citys_assessment_or_invent_a_cadence(write_ruleset, issues_against_bundled,
                                                                          body, line, expected):
    county = county_under_linyi(write_ruleset, body)
    issues = issues_against_bundled(county)
    assert any(issue.startswith(f"{county}:{line}:") and all(part in issue for part in expected)
               for issue in issues), issues


def test_a_county_may_deduct_more_and_set_stricter_targets(write_ruleset, issues_against_bundled):
    county = county_under_linyi(write_ruleset, """\
        assessment:
          indicators:
            satisfaction:     {weight: 10, target: 95}
            repeat_petitions: {weight: 20, target: 3}
          deductions:
            supervision_letter: {points: 5}
        """)
    assert issues_against_bundled(county) == []


# Periods

@pytest.mark.parametrize(("label", "cadence", "start", "end"), [
    ("2024-W10", "weekly", "2024-03-04", "2024-03-10"),
    ("2024-W10", "fortnightly", "2024-02-26", "2024-03-10"),
    ("2020-W53", "fortnightly", "2020-12-28", "2021-01-03"),
    ("2024-02", "monthly", "2024-02-01", "2024-02-29"),
])
def test_a_period_label_names_its_days(label, cadence, start, end):
    period = parse_period(label, cadence)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize(("label", "cadence"), [
    ("2024-W09", "fortnightly"), ("2024-03", "weekly"), ("2024-W10", "monthly"), ("2023-W53", "weekly"),
    ("2024-13", "monthly")])
def test_a_period_that_does_not_fit_the_cadence_is_refused_in_chinese(label, cadence):
    with pytest.raises(PeriodError, match=f"期别“{label}”"):
        parse_period(label, cadence)


@pytest.mark.parametrize(("today", "cadence", "label"), [
    ("2024-03-11", "weekly", "2024-W10"), ("2024-03-17", "weekly", "2024-W10"),
    ("2024-03-11", "fortnightly", "2024-W10"), ("2024-03-18", "fortnightly", "2024-W10"),
    ("2024-03-01", "monthly", "2024-02"), ("2024-01-01", "monthly", "2023-12"),
])
def test_a_report_made_today_covers_the_last_period_ended(today, cadence, label):
    assert latest_complete(cadence, dt.date.fromisoformat(today)).label == label


# The command line, the files, the job

def test_xinfang_report_writes_an_xlsx_and_a_pdf_with_its_chinese_font_and_keeps_them(xinfang, demo, tmp_path):
    from openpyxl import load_workbook

    from xinfang.server.pdf_fonts import PDF_FONTS
    written = {}
    for kind, period in (("weekly_dispatch", WEEK), ("monthly_bulletin", MONTH)):
        result = xinfang("report", kind, YINAN, "--period", period, "--database", demo, "--out", tmp_path)
        assert result.exit_code == 0, result.output
        written[kind] = [Path(line) for line in result.stdout.split()]
        xlsx, pdf = written[kind]
        book = load_workbook(io.BytesIO(xlsx.read_bytes()))
        assert book.sheetnames and book.worksheets[0]["A1"].value.startswith("沂南县")
        assert pdf.read_bytes().startswith(b"%PDF")
        if any(Path(p).exists() for p in PDF_FONTS):
            assert b"/FontFile2" in pdf.read_bytes()
    assert written["weekly_dispatch"][0].name == "371321-化解进度周调度-2025-W27.xlsx"
    assert load_workbook(written["monthly_bulletin"][0]).sheetnames[-1].endswith("得分排名")
    engine = db.make_engine(demo)
    with Session(engine) as session:
        kept = session.scalars(select(StoredReport.period).where(StoredReport.jurisdiction_code == YINAN)).all()
    engine.dispose()
    assert {WEEK, MONTH} <= set(kept)


@pytest.mark.parametrize(("args", "message"), [
    (("weekly_dispatch", YINAN, "--period", "2025-03"), "期别“2025-03”不是周次"),
    (("yearly", YINAN, "--period", "2025"), "没有“yearly”这种报告"),
])
def test_xinfang_report_refuses_what_it_cannot_make(xinfang, demo, args, message):
    result = xinfang("report", *args, "--database", demo)
    assert result.exit_code == 1 and message in result.stderr


def test_the_rule_set_names_the_report_a_kind_asks_for(bundled):
    assert find_report(bundled, YINAN, "weekly_dispatch", TODAY)[1]["name"] == "化解进度周调度"
    assert find_report(bundled, YINAN, "monthly_bulletin", TODAY)[1]["name"] == "问题解决月通报"
    assert find_report(bundled, "430981114", "township_screening", TODAY)[1]["cadence"] == "fortnightly"
    assert find_report(bundled, "371300", "weekly_dispatch", TODAY)[1]["name"] == "信访事项周调度"  # none configured


def test_the_daily_job_makes_each_due_report_once_however_often_it_runs(small_demo, database_url, bundled):
    job = next(job for job in SCHEDULED_JOBS if job.name == "scheduled_reports")
    now = dt.datetime(2025, 7, 1, 7, 0, tzinfo=CHINA)  # a Tuesday, the 1st: the week and the month before are due
    engine = db.make_engine(database_url)
    try:
        first = job.run(JobRun(engine, now, now, "worker-a"))
        second = job.run(JobRun(engine, now, now, "worker-b"))
        with Session(engine) as session:
            kept = session.execute(select(StoredReport.jurisdiction_code, StoredReport.report, StoredReport.period,
                                          StoredReport.generated_by)).all()
    finally:
        engine.dispose()
    assert first.startswith("reports: ") and " 0 made" not in first
    assert second.endswith(f"0 made, {len(kept)} already kept")
    assert {(code, report, period) for code, report, period, _ in kept} >= {
        (YINAN, "weekly_dispatch", "2025-W26"), (YINAN, "monthly_bulletin", "2025-06"),
        ("430981", "city_screening", "2025-06"), ("430981114", "township_screening", "2025-W26"),
        ("430981114", "village_screening", "2025-W26")}
    assert len(kept) == len(due_reports(bundled, now.date()))  # every township, its cases or none
    assert {by for *_, by in kept} == {"worker-a"}


def test_a_report_kept_by_another_worker_is_not_kept_twice(small_demo, bundled):
    key, spec = find_report(bundled, YINAN, "weekly_dispatch", TODAY)
    made = make_report(small_demo, bundled, YINAN, key, spec, WEEK)
    assert store_report(small_demo, bundled, made, "worker-a") is True
    assert store_report(small_demo, bundled, made, "worker-b") is False
    assert small_demo.scalar(select(func.count()).select_from(StoredReport)) == 1


# The dashboard

@pytest.fixture(scope="module")
def app(demo, app_for, bundled):
    """The app on the demo database, with the reports the daily job made on 2025-07-01."""
    engine = db.make_engine(demo)
    run_due(engine, bundled, dt.datetime(2025, 7, 1, 7, 0, tzinfo=CHINA), "test")
    engine.dispose()
    return app_for(demo)


def test_the_dashboard_lists_the_kept_reports_for_download(app, sign_in):
    supervisor = sign_in(app, "yinan_supervisor")
    page = supervisor.text(f"/dashboard/{YINAN}/reports")
    assert "化解进度周调度" in page and "问题解决月通报" in page and "2025年第26周" in page and "2025年6月" in page
    assert "weekly_dispatch" not in page and ".yaml" not in page
    links = [part.split('"')[0] for part in page.split('href="')[1:] if "/reports/" in part.split('"')[0]]
    assert links and all(link.endswith((".xlsx", ".pdf")) for link in links)
    pdf = supervisor.get(next(link for link in links if link.endswith(".pdf")))
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    xlsx = supervisor.get(next(link for link in links if link.endswith(".xlsx")))
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


def test_a_report_of_another_jurisdiction_is_not_served(app, sign_in):
    supervisor = sign_in(app, "linyi_supervisor")
    engine = db.make_engine(app.config["DATABASE_URL"])
    with Session(engine) as session:
        yuanjiang = session.scalar(select(StoredReport.id).where(StoredReport.jurisdiction_code == "430981"))
    engine.dispose()
    assert supervisor.get(f"/dashboard/371300/reports/{yuanjiang}.pdf").status_code == 404
    assert sign_in(app, "yinan_supervisor").get("/dashboard/371300/reports").status_code == 403


def test_the_dashboard_shows_the_assessment_ranked_with_the_points_lost(app, sign_in):
    page = sign_in(app, "linyi_supervisor").text("/dashboard/371300?from=2024-07-01&to=2025-06-30")
    assert "考评排名" in page and "临沂市信访工作考评" in page and "下级区划得分排名" in page
    assert "沂南县" in page.split("考评排名", 1)[1]
    section = page.split('id="h-assessment"', 1)[1].split("</section>", 1)[0]
    assert "on_time_conclusion" not in section and "supervision_letter" not in section and "扣" in section


def test_the_rule_set_page_shows_the_reports_and_the_assessment_in_chinese(client):
    page = client.get(f"/jurisdictions/{YINAN}/ruleset").get_data(as_text=True)
    reports = page.split('id="reports"', 1)[1].split("</section>", 1)[0]
    assert "化解进度周调度" in reports and "每周" in reports and "月通报" in reports and "县级" in reports
    assessment = page.split('id="assessment"', 1)[1].split("</section>", 1)[0]
    assert "沂南县信访工作考评" in assessment and "初信初访一次性化解率" in assessment and "不低于 98%" in assessment
    assert "督办函" in assessment and "不高于 5%" in assessment


def test_the_reports_name_each_unit_by_its_real_name_never_a_template(small_demo, bundled):
    """Art. 21, 22: a unit is named as the case's jurisdiction fills in its rule set's name (沂南县农业农村局)."""
    month = parse_period(MONTH, "monthly")
    found = bulletin(small_demo, bundled, YINAN, month)
    week = dispatch(small_demo, bundled, YINAN, parse_period(WEEK, "weekly"))
    names = [row["name"] for row in found.units] + [u["name"] for u in week.units]
    assert names and not [name for name in names if name and "{" in name]
