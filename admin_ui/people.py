"""Who acted, as people know them: an account's display name (沂南县登记员), never its login (yinan_clerk)."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from xinfang.server.store.db import get_session
from xinfang.server.store.models import User

__all__ = ["person"]


def person(username: str | None) -> str:
    """The display name of the account `username`; a name that is no account (演示数据, 网上信访人, an import) as is.
    Looked up once per request, however many rows of a file or an audit log name the same person."""
    if not username:
        return ""
    names: dict[str, str] = g.setdefault("person_names", {})
    if username not in names:
        found = get_session().scalar(select(User.display_name).where(User.username == username))
        names[username] = found or username
    return names[username]
