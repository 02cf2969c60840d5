"""Edits of a rule set's YAML text that keep every other byte: the header of a version published anew."""

from __future__ import annotations

import datetime as dt
import json
import re

from xinfang.config import ConfigError
from xinfang.config.yaml_source import load_yaml

__all__ = ["set_header", "with_comment"]

HEADER_KEYS = ("version", "effective_from", "effective_until")


def _line(key: str) -> re.Pattern[str]:
    """A top-level `key: value  # comment` written on one line (a value on later lines does not match)."""
    return re.compile(rf"^{key}(?P<sep>[ \t]*:[ \t]*)(?P<value>\"[^\"\r\n]*\"|'[^'\r\n]*'|[^#\s][^#\r\n]*?)"
                      rf"(?P<comment>[ \t]+#[^\r\n]*)?[ \t]*(?P<end>\r?\n|\Z)", re.M)


def _replace(text: str, key: str, value: str | None) -> str:
    """`key`'s one line with `value` (None: the line removed); ValueError unless written exactly once so."""
    found = list(_line(key).finditer(text))
    if len(found) != 1:
        raise ValueError(f"`{key}` is not written once, on a line of its own at the top level of the rule set")
    m = found[0]
    line = "" if value is None else f"{key}{m['sep']}{value}{m['comment'] or ''}{m['end']}"
    return text[:m.start()] + line + text[m.end():]


def set_header(text: str, *, version: str | None = None, effective_from: dt.date | None = None,
               drop_until: bool = False) -> str:
    """The text with its version label and first day rewritten in place, and `effective_until` removed if asked.

    Why in place: a published text is exported byte for byte, so a republished version keeps its
    comments and layout. Checked by loading both texts: nothing but the header may change
    (ValueError otherwise, or when a key is not written on one line of its own).
    """
    new = text
    if version is not None:
        new = _replace(new, "version", json.dumps(version, ensure_ascii=False))
    if effective_from is not None:
        new = _replace(new, "effective_from", effective_from.isoformat())
    if drop_until and re.search(r"^effective_until[ \t]*:", new, re.M):
        new = _replace(new, "effective_until", None)
    try:
        before, after = load_yaml("before", text=text).data, load_yaml("after", text=new).data
    except ConfigError as err:
        raise ValueError(f"the rule set's text cannot be read: {err}") from None
    wanted = dict(before)
    wanted.update({k: v for k, v in (("version", version), ("effective_from", effective_from)) if v is not None})
    if drop_until:
        wanted.pop("effective_until", None)
    if after != wanted:
        raise ValueError("the header could not be rewritten without changing the rest of the rule set")
    return new


def with_comment(text: str, comment: str) -> str:
    """The text with a comment line first (after a byte-order mark): a note that travels with the export."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = "".join(f"# {line}\n" for line in comment.splitlines())
    return bom + lines + text[len(bom):]
