"""An audit entry's details as staff read them: 第3次修改、场景通过5个, never `content_hash=…` or a version label.

The audit log keeps every key for the record (and the API returns them all); the page says what a person needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_SAID: dict[str, Callable[[Any], str]] = {
    "revision": lambda n: f"第{n}次修改",
    "changed": lambda changed: "内容有改动" if changed else "内容未改动",
    "issues": lambda n: f"{n}个问题" if n else "没有问题",
    "passed": lambda n: f"场景通过{n}个",
    "failed": lambda n: f"未通过{n}个",
    "open_cases": lambda n: f"在办{n}件",
    "changed_cases": lambda n: f"其中{n}件结果会变",
    "against": lambda record_id: f"与第{record_id}号版本比较",
    "base_version_id": lambda record_id: f"以第{record_id}号版本为底稿" if record_id else "",
    "version": lambda version: f"版本号 {version}",
    "effective_from": lambda day: f"{day}起施行",
    "version_id": lambda record_id: f"发布为第{record_id}号版本",
    "draft_id": lambda draft_id: f"来自草稿{draft_id}",
    "rollback_of": lambda record_id: f"恢复第{record_id}号版本的内容",
}


_PEOPLE = {"author": "起草人", "submitted_by": "提交人"}


def audit_detail(detail: Mapping[str, Any] | None, person: Callable[[str], str] = str) -> str:
    """The details worth a person's reading, in Chinese, joined by `；`; hashes, labels and codes are left out, and
    the people named by `person` (an account's login → the name people know: admin_ui.people)."""
    said = (_SAID[key](value) if key in _SAID else f"{_PEOPLE[key]} {person(value)}"
            for key, value in (detail or {}).items() if key in _SAID or key in _PEOPLE)
    return "；".join(text for text in said if text)
