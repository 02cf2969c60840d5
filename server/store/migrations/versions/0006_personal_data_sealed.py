"""Petitioners at rest: identities encrypted, blind indexes keyed (issue 10, item 6).

Each case's `petitioner` becomes a Fernet token under the first data key; `petitioner_key` and the
Idempotency-Key `request_hash`, plain sha256 digests that a guess of birth dates reversed in seconds,
become HMACs of those digests under the index key (data_keys.Keyring.rekey), the value the code now
computes, so repeats, daily limits and replays still match the cases registered before. The keys come
from XINFANG_DATA_KEYS and XINFANG_INDEX_KEY, else the instance folder (server/store/data_keys.py).

The downgrade opens the identities again and recomputes the plain digests of petitioner_key; the
request hashes cannot be (the requests are not kept), so a replay of a request sent before it is
refused as a different request instead of answered: nothing is registered twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from xinfang.server.store.data_keys import keyring
from xinfang.server.store.sealed_json import open_case, seal_case

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

# The tables as this revision knows them: plain JSON, the tokens as stored.
petition = sa.table("petition", sa.column("id", sa.Integer), sa.column("petitioner_key", sa.String),
                    sa.column("case_json", sa.JSON))
idempotency = sa.table("idempotency_record", sa.column("key", sa.String), sa.column("request_hash", sa.String))


def _rewrite(change) -> None:
    """Apply `change(row) -> values | None` to every petition, a batch of rows at a time, in the migration's
    transaction."""
    connection = op.get_bind()
    write = (sa.update(petition).where(petition.c.id == sa.bindparam("row_id"))
             .values(petitioner_key=sa.bindparam("new_key"), case_json=sa.bindparam("new_case")))
    last = 0
    while True:
        rows = connection.execute(sa.select(petition.c.id, petition.c.petitioner_key, petition.c.case_json)
                                  .where(petition.c.id > last).order_by(petition.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [v for v in (change(row) for row in rows) if v is not None]
        if values:
            connection.execute(write, values)
        last = rows[-1].id


def upgrade() -> None:
    ring = keyring()
    if op.get_bind().dialect.name == "sqlite":  # the plain text rewritten is zeroed in the file, not left in free pages
        op.execute("PRAGMA secure_delete = ON")

    def sealed(row):
        return {"row_id": row.id, "new_key": ring.rekey(row.petitioner_key) if row.petitioner_key else None,
                "new_case": seal_case(row.case_json, ring)}

    _rewrite(sealed)
    connection = op.get_bind()
    records = connection.execute(sa.select(idempotency.c.key, idempotency.c.request_hash)).all()
    write = (sa.update(idempotency).where(idempotency.c.key == sa.bindparam("record_key"))
             .values(request_hash=sa.bindparam("new_hash")))
    for start in range(0, len(records), BATCH):
        connection.execute(write, [{"record_key": r.key, "new_hash": ring.rekey(r.request_hash)}
                                   for r in records[start:start + BATCH]])


def downgrade() -> None:
    from xinfang.server.cases.identity import petitioner_identity  # the normalisation the plain digests hashed
    ring = keyring()

    def opened(row):
        case = open_case(row.case_json, ring)
        identity = petitioner_identity(case.get("petitioner") if isinstance(case.get("petitioner"), dict) else None)
        return {"row_id": row.id, "new_case": case,
                "new_key": hashlib.sha256(identity.encode("utf-8")).hexdigest() if identity else None}

    _rewrite(opened)
