"""Charts as inline SVG drawn on the server: titled, described, every value written out, no script and no library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "Column", "bar_chart", "column_chart", "meter", "text_width"]

BAR_WIDTH, COLUMN_WIDTH = 560, 1160  # drawn at this many CSS pixels, narrower when the container is
FONT = 13


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: its label, its length, what is written after it, and where it leads (optional)."""

    label: str
    value: float
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Column:
    """One column of a column chart; `group` (e.g. the year) is written under the first column of each group."""

    label: str
    value: float
    text: str
    group: str = ""


def text_width(text: str, size: float = FONT) -> float:
    """An estimate of the drawn width: a Chinese character is about one em, Latin letters and digits about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.58 for ch in text)


def _fit(text: str, width: float, size: float = FONT) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _open(chart_id: str, title: str, desc: str, width: float, height: float, css: str) -> list[str]:
    return [f'<svg class="chart {css}" role="img" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
            f'height="{height:g}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}">',
            f'<title id="{chart_id}-title">{escape(title)}</title>',
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, desc: str = "", tone: str = "primary",
              scale: float | None = None, width: float = BAR_WIDTH) -> Markup:
    """Horizontal bars, one a row: the label on the left, the bar, its value written after it.

    `scale` is the value of a full-length bar (default: the largest value); rates pass 1.0.
    The description lists every value, for readers that do not see the picture.
    """
    row, bar_h, top = 28, 16, 4
    label_w = min(max((text_width(b.label) for b in bars), default=0) + 8, 210)
    value_w = max((text_width(b.text, FONT - 1) for b in bars), default=0) + 10
    track = width - label_w - value_w - 4
    full = scale or max((b.value for b in bars), default=0) or 1
    height = top + row * max(len(bars), 1) + 4
    desc = desc or "；".join(f"{b.label} {b.text}" for b in bars) or "没有数据"
    out = _open(chart_id, title, desc, width, height, f"bar-chart tone-{tone}")
    if not bars:
        out.append(f'<text x="0" y="{top + 18}" class="empty">没有数据</text>')
    for i, b in enumerate(bars):
        y = top + i * row
        length = max(track * min(b.value / full, 1), 2 if b.value else 0)
        label = escape(_fit(b.label, label_w - 8))
        item = [f'<g class="bar-row"><title>{escape(b.label)}：{escape(b.text)}</title>',
                f'<text class="label" x="{label_w - 8:g}" y="{y + bar_h - 3}" text-anchor="end">{label}</text>',
                f'<rect class="track" x="{label_w:g}" y="{y}" width="{track:g}" height="{bar_h}" rx="2"/>',
                f'<rect class="bar" x="{label_w:g}" y="{y}" width="{length:.1f}" height="{bar_h}" rx="2"/>',
                f'<text class="value" x="{label_w + track + 6:g}" y="{y + bar_h - 3}" font-size="{FONT - 1}">'
                f'{escape(b.text)}</text></g>']
        if b.href:
            item = [f'<a href="{escape(b.href)}">', *item, "</a>"]
        out.extend(item)
    out.append("</svg>")
    return Markup("".join(out))


def column_chart(columns: Sequence[Column], *, chart_id: str, title: str, desc: str = "",
                 width: float = COLUMN_WIDTH) -> Markup:
    """Vertical columns over time (monthly intake): each value written above its column, months below."""
    height, top, bottom = 220, 22, 44
    plot = height - top - bottom
    n = max(len(columns), 1)
    slot = width / n
    bar_w = min(slot * 0.62, 48)
    full = max((c.value for c in columns), default=0) or 1
    desc = desc or "；".join(f"{c.group}{c.label} {c.text}" for c in columns) or "没有数据"
    out = _open(chart_id, title, desc, width, height, "column-chart tone-primary")
    base = top + plot
    out.append(f'<line class="axis" x1="0" y1="{base}" x2="{width:g}" y2="{base}"/>')
    size = FONT if slot >= 34 else FONT - 2
    for i, c in enumerate(columns):
        cx = slot * i + slot / 2
        h = plot * c.value / full
        out.append(f'<g class="column"><title>{escape(c.group)}{escape(c.label)}：{escape(c.text)}</title>'
                   f'<rect class="bar" x="{cx - bar_w / 2:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                   f'height="{h:.1f}" rx="2"/>'
                   f'<text class="value" x="{cx:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" '
                   f'font-size="{size}">{escape(c.text)}</text>'
                   f'<text class="label" x="{cx:.1f}" y="{base + 17}" text-anchor="middle" font-size="{size}">'
                   f'{escape(c.label)}</text>')
        if c.group and (i == 0 or columns[i - 1].group != c.group):
            out.append(f'<text class="group" x="{cx:.1f}" y="{base + 34}" text-anchor="middle" '
                       f'font-size="{size - 1}">{escape(c.group)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def meter(rate: float | None, *, label: str, tone: str = "primary") -> Markup:
    """A thin gauge of a rate (0 to 1) for a tile; the number itself is written beside it in the page."""
    width, height = 200, 8
    filled = width * max(0.0, min(rate or 0.0, 1.0))
    shown = "无数据" if rate is None else f"{rate * 100:.1f}%"
    return Markup(f'<svg class="meter tone-{tone}" role="img" aria-label="{escape(label)} {shown}" '
                  f'viewBox="0 0 {width} {height}" width="100%" height="{height}" preserveAspectRatio="none" '
                  f'xmlns="http://www.w3.org/2000/svg"><rect class="track" width="{width}" height="{height}" rx="4"/>'
                  f'<rect class="bar" width="{filled:.1f}" height="{height}" rx="4"/></svg>')
