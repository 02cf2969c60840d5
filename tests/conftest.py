"""Shared fixtures: the bundled rule sets, and small rule-set files written for a test into tmp_path."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from xinfang.config import RuleSetLibrary, bundled_rules_dir


@pytest.fixture(scope="session", autouse=True)
def cheap_passwords():
    """Test accounts get a cheap password hash: scrypt's 0.3 s a password, at seeding and sign-in, would dominate."""
    from xinfang.server import accounts
    accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    yield
    accounts.PASSWORD_METHOD = "scrypt"


class SignedIn:
    """A test client signed in through the sign-in form (a demo account's password), with its CSRF token."""

    def __init__(self, app, username: str, password: str) -> None:
        self.client = app.test_client()
        token = _csrf_token(self.client.get("/sign-in").get_data(as_text=True))
        response = self.client.post("/sign-in", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = _csrf_token(self.client.get("/jurisdictions").get_data(as_text=True))  # rotated at sign-in

    def text(self, path: str) -> str:
        """A page (or a download) that must answer 200, as text."""
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def json(self, path: str):
        """An API answer under /api/v1 that must be 200."""
        response = self.client.get("/api/v1" + path)
        assert response.status_code == 200, (path, response.status_code)
        return response.json

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """A form post with the CSRF token."""
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def act(self, case_id: int, action: str, **data):
        """A workflow action from the case page's form."""
        return self.post(f"/cases/{case_id}/actions/{action}", data)


def _csrf_token(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture(scope="session")
def sign_in():
    """`sign_in(app, "yinan_clerk")`: a SignedIn client of a demo account (password xinfang-demo, or the one given)."""
    from xinfang.server.accounts import DEMO_PASSWORD
    return lambda app, username, password=None: SignedIn(app, username, password or DEMO_PASSWORD)


TEST_DATA_KEYS = ("bAnMlP1WRHcSeoc_XPQwFj2n7NCvBq0pDX5hJyu3mzQ=",)  # fixed, so every test process shares them
TEST_INDEX_KEY = "test-index-key-never-used-outside-the-test-suite-0123456789"


@pytest.fixture(scope="session", autouse=True)
def test_data_keys():
    """The suite's data and index keys (server/store/data_keys.py): none read from the environment, no file made."""
    from xinfang.server.store import data_keys
    ring = data_keys.Keyring(TEST_DATA_KEYS, TEST_INDEX_KEY, "the test suite")
    data_keys.use_keyring(ring)
    yield ring
    data_keys.use_keyring(None)


@pytest.fixture(scope="session")
def rules_dir() -> Path:
    """The bundled rule sets (config/rulesets/): national baseline and the seed jurisdictions."""
    return bundled_rules_dir()


@pytest.fixture
def write_ruleset(tmp_path):
    """`write_ruleset("county.yaml", text)` writes a rule-set file under tmp_path and returns its path.

    Text is dedented, so a test can indent its YAML with the code; bytes are written as they are
    (for files that are not UTF-8). A name may contain folders ("zones/a.yaml").
    """

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def line_of():
    """`line_of(path, text)`: the 1-based number of the one line of a file that contains `text`.

    Lets a test name the line of a bundled rule set without hard-coding it.
    """

    def find(path: str | os.PathLike, text: str) -> int:
        found = [n for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1) if text in line]
        assert len(found) == 1, f"{text!r} is on lines {found} of {path}, expected exactly one"
        return found[0]

    return find


@pytest.fixture(scope="session")
def national_bound(line_of, rules_dir):
    """`national_bound("time_limits.conclude.days")`: where the 2022 national baseline sets that bound, `FILE:LINE`."""
    national = "000000_national/2022-05-01.yaml"

    def where(path: str) -> str:
        return f"{national}:{line_of(rules_dir / national, f'  {path}:')}"

    return where


@pytest.fixture(scope="session")
def beijing_review_extension() -> str:
    """The body of a 北京市 rule set whose review may be extended by 30 days (《北京市信访条例》第四十条), bounded
    for the levels below; no header (local_ruleset writes one)."""
    return textwrap.dedent("""\
        time_limits:
          review:
            days: 30
            extension: {days: 30, basis: 《北京市信访条例》第四十条}
            basis: 《北京市信访条例》第四十条
        bounds:
          time_limits.review.extension.days: {max: 30, basis: 《北京市信访条例》第四十条}
        """)


@pytest.fixture
def issues_against_bundled(rules_dir):
    """`issues_against_bundled(*paths)`: what `xinfang validate PATHS` prints, one `FILE:LINE:COL: message` a line.

    The files are checked with the bundled rule sets as the levels above them
    (`RuleSetLibrary.collect(paths, background=[bundled_rules_dir()])`).
    """

    def collect(*paths: str | os.PathLike) -> list[str]:
        _, issues = RuleSetLibrary.collect(paths, background=[rules_dir])
        return [str(issue) for issue in issues]

    return collect


@pytest.fixture(scope="session")
def bundled():
    """The bundled rule-set library, loaded and validated once per process."""
    from xinfang.config import bundled_library
    return bundled_library()


@pytest.fixture
def local_ruleset(tmp_path):
    """`local_ruleset(body, code=..., background=...)` → (library, issues): a local rule set in tmp_path.

    The header (jurisdiction, version, effective_from 2024-01-01) is written for it; by default it
    sits on the national baseline alone (110101 东城区, a county-level district), so a test does not
    depend on the other seed jurisdictions.
    """

    def write(body: str, *, code: str = "110101", name: str = "东城区", level: str = "county",
              effective_from: str = "2024-01-01", version: str = "2024.1", background=None):
        folder = tmp_path / f"{code}_local"
        folder.mkdir(exist_ok=True)
        header = (f'jurisdiction: {{code: "{code}", name: {name}, level: {level}}}\n'
                  f'version: "{version}"\neffective_from: {effective_from}\ntitle: 测试规则集\n')
        (folder / f"{effective_from}.yaml").write_text(header + textwrap.dedent(body), encoding="utf-8")
        national = bundled_rules_dir() / "000000_national"
        return RuleSetLibrary.collect([folder], background=background or [national])

    return write


@pytest.fixture(scope="session")
def xinfang():
    """`xinfang(*args, input=..., env=...)`: run the command line in-process, stdout and stderr kept apart
    as a shell sees them; `env` adds to the environment (None unsets a variable).

    Exceptions are not caught: a traceback fails the test instead of hiding in the output.
    """
    from click.testing import CliRunner

    from xinfang.server.cli import main

    def run(*args, input: str | bytes | None = None, env: dict[str, str | None] | None = None):
        return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env, catch_exceptions=False)

    return run


# The app, as Flask's tutorial gives it: a database with the bundled rule sets and the demo accounts,
# the app on it, a client, and staff signed in through the sign-in form.

@pytest.fixture(scope="session")
def app_for():
    """`app_for(url, **config)`: the app on the database at `url`, for tests (no scheduler, a fixed secret)."""
    from xinfang.server.web.app import create_app

    def make(url: str, **config):
        return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", "SWEEP_INTERVAL_SECONDS": 0,
                           **config})

    return make


@pytest.fixture(scope="session")
def add_users():
    """`add_users(url, *specs)`: create accounts (create_user's keywords; password xinfang-demo) in the database."""
    from sqlalchemy.orm import Session

    from xinfang.server.accounts import DEMO_PASSWORD, create_user
    from xinfang.server.store import db

    def add(url: str, *specs: dict) -> None:
        engine = db.make_engine(url)
        try:
            with Session(engine) as session, session.begin():
                for spec in specs:
                    create_user(session, password=DEMO_PASSWORD, **spec)
        finally:
            engine.dispose()

    return add


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    """The URL of a SQLite database of this module's: migrated, the bundled rule sets published, the demo accounts."""
    from sqlalchemy.orm import Session

    from xinfang.config import bundled_library
    from xinfang.server.accounts import seed_demo_users
    from xinfang.server.rulesets.import_export import ensure_database
    from xinfang.server.store import db

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'xinfang.sqlite3'}"
    ensure_database(url, bundled_library())
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo_users(session)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def app(demo_database, app_for):
    """The app on this module's demo database (a module that needs more data overrides it, adding to that database)."""
    return app_for(demo_database)


@pytest.fixture
def fresh(demo_database, app_for, tmp_path):
    """An app on a database of this test's own (a copy of the module's demo database)."""
    path = tmp_path / "xinfang.sqlite3"
    shutil.copy(demo_database.removeprefix("sqlite:///"), path)
    return app_for(f"sqlite:///{path}")


@pytest.fixture
def app_with_ruleset(tmp_path, app_for):
    """`app_with_ruleset(yaml_text, folder="110101_dongcheng", **config)`: an app on a SQLite database of this test's
    own, with the bundled rule sets and one more (a county's own YAML, its header included)."""
    from xinfang.server.rulesets.import_export import ensure_database

    def make(text: str, folder: str = "110101_dongcheng", **config):
        rules = tmp_path / "rules"
        if not rules.exists():
            shutil.copytree(bundled_rules_dir(), rules)
        effective_from = re.search(r"effective_from: (\S+)", text).group(1)
        (rules / folder).mkdir(exist_ok=True)
        (rules / folder / f"{effective_from}.yaml").write_text(textwrap.dedent(text), "utf-8")
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        ensure_database(url, RuleSetLibrary.load([rules]))
        return app_for(url, RULES_DIR=str(rules), **config)

    return make


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def token_of():
    """`token_of(html)`: the CSRF token a page carries (its `<meta name="csrf-token">`)."""
    return _csrf_token


# Databases: each test that takes `database_url` runs on SQLite and on PostgreSQL.

POSTGRES_ENV = "XINFANG_TEST_POSTGRES_URL"


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@functools.cache
def _postgres_problem(url: str) -> str | None:
    """Why the PostgreSQL server at `url` cannot be used (asked once per process), or None."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as err:  # any driver error means: not usable here
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()
        return f"PostgreSQL not reachable at {_shown(url)}: {cause[0] if cause else type(err).__name__}"
    finally:
        engine.dispose()
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The URL of an empty database of its own: a SQLite file under tmp_path, or on PostgreSQL a new schema.

    PostgreSQL is the server at $XINFANG_TEST_POSTGRES_URL (CI sets it); unset or unreachable, the test is
    skipped saying so. Each test gets a uniquely named schema, made the connection's only search_path
    through the URL (`?options=-csearch_path=...`), so every engine built from the URL (alembic, the
    CLI) works inside it and parallel xdist workers never meet; the schema is dropped afterwards.
    """
    request.node.user_properties.append(("database", request.param))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xinfang.sqlite3'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} not set")
    problem = _postgres_problem(base)
    if problem:
        pytest.skip(problem)
    schema = f"xinfang_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            # A connection a test left open in a transaction would otherwise block the drop for ever.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def session(database_url):
    """A session on a freshly migrated database of each kind, with no rule set published in it."""
    from sqlalchemy.orm import Session

    from xinfang.server.store import db
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def pytest_terminal_summary(terminalreporter) -> None:
    """Say which databases the database tests ran on (runs in the xdist controller, from the reports)."""
    ran: set[str] = set()
    skipped: list[str] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            database = dict(getattr(report, "user_properties", ())).get("database")
            if database is None or getattr(report, "when", None) not in ("setup", "call"):
                continue
            if report.skipped and isinstance(report.longrepr, tuple):
                skipped.append(str(report.longrepr[2]).removeprefix("Skipped: "))
            elif report.when == "call":
                ran.add(database)
    if not ran and not skipped:
        return
    if "postgresql" in ran:
        names = ", ".join(sorted(ran, key=["sqlite", "postgresql"].index))
        where = os.environ.get(POSTGRES_ENV)
        line = f"databases: {names}" + (f" ({_shown(where)})" if where else "")
    else:
        reason = f" — PostgreSQL skipped: {skipped[0]}" if skipped else ""
        line = f"databases: {', '.join(sorted(ran)) or 'none'} only{reason}"
    terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def publish_yinan_2025():
    """`publish_yinan_2025(app)`: 沂南县's officer drafts version 2025.1 (in force from 2025-07-01), an approver
    publishes it, through the rule-set lifecycle as the editor does."""
    from xinfang.server.rulesets import lifecycle
    from xinfang.server.rulesets.text import set_header
    from xinfang.server.store.db import get_session

    def publish(app) -> None:
        with app.app_context():
            session = get_session()
            day = dt.date(2025, 6, 1)
            draft = lifecycle.create_draft(session, "371321", "officer", today=day)
            text = set_header(draft.yaml_text, version="2025.1", effective_from=dt.date(2025, 7, 1),
                              change_note="测试")
            lifecycle.update_draft(session, draft.id, text, draft.revision, "officer")
            lifecycle.submit(session, draft.id, "officer", today=day)
            lifecycle.approve(session, draft.id, "approver", today=day)
            session.commit()
    return publish
