"""Who reads what (README "Who reads what", issue 10 item 8): published rule sets are public law, drafts are not.

A published rule set, the clerks' forms under it and an evaluation by it are readable by anyone, signed in or
not, in any jurisdiction, over the API and on the pages; a draft only by the policy officers and approvers whose
scope covers its jurisdiction.
"""

from __future__ import annotations

import base64

import pytest

from xinfang.server.accounts import DEMO_PASSWORD

AT = "2024-06-01"
CASE = {"received_on": "2024-03-04", "intake": "letter", "text": "小区供暖不热"}
# Signed in or not, and from another province (赣州市 reads 沂南县's law) or another county's clerk.
READERS = [None, "ganzhou_clerk", "ganzhou_officer", "yinan_clerk"]


def basic(username: str | None) -> dict[str, str]:
    if username is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{DEMO_PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def version_id(app) -> int:
    versions = app.test_client().get("/api/v1/jurisdictions/371321/versions").get_json()["items"]
    return versions[-1]["id"]


@pytest.fixture(scope="module")
def draft_id(app) -> int:
    """A draft of 沂南县's rule set, opened by its policy officer."""
    created = app.test_client().post("/api/v1/jurisdictions/371321/drafts", headers=basic("yinan_officer"))
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def page_client(app, sign_in, username: str | None):
    return app.test_client() if username is None else sign_in(app, username).client


# Published rules are public law: whoever petitions, anywhere, may read the procedure a county applies.
@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("path", ["/api/v1/jurisdictions/371321/versions", "/api/v1/versions/{version}",
                                  "/api/v1/versions/{version}/export", f"/api/v1/jurisdictions/371321/ruleset?at={AT}",
                                  "/api/v1/jurisdictions/371321/forms", "/api/v1/jurisdictions/371321/forms/letter"])
def test_published_rule_sets_and_their_forms_are_public_law_over_the_api(app, version_id, who, path):
    response = app.test_client().get(path.format(version=version_id), headers=basic(who))
    assert response.status_code == 200, (who, path, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("who", READERS)
def test_anyone_may_evaluate_a_case_under_a_published_rule_set(app, who):
    response = app.test_client().post("/api/v1/evaluate", json={"jurisdiction": "371321", "case": CASE},
                                      headers=basic(who))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["jurisdiction"] == "371321"


def test_evaluate_without_sign_in_names_the_jurisdiction_it_needs(client):
    response = client.post("/api/v1/evaluate", json={"case": CASE})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == ["jurisdiction: required field is missing"]


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("path", ["/jurisdictions", f"/jurisdictions/371321?at={AT}", f"/jurisdictions/371321/ruleset?at={AT}",
                                  f"/jurisdictions/430981/ruleset?at={AT}", "/rulesets/371321",
                                  "/rulesets/versions/{version}", "/rulesets/371321/diff"])
def test_published_rule_set_pages_are_open_to_anyone(app, sign_in, version_id, who, path):
    response = page_client(app, sign_in, who).get(path.format(version=version_id))
    assert response.status_code == 200, (who, path, response.status_code)
    assert "不在您的管辖范围内" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who, api_status, page_status", [
    (None, 401, 302),  # not signed in: the API says so, the page sends to sign-in
    ("ganzhou_officer", 403, 403),  # another province's policy officer
    ("yinan_clerk", 403, 403),  # in scope, but a clerk registers cases, not rules
    ("yinan_officer", 200, 200), ("admin", 200, 200)])
def test_a_draft_shows_only_to_rule_staff_whose_scope_covers_its_jurisdiction(app, sign_in, draft_id, who,
                                                                            api_status, page_status):
    assert app.test_client().get(f"/api/v1/drafts/{draft_id}", headers=basic(who)).status_code == api_status
    pages = page_client(app, sign_in, who)
    assert pages.get(f"/rulesets/drafts/{draft_id}").status_code == page_status
    listed = pages.get("/rulesets/371321").get_data(as_text=True)
    compared = pages.get(f"/rulesets/371321/diff?new=d{draft_id}").get_data(as_text=True)
    shown = api_status == 200
    assert (f"草稿 {draft_id}" in listed) is shown and (f"草稿 {draft_id}" in compared) is shown
