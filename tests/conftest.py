"""Shared fixtures: the bundled rule sets, and small rule-set files written for a test into tmp_path."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from xinfang.config import RuleSetLibrary, bundled_rules_dir


@pytest.fixture(scope="session")
def rules_dir() -> Path:
    """The bundled rule sets (config/rulesets/): national baseline and the seed jurisdictions."""
    return bundled_rules_dir()


@pytest.fixture
def write_ruleset(tmp_path):
    """`write_ruleset("county.yaml", text)` writes a rule-set file under tmp_path and returns its path.

    Text is dedented, so a test can indent its YAML with the code; bytes are written as they are
    (for files that are not UTF-8). A name may contain folders ("zones/a.yaml").
    """

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def line_of():
    """`line_of(path, text)`: the 1-based number of the one line of a file that contains `text`.

    Lets a test name the line of a bundled rule set without hard-coding it.
    """

    def find(path: str | os.PathLike, text: str) -> int:
        found = [n for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1) if text in line]
        assert len(found) == 1, f"{text!r} is on lines {found} of {path}, expected exactly one"
        return found[0]

    return find


@pytest.fixture
def issues_against_bundled(rules_dir):
    """`issues_against_bundled(*paths)`: what `xinfang validate PATHS` prints, one `FILE:LINE:COL: message` a line.

    The files are checked with the bundled rule sets as the levels above them
    (`RuleSetLibrary.collect(paths, background=[bundled_rules_dir()])`).
    """

    def collect(*paths: str | os.PathLike) -> list[str]:
        _, issues = RuleSetLibrary.collect(paths, background=[rules_dir])
        return [str(issue) for issue in issues]

    return collect
