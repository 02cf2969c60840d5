"""The `xinfang` command line: thin click wrappers over functions the tests call directly."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from xinfang.config import (
    ConfigError,
    NoRuleSetInForce,
    RuleSetLibrary,
    UnknownJurisdiction,
    bundled_rules_dir,
    today_in_china,
)
from xinfang.config.library import display_name, find_ruleset_files
from xinfang.config.units import catch_all_warnings


def database_option(command):
    """`--database URL` of the commands that work on a database (DESIGN.md, public contract)."""
    return click.option("--database", "database", envvar="DATABASE_URL", default=None, metavar="URL",
                        help="Database URL (default: the embedded SQLite file; DATABASE_URL also works).")(command)


def common_options(command):
    """`--rules DIR` and `--database URL`, which every command takes (DESIGN.md, public contract)."""
    command = database_option(command)
    command = click.option("--rules", "rules", type=click.Path(exists=True, file_okay=False, path_type=Path),
                           default=None, metavar="DIR", help="Rule-set folder (default: the bundled config/).")(command)
    return command


def rule_source_options(command):
    """`--rules DIR` and `--database URL` of the commands that read rule sets: one rule source (RuleSource)."""
    command = click.option(
        "--database", "database", envvar="DATABASE_URL", default=None, metavar="URL",
        help="Read the versions published in this database, the ones the server decides with (DATABASE_URL "
             "also works); with --rules, the files of DIR over them, as `xinfang import DIR` would publish them.")(command)
    command = click.option(
        "--rules", "rules", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
        metavar="DIR", help="Read the rule-set files of DIR (without --rules or --database: the bundled "
                            "config/rulesets/).")(command)
    return command


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param, ctx) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from xinfang.rules.calendar import DayOutOfRange, parse_day
        try:
            return parse_day(value)
        except DayOutOfRange as err:
            self.fail(str(err), param, ctx)
        except ValueError:
            self.fail(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-06-01", param, ctx)


class DateTimeType(click.ParamType):
    """An ISO 8601 time; without a zone it is Asia/Shanghai time, as every legal date is."""

    name = "DATETIME"

    def convert(self, value: Any, param, ctx) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date and time: write it as ISO 8601, e.g. 2024-06-03T09:00 "
                      "(Asia/Shanghai) or 2024-06-03T01:00Z", param, ctx)
        from xinfang.config import CHINA
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CHINA)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """xinfang: petition (信访) procedure as versioned, validated rule sets.

    \b
    Where validate, resolve, evaluate and test read the rule sets:
      --rules DIR               the files of DIR
      --database URL            the versions published in the database (or DATABASE_URL):
                                what the server decides with, editor publications included
      --rules DIR --database URL
                                the files of DIR over the published versions, as
                                `xinfang import DIR` would publish them (nothing is written)
      neither                   the bundled files, config/rulesets/
    serve, demo, import, export, sweep and db work on --database, by default the embedded
    SQLite file (instance/xinfang.sqlite3); serve decides with its published versions.
    import-orders reads its rule sets as validate does and holds the orders in that database;
    report reads them so too and counts the cases of that database.
    """


def rules_dir(rules: Path | None) -> Path:
    return rules if rules is not None else bundled_rules_dir()


def fail(message: str, code: int = 1) -> None:
    click.echo(f"xinfang: {message}", err=True)
    sys.exit(code)


def library_or_exit(rules: Path | None, database: str | None = None) -> RuleSetLibrary:
    """The library of the rule source (server.rulesets.source.RuleSource), or exit 1 saying what is wrong."""
    from xinfang.server.rulesets.draft_checks import NothingPublished
    from xinfang.server.rulesets.import_export import ImportConflict
    from xinfang.server.rulesets.source import RuleSource
    from xinfang.server.store.db import DatabaseUnavailable
    source = RuleSource(rules, database)
    try:
        return source.library()
    except ConfigError as err:
        click.echo(str(err), err=True)
        fail(f"{source} are not valid ({len(err.issues)} issues above)")
    except ImportConflict as err:
        click.echo("\n".join(err.problems), err=True)
        fail(f"{source} are refused, as `xinfang import {source.rules}` would refuse them "
             f"({len(err.problems)} problems above)")
    except (DatabaseUnavailable, NothingPublished) as err:
        fail(str(err))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@rule_source_options
def validate(paths: tuple[Path, ...], rules: Path | None, database: str | None) -> None:
    """Validate rule-set files (or folders) against the schema and the levels above them.

    The files are checked together with the rule sets of --rules (or --database: the published
    versions), which supply the levels above; a file replaces their version of the same
    jurisdiction and version.
    """
    issues, warnings = validation_issues(paths, library_or_exit(rules, database) if database else rules_dir(rules))
    for issue in issues:
        click.echo(str(issue))
    for warning in warnings:  # on stderr: stdout holds the errors alone (DESIGN.md, public contract)
        click.echo(str(warning), err=True)
    if issues:
        sys.exit(1)
    click.echo(f"{len(paths)} path(s) valid", err=True)


def validation_issues(paths, background: Path | RuleSetLibrary):
    """The issues of the files under `paths`, over the rule sets of a folder or a library, and the warnings
    (a category left at a kind of body: config.units.catch_all_warnings)."""
    library, issues = RuleSetLibrary.collect(paths, background=background if isinstance(background, RuleSetLibrary)
                                             else [background])
    files = {display_name(file) for file in find_ruleset_files(paths)}
    return issues, catch_all_warnings(library, files)


@main.command()
@click.argument("code")
@click.option("--at", "at", type=DateType(), default=None, help="The date (YYYY-MM-DD); default: today in China.")
@rule_source_options
def resolve(code: str, at: dt.date | None, rules: Path | None, database: str | None) -> None:
    """Print the effective rule set of jurisdiction CODE on a date, with the source of every value."""
    library = library_or_exit(rules, database)
    try:
        effective = library.effective(code, at or today_in_china())
    except (UnknownJurisdiction, NoRuleSetInForce, ValueError) as err:
        fail(str(err))
    click.echo(json.dumps(effective.to_json(), ensure_ascii=False, indent=2))


@main.command()
@click.argument("code")
@click.argument("case_file", metavar="CASE.json", type=click.File("rb"))
@click.option("--at", "at", type=DateType(), default=None,
              help="Decide as of this date (YYYY-MM-DD): later stages are disregarded; default: all of them.")
@rule_source_options
def evaluate(code: str, case_file, at: dt.date | None, rules: Path | None, database: str | None) -> None:
    """Print the decision for the case in CASE.json (`-` reads stdin) under the rule set in force in CODE
    on the day the case was received."""
    from xinfang.rules.case_input import CaseError
    from xinfang.rules.decide import evaluate as evaluate_case
    library = library_or_exit(rules, database)
    from xinfang.rules.strict_json import JsonInputError, loads_strict
    try:
        case_json = loads_strict(case_file.read())
    except JsonInputError as err:
        where = f"{err.line}:{err.col}:" if err.line is not None else ""
        fail(f"{case_file.name}:{where} {err.message}")
    try:
        decision = evaluate_case(library, code, case_json, at=at)
    except CaseError as err:
        for problem in err.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    except (UnknownJurisdiction, NoRuleSetInForce) as err:
        fail(str(err))
    click.echo(json.dumps(decision, ensure_ascii=False, indent=2))


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@rule_source_options
def run_scenario_tests(paths: tuple[Path, ...], rules: Path | None, database: str | None) -> None:
    """Run the rule sets' YAML scenario tests (docs/scenarios.md): one line per failure, then
    `N passed, N failed`; exit 1 when any failed or a file is invalid.

    PATH: scenario files, or folders whose `scenarios` folders are searched; default: every
    `scenarios` folder under --rules, else under the bundled config/rulesets/ (also with --database).
    """
    from xinfang.rules.scenarios import run, scenario_files
    library = library_or_exit(rules, database)
    folders = list(paths) or [rules_dir(rules)]
    files = scenario_files(folders)
    if not files:
        fail(f"no scenario files under {', '.join(map(str, folders))}")
    report = run(files, library)
    for line in report.lines:
        click.echo(line)
    click.echo(report.summary)
    if report.failed:
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 256), default=None, envvar="XINFANG_WORKERS", metavar="N",
              help="Production: gunicorn with N processes and no scheduler (run `xinfang worker` for the "
                   "sweeps); the database must be upgraded first. Default: the development server, which "
                   "sweeps in its own process. XINFANG_WORKERS also works.")
@click.option("--demo-accounts/--no-demo-accounts", default=None,
              help="Create the demo accounts README lists (password xinfang-demo) when missing "
                   "(default: yes for the development server, no with --workers).")
@click.option("--demo-data/--no-demo-data", default=None,
              help="When the database holds no case, generate a year of synthetic demo cases (as `xinfang demo`; "
                   "default: yes for the development server, no with --workers).")
@common_options
def serve(host: str, port: int, workers: int | None, demo_accounts: bool | None, demo_data: bool | None,
          rules: Path | None, database: str | None) -> None:
    """Serve the API and admin pages: the development server, or gunicorn with --workers N.

    The development server first creates or upgrades the database and imports the rule-set files (of
    --rules, else the bundled ones) that it lacks; then decides with the versions published in the
    database. A file that differs from its version already published is not imported: that version stays
    in force, with a warning naming both (publish a change as a new version: the editor, or `xinfang
    import`). On a database without cases, it generates the demo cases (--no-demo-data skips it).
    With --workers the database is left as it is: it must be upgraded (`xinfang db upgrade`) and the
    rule sets imported (`xinfang import`) first.
    """
    from xinfang.server.store import db as database_module
    from xinfang.server.web.app import create_app
    production = workers is not None
    library = library_or_exit(rules)
    data_keys_or_exit()
    # The development server speaks plain http: a Secure cookie would never come back, so it is off here
    # unless XINFANG_SESSION_COOKIE_SECURE says otherwise (gunicorn, behind HTTPS, keeps the default, on).
    local_http = None if production or "XINFANG_SESSION_COOKIE_SECURE" in os.environ else False
    app = create_app({"RULES_DIR": str(rules) if rules else None, "DATABASE_URL": database,
                      "SESSION_COOKIE_SECURE": local_http})
    url = database_module.resolve_url(app.config.get("DATABASE_URL"), app.instance_path)
    if production:
        ready_or_exit(url)
    else:
        prepare_database_or_exit(url, rules)
    if demo_accounts if demo_accounts is not None else not production:
        seed_demo_accounts(url)
    if demo_data if demo_data is not None else not production:
        seed_demo_data(url, library)
    app.config["DATABASE_URL"] = url
    if "xinfang.db" not in app.extensions:
        database_module.init_app(app)
    if production:
        from xinfang.server.web.wsgi_server import serve_with_gunicorn
        click.echo(f"gunicorn, {workers} processes on http://{host}:{port}; no scheduler in them: "
                   "`xinfang worker` runs the escalation sweeps", err=True)
        try:
            serve_with_gunicorn(app, host=host, port=port, workers=workers)
        except RuntimeError as err:
            fail(str(err))
        return
    from xinfang.server.jobs import scheduler
    loop = scheduler.init_app(app)
    click.echo("scheduled jobs in this process (the development server's): "
               f"{scheduler.describe(loop.schedule) if loop else 'none (XINFANG_SWEEP_INTERVAL_SECONDS=0)'}", err=True)
    app.run(host=host, port=port)


def ready_or_exit(url: str) -> None:
    """Refuse to serve or work on a database this code cannot use, saying what to do."""
    from xinfang.server.store import db as database_module
    engine = database_module.make_engine(url)
    try:
        problems = database_module.readiness(engine)
    finally:
        engine.dispose()
    if problems:
        fail("; ".join(problems))


def seed_demo_accounts(url: str) -> int:
    """Create the demo accounts (server.accounts.DEMO_USERS) the database lacks; a local demo only."""
    from sqlalchemy.orm import Session

    from xinfang.server.accounts import DEMO_PASSWORD, seed_demo_users
    from xinfang.server.store import db as database_module
    engine = database_module.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            created = seed_demo_users(session)
    finally:
        engine.dispose()
    if created:
        click.echo(f"demo accounts: created {created}, password {DEMO_PASSWORD} (README lists them; "
                   "--no-demo-accounts skips this)", err=True)
    return created


@main.command("demo")
@click.option("--cases", "cases", type=click.IntRange(1, 100_000), default=None, metavar="N",
              help="How many cases (default 1000).")
@click.option("--seed", "seed", type=int, default=None, help="The random seed: the same seed gives the same cases.")
@common_options
def demo_command(cases: int | None, seed: int | None, rules: Path | None, database: str | None) -> None:
    """Fill an empty database with a year of synthetic cases up to today, through the real workflow, then sweep.

    Creates or upgrades the database and imports the rule sets first; does nothing when it already holds cases.
    """
    from xinfang.server.store import db as database_module
    library = library_or_exit(rules)
    data_keys_or_exit()
    url = database_module.resolve_url(database)
    prepare_database_or_exit(url, rules)
    seed_demo_data(url, library, cases=cases, seed=seed)


def seed_demo_data(url: str, library: RuleSetLibrary, *, cases: int | None = None, seed: int | None = None):
    """server.cases.demo_data.generate on the database at `url`, with progress on stderr; skipped when it has cases."""
    from sqlalchemy.orm import Session

    from xinfang.server.cases.demo_data import DEFAULT_CASES, DEFAULT_SEED, generate, has_cases
    from xinfang.server.rulesets.library_store import published_library, remember_files
    from xinfang.server.store import db as database_module
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            click.echo(f"\r生成演示数据 {done}/{total}…", err=True, nl=done == total)
        elif done == total or done % 500 == 0:
            click.echo(f"生成演示数据 {done}/{total}…", err=True)

    engine = database_module.make_engine(url)
    try:
        with Session(engine) as session:
            if has_cases(session):
                click.echo("演示数据：数据库中已有信访事项，不再生成（--no-demo-data 跳过这一步）", err=True)
                return None
            remember_files(library)  # decisions cite the bundled files' names, as the server's do
            decided_by = published_library(session) or library
            total = cases or DEFAULT_CASES
            click.echo(f"数据库中还没有信访事项：按真实办理流程生成一年的演示数据（{total} 件，只生成这一次；"
                       "--no-demo-data 跳过）", err=True)
            click.echo(f"生成演示数据 0/{total}…", err=True, nl=not tty)
            result = generate(session, decided_by, cases=total, seed=DEFAULT_SEED if seed is None else seed,
                              progress=progress)
    finally:
        engine.dispose()
    click.echo(str(result), err=True)
    for problem in result.refused_actions[:10]:
        click.echo(f"  演示数据中被拒绝的操作：{problem}", err=True)
    return result


def data_keys_or_exit() -> None:
    """Read the keys that encrypt petitioners now (server/store/data_keys.py), so a bad one stops the start, saying
    which and where, rather than a first registration."""
    from xinfang.server.store.data_keys import DataKeyError, keyring
    try:
        keyring()
    except DataKeyError as err:
        fail(str(err))


def prepare_database_or_exit(url: str, rules: Path | None) -> None:
    """Upgrade the database and import the rule-set files it lacks, saying what was done and what was kept out."""
    from xinfang.server.rulesets.import_export import ImportConflict, ensure_database
    try:
        upgraded, imported = ensure_database(url, [rules_dir(rules)])
    except ImportConflict as err:
        click.echo("\n".join(err.problems), err=True)
        fail(f"the rule sets in {rules_dir(rules)} cannot be published over the versions in the database "
             f"({len(err.problems)} above)")
    click.echo(str(upgraded), err=True)
    for conflict in imported.kept:
        click.echo(f"xinfang: warning: {conflict.file}:{conflict.line}: not imported, the published "
                   f"{conflict.published} stays in force: {conflict.message}", err=True)
    click.echo(str(imported), err=True)


@main.command("import")
@click.argument("paths", metavar="DIR", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@database_option
def import_command(paths: tuple[Path, ...], database: str | None) -> None:
    """Publish the rule-set files under DIR (folders or files) in the database, each with its exact text.

    The files are checked over the versions already published (a county's folder alone will do); a
    file already published with the same text is left alone. Nothing is imported when a file is not
    valid, or would change a published version (a version never changes: give the file a new
    version label and effective date); each problem names the file and line, and the version.
    The database must exist at the newest schema (`xinfang db upgrade`).
    """
    from xinfang.server.rulesets.import_export import ImportConflict, import_files
    from xinfang.server.store import db as database_module
    url = database_module.resolve_url(database)
    try:
        with database_module.upgraded_session(url) as session, session.begin():
            report = import_files(session, paths)
    except database_module.DatabaseUnavailable as err:
        fail(str(err))
    except ImportConflict as err:
        click.echo("\n".join(err.problems), err=True)
        fail(f"nothing was imported into {database_module.display_url(url)} ({len(err.problems)} problems above)")
    click.echo(str(report))


@main.command("export")
@click.argument("code")
@click.option("--version", "version", default=None, metavar="V",
              help="Only this version (its label, e.g. 2024.1); default: every published version of CODE.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write the files under DIR, laid out as config/rulesets/ (371321_yinan/2024-01-01.yaml); "
                   "default: the one version's text on stdout.")
@database_option
def export_command(code: str, version: str | None, out: Path | None, database: str | None) -> None:
    """Write the versions of CODE published in the database back as YAML, byte for byte the text that was
    imported or published in the editor.

    Without --out, the text of one version goes to stdout (--version chooses it when CODE has several);
    with --out, a file already there is left alone if it has the same bytes, and refused otherwise.
    """
    from xinfang.server.rulesets.import_export import ExportRefused, export_version, write_versions
    from xinfang.server.store import db as database_module
    url = database_module.resolve_url(database)
    try:
        with database_module.upgraded_session(url) as session:
            if out is None:
                text = export_version(session, code, version)
            else:
                written = write_versions(session, code, out, version)
    except (database_module.DatabaseUnavailable, ExportRefused, ValueError) as err:
        fail(str(err))
    if out is None:
        sys.stdout.buffer.write(text.encode("utf-8"))  # the bytes as published: no newline added
        return
    for path in written:
        click.echo(str(path))


@main.command("import-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source", required=True, metavar="NAME",
              help="The source's name in the rule set (intake.sources), e.g. hotline_12345.")
@click.option("--jurisdiction", "code", required=True, metavar="CODE", help="The jurisdiction the orders are for.")
@rule_source_options
def import_orders_command(file: Path, source: str, code: str, rules: Path | None, database: str | None) -> None:
    """Hold the work orders of a source system's export (CSV in UTF-8 or GBK, or XLSX) until an officer registers
    or closes them (the inbox: 工单).

    Each row is mapped by the source's entry in the rule set in force (its columns, categories and channel);
    an order id already held adds nothing, so importing a file again imports nothing. Progress goes to
    stderr; the summary (imported, duplicates, each refused row with its number, column and reason) to stdout.
    The rows that can be read are imported, in one transaction; exit 1 only when the file as a whole cannot be.
    """
    from xinfang.server.accounts import SOURCE_SYSTEM, system_actor
    from xinfang.server.cases.errors import CaseServiceError
    from xinfang.server.cases.order_files import OrderFileError, missing_columns, read_order_file
    from xinfang.server.cases.orders import receive_many, source_of
    from xinfang.server.store import db as database_module
    library = library_or_exit(rules, database)
    data_keys_or_exit()
    try:
        table = read_order_file(file)
        effective = library.effective(code, today_in_china())
        missing = missing_columns(source_of(effective, source)["columns"], table.headers)
    except OrderFileError as err:
        fail(str(err))
    except (UnknownJurisdiction, NoRuleSetInForce, ValueError) as err:
        fail(str(err))
    except CaseServiceError as err:
        fail(err.message)
    if missing:
        fail(f"{file}: 缺少“{source}”的必需列：{'、'.join(missing)}（表头为：{'、'.join(table.headers)}）")
    total = len(table.rows)
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        line = f"已读取 {done}/{total} 行（{done * 100 // max(total, 1)}%）"
        click.echo(f"\r{line}" if tty else line, err=True, nl=not tty or done == total)

    actor = system_actor(f"工单导入（{file.name}）", roles=(SOURCE_SYSTEM,), jurisdiction_code=code)
    url = database_module.resolve_url(database)
    try:
        with database_module.upgraded_session(url) as session, session.begin():
            report = receive_many(session, library, code, source, table.rows, actor, progress=progress)
    except database_module.DatabaseUnavailable as err:
        fail(str(err))
    except CaseServiceError as err:
        fail(err.message)
    click.echo(str(report))
    for refused in report.refused:
        click.echo(f"  {refused}")


@main.command("report")
@click.argument("kind", metavar="KIND")
@click.argument("code")
@click.option("--period", "period", required=True, metavar="PERIOD",
              help="The period: an ISO week for a weekly or fortnightly report (2024-W10), a month for a monthly one (2024-03).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Folder to write the XLSX and PDF into (default: the current folder).")
@rule_source_options
def report_command(kind: str, code: str, period: str, out: Path | None, rules: Path | None, database: str | None) -> None:
    """Make a scheduled report (weekly_dispatch 周调度, monthly_bulletin 月通报, or a report id of the rule set)
    of CODE for --period from the cases in the database; write it as XLSX and PDF and keep it in the database
    (the dashboard lists it), replacing a copy kept before."""
    from xinfang.server.reports.periods import PeriodError
    from xinfang.server.reports.service import ReportError, find_report, make_report, store_report
    from xinfang.server.store import db as database_module
    library = library_or_exit(rules, database)
    data_keys_or_exit()
    url = database_module.resolve_url(database)
    try:
        report, spec = find_report(library, code, kind, today_in_china())
        with database_module.upgraded_session(url) as session, session.begin():
            made = make_report(session, library, code, report, spec, period)
            store_report(session, library, made, f"xinfang report {kind} {code}", replace=True)
    except (ReportError, PeriodError, UnknownJurisdiction, NoRuleSetInForce) as err:
        fail(str(err))
    except database_module.DatabaseUnavailable as err:
        fail(str(err))
    folder = out or Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    for extension, content in (("xlsx", made.xlsx), ("pdf", made.pdf)):
        path = folder / f"{made.filename}.{extension}"
        path.write_bytes(content)
        click.echo(str(path))


@main.group()
def db() -> None:
    """Manage the database."""


@db.command("upgrade")
@common_options
def db_upgrade(rules: Path | None, database: str | None) -> None:
    """Create the database, or upgrade it to the newest schema (default: the embedded SQLite file)."""
    from xinfang.server.store import db as database_module
    url = database_module.resolve_url(database)
    try:
        result = database_module.upgrade(url)
    except Exception as err:  # a driver or migration error: say where, not a traceback
        fail(f"cannot upgrade the database {database_module.display_url(url)}: {err}")
    click.echo(str(result))


@main.group("data-keys")
def data_keys_group() -> None:
    """The keys that encrypt petitioners' identities at rest (XINFANG_DATA_KEYS, XINFANG_INDEX_KEY; README)."""


@data_keys_group.command("new")
@click.option("--index", "index", is_flag=True, help="An index key (XINFANG_INDEX_KEY) instead of a data key.")
def data_keys_new(index: bool) -> None:
    """Print a new data key (a Fernet key) to put first in XINFANG_DATA_KEYS, or with --index an index key."""
    from xinfang.server.store.data_keys import new_data_key, new_index_key
    click.echo(new_index_key() if index else new_data_key())


@data_keys_group.command("rotate")
@common_options
def data_keys_rotate(rules: Path | None, database: str | None) -> None:
    """Re-encrypt every petitioner's identity under the first key of XINFANG_DATA_KEYS; afterwards the other
    keys may be removed. Safe to run again, and beside a running server."""
    from sqlalchemy.exc import SQLAlchemyError

    from xinfang.server.store import db as database_module
    from xinfang.server.store.data_keys import DataKeyError, keyring
    from xinfang.server.store.sealed_json import reseal_all
    url = database_module.resolve_url(database)
    engine = database_module.make_engine(url)
    try:
        result = reseal_all(engine, keyring())
    except DataKeyError as err:
        fail(str(err))
    except SQLAlchemyError as err:
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()
        fail(f"cannot re-encrypt in the database {database_module.display_url(url)}: {cause[0] if cause else err!r}"
             " (is it upgraded? `xinfang db upgrade`)")
    finally:
        engine.dispose()
    click.echo(str(result))


@main.command("sweep")
@click.option("--at", "at", type=DateTimeType(), default=None,
              help="Sweep as of this time (ISO 8601; no zone means Asia/Shanghai); default: now.")
@common_options
def sweep_command(at: dt.datetime | None, rules: Path | None, database: str | None) -> None:
    """Fire every escalation step due by --at on the open cases, each once; print what fired."""
    from sqlalchemy.exc import SQLAlchemyError

    from xinfang.server.cases.sweep import sweep
    from xinfang.server.store import db as database_module
    url = database_module.resolve_url(database)
    engine = database_module.make_engine(url)
    try:
        result = sweep(engine, at or dt.datetime.now(dt.UTC))
    except SQLAlchemyError as err:  # unreachable or not upgraded: say where, not a traceback
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()
        fail(f"cannot sweep the database {database_module.display_url(url)}: {cause[0] if cause else err!r}"
             " (is it upgraded? `xinfang db upgrade`)")
    finally:
        engine.dispose()
    click.echo(str(result))


@main.command("worker")
@click.option("--sweep-interval", "sweep_interval", type=click.IntRange(0), envvar="XINFANG_SWEEP_INTERVAL_SECONDS",
              default=None, metavar="SECONDS",
              help="Seconds between escalation sweeps, dividing a minute, an hour or a day; 0: no sweeps "
                   "(default 300; XINFANG_SWEEP_INTERVAL_SECONDS also works).")
@database_option
def worker_command(sweep_interval: int | None, database: str | None) -> None:
    """Run the scheduled jobs (escalation sweeps, reports) until stopped; run as many as you like.

    On PostgreSQL each job runs once per tick across all workers (procrastinate's job queue); on
    SQLite, which has no job queue, the jobs run in this process. The database must be upgraded first.
    """
    import logging

    from xinfang.server.jobs.schedule import DEFAULT_SWEEP_INTERVAL, JobSettings
    from xinfang.server.jobs.worker import WorkerNotReady, run_worker
    from xinfang.server.store import db as database_module
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    data_keys_or_exit()  # what the jobs read of a case, they read with the keys of every other process
    settings = JobSettings(sweep_interval=DEFAULT_SWEEP_INTERVAL if sweep_interval is None else sweep_interval)
    try:
        run_worker(database_module.resolve_url(database), settings, say=lambda line: click.echo(line, err=True))
    except (WorkerNotReady, ValueError) as err:
        fail(str(err))


if __name__ == "__main__":
    main()
