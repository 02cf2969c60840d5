"""Where a command reads its rule sets: files (`--rules DIR`), the versions published in a database
(`--database URL`, the ones the server decides with), both, or neither (the bundled files).

README's command-line section and `xinfang --help` say the same; `xinfang serve` always serves
the published versions, after importing the files it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xinfang.config import RuleSetLibrary, bundled_library, bundled_rules_dir
from xinfang.server.store import db

from .draft_checks import NothingPublished
from .import_export import ImportConflict, files_over_published
from .library_store import published_library, remember_files

__all__ = ["RuleSource"]


@dataclass(frozen=True)
class RuleSource:
    """The rule sets of `rules` (a folder of files), of `database` (a URL: its published versions), or of both:
    the files over the published versions, as `xinfang import DIR` would publish them, nothing written.

    With neither, the bundled files (config/rulesets/), so the README's examples work on a fresh machine.
    """

    rules: Path | None = None
    database: str | None = None  # a URL, or a bare path: a SQLite file

    def library(self) -> RuleSetLibrary:
        """The library, validated. Raises ConfigError (files not valid), ImportConflict (files that import
        would refuse over the published versions), db.DatabaseUnavailable, NothingPublished."""
        if self.database is None:
            return RuleSetLibrary.load([self.rules]) if self.rules is not None else bundled_library()
        remember_files(bundled_library())  # a published text that is a bundled file cites it, as the server does
        with db.upgraded_session(db.resolve_url(self.database)) as session:
            if self.rules is None:
                library = published_library(session)
                if library is None:
                    raise NothingPublished(f"no rule-set version is published in the database "
                                           f"{self._where()}: publish files with `xinfang import "
                                           f"DIR` (`xinfang serve` imports the bundled ones)")
                return library
            over = files_over_published(session, [self.rules])
            if over.refusals:
                raise ImportConflict(over.refusals)
            return over.library

    def __str__(self) -> str:
        files = f"the rule sets in {self.rules if self.rules is not None else bundled_rules_dir()}"
        if self.database is None:
            return files
        published = f"the versions published in {self._where()}"
        return published if self.rules is None else f"{files} over {published}"

    def _where(self) -> str:
        return db.display_url(db.resolve_url(self.database))
