"""Making a scheduled report: which one the rule set means, its files, storing it once, and the reports due today."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinfang.config import CHINA, NoRuleSetInForce, RuleSetLibrary
from xinfang.server.cases.registration import ensure_jurisdiction
from xinfang.server.store.report_tables import StoredReport

from .documents import bulletin_document, dispatch_document
from .figures import bulletin, dispatch
from .periods import Period, latest_complete, parse_period
from .render import to_pdf, to_xlsx

__all__ = ["DEFAULT_REPORTS", "Made", "ReportError", "due_reports", "find_report", "kept_reports", "make_report",
           "run_due", "scheduled_for", "store_report"]

log = logging.getLogger(__name__)
KINDS = ("weekly_dispatch", "monthly_bulletin")
# What `xinfang report KIND` makes where the rule set names no report of that kind.
DEFAULT_REPORTS = {
    "weekly_dispatch": {"kind": "weekly_dispatch", "name": "信访事项周调度", "cadence": "weekly"},
    "monthly_bulletin": {"kind": "monthly_bulletin", "name": "信访工作月通报", "cadence": "monthly"},
}


class ReportError(ValueError):
    """A report that cannot be made as asked; the message is Chinese, naming the jurisdiction and report."""


@dataclass(frozen=True)
class Made:
    """A report's files, with what it is."""

    code: str
    report: str
    spec: dict[str, Any]
    period: Period
    xlsx: bytes
    pdf: bytes

    @property
    def filename(self) -> str:
        """沂南县化解进度周调度-2024-W10 (without the extension)."""
        return f"{self.code}-{self.spec['name']}-{self.period.label}"


def find_report(library: RuleSetLibrary, code: str, asked: str, at: dt.date) -> tuple[str, dict[str, Any]]:
    """The report `asked` (a report id of the rule set, or a kind) of `code` in force on `at`.

    A kind names the report of that kind made at the jurisdiction's level (the first, if several); where the rule
    set names none, a default of that kind (DEFAULT_REPORTS).
    """
    jurisdiction = library.tree.get(code)
    try:
        reports = library.effective(jurisdiction.code, at).get("reports") or {}
    except NoRuleSetInForce:
        reports = {}
    if asked in reports:
        return asked, reports[asked]
    if asked not in KINDS:
        known = "、".join([*reports, *KINDS])
        raise ReportError(f"{jurisdiction.name}（{jurisdiction.code}）没有“{asked}”这种报告，可选：{known}")
    own = [(key, spec) for key, spec in reports.items()
           if spec["kind"] == asked and spec["level"] == jurisdiction.level]
    return own[0] if own else (asked, DEFAULT_REPORTS[asked])


def make_report(session: Session, library: RuleSetLibrary, code: str, report: str, spec: dict[str, Any],
                period_label: str) -> Made:
    """The XLSX and PDF of one report of one period (raises PeriodError for a label that does not fit its cadence)."""
    jurisdiction = library.tree.get(code)
    period = parse_period(period_label, spec["cadence"])
    if spec["kind"] == "weekly_dispatch":
        document = dispatch_document(jurisdiction, spec, period, dispatch(session, library, jurisdiction.code, period))
    else:
        document = bulletin_document(jurisdiction, spec, period, bulletin(session, library, jurisdiction.code, period))
    return Made(jurisdiction.code, report, spec, period, to_xlsx(document), to_pdf(document))


def store_report(session: Session, library: RuleSetLibrary, made: Made, actor: str, *, replace: bool = False) -> bool:
    """Keep a report in the database; False when it was there already (and `replace` is false). Flushes.

    The unique (jurisdiction, report, period) makes this safe with several workers: the one that loses the
    race sees the winner's row and stores nothing.
    """
    found = _kept(session, made)
    if found is not None and not replace:
        return False
    if found is not None:
        found.xlsx, found.pdf, found.name, found.generated_by = made.xlsx, made.pdf, made.spec["name"], actor
        found.generated_at = dt.datetime.now(dt.UTC)
        session.flush()
        return True
    ensure_jurisdiction(session, library, made.code)  # a township without cases may not be stored yet
    try:
        with session.begin_nested():
            session.add(StoredReport(jurisdiction_code=made.code, report=made.report, kind=made.spec["kind"],
                                     name=made.spec["name"], period=made.period.label, generated_by=actor,
                                     xlsx=made.xlsx, pdf=made.pdf))
    except IntegrityError:
        if _kept(session, made) is None:  # not the race lost: a real fault
            raise
        return False
    return True


def _kept(session: Session, made: Made) -> StoredReport | None:
    return session.scalar(select(StoredReport).where(
        StoredReport.jurisdiction_code == made.code, StoredReport.report == made.report,
        StoredReport.period == made.period.label))


def due_reports(library: RuleSetLibrary, today: dt.date) -> list[tuple[str, str, dict[str, Any], Period]]:
    """Every report a rule set in force today asks of a jurisdiction of its level, with the last period it covers.

    Only the jurisdictions at and below a level whose rule set writes `reports` are looked at.
    """
    roots = sorted({v.code for v in library.all_versions() if v.data.get("reports")})
    seen: set[str] = set()
    due = []
    for root in roots:
        stack = [library.tree.get(root)]
        while stack:
            jurisdiction = stack.pop()
            stack += library.tree.children(jurisdiction.code)
            if jurisdiction.code in seen:
                continue
            seen.add(jurisdiction.code)
            try:
                reports = library.effective(jurisdiction.code, today).get("reports") or {}
            except (NoRuleSetInForce, LookupError, ValueError):
                continue
            for key, spec in reports.items():
                if spec["level"] == jurisdiction.level:
                    due.append((jurisdiction.code, key, spec, latest_complete(spec["cadence"], today)))
    return due


def run_due(engine: Engine, library: RuleSetLibrary, now: dt.datetime, worker: str) -> str:
    """Make and keep each due report not kept yet (one transaction per report); say how many."""
    today = now.astimezone(CHINA).date()
    made = kept = failed = 0
    for code, key, spec, period in due_reports(library, today):
        try:
            with Session(engine) as session, session.begin():
                if session.scalar(select(StoredReport.id).where(
                        StoredReport.jurisdiction_code == code, StoredReport.report == key,
                        StoredReport.period == period.label)) is not None:
                    kept += 1
                    continue
                made += store_report(session, library, make_report(session, library, code, key, spec, period.label),
                                     worker)
        except Exception:  # one broken report must not keep the others from being made; tomorrow's run retries it
            log.exception("report %s of %s for %s failed", key, code, period.label)
            failed += 1
    return f"reports: {made} made, {kept} already kept" + (f", {failed} failed (logged)" if failed else "")


def scheduled_for(library: RuleSetLibrary, code: str, at: dt.date) -> dict[str, dict[str, Any]]:
    """The reports the rule set in force at `code` asks of it (those of its level), by id."""
    jurisdiction = library.tree.get(code)
    try:
        reports = library.effective(jurisdiction.code, at).get("reports") or {}
    except NoRuleSetInForce:
        return {}
    return {key: spec for key, spec in reports.items() if spec["level"] == jurisdiction.level}


def kept_reports(session: Session, library: RuleSetLibrary, code: str, at: dt.date) -> list[dict[str, Any]]:
    """The reports kept for `code`, newest period first, without their files: id, name, period title, generated."""
    scheduled = scheduled_for(library, code, at)
    rows = session.execute(select(StoredReport.id, StoredReport.report, StoredReport.kind, StoredReport.name,
                                  StoredReport.period, StoredReport.generated_at)
                           .where(StoredReport.jurisdiction_code == code)
                           .order_by(StoredReport.period.desc(), StoredReport.name))
    kept = []
    for report_id, report, kind, name, label, generated_at in rows:
        cadence = (scheduled.get(report) or DEFAULT_REPORTS.get(kind) or {}).get("cadence")
        if cadence is None or ("W" in label) == (cadence == "monthly"):
            cadence = "weekly" if "W" in label else "monthly"
        try:
            title = parse_period(label, cadence).title
        except ValueError:
            title = label
        kept.append({"id": report_id, "name": name, "title": title,
                     "generated": generated_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")})
    return kept
