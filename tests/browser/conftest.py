"""Browser-test fixtures: the app served from a thread on a free port, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def fast_hash(password: str) -> str:
    """A cheap hash for test accounts: scrypt costs 0.3 s a password, at seeding and at every sign-in."""
    from werkzeug.security import generate_password_hash
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


@contextlib.contextmanager
def serve(directory: Path):
    """An app at http://127.0.0.1:PORT on a fresh SQLite file in `directory`: upgraded, the bundled rule sets,
    the demo accounts. Yields (base URL, database URL); the database URL lets a test publish or seed directly."""
    from sqlalchemy.orm import Session
    from werkzeug.serving import make_server

    from xinfang.config import bundled_library
    from xinfang.server import accounts as auth
    from xinfang.server.rulesets.import_export import ensure_database
    from xinfang.server.store import db as database_module
    from xinfang.server.web.app import create_app

    url = f"sqlite:///{directory / 'xinfang.sqlite3'}"
    ensure_database(url, bundled_library())
    engine = database_module.make_engine(url)
    with pytest.MonkeyPatch.context() as patch, Session(engine) as session, session.begin():
        patch.setattr(auth, "hash_password", fast_hash)
        auth.seed_demo_users(session)
    engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "browser-tests",
                      "SWEEP_INTERVAL_SECONDS": 0})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", url
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """(base URL, database URL) of the live server the browser tests share."""
    with serve(tmp_path_factory.mktemp("live")) as found:
        yield found


@pytest.fixture(scope="session")
def live_server(live_app):
    """The shared app at http://127.0.0.1:PORT (see `serve`)."""
    return live_app[0]


@pytest.fixture(scope="module")
def own_app(tmp_path_factory):
    """(base URL, database URL) of a server for one module, for tests that change what the others would see
    (a published version); open pages on it with `new_page(base_url=own_app[0])`."""
    with serve(tmp_path_factory.mktemp("own")) as found:
        yield found


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium (scripts/install-browser.sh installs it); skipped, saying why, when it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh as root "
                    "(apt-get install chromium fonts-wqy-microhei)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


_CSP_PREFIX = "CSP violation:"
# The details chromium's own console line lacks: which directive, what was blocked, where, on which element.
_REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) => console.log(
  "%s " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" +
  e.lineNumber + ":" + e.columnNumber + " sample " + JSON.stringify(e.sample) + " on " +
  (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : String(e.target))));""" % _CSP_PREFIX


@pytest.fixture
def new_page(browser, live_server):
    """`new_page(java_script_enabled=True)`: a page in a context of its own (its own cookies), closed afterwards.

    Every page is watched for Content-Security-Policy violations (chromium reports each on the console):
    a test whose pages broke the policy fails, so the policy the server sends is one the pages satisfy.
    """
    contexts = []
    violations: list[str] = []

    def make(**options):
        options = {"base_url": live_server, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                   "viewport": {"width": 1280, "height": 900}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
                if message.text.startswith(_CSP_PREFIX) else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not violations, "pages broke the Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def sign_in():
    """`sign_in(page, username)`: through the sign-in form, as a person would (password xinfang-demo)."""
    from xinfang.server.accounts import DEMO_PASSWORD

    def go(page, username: str = "yinan_officer", next_path: str | None = None):
        signed_out = page.locator('form[action="/sign-out"] button')
        if "/sign-in" not in page.url and page.url.startswith("http") and signed_out.count():
            signed_out.first.click()  # someone else was signed in: sign out first, as a person would
            page.wait_for_load_state()
        if next_path is not None or "/sign-in" not in page.url:  # else stay: the form carries `next`
            page.goto("/sign-in" + (f"?next={quote(next_path)}" if next_path else ""))
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    return go


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory):
    """`screenshot(page_or_locator, name)`: saves NAME.png, in docs/screenshots/ (README shows them) when the run
    sets XINFANG_SCREENSHOTS=1 (`make screenshots`), else in a temporary folder, so a test run leaves the tree clean."""
    folder = SCREENSHOTS if os.environ.get("XINFANG_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(target, name: str, **options) -> Path:
        path = folder / f"{name}.png"
        target.screenshot(path=str(path), animations="disabled", **options)
        return path

    return take
