"""What the case service refuses, and why: a stable code, structured details, an English sentence for the API.

Nothing here knows HTTP or Chinese: the web edge (server/web/errors.py) turns the kind of refusal into
a status, and the pages (admin_ui/case_errors.py) turn the code and details into the regulation's words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Busy", "CaseNotFound", "CaseServiceError", "Forbidden", "Invalid", "NotAllowedNow", "Problem", "Stale"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of a request: `code` says what (missing, unknown, not_a_date ...).

    `message` is the English the API shows, except where a rule set's form wrote the words (its own
    Chinese, shown as they are); `values` hold what a page needs to say it in Chinese.
    """

    field: str
    code: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CaseServiceError(Exception):
    """A refused request. `details` is what the API lists; `problems` the field-level ones, when there are any."""

    kind: ClassVar[str] = "invalid"

    def __init__(self, code: str, message: str, details: Sequence[Any] | None = None, *,
                 problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.problems = tuple(problems)
        self.details = list(details) if details is not None else [str(p) for p in self.problems]

    @property
    def first(self) -> Mapping[str, Any]:
        """The first structured detail (most refusals carry one), else an empty mapping."""
        return next((d for d in self.details if isinstance(d, Mapping)), {})


class CaseNotFound(CaseServiceError):
    kind = "not_found"


class Forbidden(CaseServiceError):
    """The actor may not do this: a role it lacks, a jurisdiction outside its scope, a conflict of interest."""

    kind = "forbidden"


class NotAllowedNow(CaseServiceError):
    """The case's stage (or its pinned rule set) does not allow it now."""

    kind = "conflict"


class Invalid(CaseServiceError):
    """The request itself is wrong: a field, a date, a limit of the rule set, a deadline passed."""

    kind = "invalid"


class Stale(CaseServiceError):
    """The case changed since the revision the request was based on; nothing was changed."""

    kind = "stale"


class Busy(CaseServiceError):
    """Concurrent work got in the way; the same request may be sent again."""

    kind = "busy"
