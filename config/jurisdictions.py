"""The national jurisdiction tree: every GB/T 2260 division, national down to township."""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
import operator
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Level = Literal["national", "province", "city", "county", "township"]
LEVELS: tuple[Level, ...] = ("national", "province", "city", "county", "township")
NATIONAL_CODE = "000000"

DATA_FILE = "divisions.csv"  # in config/data/; its source and licence: DIVISIONS-SOURCE.md
_FORMAT_HINT = "use 2, 4, 6 or 9 digits"
# How many leading digits of a code a child's code must repeat.
_PREFIX_LENGTH = {"national": 0, "province": 2, "city": 4, "county": 6}
_BY_CODE = operator.attrgetter("code")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One division of the national tree.

    `code` is canonical: "000000" for the nation, 6 digits for a province ("370000"),
    city ("371300") or county ("371321"), 9 digits for a township ("371321100").
    `name` is the official name, except that a city-level entry with a generic name
    ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划") carries its province's
    name in front, so that it reads on its own: "北京市市辖区", "重庆市县",
    "湖北省省直辖县级行政区划". `parent` is the parent's code; None for the nation.
    """

    code: str
    name: str
    level: Level
    parent: str | None


NATIONAL = Jurisdiction(NATIONAL_CODE, "全国", "national", None)


class UnknownJurisdiction(LookupError):
    """No jurisdiction has this code, or the code is not a GB/T 2260 code at all."""

    def __init__(self, code: object, message: str):
        super().__init__(message)
        self.code = code


def canonical_code(code: str | int) -> str:
    """Return the canonical form of a GB/T 2260 code.

    Accepts 2 digits (province, "37" → "370000"), 4 (city, "3713" → "371300"),
    6 ("371321", "000000") or 9 (township, "371321100"), as str or int;
    surrounding whitespace and full-width digits are tolerated.
    Raises ValueError for anything else, TypeError for a value that is neither str nor int.
    """
    if isinstance(code, bool) or not isinstance(code, (str, int)):
        raise TypeError(f"a GB/T 2260 code is a str or int, not {type(code).__name__}")
    text = str(code).strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if not (text.isascii() and text.isdigit()) or len(text) not in (2, 4, 6, 9):
        raise ValueError(f"{str(code)!r} is not a GB/T 2260 code: {_FORMAT_HINT}")
    return text.ljust(6, "0")


def _level_of(code: str) -> Level:
    """The level a canonical code denotes (GB/T 2260 pads the higher levels with zeros)."""
    if len(code) == 9:
        return "township"
    if code == NATIONAL_CODE:
        return "national"
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def jurisdiction_prefix(code: str) -> str:
    """The leading digits every code below `code` repeats (GB/T 2260; the tree enforces it): "" for the nation."""
    if code == "000000":
        return ""
    if len(code) == 9:
        return code
    if code.endswith("0000"):
        return code[:2]
    return code[:4] if code.endswith("00") else code


def covers(scope_code: str, code: str) -> bool:
    """Whether `code` is `scope_code` or lies below it."""
    return code.startswith(jurisdiction_prefix(scope_code))


class JurisdictionTree:
    """Jurisdictions by code, rooted at the nation; every lookup accepts any form of a code."""

    def __init__(self, jurisdictions: Iterable[Jurisdiction] = ()):
        """A tree holding the national root and `jurisdictions`, each listed after its parent."""
        self._nodes: dict[str, Jurisdiction] = {NATIONAL_CODE: NATIONAL}
        self._children: dict[str, list[Jurisdiction]] = {}
        for jurisdiction in jurisdictions:
            self.add(jurisdiction)

    def get(self, code: str | int) -> Jurisdiction:
        """The jurisdiction with this code; raises UnknownJurisdiction."""
        try:
            canonical = canonical_code(code)
        except ValueError as error:
            raise UnknownJurisdiction(code, str(error)) from None
        try:
            return self._nodes[canonical]
        except KeyError:
            given = "" if str(code).strip() == canonical else f" (given as {str(code)!r})"
            raise UnknownJurisdiction(
                code, f"no jurisdiction has code {canonical!r}{given}"
            ) from None

    def __contains__(self, code: object) -> bool:
        try:
            return canonical_code(code) in self._nodes  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def ancestors(self, code: str | int) -> list[Jurisdiction]:
        """The chain from the nation down to and including this jurisdiction."""
        node = self.get(code)
        chain = [node]
        while node.parent is not None:
            node = self._nodes[node.parent]
            chain.append(node)
        chain.reverse()
        return chain

    def children(self, code: str | int) -> list[Jurisdiction]:
        """The jurisdictions directly below this one, by code."""
        return list(self._children.get(self.get(code).code, ()))

    def search(self, text: str, limit: int = 50) -> list[Jurisdiction]:
        """Jurisdictions whose code starts with `text` (digits) or whose name contains it.

        Exact name matches come first, then higher levels before lower, then by code.
        """
        query = text.strip()
        digits = unicodedata.normalize("NFKC", query)
        if not query or limit <= 0:
            return []
        if digits.isascii() and digits.isdigit():
            found = [j for j in self._nodes.values() if j.code.startswith(digits)]
        else:
            found = [j for j in self._nodes.values() if query in j.name]
        rank = LEVELS.index
        found.sort(key=lambda j: (j.name != query, rank(j.level), j.code))
        return found[:limit]

    def __iter__(self) -> Iterator[Jurisdiction]:
        """Every jurisdiction, each after its parent."""
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def count(self, level: Level) -> int:
        """How many jurisdictions the tree holds at this level."""
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}: one of {', '.join(LEVELS)}")
        return sum(1 for j in self._nodes.values() if j.level == level)

    def add(self, jurisdiction: Jurisdiction) -> None:
        """Add a jurisdiction the data lacks (e.g. a new development zone).

        Its code must be canonical, new, of the shape its level takes ("371371" for a
        county, 9 digits for a township) and begin with its parent's code; its parent
        must be in the tree at a higher level. Raises ValueError otherwise.
        """
        if not isinstance(jurisdiction, Jurisdiction):
            raise TypeError(f"expected a Jurisdiction, not {type(jurisdiction).__name__}")
        code, level, parent_code = jurisdiction.code, jurisdiction.level, jurisdiction.parent
        where = f"cannot add {code!r} ({jurisdiction.name!r})"
        if level not in LEVELS[1:]:
            raise ValueError(f"{where}: level {level!r} is not one of {', '.join(LEVELS[1:])}")
        try:
            canonical = canonical_code(code)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: {error}") from None
        if canonical != code:
            raise ValueError(f"{where}: the code is not canonical; write {canonical!r}")
        if _level_of(code) != level:
            raise ValueError(f"{where}: the code reads as a {_level_of(code)} code, not a {level}")
        if not isinstance(jurisdiction.name, str) or not jurisdiction.name.strip():
            raise ValueError(f"{where}: the name is empty")
        if code in self._nodes:
            raise ValueError(f"{where}: the code is already {self._nodes[code].name!r}")
        if parent_code not in self._nodes:
            raise ValueError(f"{where}: its parent {parent_code!r} is not in the tree")
        parent = self._nodes[parent_code]
        if LEVELS.index(level) <= LEVELS.index(parent.level):
            raise ValueError(f"{where}: a {level} cannot sit below a {parent.level}")
        prefix = parent.code[: _PREFIX_LENGTH[parent.level]]
        if not code.startswith(prefix):
            raise ValueError(f"{where}: the code must begin with its parent's {prefix!r}")
        self._nodes[code] = jurisdiction
        bisect.insort(self._children.setdefault(parent.code, []), jurisdiction, key=_BY_CODE)

    def copy(self) -> JurisdictionTree:
        """An independent tree, to add() to without changing this one."""
        clone = JurisdictionTree()
        clone._nodes = dict(self._nodes)
        clone._children = {code: list(below) for code, below in self._children.items()}
        return clone


@functools.cache
def national_tree() -> JurisdictionTree:
    """The whole national tree from the bundled data, loaded once per process.

    It is shared: add() to a copy() unless the addition is meant for the whole process.
    """
    text = resources.files(__package__).joinpath("data", DATA_FILE).read_text("utf-8")
    # No field is quoted (DIVISIONS-SOURCE.md), so one split parses the CSV, 4x faster.
    fields = text.rstrip("\n").replace("\n", ",").split(",")
    header, rows = fields[:3], fields[3:]
    if header != ["code", "name", "parent"] or len(rows) % 3:
        raise RuntimeError(f"{DATA_FILE} is damaged: expected rows of code,name,parent")
    codes, names, parents = rows[0::3], rows[1::3], rows[2::3]
    # Collections triggered by 44,700 new objects would cost more than building them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Trusted data, parents first, each level by code; the tests check every row as add() would.
        nodes = list(map(Jurisdiction, codes, names, map(_level_of, codes), parents))
        tree = JurisdictionTree()
        tree._nodes.update(zip(codes, nodes))
        for parent, below in itertools.groupby(nodes, operator.attrgetter("parent")):
            tree._children.setdefault(parent, []).extend(below)
    finally:
        if collecting:
            gc.enable()
    return tree
