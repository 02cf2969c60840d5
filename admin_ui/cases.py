"""Case lists per jurisdiction and unit: filters, deadlines counting down, exports to CSV and XLSX."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, render_template, request

from xinfang.config import today_in_china
from xinfang.config.procedure import STAGES
from xinfang.config.units import is_generic, named_units
from xinfang.server.cases.queries import list_cases
from xinfang.server.rulesets.library_store import library_of
from xinfang.server.store.db import get_session
from xinfang.server.web.auth import current_user, in_scope

from . import page_or_fragment
from .access import READ_ROLES, forbidden, roles_required_page
from .case_export import to_csv, to_xlsx
from .case_labels import FLAGS
from .case_query import MAX_EXPORT, PER_PAGE, ListForm, Names, case_rows, parse_filters

bp = Blueprint("case_list", __name__, url_prefix="/cases")


def _filters() -> tuple[ListForm, Names]:
    """The filters asked for, in the user's scope (403 beyond it, 404 for a code that names nothing)."""
    user = current_user()
    library = library_of(current_app)
    f = parse_filters(request.args, user.jurisdiction_code)
    try:
        j = library.tree.get(f.jurisdiction)
    except (LookupError, ValueError):
        abort(make_response(render_template("error.html", status=404, title="没有这个行政区划",
                                            message=f"没有代码为“{f.jurisdiction}”的行政区划。"), 404))
    f.jurisdiction = j.code
    if not in_scope(user, j.code):
        forbidden(f"{j.name}（{j.code}）不在您的管辖范围内：您只能查看本级和下级的信访事项。")
    return f, Names(library, today_in_china())


def _options(f: ListForm, names: Names) -> dict:
    """The choices of the filter form, from the rule set in force in the chosen jurisdiction."""
    user, tree = current_user(), names.library.tree
    places = [tree.get(user.jurisdiction_code), *tree.children(user.jurisdiction_code)]
    if f.jurisdiction not in {p.code for p in places}:
        places.append(tree.get(f.jurisdiction))
    effective = names.effective(f.jurisdiction)
    data = effective.data if effective else {}
    return {"places": places, "stages": [(s.name, s.label) for s in STAGES],
            "units": [(k, v["name"] or k) for k, v in (named_units(effective) if effective else {}).items()
                      if not is_generic(v)],
            "tracks": [(k, v.get("name", k)) for k, v in (data.get("tracks") or {}).items()],
            "flags": list(FLAGS.items())}


@bp.get("")
@roles_required_page(*READ_ROLES)
def index():
    """The filtered list, a page at a time (htmx gets `_results.html` and the address follows the filters)."""
    f, names = _filters()
    db, today, user = get_session(), names.today, current_user()
    found = list_cases(db, names.library, user, f.filters(today), page=f.page, per_page=PER_PAGE)
    pages = max(1, -(-found.total // PER_PAGE))
    if f.page > pages:  # past the last page: the last one
        f.page = pages
        found = list_cases(db, names.library, user, f.filters(today), page=f.page, per_page=PER_PAGE)
    total = found.total
    rows = case_rows(found.items, user, names)
    return page_or_fragment("cases/list.html", "cases/_results.html", filters=f, rows=rows, total=total,
                            pages=pages, today=today, options=_options(f, names),
                            place_name=names.jurisdiction(f.jurisdiction))


def _export_rows() -> tuple[list[dict], str]:
    f, names = _filters()
    found = list_cases(get_session(), names.library, current_user(), f.filters(names.today), per_page=MAX_EXPORT)
    rows = case_rows(found.items, current_user(), names)
    return rows, f"{f.jurisdiction}-cases-{names.today.isoformat()}"


@bp.get("/export.csv")
@roles_required_page(*READ_ROLES)
def export_csv():
    """The whole filtered list (up to MAX_EXPORT cases) as CSV, personal data masked."""
    rows, name = _export_rows()
    return _download(to_csv(rows), f"{name}.csv", "text/csv; charset=utf-8")


@bp.get("/export.xlsx")
@roles_required_page(*READ_ROLES)
def export_xlsx():
    """The whole filtered list as an XLSX workbook, personal data masked."""
    rows, name = _export_rows()
    return _download(to_xlsx(rows, name), f"{name}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _download(body: bytes, filename: str, mimetype: str):
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data, even masked, is not kept by caches
    return response
