"""Each role starts on its work (issue 11 item 6): signing in opens what the person does first, not the national tree."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("username", "landing"), [
    ("yinan_approver", "/rulesets/approvals"),
    ("yinan_officer", "/rulesets/371321"),
    ("yinan_supervisor", "/dashboard"),
    ("yinan_clerk", "/intake"),
    ("yinan_ziran", "/cases?unit=natural_resources"),
    ("admin", "/jurisdictions"),
])
def test_each_role_lands_on_its_work(app, sign_in, username, landing):
    response = sign_in(app, username).get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith(landing)
