"""Registering a petition (登记, Art. 21-23): validation, the pinned decision, its number, duplicates, daily limits."""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xinfang.config import CHINA, EffectiveRuleSet, RuleSetLibrary, procedure, today_in_china
from xinfang.rules.case_input import Case, CaseError, parse_case
from xinfang.rules.decide import decide
from xinfang.server.accounts import Actor, is_petitioner
from xinfang.server.store.case_tables import IdempotencyRecord, Petition
from xinfang.server.store.data_keys import blind_index
from xinfang.server.store.locks import hold_until_commit
from xinfang.server.store.models import Jurisdiction, utcnow

from .case_file import effective_or_error, engine_input, new_file
from .errors import Invalid, Problem
from .forms import UnknownCategory, UnknownIntake, form_definition, form_problems
from .identity import petitioner_key
from .online import check_anonymous, check_online, refuse_repeat
from .permissions import REGISTER_ROLES, require_roles, require_scope
from .queries import defined_below, same_matter

__all__ = ["LATER_STAGE_FIELDS", "Registered", "case_error", "check_case", "dialect_insert", "ensure_jurisdiction",
           "petitioner_key", "register", "register_case", "request_hash"]

# Recorded through actions once the case is on file, never at registration.
LATER_STAGE_FIELDS = (*(a.sets for a in procedure.ACTIONS if a.sets and "." not in a.sets), "hearings", "extensions")


@dataclass(frozen=True)
class Registered:
    """The registered case, and whether this call created it (False: an Idempotency-Key replay)."""

    petition: Petition
    created: bool


def case_error(err: CaseError) -> Invalid:
    """The engine's refusal of a case (rules.case_input: "field: message" lines) as the service's."""
    problems = [_problem(line) for line in err.problems]
    return Invalid("invalid_case", f"the case has {len(problems)} problem(s): " + "; ".join(err.problems),
                   problems=problems)


def _problem(line: str, code: str = "invalid") -> Problem:
    field, _, message = line.partition(": ")
    return Problem(field, code, message) if message else Problem("case", code, line)


def request_hash(jurisdiction_code: str, case_json: Any) -> str:
    """What makes two registration requests the same: the jurisdiction and the Case JSON, canonically written, as a
    blind index (the request holds the petitioner: a plain hash of it could be guessed from the stored case)."""
    text = json.dumps({"jurisdiction": jurisdiction_code, "case": case_json}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return blind_index(text)


def register(db: Session, library: RuleSetLibrary, case_json: Mapping, *, actor: Actor,
             jurisdiction_code: str | None = None, idempotency_key: str | None = None) -> Petition:
    """Register a petition and return it (with an Idempotency-Key seen before: the first one). The caller commits."""
    return register_case(db, library, case_json, actor=actor, jurisdiction_code=jurisdiction_code,
                         idempotency_key=idempotency_key).petition


def register_case(db: Session, library: RuleSetLibrary, case_json: Mapping, *, actor: Actor,
                  jurisdiction_code: str | None = None, idempotency_key: str | None = None,
                  origin: Mapping[str, Any] | None = None, anonymous: bool = False,
                  now: dt.datetime | None = None) -> Registered:
    """register(), saying whether the case was created. `jurisdiction_code` defaults to the actor's own.

    The actor must hold a registering role (a clerk) and the jurisdiction lie in its scope. Raises
    CaseServiceError for what cannot be registered; nothing is stored then. `origin`: where the case came
    from when another system sent it (a work order, server/cases/orders.py), kept in its register event.
    `anonymous`: an accusation sent online without the accuser's identity, where the rule set accepts one
    (server/cases/online.check_anonymous); its form asks nothing of the petitioner.
    A case received today that gives no `received_at` is received now (`now`, default the clock): a limit in
    hours (流转不过夜) counts from that time.
    """
    require_roles(actor, REGISTER_ROLES, "registering a petition")
    code = _known(library, jurisdiction_code or actor.jurisdiction_code)
    require_scope(actor, code, library.tree)
    digest = request_hash(code, case_json)
    if idempotency_key:
        record = db.get(IdempotencyRecord, idempotency_key)
        if record is not None:
            if record.request_hash != digest:
                raise Invalid("idempotency_key_reused",
                              f"Idempotency-Key {idempotency_key!r} was used for a different request; "
                              f"use a new key for a new petition", [{"key": idempotency_key}])
            petition = db.get(Petition, record.petition_id)
            require_scope(actor, petition.jurisdiction_code, library.tree)
            return Registered(petition, False)

    case_json = received_now(case_json, now)
    case = _parse(case_json)
    effective = effective_or_error(library, code, case.received_on)
    _check_form(effective, case, case_json, anonymous=anonymous)
    try:
        decision = decide(effective, case)
    except CaseError as err:
        raise case_error(err) from None
    key = petitioner_key(case_json.get("petitioner"))
    confidential = decision["kind"] == "accusation"
    if is_petitioner(actor):  # 网上信访: where the rule set opens it, in the categories it offers
        check_online(effective, case.intake, decision["category"])
    if anonymous:
        check_anonymous(effective, actor, decision["kind"], case_json)
    _check_daily_limit(db, effective, case, key)
    if is_petitioner(actor):  # told, not registered twice (智能判重), after the daily limit that counts submissions
        refuse_repeat(db, effective, key=key, category=decision["category"], received_on=case.received_on,
                      case_json=case_json, confidential=confidential)
    original = _find_duplicate(db, effective, case_json, case, decision, key)

    ensure_jurisdiction(db, library, code)
    flags = sorted(set(decision["flags"]) | ({"duplicate"} if original else set())
                   | ({"anonymous"} if anonymous else set()))
    now_utc = utcnow()
    columns = dict(
        jurisdiction_code=code, ruleset_version=decision["ruleset_version"], received_on=case.received_on,
        received_at=case.received_at, intake=case.intake, kind=decision["kind"], category=decision["category"],
        channel=decision["channel"], track=decision["track"], route_unit=(decision.get("route") or {}).get("unit"),
        admissible=decision["admissible"], stage="registered", flags=flags, petitioner_key=key,
        duplicate_of_id=original.id if original else None, confidential=confidential, outcome=None,
        accused_unit=case.accused_unit, case_json=json.loads(json.dumps(case_json)), decision=decision,
        created_by=actor.username, created_at=now_utc, updated_at=now_utc, revision=1)
    detail: dict[str, Any] = {"ruleset_version": decision["ruleset_version"]}
    if original:
        detail["duplicate_of"] = original.number
    if origin:
        detail["order"] = dict(origin)
    petition = new_file(db, columns, effective, decision, actor=actor.username, detail=detail,
                        idempotency=(idempotency_key, digest) if idempotency_key else None)
    return Registered(petition, True)


def received_now(case_json: Mapping, now: dt.datetime | None = None) -> Mapping:
    """The case with `received_at` stamped, when it is received today (Beijing time) and says no time itself."""
    if not isinstance(case_json, Mapping) or "received_at" in case_json:
        return case_json
    moment = (now or dt.datetime.now(CHINA)).astimezone(CHINA)
    if case_json.get("received_on") != moment.date().isoformat():
        return case_json
    return {**case_json, "received_at": moment.replace(microsecond=0).isoformat()}


def _parse(case_json: Mapping) -> Case:
    try:
        if not isinstance(case_json, Mapping):
            raise CaseError([f"case: expected an object, found {type(case_json).__name__}"])
        case = parse_case(engine_input(case_json))
    except CaseError as err:
        raise case_error(err) from None
    problems = [f"{name}: a later stage is recorded through the case's actions, not at registration"
                for name in LATER_STAGE_FIELDS if name in case_json]
    today = today_in_china()
    if case.received_on > today:
        problems.append(f"received_on: {case.received_on} is in the future (today is {today} in Asia/Shanghai)")
    elif case.received_at is not None and case.received_at > dt.datetime.now(CHINA) + dt.timedelta(minutes=5):
        problems.append(f"received_at: {case.received_at.isoformat()} is in the future (Beijing time)")
    if problems:
        raise case_error(CaseError(problems))
    return case


def _known(library: RuleSetLibrary, code: object) -> str:
    from xinfang.config import UnknownJurisdiction
    try:
        return library.tree.get(code).code
    except (UnknownJurisdiction, ValueError, TypeError) as err:
        raise Invalid("unknown_jurisdiction", str(err), [{"jurisdiction": str(code)}]) from None


def check_case(library: RuleSetLibrary, code: str, case_json: Mapping) -> Case:
    """What register_case refuses of the case itself (its fields, a future date, the pinned version's form), before
    anything is stored: the parsed case, else Invalid with every problem."""
    case = _parse(case_json)
    _check_form(effective_or_error(library, code, case.received_on), case, case_json)
    return case


def _check_form(effective: EffectiveRuleSet, case: Case, case_json: Mapping, *, anonymous: bool = False) -> None:
    """The clerk's form of the pinned version, enforced on the server too (server/cases/forms.py)."""
    try:
        definition = form_definition(effective, case.intake, case.category, anonymous=anonymous)
    except (UnknownIntake, UnknownCategory) as err:
        raise case_error(CaseError([f"{'intake' if isinstance(err, UnknownIntake) else 'category'}: {err}"])) from None
    problems = form_problems(definition, case_json)
    if problems:  # the rule set's form, in its own words
        found = [Problem(p["field"], "form", p["message"]) for p in problems]
        raise Invalid("invalid_case", f"the case has {len(found)} problem(s): " + "; ".join(map(str, found)),
                      problems=found)


def dialect_insert(db: Session, model):
    """INSERT with ON CONFLICT, in the dialect of the session's database (SQLite or PostgreSQL)."""
    return (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert(model)


# The jurisdictions each database holds, as this process has seen them committed: rows never deleted, so the
# codes seen once need no SELECT again.
_stored_jurisdictions: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()
_INSERTED = "xinfang_jurisdictions_inserted"  # Session.info: codes this session inserted, maybe never committed


def ensure_jurisdiction(db: Session, library: RuleSetLibrary, code: str) -> None:
    """Store the jurisdiction and its ancestors when missing (the case's foreign key needs them); race-free."""
    chain = library.tree.ancestors(code)
    engine = db.get_bind()
    known = _stored_jurisdictions.setdefault(engine, set())
    if all(j.code in known for j in chain):
        return
    present = set(db.scalars(select(Jurisdiction.code).where(Jurisdiction.code.in_([j.code for j in chain]))))
    inserted = db.info.setdefault(_INSERTED, set())
    known.update(present - inserted)
    for j in chain:
        if j.code not in present:
            db.execute(dialect_insert(db, Jurisdiction).values(code=j.code, name=j.name, level=j.level, parent_code=j.parent)
                       .on_conflict_do_nothing(index_elements=["code"]))
            inserted.add(j.code)


def _check_daily_limit(db: Session, effective: EffectiveRuleSet, case: Case, key: str | None) -> None:
    """intake.online_daily_limit: the Nth+1 online petition of one petitioner on one day is refused.

    Race-free: the petitioner's submissions of the day in the limit's area queue on one lock held to the commit,
    so of simultaneous submissions each counts those committed before it (other petitioners do not wait).
    """
    spec = effective.get("intake.online_daily_limit")
    if not spec or case.intake != "online" or key is None:
        return
    limit = int(spec["per_petitioner"])
    prefix = defined_below(effective, "intake.online_daily_limit.per_petitioner")
    hold_until_commit(db, f"online_daily_limit:{prefix}:{key}:{case.received_on.isoformat()}")
    count = db.scalar(select(func.count()).select_from(Petition).where(
        Petition.petitioner_key == key, Petition.intake == "online", Petition.received_on == case.received_on,
        Petition.jurisdiction_code.like(prefix + "%")))
    if count >= limit:
        basis = f"（{spec['basis']}）" if spec.get("basis") else ""
        raise Invalid("online_daily_limit",
                      f"this petitioner has already submitted {count} online petitions on {case.received_on}; "
                      f"at most {limit} a day are accepted online{basis}",
                      [{"limit": limit, "count": count, "on": case.received_on.isoformat(), "basis": spec.get("basis")}])


def _find_duplicate(db: Session, effective: EffectiveRuleSet, case_json: Mapping, case: Case, decision: Mapping,
                    key: str | None) -> Petition | None:
    """intake.duplicates (智能判重): the original petition this one repeats within the window, else None."""
    found, _ = same_matter(db, effective, key=key, category=decision["category"], received_on=case.received_on,
                           case_json=case_json, confidential=decision["kind"] == "accusation", limit=1)
    if not found:
        return None
    root = found[0].original  # the first of the matter, if the earlier one repeats it too, and is as confidential
    return root if root is not None and root.confidential == found[0].confidential else found[0]
