"""Work orders sent in by other systems (12345热线, 网信): POST /api/v1/intake/orders, for a source system's account.

A thin adapter over server/cases/orders.py: the order (or a list of them) is mapped by the rule set's entry for its
source and held for the office's inbox; the same order id again answers the order stored the first time (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError

from xinfang.server.cases import orders
from xinfang.server.cases.errors import Invalid
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.store.order_tables import WorkOrder

from .auth import current_user, source_system_required
from .errors import ApiError

bp = Blueprint("orders_api", __name__, url_prefix="/api/v1/intake")

FIELDS = ("jurisdiction", "source", "order")
MAX_ORDERS = 1000  # orders in one request; a bigger export goes through `xinfang import-orders`
_RETRIES = 3


def order_json(order: WorkOrder) -> dict[str, Any]:
    return {"id": order.id, "jurisdiction": order.jurisdiction_code, "source": order.source,
            "order_id": order.source_order_id, "received_on": order.received_on.isoformat(), "status": order.status,
            "case_number": order.petition.number if order.petition is not None else None}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = [k for k in body if k not in FIELDS]
    missing = [k for k in FIELDS if k not in body]
    if unknown or missing:
        details = [f"{k}: unknown field" for k in unknown] + [f"{k}: required field is missing" for k in missing]
        raise ApiError(422, "invalid_payload", "; ".join(details) + f"; the fields are {', '.join(FIELDS)}", details)
    if not isinstance(body["order"], (Mapping, list)) or (isinstance(body["order"], list)
                                                         and not 1 <= len(body["order"]) <= MAX_ORDERS):
        raise ApiError(422, "invalid_payload", f"order: an object (column → value) or a list of 1 to {MAX_ORDERS}",
                       ["order: an object or a list of objects"])
    return body


def _receive_all(body: dict[str, Any]) -> list[orders.Received]:
    """Every order of the request, or none: a refused one is answered with its index and each column's problem."""
    db, library, user = get_session(), library_of(current_app), current_user()
    many = isinstance(body["order"], list)
    received, refused = [], []
    for index, row in enumerate(body["order"] if many else [body["order"]]):
        try:
            received.append(orders.receive(db, library, body["jurisdiction"], body["source"], row, user))
        except Invalid as err:
            if err.code != "invalid_order":
                raise
            refused += [{**detail, "index": index} if many else detail for detail in err.details]
    if refused:
        raise Invalid("invalid_order", "; ".join(d["message"] for d in refused), refused)
    return received


@bp.post("/orders")
@source_system_required
def receive_orders():
    """Hold a source's order (or a list): 201 when stored now, 200 with the stored order for an id sent before."""
    body = _body()
    db = get_session()
    for attempt in range(1, _RETRIES + 1):
        try:
            received = _receive_all(body)
            db.commit()
            break
        except (IntegrityError, OperationalError):  # SQLite's writer lock, a jurisdiction row raced
            db.rollback()
            if attempt == _RETRIES:
                raise ApiError(503, "busy", "the orders could not be stored for concurrent changes; try again")
        except Exception:
            db.rollback()
            raise
    status = 201 if any(r.created for r in received) else 200
    if isinstance(body["order"], list):
        response = jsonify(items=[{**order_json(r.order), "created": r.created} for r in received])
    else:
        response = jsonify(order_json(received[0].order) | {"created": received[0].created})
    response.status_code = status
    return response
