"""Petitioners and staff for the 网上信访 tests (tests/test_public_api.py, tests/test_public_pages.py): real ID numbers,
a petitioner of 章贡区, the staff of 赣州 taking a case through the workflow, and a visitor of the public pages."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.server.accounts import system_actor
from xinfang.server.cases import workflow
from xinfang.server.cases.real_name import check_digit
from xinfang.server.store import db as store
from xinfang.server.store.case_tables import Petition

TEXT = "村里征地拆迁补偿款至今未发放，请求尽快发放"
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


UNIT = system_actor("章贡区住房和城乡建设局承办人", roles=("clerk",), jurisdiction_code=ZHANGGONG, unit="housing")  # TEXT: 拆迁 → 10
OFFICE = system_actor("赣州市信访局登记员", roles=("clerk",), jurisdiction_code="360700", unit="petition_office")


def unit_clerk(petition):
    """A clerk of the unit the case is routed to (章贡区住房和城乡建设局 for TEXT, 章贡区生态环境局 for noise)."""
    return system_actor("章贡区承办单位承办人", roles=("clerk",), jurisdiction_code=petition.jurisdiction_code,
                        unit=petition.route_unit)


def staff(app, number, *steps):
    """Staff take the workflow's steps (action, payload[, actor: the routed unit's clerk by default]) through the
    case service."""
    from xinfang.server.rulesets.library_store import library_of
    staff_on(app.config["DATABASE_URL"], library_of(app), number, *steps)


def staff_on(database_url, library, number, *steps):
    """`staff` on the database at `database_url` with the rule sets of `library` (a live server's, say)."""
    session = Session(store.make_engine(database_url))
    try:
        petition = session.scalars(select(Petition).where(Petition.number == number)).one()
        for action, payload, *actor in steps:
            workflow.act(session, library, petition.id, action, payload, actor=(actor or [unit_clerk(petition)])[0])
        session.commit()
    finally:
        session.close()


def answered(app, number):
    staff(app, number, ("accept", {}), ("conclude", {"outcome": "explain", "opinion": "已向您说明补偿款发放进度"}))


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Petitioner:
    """One visitor of the public pages: a browser without JavaScript, posting the forms as they are."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.token = token(self.client.get("/public/track").get_data(as_text=True))

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.token, **data})

    def send(self, intent: str = "submit", code: str = ZHANGGONG, text: str = TEXT, person: dict | None = None,
             **fields):
        person = person or petitioner()
        return self.post(f"/public/{code}/new", intent=intent, text=text,
                         **{f"petitioner.{k}": v for k, v in person.items()}, **fields)

    def receipt(self, **kwargs) -> tuple[str, str]:
        """(number, query code) of a petition sent, read off the receipt page."""
        page = self.send(**kwargs)
        assert page.status_code == 201, page.get_data(as_text=True)
        html = page.get_data(as_text=True)
        return (re.search(r'<output id="number">([^<]+)</output>', html).group(1),
                re.search(r'<output id="query-code">([^<]+)</output>', html).group(1))

    def track(self, number: str, code: str):
        return self.post("/public/track", number=number, query_code=code)
