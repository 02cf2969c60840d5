"""The editor's in-place YAML edits: one key changes, comments, order and every other byte stay."""

from __future__ import annotations

import datetime as dt
import difflib
import textwrap

import pytest

from xinfang.admin_ui.editor_forms import ORDER
from xinfang.admin_ui.editor_scenarios import accept_actual
from xinfang.admin_ui.editor_yaml import REMOVE, EditError, apply_edits, nodes_of, path_at, render_scalar

TEXT = textwrap.dedent("""\
    # 一个县的规则集（注释要保留）
    jurisdiction:
      code: "371321"
      name: 沂南县
      level: county
    version: "2024.1"
    effective_from: 2024-01-01
    change_note: >-
      第一行
      第二行

    time_limits:
      # 问题流转不过夜
      route: {days: 1, unit: calendar, basis: 本县办法}   # 行尾注释
      extension: {days: 15, unit: calendar, basis: 本县办法}

    tracks:
      normal:
        name: 跟踪办
        time_limits:
          conclude:  {days: 30, unit: calendar, basis: 本县办法}
      urgent:
        name: 提速办
        when:
          keywords: [欠薪, 讨薪]

    bounds:
      time_limits.route.days: {max: 1, basis: 本县办法}
    """)


def changed(old: str, new: str) -> list[str]:
    return [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_setting_a_value_changes_only_its_characters():
    new = apply_edits(TEXT, [(("time_limits", "route", "days"), 2)])
    assert changed(TEXT, new) == [
        "-  route: {days: 1, unit: calendar, basis: 本县办法}   # 行尾注释",
        "+  route: {days: 2, unit: calendar, basis: 本县办法}   # 行尾注释"]


def test_a_new_step_goes_in_step_order_as_one_flow_line():
    new = apply_edits(TEXT, [(("time_limits", "conclude"), {"days": 30, "unit": "calendar", "basis": "本县办法"})],
                      order=ORDER)
    assert changed(TEXT, new) == ["+  conclude: {days: 30, unit: calendar, basis: 本县办法}"]
    assert new.index("conclude: {days: 30") < new.index("extension:")  # conclude comes before extension


def test_removing_the_last_key_removes_the_emptied_parent():
    new = apply_edits(TEXT, [(("tracks", "normal", "time_limits", "conclude"), REMOVE)])
    assert changed(TEXT, new) == ["-    time_limits:", "-      conclude:  {days: 30, unit: calendar, basis: 本县办法}"]


def test_flow_mapping_keys_are_added_and_removed_in_place():
    new = apply_edits(TEXT, [(("time_limits", "route", "unit"), REMOVE)])
    assert "route: {days: 1, basis: 本县办法}   # 行尾注释" in new
    newer = apply_edits(new, [(("time_limits", "route", "unit"), "working")])
    assert "route: {days: 1, basis: 本县办法, unit: working}   # 行尾注释" in newer


def test_lists_dates_quoted_strings_and_block_scalars():
    new = apply_edits(TEXT, [(("tracks", "urgent", "when", "keywords"), ["欠薪", "讨薪", "拖欠工资"]),
                             (("version",), "2026.1"), (("effective_from",), dt.date(2026, 12, 1)),
                             (("change_note",), "缩短办结时限")])
    assert set(changed(TEXT, new)) >= {'+version: "2026.1"', "+effective_from: 2026-12-01",
                                       "+      keywords: [欠薪, 讨薪, 拖欠工资]", "+  缩短办结时限"}
    assert "# 一个县的规则集（注释要保留）" in new


def test_a_missing_section_is_added_in_section_order():
    new = apply_edits(TEXT, [(("intake", "group_visit", "max_representatives"), 3)], order=ORDER)
    assert new.index("intake:") < new.index("bounds:")
    assert "intake:\n  group_visit: {max_representatives: 3}\n" in new


@pytest.mark.parametrize("value, written", [("1201", '"1201"'), ("a: b", '"a: b"'), ("yes", '"yes"'),
                                            ("普通文字", "普通文字"), ("", '""')])
def test_strings_that_would_read_as_something_else_are_quoted(value, written):
    assert render_scalar(value, flow=False) == written


def test_an_unreadable_text_is_refused_not_guessed():
    with pytest.raises(EditError):
        apply_edits("a: [1, 2\n", [(("a",), 3)])


def test_path_at_finds_the_value_an_issue_points_to():
    nodes = nodes_of(TEXT)
    line = TEXT.splitlines().index("  route: {days: 1, unit: calendar, basis: 本县办法}   # 行尾注释") + 1
    assert path_at(nodes, line, 18) == ("time_limits", "route", "days")


def test_accepting_an_actual_result_rewrites_that_expectation_only():
    text = textwrap.dedent("""\
        scenarios:
          - name: 样例
            case: {received_on: 2026-11-29, intake: letter, text: 物业乱收费}
            expect:
              track: normal
              deadlines.conclude.date: 2027-01-28
        """)
    new = accept_actual(text, 6, '"2026-12-29"')
    assert changed(text, new) == ["-      deadlines.conclude.date: 2027-01-28",
                                  "+      deadlines.conclude.date: 2026-12-29"]
