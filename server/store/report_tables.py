"""Scheduled reports (周调度, 月通报) as generated: one row per jurisdiction, report and period, the files kept whole."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow

__all__ = ["StoredReport"]


class StoredReport(Base):
    """One report of one period, as its XLSX and PDF files.

    `report` is the rule set's key under `reports` (沅江's townships make a weekly and a fortnightly
    screening, both of kind weekly_dispatch); the unique (jurisdiction, report, period) makes a report
    generated once, however many workers run the daily job.
    """

    __tablename__ = "stored_report"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "report", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    report: Mapped[str] = mapped_column(String(64))  # the rule set's report id (weekly_dispatch)
    kind: Mapped[str] = mapped_column(String(32))  # weekly_dispatch or monthly_bulletin
    name: Mapped[str] = mapped_column(String(200))  # its title, as the rule set names it (化解进度周调度)
    period: Mapped[str] = mapped_column(String(16))  # 2024-W10 or 2024-03
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(200))
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
