"""The office's inbox of work orders (工单) from other systems: register one as a petition matter, or close it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for

from xinfang.config import NoRuleSetInForce, UnknownJurisdiction, today_in_china
from xinfang.server.cases import orders
from xinfang.server.cases.errors import CaseServiceError
from xinfang.server.cases.visibility import mask_phone
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.store.order_tables import WorkOrder
from xinfang.server.web.auth import current_user

from . import page_or_fragment
from .access import roles_required_page
from .case_errors import refusal_text

bp = Blueprint("orders", __name__, url_prefix="/orders")

SUMMARY_LENGTH = 80


def _row(order: WorkOrder, sources: dict[str, Any], categories: dict[str, Any]) -> dict[str, Any]:
    """One order as the inbox shows it: its source's words for what our mapping does not take (area, unit)."""
    spec = sources.get(order.source) or {}
    columns = spec.get("columns") or {}
    row, case = order.source_row, order.case_json

    def cell(name: str) -> str:
        return str(row.get(columns[name]) or "") if name in columns else ""

    petitioner = case.get("petitioner") or {}
    code = case.get("category")
    text = case.get("text", "")
    return {
        "id": order.id, "order_id": order.source_order_id, "source_name": spec.get("name", order.source),
        "received_on": order.received_on.isoformat(),
        "summary": text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH] + "…",
        "category": f"{code} {(categories.get(code) or {}).get('name', '')}".strip() if code else "",
        "source_category": cell("category"), "area": cell("area"), "handling_unit": cell("handling_unit"),
        "petitioner": petitioner.get("name") or "", "phone": mask_phone(petitioner["phone"])
        if petitioner.get("phone") else "",
    }


def _inbox(status: int = 200, message: tuple[str, str] | None = None):
    user = current_user()
    library = library_of(current_app)
    try:
        effective = library.effective(user.jurisdiction_code, today_in_china())
        data = effective.data
    except (UnknownJurisdiction, NoRuleSetInForce):
        data = {}
    held = orders.held_orders(get_session(), library, user, user.jurisdiction_code)
    sources = (data.get("intake") or {}).get("sources") or {}
    categories = (data.get("classification") or {}).get("categories") or {}
    response = page_or_fragment("orders/inbox.html", "orders/_orders.html",
                                rows=[_row(o, sources, categories) for o in held], message=message,
                                total=orders.held_count(get_session(), user.jurisdiction_code),
                                source_names=[s.get("name", k) for k, s in sources.items()])
    response.status_code = status
    return response


@bp.get("")
@roles_required_page("clerk")
def inbox():
    """The orders of the clerk's jurisdiction waiting for a decision, oldest first."""
    return _inbox()


def _decided(done, success: str):
    """Run a decision and answer: htmx gets the list again with the outcome on it, a browser a redirect (303)."""
    db = get_session()
    try:
        text = success.format(order=done())
        db.commit()
        kind, status = "success", 200
    except CaseServiceError as err:
        db.rollback()
        text, kind, status = f"未能办理：{refusal_text(err, 'register')}", "error", 422
    if request.htmx:
        return _inbox(status, (kind, text))
    flash(text, kind)
    return redirect(url_for(".inbox"), 303)


@bp.post("/<int:order_id>/confirm")
@roles_required_page("clerk")
def confirm(order_id: int):
    """视同信访事项: registered with the day the source received it."""
    return _decided(lambda: orders.confirm(get_session(), library_of(current_app), order_id, current_user()),
                    "工单 {order.source_order_id} 已视同信访事项登记，编号 {order.petition.number}。")


@bp.post("/<int:order_id>/close")
@roles_required_page("clerk")
def close(order_id: int):
    """Closed with the reason given (not a petition matter: answered by the hotline, a consultation …)."""
    reason = request.form.get("reason", "")
    return _decided(lambda: orders.close(get_session(), library_of(current_app), order_id, reason, current_user()),
                    "工单 {order.source_order_id} 已关闭。")
