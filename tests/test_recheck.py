"""What a process keeps between requests (server/store/recheck.py): another process's publish or account change
shows within RECHECK_SECONDS, this process's own at once."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import select, update

from xinfang.config import bundled_library
from xinfang.server.rulesets import library_store
from xinfang.server.rulesets.import_export import import_library
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store import db, recheck
from xinfang.server.store.db import get_session
from xinfang.server.store.models import User


@pytest.fixture
def clock(monkeypatch):
    """The recheck clock, standing still until a test moves it on (`clock.move(seconds)`)."""
    class Clock:
        now = 1000.0

        def move(self, seconds: float) -> None:
            self.now += seconds
    found = Clock()
    monkeypatch.setattr(recheck, "clock", lambda: found.now)
    return found


@pytest.fixture
def elsewhere(monkeypatch):
    """Changes made from now on are another process's: this one is not told of them (only the clock shows them)."""
    monkeypatch.setattr(recheck, "changed", lambda topic: None)
    monkeypatch.setattr(library_store, "changed", lambda topic: None)


def version_2025(app) -> str | None:
    with app.app_context():
        return library_of(app).version_in_force("371321", dt.date(2025, 7, 1)).version


@pytest.fixture
def two_apps(database_url, app_for):
    """Two app instances over one database with the bundled rule sets, as two server processes would be."""
    db.upgrade(database_url)
    first, second = app_for(database_url), app_for(database_url)
    with first.app_context():
        import_library(get_session(), bundled_library())
        get_session().commit()
    yield first, second
    for app in (first, second):
        db.database_of(app).dispose()


def test_a_publish_in_another_process_shows_after_the_recheck_interval(two_apps, clock, elsewhere, publish_yinan_2025):
    first, second = two_apps
    assert version_2025(first) == "2024.1"
    publish_yinan_2025(second)
    assert version_2025(first) == "2024.1"  # kept: the database is not asked within the interval
    clock.move(recheck.RECHECK_SECONDS - 0.01)
    assert version_2025(first) == "2024.1"
    clock.move(0.02)
    assert version_2025(first) == "2025.1"


def test_a_publish_in_this_process_shows_at_once(two_apps, clock, publish_yinan_2025):
    first, second = two_apps
    assert version_2025(first) == "2024.1"
    publish_yinan_2025(second)
    assert version_2025(first) == "2025.1"  # the clock has not moved


def basic(username: str) -> dict[str, str]:
    from xinfang.server.accounts import DEMO_PASSWORD
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{DEMO_PASSWORD}".encode()).decode()}


def test_an_account_closed_in_another_process_is_refused_after_the_recheck_interval(fresh, clock):
    client = fresh.test_client()
    assert client.get("/api/v1/cases", headers=basic("yinan_clerk")).status_code == 200
    with fresh.app_context():  # a Core statement: as another process's change, unseen by this one's ORM
        get_session().execute(update(User.__table__).where(User.username == "yinan_clerk").values(active=False))
        get_session().commit()
    assert client.get("/api/v1/cases", headers=basic("yinan_clerk")).status_code == 200
    clock.move(recheck.RECHECK_SECONDS)
    assert client.get("/api/v1/cases", headers=basic("yinan_clerk")).status_code == 401


def test_an_account_closed_in_this_process_is_refused_at_once(fresh, clock):
    client = fresh.test_client()
    assert client.get("/api/v1/cases", headers=basic("yinan_clerk")).status_code == 200
    with fresh.app_context():
        user = get_session().scalars(select(User).where(User.username == "yinan_clerk")).one()
        user.active = False
        get_session().commit()
    assert client.get("/api/v1/cases", headers=basic("yinan_clerk")).status_code == 401


def test_a_value_read_while_a_change_was_being_committed_is_not_kept_past_it(clock):
    kept = recheck.Rechecked(recheck.LIBRARY)

    def read_during_a_change() -> str:
        recheck.changed(recheck.LIBRARY)  # another request commits a publish while this one reads
        return "old"
    assert kept.get("key", read_during_a_change) == "old"
    assert kept.get("key", lambda: "new") == "new"
