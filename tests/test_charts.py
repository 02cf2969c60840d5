"""The inline SVG charts and the dashboard's period and bucketing rules, without a database."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from xinfang.admin_ui.charts import Bar, Column, bar_chart, column_chart, meter, text_width
from xinfang.admin_ui.dashboard_data import Period, PeriodError, intake_columns, parse_period, preset_period

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2026, 5, 20)
D = dt.date.fromisoformat


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(svg: ET.Element) -> list[str]:
    return [t.text for t in svg.iter(f"{SVG}text")]


def test_bar_chart_is_titled_described_and_labelled():
    svg = parse(bar_chart([Bar("劳动和社会保障", 40, "40 件 · 40.0%"), Bar("城乡建设", 10, "10 件 · 10.0%", "/x?a=1&b=2")],
                          chart_id="c1", title="按内容分类", desc=""))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "按内容分类"
    assert svg.find(f"{SVG}desc").text == "劳动和社会保障 40 件 · 40.0%；城乡建设 10 件 · 10.0%"
    assert texts(svg) == ["劳动和社会保障", "40 件 · 40.0%", "城乡建设", "10 件 · 10.0%"]
    bars = [float(r.get("width")) for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert bars[0] == pytest.approx(4 * bars[1])  # lengths in proportion
    assert svg.find(f"{SVG}a").get("href") == "/x?a=1&b=2"  # escaped in the markup, read back whole


def test_labels_are_escaped_and_long_ones_shortened():
    markup = str(bar_chart([Bar("<script>alert(1)</script>" + "很长的单位名称" * 10, 1, "1 件")], chart_id="c",
                           title="t"))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    svg = parse(markup)
    label = texts(svg)[0]
    assert label.endswith("…") and text_width(label) <= 210
    assert "很长的单位名称" * 10 in svg.find(f"{SVG}g/{SVG}title").text  # the whole name on hover


def test_empty_chart_says_so():
    svg = parse(bar_chart([], chart_id="e", title="空"))
    assert "没有数据" in texts(svg) and svg.find(f"{SVG}desc").text == "没有数据"


def test_rates_can_be_scaled_to_a_full_bar():
    svg = parse(bar_chart([Bar("甲", 0.5, "50%")], chart_id="r", title="t", scale=1.0))
    track, bar = [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert bar == pytest.approx(track / 2, abs=0.1)


def test_column_chart_writes_values_months_and_years():
    columns = [Column("12月", 5, "5", "2025年"), Column("1月", 10, "10", "2026年"), Column("2月", 0, "0", "2026年")]
    svg = parse(column_chart(columns, chart_id="m", title="每月登记"))
    assert texts(svg) == ["5", "12月", "2025年", "10", "1月", "2026年", "0", "2月"]
    assert "2026年1月 10" in svg.find(f"{SVG}desc").text


def test_text_width_counts_chinese_as_one_em():
    assert text_width("沂南县") == 39 and text_width("ab") == pytest.approx(2 * 13 * 0.58)


def test_meter():
    assert 'aria-label="按期办结率 97.5%"' in str(meter(0.975, label="按期办结率"))
    assert "无数据" in str(meter(None, label="x"))


# The period of a dashboard

@pytest.mark.parametrize("preset, start", [("month", "2026-05-01"), ("quarter", "2026-04-01"), ("year", "2026-01-01"),
                                           ("12m", "2025-06-01")])
def test_presets(preset, start):
    assert parse_period({"preset": preset}, TODAY) == Period(D(start), TODAY, preset)


@pytest.mark.parametrize("args, expected", [
    ({}, Period(D("2025-06-01"), TODAY, "12m")),
    ({"from": "2026-01-01", "to": "2026-05-20"}, Period(D("2026-01-01"), TODAY, "year")),  # typed, but a preset
    ({"from": "2026-02-03", "to": "2026-03-04"}, Period(D("2026-02-03"), D("2026-03-04"))),
    ({"from": "2026-02-03"}, Period(D("2026-02-03"), TODAY)),
    ({"to": "2026-03-04", "from": ""}, Period(D("2025-04-01"), D("2026-03-04"))),  # 12 months to `to`
    ({"preset": "month", "from": "2020-01-01"}, Period(D("2026-05-01"), TODAY, "month")),  # the preset wins
])
def test_from_and_to(args, expected):
    assert parse_period(args, TODAY) == expected


@pytest.mark.parametrize("args, message", [
    ({"from": "2026-13-01"}, "开始日期“2026-13-01”不是日期"),
    ({"to": "yesterday"}, "结束日期“yesterday”不是日期"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "开始日期 2026-05-02 晚于结束日期 2026-05-01"),
    ({"preset": "decade"}, "没有“decade”这个时段"),
    ({"from": "2000-01-01"}, "时段不能超过十年"),
])
def test_bad_periods(args, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(args, TODAY)


def test_period_label():
    assert preset_period("month", TODAY).label == "本月（2026-05-01 至 2026-05-20）"
    assert Period(D("2026-02-03"), D("2026-03-04")).label == "2026-02-03 至 2026-03-04"


def test_intake_by_day_week_or_month():
    counts = [(D("2026-05-04"), "online", 2), (D("2026-05-04"), "visit", 1), (D("2026-05-06"), "letter", 4)]
    unit, days = intake_columns(counts, preset_period("month", TODAY))
    assert unit == "日" and len(days) == 20 and (days[3].label, days[3].value, days[5].value) == ("4", 3, 4)
    unit, weeks = intake_columns(counts, preset_period("quarter", TODAY))
    assert unit == "周" and weeks[0].label == "3/30" and [w.value for w in weeks if w.value] == [7]
    unit, months = intake_columns(counts, preset_period("12m", TODAY))
    assert unit == "月" and len(months) == 12 and months[-1].value == 7
    assert (months[0].label, months[0].group, months[7].group) == ("6月", "2025年", "2026年")
