"""The server's library from the database (server/rulesets/library_store.py) and RuleSetLibrary.collect_texts under it."""

from __future__ import annotations

import datetime as dt

from xinfang.config import RuleSetLibrary, bundled_library, bundled_rules_dir
from xinfang.config.library import display_name, find_ruleset_files
from xinfang.server.rulesets.import_export import import_library
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store import db
from xinfang.server.store.db import get_session
from xinfang.server.web.app import create_app

YINAN = bundled_rules_dir() / "371321_yinan" / "2024-01-01.yaml"


def test_collect_texts_reads_texts_as_collect_reads_files():
    files = find_ruleset_files([bundled_rules_dir()])
    from_texts, issues = RuleSetLibrary.collect_texts((display_name(f), f.read_text("utf-8")) for f in files)
    assert issues == []
    assert [(v.label, v.file, v.data) for v in from_texts.all_versions()] == [
        (v.label, v.file, v.data) for v in bundled_library().all_versions()]


def test_a_text_is_checked_against_a_library_as_a_file_against_files(write_ruleset):
    loose = YINAN.read_text("utf-8").replace("conclude:  {days: 30", "conclude:  {days: 90")
    path = write_ruleset("yinan.yaml", loose)
    _, from_files = RuleSetLibrary.collect([path], background=[bundled_rules_dir()])
    library, from_text = RuleSetLibrary.collect_texts([("draft:1", loose)], background=bundled_library())
    assert [str(i).replace("draft:1", display_name(path)) for i in from_text] == [str(i) for i in from_files]
    assert library.version_in_force("371321", dt.date(2024, 6, 1)).file == "draft:1"  # it replaced 2024.1
    assert bundled_library().version_in_force("371321", dt.date(2024, 6, 1)).file == display_name(YINAN)


def test_the_app_reads_the_database_once_imported_and_again_after_a_publish(database_url, publish_yinan_2025):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url})
    with app.app_context():
        assert library_of(app) is bundled_library()  # an empty database: the files serve
    db.upgrade(database_url)
    with app.app_context():
        assert library_of(app) is bundled_library()  # migrated, nothing imported yet
        import_library(get_session(), bundled_library())
        get_session().commit()
    with app.app_context():
        first = library_of(app)
        assert first is not bundled_library() and first is library_of(app)
        # an imported version keeps its file's name, so decisions cite the same file:line as the CLI
        assert first.version_in_force("371321", dt.date(2024, 6, 1)).file == display_name(YINAN)
    with app.app_context():
        assert library_of(app) is first  # nothing published since: the same library
    publish_yinan_2025(app)
    with app.app_context():
        after = library_of(app)
        assert after is not first
        published = after.version_in_force("371321", dt.date(2025, 7, 1))
        assert (published.version, published.file) == ("2025.1", "db:371321@2025.1")
    db.database_of(app).dispose()
