"""Source systems' exports read as rows: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) and XLSX, the header row first."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["OrderFile", "OrderFileError", "missing_columns", "read_order_file"]


class OrderFileError(ValueError):
    """A file that cannot be read as orders at all (its format, its encoding, its header row)."""


@dataclass(frozen=True)
class OrderFile:
    """The header row and the rows under it, each with its row number as a spreadsheet shows it (the header is 1)."""

    headers: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]


def read_order_file(path: Path) -> OrderFile:
    """The rows of a CSV or XLSX export; empty rows are skipped (their numbers are not reused)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _table(_xlsx_rows(path), path)
    if suffix in (".csv", ".txt"):
        return _table(csv.reader(io.StringIO(_decoded(path.read_bytes(), path), newline="")), path)
    raise OrderFileError(f"{path}: 只能导入 CSV 或 XLSX 文件（.xls 请先另存为 .xlsx）")


def _decoded(data: bytes, path: Path) -> str:
    """UTF-8 (a BOM, as Excel writes it, dropped), else GB18030, which reads GBK and GB2312 exports too."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OrderFileError(f"{path}: 文件编码无法识别（应为 UTF-8 或 GBK）")


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export would hold: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as err:
        raise OrderFileError(f"{path}: 不是可以读取的 XLSX 文件（{err}）") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        workbook.close()


def _table(lines, path: Path) -> OrderFile:
    headers: tuple[str, ...] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, cells in enumerate(lines, 1):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if headers is None:
                headers = tuple(cells)
                continue
            rows.append((number, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h}))
    except csv.Error as err:
        raise OrderFileError(f"{path}: CSV 格式有误（{err}）") from None
    if headers is None:
        raise OrderFileError(f"{path}: 文件是空的，没有表头行")
    return OrderFile(headers, rows)


def missing_columns(columns: Mapping[str, str], headers: tuple[str, ...]) -> list[str]:
    """The headers a source's mapping needs (the order id, its date, the request) that the file lacks."""
    return [columns[name] for name in ("order_id", "received_on", "text") if columns[name] not in headers]
