"""Who may sign in and what they may do: user accounts, salted password hashes, roles, the demo accounts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from xinfang.config import JurisdictionTree
from xinfang.config.procedure import PETITIONER
from xinfang.server.store.models import ROLES, SOURCE_SYSTEM, STAFF_ROLES, User

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "PETITIONER", "ROLES", "SOURCE_SYSTEM", "STAFF_ROLES", "Actor", "PetitionerActor", "SystemActor", "create_user",
           "has_role", "hash_password", "in_scope", "is_petitioner", "is_source_system", "petitioner_actor", "seed_demo_users", "system_actor",
           "verify_password"]


class Actor(Protocol):
    """Who acts on a case: a signed-in user (server.store.models.User), or a system such as the demo generator."""

    username: str
    roles: Sequence[str]
    jurisdiction_code: str
    unit: str | None
    unit_name: str | None


@dataclass(frozen=True)
class SystemActor:
    """An actor that is no person: the demo generator, an import, a test; named so the file says who acted."""

    username: str
    roles: tuple[str, ...] = ("admin",)
    jurisdiction_code: str = "000000"
    unit: str | None = None
    unit_name: str | None = None
    display_name: str = ""


def system_actor(name: str, *, roles: Iterable[str] = ("admin",), jurisdiction_code: str = "000000",
                 unit: str | None = None, unit_name: str | None = None) -> SystemActor:
    return SystemActor(name, tuple(roles), jurisdiction_code, unit, unit_name, name)


# The petitioner's side (网上信访): no account, no staff role. A petitioner acts in the one jurisdiction it petitions
# and, once its case is on file, on that case alone (server/cases/permissions.py). Never a role a user may hold.


@dataclass(frozen=True)
class PetitionerActor:
    """A member of the public online: submitting in `jurisdiction_code`, or, holding its query code, case `number`."""

    jurisdiction_code: str
    number: str | None = None
    username: str = "网上信访人"
    roles: tuple[str, ...] = (PETITIONER,)
    unit: str | None = None
    unit_name: str | None = None
    display_name: str = "信访人（网上）"


def petitioner_actor(jurisdiction_code: str, number: str | None = None) -> PetitionerActor:
    return PetitionerActor(jurisdiction_code, number)


def is_petitioner(actor: Actor | None) -> bool:
    """Whether the actor is the public (a petitioner online), not staff or a system."""
    return isinstance(actor, PetitionerActor)


def is_source_system(actor: Actor | None) -> bool:
    """Whether the actor is another system's account (12345热线 …): it sends work orders, nothing else."""
    return actor is not None and SOURCE_SYSTEM in actor.roles


def in_scope(actor: Actor | None, jurisdiction_code: str, tree: JurisdictionTree) -> bool:
    """An actor acts on their own jurisdiction and the ones below it, never beside or above it."""
    if actor is None:
        return False
    try:
        return any(j.code == actor.jurisdiction_code for j in tree.ancestors(jurisdiction_code))
    except (LookupError, ValueError):
        return False

# scrypt through werkzeug: a maintained, salted, memory-hard hash. Test suites set a cheap one
# (tests/conftest.py), since scrypt costs ~0.3 s a password by design.
PASSWORD_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def verify_password(user: User | None, password: str) -> bool:
    return user is not None and user.active and _password_matches(user.password_hash, password)


_VERIFIED: dict[tuple[str, str], bool] = {}
_VERIFIED_MAX = 1024


def _password_matches(password_hash: str, password: str) -> bool:
    """scrypt costs ~0.3 s by design; API clients send HTTP Basic on every request, so a result is remembered.

    Keyed by the stored hash and a sha256 of the password (never the password itself), so a changed
    password never matches a remembered result.
    """
    key = (password_hash, hashlib.sha256(password.encode("utf-8")).hexdigest())
    found = _VERIFIED.get(key)
    if found is None:
        found = check_password_hash(password_hash, password)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = found
    return found


def has_role(user: Actor | None, *roles: str) -> bool:
    return user is not None and ("admin" in user.roles or any(r in user.roles for r in roles))


def create_user(db, username: str, password: str, *, display_name: str, jurisdiction_code: str,
                roles: Iterable[str], unit: str | None = None, unit_name: str | None = None) -> User:
    roles = list(roles)
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")
    if SOURCE_SYSTEM in roles and len(roles) > 1:
        raise ValueError(f"a {SOURCE_SYSTEM} account is another system's, never staff: it holds no other role")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                jurisdiction_code=jurisdiction_code, roles=roles, unit=unit, unit_name=unit_name)
    db.add(user)
    return user


# Demo accounts seeded by `make run` (README lists them). Passwords are for a local demo only.
DEMO_USERS = (
    dict(username="admin", display_name="系统管理员", jurisdiction_code="000000", roles=["admin"]),
    dict(username="yinan_officer", display_name="沂南县政策专员", jurisdiction_code="371321", roles=["policy_officer"]),
    dict(username="yinan_approver", display_name="沂南县审批人", jurisdiction_code="371321", roles=["approver"]),
    dict(username="yinan_clerk", display_name="沂南县登记员", jurisdiction_code="371321", roles=["clerk"],
         unit="petition_office", unit_name="沂南县信访局"),
    dict(username="yinan_ziran", display_name="沂南县自然资源和规划局承办人", jurisdiction_code="371321",
         roles=["clerk"], unit="natural_resources", unit_name="沂南县自然资源和规划局"),
    dict(username="yinan_shengtai", display_name="临沂市生态环境局沂南县分局承办人", jurisdiction_code="371321",
         roles=["clerk"], unit="ecology", unit_name="临沂市生态环境局沂南县分局"),
    dict(username="yinan_supervisor", display_name="沂南县督查员", jurisdiction_code="371321", roles=["supervisor"]),
    dict(username="yinan_discipline", display_name="沂南县纪委监委", jurisdiction_code="371321",
         roles=["discipline", "supervisor"], unit="discipline", unit_name="沂南县纪委监委"),
    dict(username="linyi_supervisor", display_name="临沂市督查员", jurisdiction_code="371300", roles=["supervisor"]),
    dict(username="linyi_clerk", display_name="临沂市信访局办理人", jurisdiction_code="371300", roles=["clerk"],
         unit="petition_office", unit_name="临沂市信访局"),  # the level above: reviews 沂南县's answers (Art. 35)
    dict(username="ganzhou_officer", display_name="赣州市政策专员", jurisdiction_code="360700", roles=["policy_officer"]),
    dict(username="ganzhou_clerk", display_name="赣州市登记员", jurisdiction_code="360700", roles=["clerk"]),
    dict(username="yuanjiang_officer", display_name="沅江市政策专员", jurisdiction_code="430981", roles=["policy_officer"]),
    # Not a person: 沂南县's 12345 hotline system, sending its orders (POST /api/v1/intake/orders) and nothing else.
    dict(username="yinan_12345", display_name="沂南县12345政务服务便民热线", jurisdiction_code="371321",
         roles=["source_system"], unit="hotline_12345", unit_name="12345政务服务便民热线"),
)
DEMO_PASSWORD = "xinfang-demo"


def seed_demo_users(db) -> int:
    """Create the demo accounts that are missing (password DEMO_PASSWORD); returns how many were created."""
    existing = set(db.scalars(select(User.username)))
    created = 0
    for spec in DEMO_USERS:
        if spec["username"] not in existing:
            create_user(db, password=DEMO_PASSWORD, **spec)
            created += 1
    return created
