"""Pages of the jurisdiction tree: search, a node with its versions and children, its effective rule set.

Published rule sets are public law: these pages are open to anyone, signed in or not, in any jurisdiction
(README "Who reads what"); drafts are not shown here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, make_response, render_template, request

from xinfang.config import (
    Jurisdiction,
    NoRuleSetInForce,
    RuleSetLibrary,
    RuleSetVersion,
    UnknownJurisdiction,
    today_in_china,
)
from xinfang.server.rulesets.library_store import library_of

from . import page_or_fragment
from .ruleset_view import RuleSetView

bp = Blueprint("jurisdictions", __name__, url_prefix="/jurisdictions")


@dataclass(frozen=True)
class Node:
    """A jurisdiction as the tree shows it: the version in force, its own or inherited, and its children."""

    jurisdiction: Jurisdiction
    in_force: RuleSetVersion | None  # the version that applies: its own, or the nearest level above's
    own: bool
    own_versions: int
    child_count: int

    @property
    def code(self) -> str:
        return self.jurisdiction.code

    @property
    def name(self) -> str:
        return self.jurisdiction.name


def node_of(library: RuleSetLibrary, jurisdiction: Jurisdiction, at: dt.date) -> Node:
    chain = library.chain(jurisdiction.code, at)
    in_force = chain[-1] if chain else None
    return Node(jurisdiction, in_force, in_force is not None and in_force.code == jurisdiction.code,
                len(library.versions(jurisdiction.code)), len(library.tree.children(jurisdiction.code)))


def _context() -> tuple[RuleSetLibrary, dt.date]:
    """The library (once per request) and the date asked for."""
    return library_of(current_app._get_current_object()), _at()


def _at() -> dt.date:
    raw = request.args.get("at", "").strip()
    if not raw:
        return today_in_china()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(make_response(render_template("error.html", status=400, title="日期格式不对",
                                            message=f"“{raw}”不是日期，请写成 2024-06-01 这样的格式。"), 400))


def _jurisdiction(library: RuleSetLibrary, code: str) -> Jurisdiction:
    try:
        return library.tree.get(code)
    except (UnknownJurisdiction, ValueError, TypeError):
        abort(make_response(render_template("error.html", status=404, title="没有这个行政区划",
                                            message=f"没有代码为“{code}”的行政区划。"), 404))


@bp.get("")
def tree():
    """The tree from the nation down, and a search by name or code (`?q=沂南`); htmx gets `_results.html`."""
    library, at = _context()
    query = request.args.get("q", "").strip()
    results = [(node_of(library, j, at), library.tree.ancestors(j.code)[1:-1])
               for j in library.tree.search(query)] if query else []
    root = node_of(library, library.tree.get("000000"), at)
    children = [node_of(library, j, at) for j in library.tree.children("000000")]
    with_rulesets = [node_of(library, library.tree.get(c), at) for c in library.codes()]
    return page_or_fragment("jurisdictions/tree.html", "jurisdictions/_results.html", query=query, at=at,
                            results=results, root=root, children=children, with_rulesets=with_rulesets)


@bp.get("/<code>")
def node(code: str):
    """One jurisdiction: where it sits, the version in force, its own versions, its children (htmx: `_children.html`)."""
    library, at = _context()
    jurisdiction = _jurisdiction(library, code)
    here = node_of(library, jurisdiction, at)
    children = [node_of(library, j, at) for j in library.tree.children(jurisdiction.code)]
    return page_or_fragment("jurisdictions/node.html", "jurisdictions/_children.html", node=here, at=at,
                            ancestors=library.tree.ancestors(jurisdiction.code)[:-1], children=children,
                            versions=library.versions(jurisdiction.code), parent_code=jurisdiction.code)


@bp.get("/<code>/ruleset")
def ruleset(code: str):
    """The effective rule set on `?at=` (default today): every value with its source and the bounds above it."""
    library, at = _context()
    jurisdiction = _jurisdiction(library, code)
    try:
        effective = library.effective(jurisdiction.code, at)
    except NoRuleSetInForce as err:
        return render_template("error.html", status=404, title="当日没有施行的规则集", message=str(err)), 404
    parent = None
    if jurisdiction.parent is not None:
        try:
            parent = library.effective(jurisdiction.parent, at)
        except NoRuleSetInForce:
            parent = None
    view = RuleSetView(effective, library.tree, parent)
    return render_template("jurisdictions/ruleset.html", node=node_of(library, jurisdiction, at), at=at,
                           effective=effective, view=view, ancestors=library.tree.ancestors(jurisdiction.code)[:-1])
