"""The configuration layer: rule sets loaded from YAML, validated, merged down the jurisdiction tree."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .effective import EffectiveRuleSet, NoRuleSetInForce
from .errors import ConfigError, ConfigIssue, Position
from .jurisdictions import (
    Jurisdiction,
    JurisdictionTree,
    UnknownJurisdiction,
    canonical_code,
    covers,
    jurisdiction_prefix,
    national_tree,
)
from .library import RuleSetLibrary, bundled_library, bundled_rules_dir
from .versions import RuleSetVersion, Source

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> dt.date:
    """Dates in rule sets and cases are Asia/Shanghai dates (DESIGN.md, Periods)."""
    return dt.datetime.now(CHINA).date()


__all__ = [
    "CHINA", "ConfigError", "ConfigIssue", "EffectiveRuleSet", "Jurisdiction", "JurisdictionTree",
    "NoRuleSetInForce", "Position", "RuleSetLibrary", "RuleSetVersion", "Source", "UnknownJurisdiction",
    "bundled_library", "bundled_rules_dir", "canonical_code", "covers", "jurisdiction_prefix", "national_tree",
    "today_in_china",
]
