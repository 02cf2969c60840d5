"""A report document as an XLSX workbook (a sheet per table) and an A4 landscape PDF in an embedded Chinese font."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from xinfang.server.pdf_fonts import pdf_font

from .documents import Document

__all__ = ["to_pdf", "to_xlsx"]


def _sheet_title(heading: str) -> str:
    """一、各承办单位在办情况 → 各承办单位在办情况 (a sheet name: at most 31 characters, none of []:*?/\\)."""
    name = heading.split("、", 1)[-1] if heading[:1] in "一二三四五六七八九十" else heading
    for bad in "[]:*?/\\：":
        name = name.replace(bad, "-")
    return name[:31]


def _shown(value) -> str:
    """A cell as printed: 87.16, 100 (not 100.0)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def to_xlsx(document: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in document.tables:
        sheet = book.create_sheet(_sheet_title(table.heading))
        sheet.append([document.title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([document.subtitle])
        for line in document.lines:
            sheet.append([line])
        sheet.append([table.heading])
        sheet.cell(sheet.max_row, 1).font = bold
        sheet.append(table.columns)
        header = sheet.max_row
        for cell in sheet[header]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in table.rows:
            sheet.append(list(row))
        if not table.rows:
            sheet.append([table.empty])
        sheet.freeze_panes = sheet.cell(header + 1, 1)
        widths = table.widths or [1] * len(table.columns)
        for i, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(i)].width = max(8, width * 7)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(document: Document) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER)
    subtitle = ParagraphStyle("subtitle", parent=body, fontSize=12, leading=18, alignment=TA_CENTER, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10.5)
    out = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{document.title} {document.subtitle}", author=document.title,
                            creator="xinfang", invariant=1)
    story = [Paragraph(escape(document.title), title), Paragraph(escape(document.subtitle), subtitle)]
    story += [Paragraph(escape(line), body) for line in document.lines]
    for table in document.tables:
        story.append(Paragraph(escape(table.heading), heading))
        if not table.rows:
            story.append(Paragraph(escape(table.empty), body))
            continue
        widths = table.widths or [1] * len(table.columns)
        scale = doc.width / sum(widths)
        data = [[Paragraph(escape(_shown(c)), cell) for c in table.columns]]
        data += [[Paragraph(escape(_shown(c)), cell) for c in row] for row in table.rows]
        grid = LongTable(data, colWidths=[w * scale for w in widths], repeatRows=1)
        grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                  ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.92, 0.95)),
                                  ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [grid, Spacer(1, 4 * mm)]
    doc.build(story)
    return out.getvalue()
