"""Work orders (工单) from other systems (12345热线, 网信, 社情民意), held until an officer registers or closes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .case_tables import Petition
from .models import Base, utcnow
from .sealed_json import SealedCaseJSON

__all__ = ["ORDER_STATUSES", "WorkOrder"]

ORDER_STATUSES = ("held", "registered", "closed")


class WorkOrder(Base):
    """One order of a source system, as received: its own id, its original date, the case it maps to, the row.

    The source's order id is unique per jurisdiction and source, so the same order sent twice is stored once.
    `case_json` is the Case JSON the rule set's mapping made of the row (`intake.sources`); `source_row` is the row as
    received, its petitioner columns under `petitioner`: both are sealed at rest as a case's petitioner is.
    Registered (视同信访事项), it points at its case; closed, it keeps the reason. Both decisions are recorded
    in the audit log (`order.confirm`, `order.close`) and the registration in the case's own file.
    """

    __tablename__ = "work_order"
    __table_args__ = (
        UniqueConstraint("jurisdiction_code", "source", "source_order_id"),
        Index("ix_work_order_inbox", "jurisdiction_code", "status", "received_on"),
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    source: Mapped[str] = mapped_column(String(64))  # the rule set's intake.sources key, e.g. hotline_12345
    source_order_id: Mapped[str] = mapped_column(String(100))  # the source's own order number
    received_on: Mapped[dt.date] = mapped_column(Date)  # the day the source received it (来电时间)
    case_json: Mapped[dict[str, Any]] = mapped_column(SealedCaseJSON)
    source_row: Mapped[dict[str, Any]] = mapped_column(SealedCaseJSON)
    status: Mapped[str] = mapped_column(String(16), default="held")
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"))
    closing_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(200))

    petition: Mapped[Petition | None] = relationship()
