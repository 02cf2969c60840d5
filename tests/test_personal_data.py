"""Personal data at rest (issue 10, item 6): a dump of the database does not tell who petitioned.

The petitioner's identity is encrypted under the data keys (Fernet), its blind indexes keyed with the index
key (HMAC); repeats, daily limits and Idempotency-Key replays still match, on SQLite and PostgreSQL; keys
rotate; migration 0006 re-keys and encrypts a database written before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, String, column, insert, select, table, text
from sqlalchemy.orm import Session

from xinfang.config import bundled_library
from xinfang.rules.decide import evaluate
from xinfang.server.accounts import system_actor
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.registration import ensure_jurisdiction, register_case, request_hash
from xinfang.server.cases.visibility import visible_case
from xinfang.server.cli import main
from xinfang.server.store import data_keys
from xinfang.server.store import db as database_module
from xinfang.server.store.case_tables import Petition
from xinfang.server.store.data_keys import DataKeyError, Keyring, from_environment, new_data_key, new_index_key
from xinfang.server.store.sealed_json import reseal_all

CLERK = system_actor("clerk", roles=("clerk",))
DISCIPLINE = system_actor("discipline", roles=("discipline",))
SUPERVISOR = system_actor("supervisor", roles=("supervisor",))
PERSON = {"name": "欧阳秀兰", "id_number": "37132119870415231X", "phone": "13953912345",
          "address": "沂南县界湖街道幸福里3号"}
SECRETS = (PERSON["name"], PERSON["id_number"], PERSON["phone"], PERSON["address"], "3713211987")
OLD_KEY = hashlib.sha256(f"id:{PERSON['id_number']}".encode()).hexdigest()  # the unsalted key before 0006


def online(received_on: str = "2024-03-04", **fields) -> dict:
    """An online petition in 赣州市, which sets 智能判重 (90 days) and at most 3 online petitions a day."""
    return {"received_on": received_on, "intake": "online", "text": "小区噪音扰民", "petitioner": dict(PERSON)} | fields


@pytest.fixture
def engine(database_url):
    database_module.upgrade(database_url)
    engine = database_module.make_engine(database_url)
    yield engine
    engine.dispose()


def register(engine, case: dict, code: str = "360700", key: str | None = None) -> Petition:
    with Session(engine, expire_on_commit=False) as session:
        petition = register_case(session, bundled_library(), case, actor=CLERK, jurisdiction_code=code,
                                 idempotency_key=key).petition
        session.commit()
        return petition


def dump(engine, database_url: str) -> str:
    """Every row of every table as the database holds it, and on SQLite the database's files byte for byte."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        text_dump = "\n".join(f"{t.name}: {row}" for t in tables.sorted_tables
                              for row in connection.execute(select(t)))
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
        text_dump += "".join(p.read_bytes().decode("utf-8", "replace") for p in files)
    return text_dump


def stored(engine, petition_id: int) -> dict:
    """The case JSON as stored (the token, not what the column type opens)."""
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT case_json FROM petition WHERE id = :id"), {"id": petition_id}).scalar()
    return raw if isinstance(raw, dict) else json.loads(raw)


def test_a_dump_of_the_database_shows_no_petitioner(engine, database_url):
    petition = register(engine, online(), key="retry-1")
    register(engine, online(received_on="2024-03-05"), key="retry-2")  # a repeat: linked by the key alone
    found = dump(engine, database_url)
    assert petition.number in found and "小区噪音扰民" in found  # the dump is a dump
    assert not [s for s in SECRETS if s in found]
    assert OLD_KEY not in found  # nor the plain sha256 a birth-date guess reverses
    assert stored(engine, petition.id)["petitioner"].startswith("gAAAA")  # a Fernet token in its place


def test_the_old_sha256_key_no_longer_matches(engine, test_data_keys):
    petition = register(engine, online())
    assert petition.petitioner_key != OLD_KEY
    assert petition.petitioner_key == test_data_keys.blind_index(f"id:{PERSON['id_number']}")
    other = Keyring(test_data_keys.data_keys, new_index_key(), "another server")
    assert other.blind_index(f"id:{PERSON['id_number']}") != petition.petitioner_key  # the secret makes the key
    assert request_hash("360700", online()) != hashlib.sha256(json.dumps(
        {"jurisdiction": "360700", "case": online()}, sort_keys=True, ensure_ascii=False,
        separators=(",", ":")).encode()).hexdigest()


def test_what_each_role_sees_of_the_petitioner_is_unchanged(engine):
    petition = register(engine, online())
    with Session(engine) as session:
        read = session.get(Petition, petition.id)
        assert read.case_json["petitioner"] == PERSON  # opened on reading
        assert visible_case(read, CLERK, in_list=False)["petitioner"] == PERSON
        assert visible_case(read, SUPERVISOR, in_list=False)["petitioner"]["id_number"] == "3713**********231X"
        assert visible_case(read, DISCIPLINE, in_list=True)["petitioner"]["phone"] == "139****2345"


def test_repeats_daily_limits_and_replays_still_match_on_the_key(engine):
    first = register(engine, online(), key="same-request")
    assert register(engine, online(), key="same-request").id == first.id  # a replay: the first case
    assert register(engine, online(text="拖欠工资")).duplicate_of_id is None
    assert register(engine, online(received_on="2024-03-04")).duplicate_of_id == first.id
    with pytest.raises(CaseServiceError) as refused:
        register(engine, online(text="再次反映噪音"))
    assert refused.value.code == "online_daily_limit"  # the 4th online petition of the day (赣州市: 3)


def test_rotation_re_encrypts_under_the_new_key_and_the_old_one_can_go(engine, database_url, test_data_keys):
    # README: put the new key first, run `xinfang data-keys rotate`, drop the old key.
    petition = register(engine, online())
    new_key = new_data_key()
    env = {"XINFANG_DATA_KEYS": f"{new_key},{test_data_keys.data_keys[0]}",
           "XINFANG_INDEX_KEY": test_data_keys.index_key}
    only_new = Keyring((new_key,), test_data_keys.index_key, "the new key alone")
    try:
        data_keys.use_keyring(only_new)
        with Session(engine) as session, pytest.raises(DataKeyError, match="none of the 1 data key"):
            session.get(Petition, petition.id)
        data_keys.use_keyring(None)
        done = CliRunner().invoke(main, ["data-keys", "rotate", "--database", database_url], env=env)
        assert done.exit_code == 0, done.output
        assert "1 identity re-encrypted under the first of 2 data key(s)" in done.output
        data_keys.use_keyring(None)
        again = CliRunner().invoke(main, ["data-keys", "rotate", "--database", database_url], env=env)
        assert "0 identities re-encrypted" in again.output and "1 already under it" in again.output
        data_keys.use_keyring(only_new)
        with Session(engine) as session:
            assert session.get(Petition, petition.id).case_json["petitioner"] == PERSON
    finally:
        data_keys.use_keyring(test_data_keys)


def test_rotation_leaves_a_case_the_application_rewrote_meanwhile(engine, test_data_keys):
    petition = register(engine, online())
    before = stored(engine, petition.id)["petitioner"]

    class Meanwhile(Keyring):
        def reseal(self, token: str) -> str:  # the application writes the case between rotation's read and write
            with engine.begin() as connection:
                connection.execute(text("UPDATE petition SET revision = revision + 1 WHERE id = :id"),
                                   {"id": petition.id})
            return super().reseal(token)

    ring = Meanwhile((new_data_key(),) + test_data_keys.data_keys, test_data_keys.index_key, "two keys")
    done = reseal_all(engine, ring)
    assert (done.resealed, done.skipped) == (0, 1) and stored(engine, petition.id)["petitioner"] == before


# Databases written before migration 0006

_petition = table("petition", *(column(n, t) for n, t in (
    ("id", Integer), ("number", String), ("jurisdiction_code", String), ("ruleset_version", String),
    ("received_on", Date), ("intake", String), ("kind", String), ("category", String), ("channel", String),
    ("admissible", Boolean), ("stage", String), ("flags", JSON), ("petitioner_key", String),
    ("confidential", Boolean), ("case_json", JSON), ("decision", JSON), ("created_by", String),
    ("created_at", DateTime), ("updated_at", DateTime), ("revision", Integer))))
_idempotency = table("idempotency_record", column("key", String), column("request_hash", String),
                     column("petition_id", Integer), column("created_at", DateTime))


def legacy_rows(engine) -> int:
    """A case and an Idempotency-Key as the code before 0006 stored them: identity in plain text, sha256 keys."""
    with Session(engine) as session:
        ensure_jurisdiction(session, bundled_library(), "360700")
        session.commit()
    case, at = online(), dt.datetime(2024, 3, 4, 1, 0)
    old_hash = hashlib.sha256(json.dumps({"jurisdiction": "360700", "case": case}, sort_keys=True,
                                         ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    with engine.begin() as connection:
        petition_id = connection.execute(insert(_petition).values(
            number="360700-2024-900001", jurisdiction_code="360700", ruleset_version="v",
            received_on=dt.date(2024, 3, 4), intake="online", kind="appeal",
            category=evaluate(bundled_library(), "360700", case)["category"], channel="petition",
            admissible=True, stage="registered", flags=[], petitioner_key=OLD_KEY, confidential=False,
            case_json=case, decision={}, created_by="clerk", created_at=at, updated_at=at, revision=1)
            .returning(_petition.c.id)).scalar_one()
        connection.execute(insert(_idempotency).values(key="sent-before", request_hash=old_hash,
                                                       petition_id=petition_id, created_at=at))
    return petition_id


def test_migration_0006_re_keys_and_encrypts_existing_cases(database_url, test_data_keys):
    database_module.upgrade(database_url, "0005")
    engine = database_module.make_engine(database_url)
    try:
        legacy = legacy_rows(engine)
        assert PERSON["id_number"] in dump(engine, database_url)
        engine.dispose()
        database_module.upgrade(database_url)
        found = dump(engine, database_url)
        assert not [s for s in SECRETS if s in found] and OLD_KEY not in found
        assert stored(engine, legacy)["petitioner"].startswith("gAAAA")
        with Session(engine) as session:
            old = session.get(Petition, legacy)
            assert old.case_json["petitioner"] == PERSON
            assert old.petitioner_key == test_data_keys.blind_index(f"id:{PERSON['id_number']}")
        # The case keeps matching what the code registers now: a replay, a repeat, the day's count.
        assert register(engine, online(), key="sent-before").id == legacy
        assert register(engine, online(text="噪音仍未解决")).duplicate_of_id == legacy
        register(engine, online(text="第三次反映噪音"))
        with pytest.raises(CaseServiceError, match="already submitted 3 online petitions"):
            register(engine, online(text="第四次反映噪音"))
    finally:
        engine.dispose()


def test_migration_0006_downgrades_to_plain_text_and_sha256(database_url):
    database_module.upgrade(database_url, "0005")
    engine = database_module.make_engine(database_url)
    try:
        legacy = legacy_rows(engine)
        database_module.upgrade(database_url)
        command_downgrade(database_url, "0005")
        assert stored(engine, legacy)["petitioner"] == PERSON
        with engine.connect() as connection:
            assert connection.execute(text("SELECT petitioner_key FROM petition")).scalar() == OLD_KEY
    finally:
        engine.dispose()


def command_downgrade(url: str, revision: str) -> None:
    from alembic import command
    engine = database_module.make_engine(url)
    try:
        with engine.begin() as connection:
            config = database_module.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


# Where the keys come from

def test_the_embedded_default_keeps_its_keys_in_the_instance_folder(tmp_path):
    first = from_environment({}, tmp_path)
    assert first.origin == str(tmp_path) and from_environment({}, tmp_path) == first  # made once, then read
    for name in ("data_keys", "index_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no draft left behind


def test_keys_from_the_environment_never_touch_the_instance_folder(tmp_path):
    env = {"XINFANG_DATA_KEYS": f" {new_data_key()}, {new_data_key()}\n", "XINFANG_INDEX_KEY": new_index_key()}
    ring = from_environment(env, tmp_path)
    assert ring.origin == "the environment" and len(ring.data_keys) == 2 and not os.listdir(tmp_path)


@pytest.mark.parametrize("env, message", [
    ({"XINFANG_DATA_KEYS": new_data_key()}, "XINFANG_INDEX_KEY is not set"),
    ({"XINFANG_INDEX_KEY": new_index_key()}, "XINFANG_DATA_KEYS is not set"),
    ({"XINFANG_DATA_KEYS": f"{new_data_key()},not-a-key", "XINFANG_INDEX_KEY": new_index_key()},
     "data key 2 of 2 (the environment) is not a Fernet key"),
    ({"XINFANG_DATA_KEYS": new_data_key(), "XINFANG_INDEX_KEY": "short"}, "the index key (the environment) has 5"),
])
def test_a_missing_or_malformed_key_is_refused_saying_which(tmp_path, env, message):
    with pytest.raises(DataKeyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_environment(env, tmp_path)


def test_serve_refuses_to_start_with_a_malformed_key(tmp_path, test_data_keys):
    try:
        data_keys.use_keyring(None)
        done = CliRunner().invoke(main, ["serve", "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
                                  env={"XINFANG_DATA_KEYS": "not-a-key", "XINFANG_INDEX_KEY": new_index_key()})
    finally:
        data_keys.use_keyring(test_data_keys)
    assert done.exit_code == 1 and "data key 1 of 1 (the environment) is not a Fernet key" in done.output
    assert "not-a-key" not in done.output  # a key is never printed


def test_data_keys_new_prints_a_key_of_each_kind():
    data_key = CliRunner().invoke(main, ["data-keys", "new"]).output.strip()
    index_key = CliRunner().invoke(main, ["data-keys", "new", "--index"]).output.strip()
    Keyring((data_key,), index_key, "printed")  # both accepted
