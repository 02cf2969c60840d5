"""A policy officer reads every rule-set problem in Chinese (issue 11, item 3): each issue carries, beside the
English `xinfang validate` line, the same problem in the regulation's words, and the editor shows that first."""

from __future__ import annotations

import re

import pytest

# A sentence of English: two or more words of letters in a row (keys such as `time_limits` or `days` alone are fine).
ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b(?: +\b[A-Za-z]{2,}\b){2,}")

BROKEN = {
    # Art. 34: 60 days to conclude is the national bound; a county may shorten, never lengthen it.
    "above the national bound": ("time_limits:\n  conclude: {days: 90, unit: calendar}\n", "超过上级规定的上限"),
    # Art. 30: accusations go to the discipline body, a locked item.
    "a locked item changed": ("routing:\n  accusation: {unit: petition_office}\n", "锁定"),
    "an unknown key": ("time_limit:\n  conclude: {days: 30}\n", "不认识的键"),
    "a value of the wrong type": ("time_limits:\n  conclude: {days: thirty}\n", "类型不对"),
    "a duplicate key": ("title: 甲\ntitle: 乙\n", "重复"),
    "a YAML syntax error": ("time_limits:\n  conclude: {days: 30\n", "YAML 语法错误"),
    "a bound loosened": ("bounds:\n  time_limits.conclude.days: {max: 90, basis: 本级}\n", "放宽"),
    "an extension no level above provides": ("time_limits:\n  review: {days: 30, extension: {days: 10}}\n", "延长"),
}


@pytest.mark.parametrize("body, words", BROKEN.values(), ids=BROKEN.keys())
def test_every_rule_set_problem_is_told_in_chinese(local_ruleset, body, words):
    _, issues = local_ruleset(body)
    assert issues, body
    told = [issue.chinese for issue in issues]
    assert all(told), [str(issue) for issue in issues if not issue.chinese]
    assert any(words in text for text in told), told
    assert not any(ENGLISH.search(text) for text in told), told


def test_a_bound_is_told_with_the_version_that_set_it_not_its_label(local_ruleset):
    # Art. 34: the officer reads who set the bound (全国2022年版) and its article, never `000000@2022.1`.
    _, issues = local_ruleset("time_limits:\n  conclude: {days: 90, unit: calendar}\n")
    chinese = next(issue.chinese for issue in issues if "超过上级规定的上限" in issue.chinese)
    assert "90个自然日超过上级规定的上限60个自然日" in chinese
    assert "全国" in chinese and "《信访工作条例》第三十四条" in chinese and "@" not in chinese
