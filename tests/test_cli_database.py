"""The command line on a database: one rule source (`--rules DIR`, `--database URL`), `xinfang import`,
`xinfang export`, and `xinfang serve` over a bundled file changed after its version was published.

DESIGN.md, contract additions (second stage). Every test taking `database_url` runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import flask
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.config import bundled_library
from xinfang.config.library import display_name, find_ruleset_files
from xinfang.server.rulesets.import_export import ensure_database, export_version, import_files
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store import db
from xinfang.server.store.models import RuleSetVersionRecord

# A new version of Yinan County's rule set, alone in its folder: the levels above come from the database.
YINAN_2025 = ('jurisdiction: {code: "371321", name: 沂南县, level: county}\n'
              'version: "2025.1"\n'
              "effective_from: 2025-01-01\n"
              "time_limits:\n"
              "  route: {days: 2, unit: calendar, basis: 测试}\n")  # line 5
CASE_2025 = {"received_on": "2025-06-03", "intake": "visit", "text": "村里征地拆迁补偿款至今未发放", "representatives": 3}


@pytest.fixture
def published(database_url):
    """A database at the newest schema with the bundled rule sets published, as `xinfang serve` leaves it."""
    ensure_database(database_url)
    return database_url


@pytest.fixture
def rules_copy(rules_dir, tmp_path):
    """A copy of the bundled rule sets a test may edit; `published` holds the same texts."""
    return Path(shutil.copytree(rules_dir, tmp_path / "rules"))


@pytest.fixture
def yinan_2025(write_ruleset):
    """A folder holding only the new Yinan version YINAN_2025."""
    return write_ruleset("new/371321_yinan/2025-01-01.yaml", YINAN_2025).parent.parent


def versions_in(url: str) -> list[str]:
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            return sorted(r.label for r in session.scalars(select(RuleSetVersionRecord)))
    finally:
        engine.dispose()


def resolved(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_resolve_and_evaluate_with_database_read_the_published_versions(xinfang, published, yinan_2025, tmp_path):
    imported = xinfang("import", yinan_2025, "--database", published)
    assert imported.exit_code == 0, imported.stderr
    assert "imported 1 rule-set versions (371321@2025.1)" in imported.stdout

    yinan = resolved(xinfang("resolve", "371321", "--at", "2025-06-01", "--database", published))
    assert yinan["ruleset_version"] == "000000@2022.1+370000@2016.1+371300@2023.1+371321@2025.1"
    assert yinan["ruleset"]["time_limits"]["route"]["days"] == 2
    assert yinan["sources"]["time_limits.route.days"]["file"] == "db:371321@2025.1"  # published, no file of its own
    # A published text that is a bundled file byte for byte cites that file, as the server's decisions do.
    assert yinan["sources"]["time_limits.conclude.days"]["file"].endswith("000000_national/2022-05-01.yaml")
    files = resolved(xinfang("resolve", "371321", "--at", "2025-06-01"))  # no source given: the bundled files
    assert files["ruleset_version"].endswith("371321@2024.1")

    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE_2025, ensure_ascii=False), "utf-8")
    decision = resolved(xinfang("evaluate", "371321", case, "--database", published))
    assert decision["ruleset_version"].endswith("371321@2025.1")
    assert decision["deadlines"]["route"]["date"] == "2025-06-05"  # 2 calendar days, Yinan 2025.1
    assert decision["deadlines"]["route"]["source"].startswith("db:371321@2025.1:5 ")


def test_database_url_from_the_environment_is_the_same_source(xinfang, published):
    result = xinfang("resolve", "371321", "--at", "2024-06-01", env={"DATABASE_URL": published})
    assert resolved(result)["ruleset_version"].endswith("371321@2024.1")


def test_scenario_tests_run_against_the_published_versions(xinfang, published):
    result = xinfang("test", "--database", published)  # the bundled scenarios, decided by the database
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_rules_and_database_together_are_the_files_over_the_published_versions(xinfang, published, yinan_2025):
    yinan = resolved(xinfang("resolve", "371321", "--at", "2025-06-01", "--rules", yinan_2025, "--database", published))
    assert yinan["ruleset_version"].endswith("371300@2023.1+371321@2025.1")  # Linyi from the database
    assert yinan["sources"]["time_limits.route.days"]["file"] == display_name(yinan_2025 / "371321_yinan/2025-01-01.yaml")
    assert "371321@2025.1" not in versions_in(published)  # nothing written


def test_export_writes_back_every_imported_file_byte_for_byte(xinfang, published, rules_dir, tmp_path):
    out = tmp_path / "out"
    for code in bundled_library().codes():
        result = xinfang("export", code, "--out", out, "--database", published)
        assert result.exit_code == 0, result.stderr
    originals = {f.relative_to(rules_dir): f.read_bytes() for f in find_ruleset_files([rules_dir])}
    assert {f.relative_to(out): f.read_bytes() for f in find_ruleset_files([out])} == originals  # same layout too

    one = xinfang("export", "371321", "--version", "2024.1", "--database", published)
    assert one.exit_code == 0 and one.stdout_bytes == (rules_dir / "371321_yinan/2024-01-01.yaml").read_bytes()
    again = xinfang("import", out, "--database", published)  # exported files are what is published
    assert again.exit_code == 0 and "versions already in the database" in again.stdout


@pytest.mark.parametrize(("change", "find"), [
    (lambda text: text.replace("name: 复杂问题跟踪办\n", "name: 复杂问题跟踪办理\n"), "name: 复杂问题跟踪办理"),
    (lambda text: text + "# 一处注释也算修改\n", "# 一处注释也算修改"),
], ids=["a-value", "a-comment"])
def test_import_refuses_a_changed_file_naming_it_and_the_published_version(
        xinfang, published, rules_copy, line_of, change, find):
    # Published versions never change (DESIGN.md): a change is a new version with its own label and date.
    file = rules_copy / "371321_yinan/2024-01-01.yaml"
    file.write_text(change(file.read_text("utf-8")), "utf-8")
    before = versions_in(published)
    result = xinfang("import", rules_copy, "--database", published)
    assert result.exit_code == 1 and result.stdout == ""
    [problem] = [line for line in result.stderr.splitlines() if "already published" in line]
    assert problem.startswith(f"{display_name(file)}:{line_of(file, find)}: 371321@2024.1 is already published "
                              f"with different content")
    assert "xinfang export 371321 --version 2024.1" in problem and "Traceback" not in result.stderr
    assert "nothing was imported" in result.stderr and versions_in(published) == before


def test_import_checks_a_county_folder_against_the_published_levels_above(xinfang, published, write_ruleset):
    # Routing in 10 days breaks Linyi's bound of 7, which only the database holds here.
    folder = write_ruleset("loose/371321_yinan/2025-01-01.yaml", YINAN_2025.replace("days: 2", "days: 10")).parent
    result = xinfang("import", folder, "--database", published)
    assert result.exit_code == 1
    assert f"{display_name(folder / '2025-01-01.yaml')}:5:" in result.stderr
    assert "above the bound of 7" in result.stderr and "371321@2025.1" not in versions_in(published)


def test_import_files_is_what_the_command_does(published, yinan_2025):
    engine = db.make_engine(published)
    try:
        with Session(engine) as session, session.begin():
            report = import_files(session, [yinan_2025])
        with Session(engine) as session:
            assert report.versions_added == ["371321@2025.1"]
            assert export_version(session, "371321", "2025.1") == YINAN_2025
    finally:
        engine.dispose()


def test_serve_keeps_the_published_version_of_a_changed_file_and_says_so(xinfang, database_url, rules_copy,
                                                                         line_of, monkeypatch):
    served = []
    monkeypatch.setattr(flask.Flask, "run", lambda app, host, port: served.append(app))
    first = xinfang("serve", "--rules", rules_copy, "--database", database_url, "--no-demo-data",
                    "--no-demo-accounts")
    assert first.exit_code == 0, first.stderr
    file = rules_copy / "371321_yinan/2024-01-01.yaml"
    file.write_text(file.read_text("utf-8").replace("name: 复杂问题跟踪办\n", "name: 复杂问题跟踪办理\n"), "utf-8")
    (rules_copy / "371321_yinan/2025-01-01.yaml").write_text(YINAN_2025, "utf-8")

    again = xinfang("serve", "--rules", rules_copy, "--database", database_url, "--no-demo-data",
                    "--no-demo-accounts")
    assert again.exit_code == 0, again.stderr
    assert (f"xinfang: warning: {display_name(file)}:{line_of(file, '复杂问题跟踪办理')}: not imported, the published "
            f"371321@2024.1 stays in force: 371321@2024.1 is already published with different content") in again.stderr
    assert "imported 1 rule-set versions (371321@2025.1)" in again.stderr  # the other new files still are
    assert "1 changed file(s) not imported" in again.stderr
    app = served[-1]
    with app.app_context():
        library = library_of(app)
        assert library.effective("371321", dt.date(2024, 6, 1)).get("tracks.normal.name") == "复杂问题跟踪办"
        assert library.version_in_force("371321", dt.date(2025, 6, 1)).label == "371321@2025.1"
    for each in served:
        db.database_of(each).dispose()


@pytest.mark.parametrize(("args", "message"), [
    (["export", "371321"], "371321 has 2 published versions (2021.1, 2024.1): choose one with --version"),
    (["export", "371321", "--version", "1999"],
     "no published rule-set version 371321@1999 in the database (published: 2021.1, 2024.1)"),
    (["export", "110101"], "no published rule-set version of 110101 in the database"),
    (["export", "37132"], "'37132' is not a GB/T 2260 code"),
    (["resolve", "999999"], "no jurisdiction has code '999999'"),
], ids=["several-versions", "unknown-version", "nothing-published-there", "not-a-code", "unknown-code"])
def test_mistakes_with_a_database_exit_1_saying_what_is_wrong(xinfang, published, args, message):
    result = xinfang(*args, "--database", published)
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


def test_export_does_not_overwrite_another_file(xinfang, published, tmp_path):
    other = tmp_path / "out/371321_yinan/2024-01-01.yaml"
    other.parent.mkdir(parents=True)
    other.write_text("# 我自己的文件\n", "utf-8")
    result = xinfang("export", "371321", "--out", tmp_path / "out", "--database", published)
    assert result.exit_code == 1 and f"{other} exists and is not the published text" in result.stderr
    assert other.read_text("utf-8") == "# 我自己的文件\n" and not (other.parent / "2021-01-01.yaml").exists()


UNREADABLE = {
    "missing-file": ("{tmp}/missing.sqlite3", "there is no database sqlite:///{tmp}/missing.sqlite3"),
    "not-upgraded": ("{tmp}/empty.sqlite3", "has no xinfang tables, not at the newest schema"),
    "unreachable": ("postgresql+psycopg://nobody:secret@127.0.0.1:1/x",
                    "cannot read the database postgresql+psycopg://nobody:***@127.0.0.1:1/x"),
}


@pytest.mark.parametrize("database", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize("command", [["resolve", "371321"], ["import", "{tmp}"], ["export", "371321"]],
                         ids=lambda command: command[0])
def test_a_database_that_cannot_be_read_is_named_with_what_to_do(xinfang, tmp_path, database, command):
    (tmp_path / "empty.sqlite3").touch()
    url, message = (text.format(tmp=tmp_path) for text in database)
    result = xinfang(*(arg.format(tmp=tmp_path) for arg in command), "--database", url)
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "secret" not in result.stderr and not (tmp_path / "missing.sqlite3").exists()


@pytest.mark.parametrize(("command", "message"), [
    (["resolve", "371321"], "no rule-set version is published in the database sqlite:///"),
    (["export", "371321"], "no published rule-set version of 371321 in the database"),
    (["import", "{tmp}/nothing"], "no rule-set files (*.yaml) found in"),
], ids=["resolve", "export", "import-no-files"])
def test_an_empty_database_is_told_apart_from_an_empty_answer(xinfang, tmp_path, command, message):
    url = f"sqlite:///{tmp_path / 'upgraded.sqlite3'}"
    db.upgrade(url)
    (tmp_path / "nothing").mkdir()
    result = xinfang(*(arg.format(tmp=tmp_path) for arg in command), "--database", url)
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr
