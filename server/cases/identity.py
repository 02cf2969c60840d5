"""Who is asking, without storing who: the petitioner's identity, normalised, as a blind index (智能判重, daily limits)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from xinfang.server.store.data_keys import blind_index

__all__ = ["petitioner_identity", "petitioner_key"]


def petitioner_identity(petitioner: Mapping | None) -> str | None:
    """The normalised ID number (`id:…`), else name and phone digits (`np:…|…`), else None: what identifies a
    petitioner across cases. Never stored: only its blind index is."""
    petitioner = petitioner or {}
    id_number = unicodedata.normalize("NFKC", petitioner.get("id_number") or "").replace(" ", "").upper()
    if id_number:
        return f"id:{id_number}"
    name = unicodedata.normalize("NFKC", petitioner.get("name") or "").strip()
    phone = "".join(c for c in unicodedata.normalize("NFKC", petitioner.get("phone") or "") if c.isdigit())
    return f"np:{name}|{phone}" if name and phone else None


def petitioner_key(petitioner: Mapping | None) -> str | None:
    """The blind index of petitioner_identity() under the server's index key (HMAC-SHA256, server/store/data_keys.py):
    equal for the same petitioner, and not computable from a guessed ID number without the key."""
    identity = petitioner_identity(petitioner)
    return blind_index(identity) if identity is not None else None
