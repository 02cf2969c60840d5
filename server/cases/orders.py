"""Work orders (工单) from other systems (12345热线, 网信, 社情民意): mapped by the rule set, held, registered or closed.

An order is mapped onto a case by its source's entry in the rule set in force (`intake.sources`): its columns to
case fields, its categories to ours, its channel. It is held until an officer confirms it is a petition matter
(视同信访事项, "查实后可以视同信访事项"): then it is registered through register_case with the date the source
received it, or it is closed with a reason; both decisions are in the audit log, the registration in the case's
file too. The source's order id is unique per jurisdiction and source: the same order twice is stored once.

A row's problems name its column (the source's own header) and say what is wrong, in Chinese: they are read by
the office that exports the file, in the command's summary and in the API's answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from xinfang.config import CHINA, EffectiveRuleSet, RuleSetLibrary, today_in_china
from xinfang.rules.calendar import FIRST_DAY, LAST_DAY
from xinfang.server.accounts import SOURCE_SYSTEM, Actor, is_source_system
from xinfang.server.store.models import AuditLog, utcnow
from xinfang.server.store.order_tables import WorkOrder

from .case_file import effective_or_error
from .errors import CaseNotFound, Forbidden, Invalid, NotAllowedNow, Problem
from .permissions import require_roles, require_scope
from .registration import check_case, dialect_insert, ensure_jurisdiction, register_case

__all__ = ["DECIDE_ROLES", "SOURCE_ROLES", "ImportReport", "MappedOrder", "Received", "RefusedRow", "close", "confirm",
           "get_order", "held_count", "held_orders", "map_row", "parse_source_date", "receive", "receive_many", "source_of"]

SOURCE_ROLES = (SOURCE_SYSTEM,)  # who sends orders in (admin may too)
DECIDE_ROLES = ("clerk",)  # who confirms an order as a petition matter, or closes it (the office registers: Art. 21)
MAX_ORDER_ID = 100  # characters of a source's order id (the column's width)
MAX_REASON = 500
BATCH = 500  # orders written per statement by receive_many

# The mapping's column fields (config/schema: $defs.intakeSource.columns) → where each goes in the Case JSON.
# handling_unit and area are not case fields: they stay in the order's row, shown in the inbox.
CASE_PATHS = {"received_on": "received_on", "text": "text", "category": "category", "accused_unit": "accused_unit",
              "petitioner_name": "petitioner.name", "petitioner_phone": "petitioner.phone",
              "petitioner_id_number": "petitioner.id_number", "petitioner_address": "petitioner.address"}
PETITIONER_FIELDS = {f: path.split(".")[1] for f, path in CASE_PATHS.items() if path.startswith("petitioner.")}
PERSONAL = "petitioner"  # in a stored row, the petitioner's columns go under this key, sealed at rest


@dataclass(frozen=True)
class MappedOrder:
    """A source's row mapped by the rule set: its order id, the day the source received it, the Case JSON, and the
    row as it is stored (the petitioner's columns under `petitioner`)."""

    order_id: str
    received_on: dt.date
    case: dict[str, Any]
    row: dict[str, Any]


@dataclass(frozen=True)
class Received:
    """The order stored for a source's order id, and whether this call stored it (False: sent before)."""

    order: WorkOrder
    created: bool


@dataclass(frozen=True)
class RefusedRow:
    """A row not imported: its number in the file (the header is row 1) and its problems, each naming a column."""

    row: int
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return f"第{self.row}行：" + "；".join(p.message for p in self.problems)


@dataclass
class ImportReport:
    """What receive_many did: orders stored, rows whose order id was there already, rows refused."""

    imported: int = 0
    duplicates: int = 0
    refused: list[RefusedRow] = field(default_factory=list)

    def __str__(self) -> str:
        return f"导入{self.imported}条，重复{self.duplicates}条（已有同一工单编号，未再导入），拒收{len(self.refused)}条"


def source_of(effective: EffectiveRuleSet, source: str) -> Mapping[str, Any]:
    """The source's mapping in the rule set (`intake.sources.NAME`), or the refusal naming the sources there are."""
    sources = effective.get("intake.sources") or {}
    if not isinstance(source, str) or source not in sources:
        j = effective.jurisdiction
        there = "、".join(sources) or "无"
        message = f"{j.name}（{j.code}）施行的规则集中没有工单来源“{source}”（规则集中有：{there}）"
        raise Invalid("unknown_source", message, [{"field": "source", "source": str(source), "sources": list(sources),
                                                  "message": message}])
    return sources[source]


# Dates as sources write them: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, with or without a time.
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:(?:\s+|T|\s*日?)(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\s*(\d{2}):?(\d{2})(?::?(\d{2}))?)?")
_ZONED = re.compile(r".*T.*(Z|[+-]\d{2}:?\d{2})$")


def parse_source_date(text: str) -> dt.date:
    """The day (Asia/Shanghai) a source's date or date-and-time names; ValueError when it names none.

    An instant with a zone (2024-03-05T06:20:00Z) is the day it was in China; a time without one is China's.
    """
    return parse_source_moment(text)[0]


def parse_source_moment(text: str) -> tuple[dt.date, dt.datetime | None]:
    """The day (Asia/Shanghai) a source's date or date-and-time names, and the moment in Beijing time when it
    gives a time (a 12345 call at 16:20: routing by the next working morning counts from it); ValueError when it
    names no day."""
    text = text.strip()
    moment = None
    if _ZONED.fullmatch(text):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(CHINA)
        except ValueError:
            raise ValueError(text) from None
        day = moment.date()
    else:
        found = _DATE.fullmatch(text) or _COMPACT.fullmatch(text)
        if not found:
            raise ValueError(text)
        year, month, day_of_month, *clock = found.groups()
        day = dt.date(int(year), int(month), int(day_of_month))  # ValueError for 2024-02-30
        hour, minute, second = (int(v) if v else 0 for v in clock)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(text)
        if clock[0] is not None:
            moment = dt.datetime.combine(day, dt.time(hour, minute, second), CHINA)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day, moment


def _text(value: Any) -> str | None:
    """A cell as text (numbers as written), '' when empty; None when it is no text at all (an object, a list)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _problem(header: str, code: str, message: str, value: Any = None) -> Problem:
    return Problem(header, code, message, {"column": header, **({"value": value} if value is not None else {})})


def _refused(problems: list[Problem]) -> Invalid:
    return Invalid("invalid_order", "；".join(p.message for p in problems),
                   [{"column": p.field, "code": p.code, "message": p.message} for p in problems], problems=problems)


def map_row(effective: EffectiveRuleSet, source: str, row: Mapping[str, Any]) -> MappedOrder:
    """The case a source's row stands for, by the rule set's mapping of that source (`intake.sources`).

    Columns become case fields, the source's category its code here (a category the mapping does not list is
    left for the engine to suggest from the text), the source's channel the intake. Raises Invalid
    (`invalid_order`) with every problem of the row, each naming its column: a required column empty, a date
    that is none or lies ahead, an order id too long, a cell that is no text.
    """
    spec = source_of(effective, source)
    columns: Mapping[str, str] = spec["columns"]
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for name, header in columns.items():
        raw = row.get(header)
        value = _text(raw)
        if value is None:
            problems.append(_problem(header, "not_text", f"“{header}”应为文字，而不是{type(raw).__name__}"))
        elif value:
            values[name] = value
    for name in ("order_id", "received_on", "text"):  # required by the schema in every mapping
        header = columns[name]
        if name not in values and not any(p.field == header for p in problems):
            problems.append(_problem(header, "missing", f"“{header}”为空"))
    order_id = values.get("order_id", "")
    if len(order_id) > MAX_ORDER_ID:
        problems.append(_problem(columns["order_id"], "too_long", f"“{columns['order_id']}”超过{MAX_ORDER_ID}个字符"))
    received_on = received_at = None
    if "received_on" in values:
        header, raw = columns["received_on"], values["received_on"]
        try:
            received_on, received_at = parse_source_moment(raw)
        except ValueError:
            problems.append(_problem(header, "not_a_date", f"“{header}”的“{raw[:40]}”不是日期（可写作2024-03-05、"
                                                           f"2024/3/5、2024-03-05 14:20:00或2024年3月5日）", raw))
        else:
            today = today_in_china()
            if received_on > today:
                problems.append(_problem(header, "in_the_future", f"“{header}”{received_on}晚于今天（{today}）", raw))
    if problems:
        raise _refused(problems)
    case: dict[str, Any] = {"received_on": received_on.isoformat(), "intake": spec["channel"], "text": values["text"]}
    if received_at is not None:  # the time the source received it: kept through confirmation (register_case)
        case["received_at"] = received_at.isoformat()
    category = values.get("category")
    if category is not None and category in (spec.get("categories") or {}):
        case["category"] = spec["categories"][category]
    if "accused_unit" in values:
        case["accused_unit"] = values["accused_unit"]
    petitioner = {key: values[name] for name, key in PETITIONER_FIELDS.items() if name in values}
    if petitioner:
        case["petitioner"] = petitioner
    personal = {columns[name] for name in PETITIONER_FIELDS if name in columns}
    stored = {str(k): v for k, v in row.items() if k not in personal}
    own = {h: row[h] for h in personal if row.get(h) not in (None, "")}
    if own:
        stored[PERSONAL] = own
    return MappedOrder(order_id, received_on, case, stored)


def _checked(library: RuleSetLibrary, code: str, columns: Mapping[str, str], mapped: MappedOrder) -> MappedOrder:
    """The mapped case as registration will check it (its fields, the form of the version in force on the day the
    source received it), each problem told by the column it came from."""
    try:
        check_case(library, code, mapped.case)
    except Invalid as err:
        by_path = {path: columns[name] for name, path in CASE_PATHS.items() if name in columns}
        problems = []
        for p in err.problems or (Problem("case", err.code, err.message),):
            header = by_path.get(p.field)
            where = f"“{header}”" if header else f"工单（{p.field}）"
            say = f"{where}：{p.message}" if p.code == "form" else f"{where}不符合登记要求：{p.message}"
            if p.field == "intake":
                say = f"规则集中没有这一来源的信访形式“{mapped.case['intake']}”：{p.message}"
            problems.append(_problem(header or p.field, p.code, say))
        raise _refused(problems) from None
    return mapped


def _mapped(effective: EffectiveRuleSet, source: str, row: Any) -> MappedOrder:
    if not isinstance(row, Mapping):
        raise _refused([_problem("order", "not_an_object", "工单应为“列名: 内容”的对象")])
    return map_row(effective, source, row)


def _open(library: RuleSetLibrary, code: Any, source: Any, actor: Actor) -> EffectiveRuleSet:
    """The rule set in force today where the orders are sent (its mapping reads them), the sender checked."""
    require_roles(actor, SOURCE_ROLES, "sending work orders")
    try:
        code = library.tree.get(code).code
    except (LookupError, ValueError, TypeError) as err:
        raise Invalid("unknown_jurisdiction", str(err), [{"jurisdiction": str(code)}]) from None
    effective = effective_or_error(library, code, today_in_china())
    require_scope(actor, effective.jurisdiction.code, library.tree)
    if is_source_system(actor) and actor.unit and actor.unit != source:  # a source account sends its own source's
        raise Forbidden("not_your_source", f"this account sends the orders of {actor.unit}, not of {source}",
                        [{"source": str(source), "account_source": actor.unit}])
    source_of(effective, source)
    return effective


def _values(code: str, source: str, mapped: MappedOrder, actor: Actor) -> dict[str, Any]:
    return {"jurisdiction_code": code, "source": source, "source_order_id": mapped.order_id,
            "received_on": mapped.received_on, "case_json": mapped.case, "source_row": mapped.row, "status": "held",
            "created_at": utcnow(), "created_by": actor.username}


def _new_orders(db: Session, values: list[dict[str, Any]]) -> list[str]:
    """Insert orders, skipping any whose id another writer stored meanwhile (the unique key): the ids inserted."""
    stmt = (dialect_insert(db, WorkOrder)
            .on_conflict_do_nothing(index_elements=["jurisdiction_code", "source", "source_order_id"])
            .returning(WorkOrder.source_order_id))
    return list(db.execute(stmt, values).scalars()) if len(values) > 1 else \
        list(db.execute(stmt.values(**values[0])).scalars())


def _stored(db: Session, code: str, source: str, order_id: str) -> WorkOrder | None:
    return db.scalars(select(WorkOrder).where(WorkOrder.jurisdiction_code == code, WorkOrder.source == source,
                                              WorkOrder.source_order_id == order_id)).first()


def receive(db: Session, library: RuleSetLibrary, code: str, source: str, row: Mapping[str, Any],
            actor: Actor) -> Received:
    """Hold a source's order: mapped, checked, stored; an order id received before answers the order stored then.

    Raises Invalid for a row that cannot become a case (each problem naming its column), Forbidden for an actor
    that may not send it. The caller commits.
    """
    effective = _open(library, code, source, actor)
    code = effective.jurisdiction.code
    mapped = _mapped(effective, source, row)
    found = _stored(db, code, source, mapped.order_id)
    if found is not None:  # the same order again: answered as stored, whatever else the repeat says
        return Received(found, False)
    _checked(library, code, source_of(effective, source)["columns"], mapped)
    ensure_jurisdiction(db, library, code)
    if not _new_orders(db, [_values(code, source, mapped, actor)]):  # another request stored it meanwhile
        return Received(_stored(db, code, source, mapped.order_id), False)
    order = _stored(db, code, source, mapped.order_id)
    db.add(AuditLog(actor=actor.username, action="order.receive", object_type="work_order", object_id=str(order.id),
                    detail={"source": source, "order_id": mapped.order_id, "received_on": mapped.received_on.isoformat()}))
    db.flush()
    return Received(order, True)


def _one_of(db: Session, column, values: list[str]):
    """`column IN values`; on PostgreSQL as `= ANY(one array)`: 500 bound values in an IN list cost it ~0.1 s a
    statement to plan, the array 4 ms (bench/README.md, bench_orders.py)."""
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("order_ids", values, type_=postgresql.ARRAY(String)))
    return column.in_(values)


def receive_many(db: Session, library: RuleSetLibrary, code: str, source: str,
                 rows: Iterable[tuple[int, Mapping[str, Any]]], actor: Actor, *,
                 progress: Callable[[int], None] | None = None, batch: int = BATCH) -> ImportReport:
    """Hold every order of a file (`rows`: each row's number in the file and its cells), a batch per statement.

    A row that cannot become a case is refused (with its number and its problems) and the others are stored;
    an order id stored before, or earlier in the same file, is a duplicate and adds nothing. `progress` is
    called with the number of rows read after each batch. The caller commits (one transaction for the file).
    """
    effective = _open(library, code, source, actor)
    code = effective.jurisdiction.code
    columns = source_of(effective, source)["columns"]
    ensure_jurisdiction(db, library, code)
    report = ImportReport()
    pending: list[tuple[int, MappedOrder]] = []
    read, told = 0, -1

    def flush() -> None:
        nonlocal told
        if not pending and told == read:
            return
        seen = set(db.scalars(select(WorkOrder.source_order_id).where(
            WorkOrder.jurisdiction_code == code, WorkOrder.source == source,
            _one_of(db, WorkOrder.source_order_id, [m.order_id for _, m in pending]))))
        values = []
        for number, mapped in pending:
            if mapped.order_id in seen:  # stored before, or earlier in this file: not checked again
                report.duplicates += 1
                continue
            try:
                _checked(library, code, columns, mapped)
            except Invalid as err:
                report.refused.append(RefusedRow(number, err.problems))
                continue
            seen.add(mapped.order_id)
            values.append(_values(code, source, mapped, actor))
        if values:
            inserted = len(_new_orders(db, values))
            report.imported += inserted
            report.duplicates += len(values) - inserted
        pending.clear()
        if progress:
            progress(read)
            told = read

    for number, row in rows:
        read += 1
        try:
            pending.append((number, _mapped(effective, source, row)))
        except Invalid as err:
            report.refused.append(RefusedRow(number, err.problems))
        if len(pending) >= batch:
            flush()
    flush()
    report.refused.sort(key=lambda r: r.row)
    db.add(AuditLog(actor=actor.username, action="order.import", object_type="work_order", object_id=f"{code}:{source}",
                    detail={"source": source, "imported": report.imported, "duplicates": report.duplicates,
                            "refused": len(report.refused)}))
    db.flush()
    return report


def get_order(db: Session, library: RuleSetLibrary, actor: Actor, order_id: int) -> WorkOrder:
    """The order, if it lies in the actor's scope."""
    order = db.get(WorkOrder, order_id) if 1 <= order_id <= 2**31 - 1 else None
    if order is None:
        raise CaseNotFound("order_not_found", f"no work order has id {order_id}", [{"id": order_id}])
    require_scope(actor, order.jurisdiction_code, library.tree)
    return order


def held_orders(db: Session, library: RuleSetLibrary, actor: Actor, code: str, *, limit: int = 200) -> list[WorkOrder]:
    """The orders of `code` waiting for a decision, oldest received first (the office's inbox)."""
    require_roles(actor, DECIDE_ROLES, "reading the work orders held")
    require_scope(actor, code, library.tree)
    return list(db.scalars(select(WorkOrder).where(WorkOrder.jurisdiction_code == code, WorkOrder.status == "held")
                           .order_by(WorkOrder.received_on, WorkOrder.id).limit(limit)))


def held_count(db: Session, code: str) -> int:
    """How many orders of `code` wait for a decision (the inbox shows the oldest of them)."""
    return db.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.jurisdiction_code == code,
                                                                      WorkOrder.status == "held"))


def _decide(db: Session, library: RuleSetLibrary, order_id: int, actor: Actor, status: str, what: str) -> WorkOrder:
    """Take the held order for `status`, once: of two officers deciding at the same time, the second is refused."""
    order = get_order(db, library, actor, order_id)
    require_roles(actor, DECIDE_ROLES, what)
    taken = db.execute(update(WorkOrder).where(WorkOrder.id == order.id, WorkOrder.status == "held")
                       .values(status=status, decided_at=utcnow(), decided_by=actor.username)
                       .execution_options(synchronize_session="fetch")).rowcount
    if not taken:
        db.refresh(order)
        raise NotAllowedNow("order_decided", f"work order {order.source_order_id} is {order.status} already",
                            [{"id": order.id, "status": order.status, "petition_id": order.petition_id}])
    return order


def _source_name(library: RuleSetLibrary, order: WorkOrder) -> str:
    try:
        return source_of(effective_or_error(library, order.jurisdiction_code, today_in_china()), order.source)["name"]
    except Invalid:
        return order.source


def confirm(db: Session, library: RuleSetLibrary, order_id: int, actor: Actor) -> WorkOrder:
    """视同信访事项: register the held order as a petition received on the day the source received it, through
    register_case (the clerk's role, the form and the pinned version apply as to any registration); the order
    points at its case and the case's register event names the order. The caller commits, or rolls back."""
    order = _decide(db, library, order_id, actor, "registered", "confirming a work order as a petition matter")
    origin = {"source": order.source, "source_name": _source_name(library, order), "order_id": order.source_order_id,
              "received_on": order.received_on.isoformat()}
    petition = register_case(db, library, order.case_json, actor=actor, jurisdiction_code=order.jurisdiction_code,
                             origin=origin).petition
    order.petition_id = petition.id
    db.add(AuditLog(actor=actor.username, action="order.confirm", object_type="work_order", object_id=str(order.id),
                    detail={**origin, "number": petition.number}))
    db.flush()
    return order


def close(db: Session, library: RuleSetLibrary, order_id: int, reason: Any, actor: Actor) -> WorkOrder:
    """Close a held order that is no petition matter (已答复、不属于信访事项 …), with the reason. The caller commits."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        code = "missing" if not reason else "too_long"
        raise Invalid("invalid_payload", f"reason: {'required' if not reason else f'at most {MAX_REASON} characters'}",
                      problems=[Problem("reason", code, "关闭理由为必填项" if not reason else
                                        f"关闭理由不得超过{MAX_REASON}字")])
    order = _decide(db, library, order_id, actor, "closed", "closing a work order")
    order.closing_reason = reason
    db.add(AuditLog(actor=actor.username, action="order.close", object_type="work_order", object_id=str(order.id),
                    detail={"source": order.source, "order_id": order.source_order_id, "reason": reason}))
    db.flush()
    return order
