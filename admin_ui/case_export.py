"""A filtered case list as CSV or XLSX: the list's rows, personal data masked, names as well as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .case_labels import due_moment

CONFIDENTIAL = "（保密）"


def mask_name(name: str | None) -> str:
    """张三丰 → 张**: an export leaves the system, so even the name is masked."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def _petitioner(row: dict, key: str) -> str:
    if row["petitioner"] is None:
        return CONFIDENTIAL if "petitioner" in row["redacted"] else ""
    value = row["petitioner"].get(key) or ""
    return mask_name(value) if key == "name" else value  # visible_case(in_list=True) masked the rest


COLUMNS: tuple[tuple[str, Callable[[dict], Any]], ...] = (
    ("编号", lambda r: r["number"]),
    ("行政区划", lambda r: f"{r['jurisdiction_name']}（{r['jurisdiction']}）"),
    ("收到日期", lambda r: r["received_on"]),
    ("信访形式", lambda r: r["intake_name"]),
    ("分类", lambda r: f"{r['category']} {r['category_name']}".strip()),
    ("信访人", lambda r: _petitioner(r, "name")),
    ("身份证号码", lambda r: _petitioner(r, "id_number")),
    ("联系电话", lambda r: _petitioner(r, "phone")),
    ("诉求摘要", lambda r: r["summary"] if r["summary"] is not None else CONFIDENTIAL),
    ("阶段", lambda r: r["stage_name"]),
    ("办理方式", lambda r: r["track_name"]),
    ("承办单位", lambda r: r["unit_name"]),
    ("下一期限", lambda r: r["next_step"]),
    ("期限日期", lambda r: (r["next_deadline"] or {}).get("due_on", "")),
    ("到期时刻（北京时间）", lambda r: due_moment((r["next_deadline"] or {}).get("due_at"))),
    ("暂定", lambda r: "是" if (r["next_deadline"] or {}).get("provisional") else ""),
    ("剩余/超期", lambda r: r["countdown"]["text"] if r["countdown"] else ""),
    ("标识", lambda r: "、".join(f["label"] for f in r["flag_items"])),
)


def table(rows: Iterable[dict]) -> list[list[Any]]:
    """The header and one line per case."""
    return [[title for title, _ in COLUMNS]] + [[cell(r) for _, cell in COLUMNS] for r in rows]


def _safe(value: Any) -> Any:
    # A cell a spreadsheet would run as a formula (=, +, -, @) is written as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in table(rows):
        writer.writerow([_safe(v) for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[dict], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "信访事项"
    lines = table(rows)
    for line in lines:
        sheet.append([_safe(v) for v in line])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for i, (name, _) in enumerate(COLUMNS, 1):
        width = max(len(str(line[i - 1])) for line in lines[:200])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(6, width * 2 + 2), 60)
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
