"""Configuration errors that point at a file position, shared by everything in config/."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A place in a rule-set file; line and column are 1-based, as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration, located so an officer can jump to it."""

    position: Position | None  # None only when no file position exists
    message: str  # English, the `xinfang validate` line after FILE:LINE:COL
    chinese: str = ""  # the same problem in the officer's words, for the editor (empty: not yet said in Chinese)

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.position}: {self.message}"


class ConfigError(Exception):
    """Carries one or more ConfigIssue; str() is one line per issue (the `xinfang validate` format)."""

    issues: list[ConfigIssue]

    def __init__(self, issues: ConfigIssue | Iterable[ConfigIssue]) -> None:
        self.issues = [issues] if isinstance(issues, ConfigIssue) else list(issues)
        if not self.issues:
            raise ValueError("ConfigError needs at least one issue")
        super().__init__(self.issues)  # so the error pickles and re-raises intact

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)
