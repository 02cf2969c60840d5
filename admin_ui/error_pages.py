"""The page a person sees when a request fails without a page of its own: the status in plain Chinese."""

from __future__ import annotations

from flask import render_template

# What went wrong, and what the person can do about it.
_PAGES = {
    400: ("请求有误", "提交的内容无法识别，请返回上一页重新填写。"),
    403: ("无权访问", "您的账号无权查看或办理这一项。"),
    404: ("没有这个页面", "地址有误，或该内容已不存在。"),
    405: ("不支持这种操作", "请从页面上的按钮办理，不要直接打开这个地址。"),
    413: ("提交的内容过大", "请删减附件或内容后重新提交。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统出错", "系统出现错误，已记录，请稍后再试；如仍不能办理，请联系系统管理员。"),
    503: ("系统繁忙", "当前办理的人较多，请稍候几秒再试，已填写的内容不会丢失：返回上一页重新提交即可。"),
}


def error_page(status: int):
    title, message = _PAGES.get(status, _PAGES[500] if status >= 500 else _PAGES[400])
    # A server-side failure may be the database's: the page then asks it nothing (no account in the header).
    without_database = {"current_user": lambda: None} if status >= 500 else {}
    return render_template("error.html", status=status, title=title, message=message, **without_database), status
