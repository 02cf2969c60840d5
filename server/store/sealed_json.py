"""The case file's JSON with the petitioner's identity encrypted at rest, and its re-encryption under a new key.

A case's `petitioner` (name, ID number, phone, address) is stored as one Fernet token in its place,
`"petitioner": "gAAAAA…"`; everything else of the case stays JSON that lists and checks read. The column
type seals on every write and opens on every read, so the service, the pages and the sweeps see the case as
it was registered; only the database (and a dump of it) holds the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, Integer, bindparam, column, select, table, update
from sqlalchemy.types import TypeDecorator

from .data_keys import Keyring, keyring

__all__ = ["IDENTITY", "Resealed", "SealedCaseJSON", "open_case", "reseal_all", "seal_case"]

IDENTITY = "petitioner"  # the key of the case JSON whose value is sealed


def seal_case(case: dict[str, Any], ring: Keyring | None = None) -> dict[str, Any]:
    """The case as stored: its petitioner (an object) replaced by a token. A sealed one stays as it is."""
    found = case.get(IDENTITY)
    if not isinstance(found, dict):
        return case
    text = json.dumps(found, ensure_ascii=False, separators=(",", ":"))
    return {**case, IDENTITY: (ring or keyring()).seal(text.encode("utf-8"))}


def open_case(case: dict[str, Any], ring: Keyring | None = None) -> dict[str, Any]:
    """The case as registered: its petitioner token opened. A case never sealed (before migration 0006) as it is."""
    found = case.get(IDENTITY)
    if not isinstance(found, str):
        return case
    return {**case, IDENTITY: json.loads((ring or keyring()).unseal(found))}


class SealedCaseJSON(TypeDecorator[dict]):
    """JSON whose `petitioner` is encrypted under the data keys (server/store/data_keys.py)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect) -> dict | None:
        return seal_case(value) if isinstance(value, dict) else value

    def process_result_value(self, value: dict | None, dialect) -> dict | None:
        return open_case(value) if isinstance(value, dict) else value


@dataclass(frozen=True)
class Resealed:
    """What a rotation did: identities re-encrypted, already under the first key, sealed for the first time."""

    resealed: int
    current: int
    sealed: int
    skipped: int  # changed by the application meanwhile: written under the first key already
    keys: int

    def __str__(self) -> str:
        done = (f"{self.resealed} identit{'y' if self.resealed == 1 else 'ies'} re-encrypted under the first of "
                f"{self.keys} data key(s), {self.current} already under it")
        if self.sealed:
            done += f", {self.sealed} encrypted for the first time"
        if self.skipped:
            done += f", {self.skipped} rewritten meanwhile by the application"
        return done + ("; the other keys may now be removed from XINFANG_DATA_KEYS" if self.keys > 1 else "")


_petition = table("petition", column("id", Integer), column("revision", Integer), column("case_json", JSON))


def reseal_all(engine: Engine, ring: Keyring | None = None, *, batch: int = 500,
               progress: Callable[[int], None] | None = None) -> Resealed:
    """Re-encrypt every case's identity under the first data key, a batch per transaction (safe to run again,
    and beside a running server: a case changed meanwhile is left, since its writer sealed it under that key)."""
    ring = ring or keyring()
    counts = {"resealed": 0, "current": 0, "sealed": 0, "skipped": 0}
    last = 0
    write = (update(_petition).where(_petition.c.id == bindparam("row_id"),
                                     _petition.c.revision == bindparam("row_revision"))
             .values(case_json=bindparam("sealed_case")))
    while True:
        with engine.begin() as connection:
            rows = connection.execute(select(_petition.c.id, _petition.c.revision, _petition.c.case_json)
                                      .where(_petition.c.id > last).order_by(_petition.c.id).limit(batch)).all()
            if not rows:
                break
            changes = []
            for row in rows:
                found = (row.case_json or {}).get(IDENTITY)
                if isinstance(found, dict):
                    changes.append((row, seal_case(row.case_json, ring), "sealed"))
                elif isinstance(found, str) and not ring.is_current(found):
                    changes.append((row, {**row.case_json, IDENTITY: ring.reseal(found)}, "resealed"))
                elif isinstance(found, str):
                    counts["current"] += 1
            for row, case, kind in changes:
                done = connection.execute(write, {"row_id": row.id, "row_revision": row.revision,
                                                  "sealed_case": case}).rowcount
                counts[kind if done else "skipped"] += 1
            last = rows[-1].id
        if progress:
            progress(last)
    _reseal_orders(engine, ring, counts, batch)
    return Resealed(**counts, keys=len(ring.data_keys))


# Work orders (server/store/order_tables.py): their case and row, written once when received, never changed after.
_order = table("work_order", column("id", Integer), column("case_json", JSON), column("source_row", JSON))


def _resealed(value: Any, ring: Keyring) -> tuple[Any, str]:
    found = (value or {}).get(IDENTITY) if isinstance(value, dict) else None
    if isinstance(found, dict):
        return seal_case(value, ring), "sealed"
    if isinstance(found, str) and not ring.is_current(found):
        return {**value, IDENTITY: ring.reseal(found)}, "resealed"
    return value, "current" if isinstance(found, str) else ""


def _reseal_orders(engine: Engine, ring: Keyring, counts: dict[str, int], batch: int) -> None:
    """The work orders' identities, as the cases' (each order counts once, by its case)."""
    write = (update(_order).where(_order.c.id == bindparam("row_id"))
             .values(case_json=bindparam("sealed_case"), source_row=bindparam("sealed_row")))
    last = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(select(_order.c.id, _order.c.case_json, _order.c.source_row)
                                      .where(_order.c.id > last).order_by(_order.c.id).limit(batch)).all()
            if not rows:
                return
            changes = []
            for row in rows:
                case, kind = _resealed(row.case_json, ring)
                raw, raw_kind = _resealed(row.source_row, ring)
                if kind in ("sealed", "resealed") or raw_kind in ("sealed", "resealed"):
                    changes.append({"row_id": row.id, "sealed_case": case, "sealed_row": raw})
                    counts[kind if kind in ("sealed", "resealed") else raw_kind] += 1
                elif kind == "current":
                    counts["current"] += 1
            if changes:
                connection.execute(write, changes)
            last = rows[-1].id
