"""Written notices (受理告知书, 不予受理告知书, 信访处理意见书) from package templates filled from the pinned rule set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template

from xinfang.config import EffectiveRuleSet
from xinfang.config.units import unit_name
from xinfang.server.cases.forms import CHANNEL_NOTES
from xinfang.server.pdf_fonts import pdf_font
from xinfang.server.store.case_tables import Petition

from . import labels
from .case_labels import chinese_date

# kind → (title, the event that issues it). The rule-set schema has no place for notice texts, so the
# wording is the package's (templates/cases/notices/<kind>.txt); names, periods and bases are the rule set's.
KINDS = {"accept": ("受理告知书", "accept"), "refuse": ("不予受理告知书", "refuse"),
         "opinion": ("信访处理意见书", "conclude")}
OUTCOME_SENTENCES = {  # 《信访工作条例》第三十二条
    "support": "经调查核实，你反映的请求事实清楚，符合法律、法规、规章或者其他有关规定，予以支持。",
    "explain": "经调查核实，你反映的请求合理但缺乏法律依据，本机关对你做好解释说明工作。",
    "not_support": "经调查核实，你反映的请求缺乏事实根据或者不符合法律、法规、规章或者其他有关规定，不予支持。",
}


@dataclass(frozen=True)
class Notice:
    """A notice ready to show or print: its parts in order."""

    kind: str
    title: str
    number: str
    addressee: str
    paragraphs: list[str]
    issuer: str
    date: str
    ruleset: str  # the rule set it was made under (title and version label)


def _issuing_event(petition: Petition, kind: str):
    action = KINDS[kind][1]
    found = [e for e in petition.events if e.action == action]
    if kind == "opinion":
        found = [e for e in found if (e.detail or {}).get("outcome") != "mediated"]
    return found[-1] if found else None


def available(petition: Petition) -> list[tuple[str, str]]:
    """(kind, title) of the notices the file has issued so far."""
    return [(kind, title) for kind, (title, _) in KINDS.items() if _issuing_event(petition, kind) is not None]


def _limit(effective: EffectiveRuleSet, track: str | None, step: str) -> dict[str, Any]:
    own = (((effective.get("tracks") or {}).get(track or "") or {}).get("time_limits") or {}).get(step)
    return own or effective.get(f"time_limits.{step}") or {}


def _days(limit: dict[str, Any]) -> str:
    return f"{limit.get('days', '')}{labels.label(labels.DAY_UNITS, limit.get('unit', 'calendar'))}"


def build(petition: Petition, view: dict[str, Any], effective: EffectiveRuleSet, kind: str) -> Notice | None:
    """The notice of `kind` for the case as `view` (visibility.visible_case) shows it; None if not issued."""
    event = _issuing_event(petition, kind)
    if event is None:
        return None
    detail = event.detail or {}
    categories = effective.get("classification.categories") or {}
    deadlines = {d["step"]: d for d in view.get("deadlines", [])}
    petitioner = view.get("petitioner") or {}
    track = petition.track
    context = {
        "number": petition.number, "received": chinese_date(petition.received_on),
        "intake": labels.label(labels.INTAKES, petition.intake),
        "category": (categories.get(petition.category) or {}).get("name", petition.category),
        "route": (petition.decision.get("route") or {}).get("name") or "",
        "notify_basis": _limit(effective, track, "notify").get("basis", "《信访工作条例》第二十三条"),
        "conclude": _limit(effective, track, "conclude"), "extension": _limit(effective, track, "extension"),
        "conclude_due": chinese_date(deadlines["conclude"]["due_on"]) if "conclude" in deadlines else "",
        "reason": (detail.get("reason") or petition.decision.get("reason") or "").rstrip("。"),
        "channel_note": CHANNEL_NOTES.get(petition.channel) if petition.channel != "petition" else None,
        "outcome": OUTCOME_SENTENCES.get(detail.get("outcome", "")), "opinion": detail.get("opinion"),
        "review": _limit(effective, track, "review_request"), "days": _days,
    }
    text = render_template(f"cases/notices/{kind}.txt", **context)
    paragraphs = [" ".join(p.split("\n")).strip() for p in text.split("\n\n")]
    own = effective.chain[-1]
    return Notice(kind, KINDS[kind][0], petition.number, f"{petitioner.get('name') or '信访人'}：",
                  [p for p in paragraphs if p], _issuer(petition, effective, event), chinese_date(event.on),
                  f"依据{own.citation}（{own.display_name}）")


def _issuer(petition: Petition, effective: EffectiveRuleSet, event) -> str:
    """The body that decided, which signs (Art. 23, 32): the unit the case was transferred or assigned to before
    the issuing event, else the petition office that received it."""
    before = petition.events[:petition.events.index(event)]
    routed = next((e for e in reversed(before) if e.action in ("transfer", "assign")), None)
    if routed is not None:
        unit = (routed.detail or {}).get("unit")
        name = (routed.detail or {}).get("unit_name") or (unit_name(effective, unit) if unit else "")
        if name:
            return name
    return unit_name(effective, "petition_office") if effective.get("units.petition_office") else "信访工作机构"


def to_pdf(notice: Notice) -> bytes:
    """The notice as an A4 PDF, its Chinese font embedded where the machine has one (pdf_font)."""
    import io
    from xml.sax.saxutils import escape

    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=22, firstLineIndent=24, wordWrap="CJK",
                          spaceAfter=6)
    title = ParagraphStyle("title", parent=body, fontSize=20, leading=30, alignment=TA_CENTER, firstLineIndent=0)
    number = ParagraphStyle("number", parent=body, alignment=TA_CENTER, firstLineIndent=0, fontSize=11)
    plain = ParagraphStyle("plain", parent=body, firstLineIndent=0)
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT, firstLineIndent=0)
    small = ParagraphStyle("small", parent=plain, fontSize=8, leading=12)
    out = io.BytesIO()
    # Uncompressed, so the case number (in Helvetica) can be found in the file as it is written.
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=30 * mm,
                            bottomMargin=25 * mm, title=f"{notice.title} {notice.number}", subject=notice.number,
                            author=notice.issuer, creator="xinfang", pageCompression=0, invariant=1)
    story = [Paragraph(escape(notice.title), title),
             Paragraph(f'编号：<font name="Helvetica">{escape(notice.number)}</font>', number), Spacer(1, 8 * mm),
             Paragraph(escape(notice.addressee), plain)]
    story += [Paragraph(escape(p), body) for p in notice.paragraphs]
    story += [Spacer(1, 12 * mm), Paragraph(escape(notice.issuer), right), Paragraph(escape(notice.date), right),
              Spacer(1, 20 * mm), Paragraph(escape(notice.ruleset), small)]
    doc.build(story)
    return out.getvalue()
