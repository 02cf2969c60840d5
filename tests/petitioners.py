"""Petitioners and staff for the 网上信访 tests (tests/test_public_api.py, tests/test_public_pages.py): real ID numbers,
a petitioner of 章贡区, and the staff of 赣州 taking a case through the workflow."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.server.accounts import system_actor
from xinfang.server.cases import workflow
from xinfang.server.cases.real_name import check_digit
from xinfang.server.store import db as store
from xinfang.server.store.case_tables import Petition

ZHANGGONG = "360702"  # 章贡区, under 赣州市 (its public section: online intake, 智能判重, rating)


def id_number(birth: str = "19870415", serial: str = "231", region: str = "360702") -> str:
    """A citizen ID number with its GB 11643 check digit."""
    first = region + birth + serial
    return first + check_digit(first)


def petitioner(**changes) -> dict:
    return {"name": "欧阳秀兰", "id_number": id_number(), "phone": "13979712345", **changes}


def on_file(app, number):
    """(session, petition) of the app's database, to act as staff through the case service."""
    session = Session(store.make_engine(app.config["DATABASE_URL"]))
    return session, session.scalars(select(Petition).where(Petition.number == number)).one()


UNIT = system_actor("章贡区有关单位承办人", roles=("clerk",), jurisdiction_code=ZHANGGONG, unit="competent")
OFFICE = system_actor("赣州市信访局登记员", roles=("clerk",), jurisdiction_code="360700", unit="petition_office")


def staff(app, number, *steps):
    """Staff take the workflow's steps (action, payload[, actor: the unit's by default]) through the case service."""
    from xinfang.server.rulesets.library_store import library_of
    staff_on(app.config["DATABASE_URL"], library_of(app), number, *steps)


def staff_on(database_url, library, number, *steps):
    """`staff` on the database at `database_url` with the rule sets of `library` (a live server's, say)."""
    session = Session(store.make_engine(database_url))
    try:
        petition = session.scalars(select(Petition).where(Petition.number == number)).one()
        for action, payload, *actor in steps:
            workflow.act(session, library, petition.id, action, payload, actor=(actor or [UNIT])[0])
        session.commit()
    finally:
        session.close()


def answered(app, number):
    staff(app, number, ("accept", {}), ("conclude", {"outcome": "explain", "opinion": "已向您说明补偿款发放进度"}))
