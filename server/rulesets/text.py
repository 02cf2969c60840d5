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


def _block(key: str) -> re.Pattern[str]:
    """A top-level `key:` with its value, on its line and the indented (or blank) lines after it."""
    return re.compile(rf"^{key}[ \t]*:[^\r\n]*(?:\r?\n|\Z)(?:(?:[ \t]*\r?\n)*[ \t]+\S[^\r\n]*(?:\r?\n|\Z))*", re.M)


def _set_text(text: str, key: str, value: str) -> str:
    """`key` (one line or a block scalar) written as one quoted line; added after `effective_from` when absent."""
    line = f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
    found = list(_block(key).finditer(text))
    if len(found) > 1:
        raise ValueError(f"`{key}` is written more than once at the top level of the rule set")
    if found:
        return text[:found[0].start()] + line + text[found[0].end():]
    anchor = _line("effective_from").search(text)
    if anchor is None:
        raise ValueError("`effective_from` is not written on a line of its own at the top level of the rule set")
    return text[:anchor.end()] + line + text[anchor.end():]


def set_header(text: str, *, version: str | None = None, effective_from: dt.date | None = None,
               drop_until: bool = False, title: str | None = None, change_note: str | None = None) -> str:
    """The text with its version label and first day rewritten in place, and `effective_until` removed if asked;
    `title` and `change_note` (what the publishing officer says of this version) set too when given.

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
    for key, value in (("title", title), ("change_note", change_note)):
        if value is not None:
            new = _set_text(new, key, value)
    try:
        before, after = load_yaml("before", text=text).data, load_yaml("after", text=new).data
    except ConfigError as err:
        raise ValueError(f"the rule set's text cannot be read: {err}") from None
    wanted = dict(before)
    wanted.update({k: v for k, v in (("version", version), ("effective_from", effective_from), ("title", title),
                                     ("change_note", change_note)) if v is not None})
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
