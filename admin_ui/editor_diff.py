"""Side-by-side diffs of two rule-set texts: rows of old and new lines, changed ones marked, long equal runs folded."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 3  # equal lines kept around each change


@dataclass(frozen=True)
class DiffRow:
    """One row of the two columns; `kind` is equal, changed, removed, added or fold (equal lines not shown)."""

    kind: str
    old_no: int | None = None
    old: str = ""
    new_no: int | None = None
    new: str = ""
    folded: int = 0


def side_by_side(old: str, new: str, context: int = CONTEXT) -> list[DiffRow]:
    """The rows of a two-column diff of `old` and `new`, line by line."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]) for k in range(i2 - i1)]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left, right = i1 + k < i2, j1 + k < j2
            kind = "changed" if left and right else "removed" if left else "added"
            rows.append(DiffRow(kind, i1 + k + 1 if left else None, a[i1 + k] if left else "",
                                j1 + k + 1 if right else None, b[j1 + k] if right else ""))
    return _fold(rows, context)


def _fold(rows: list[DiffRow], context: int) -> list[DiffRow]:
    changed = [i for i, r in enumerate(rows) if r.kind != "equal"]
    if not changed:
        return rows[:0]
    keep = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    out: list[DiffRow] = []
    hidden = 0
    for i, row in enumerate(rows):
        if i in keep:
            if hidden:
                out.append(DiffRow("fold", folded=hidden))
                hidden = 0
            out.append(row)
        else:
            hidden += 1
    if hidden:
        out.append(DiffRow("fold", folded=hidden))
    return out


def counts(rows: list[DiffRow]) -> dict[str, int]:
    """How many lines changed, were removed and were added."""
    return {kind: sum(r.kind == kind for r in rows) for kind in ("changed", "removed", "added")}
