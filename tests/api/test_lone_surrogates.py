"""A lone UTF-16 surrogate (`"\\ud800"`) in JSON cannot be stored or encoded: every endpoint answers a 4xx
problem naming the field (one check where JSON bodies are parsed), never a 500; forms and query strings
cannot carry one at all (invalid UTF-8 is replaced when decoded)."""

from __future__ import annotations

import pytest

LONE = '"x\\ud800y"'  # a JSON escape for a high surrogate with no low surrogate after it
LOW = '"\\udfff"'


def _raw(api, path: str, user: str | None, body: str):  # noqa: ANN001, ANN202
    return api.client.post(path, data=body.encode(), headers=api.headers(user), content_type="application/json")


def _assert_names(resp, field: str) -> None:  # noqa: ANN001
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert "surrogate" in problem["errors"][0]["message"]


@pytest.mark.parametrize("value", [LONE, LOW])
def test_login_with_a_lone_surrogate_is_a_problem_naming_the_username(api, value: str) -> None:  # noqa: ANN001
    resp = _raw(api, "/api/v1/auth/token", None, f'{{"username": {value}, "password": "demo"}}')
    _assert_names(resp, "username")


def test_customer_create_names_the_field(api) -> None:  # noqa: ANN001
    resp = _raw(api, "/api/v1/customers", "alice", f'{{"name": {LONE}, "industry": "manufacturing"}}')
    _assert_names(resp, "name")
    assert api.get("/api/v1/customers", "alice", query_string={"q": "x"}).status_code == 200


def test_start_and_complete_name_the_nested_variable(api) -> None:  # noqa: ANN001
    resp = _raw(api, "/api/v1/process-definitions/leave_request/start", "alice",
                f'{{"variables": {{"leave_type": "annual", "reason": {LONE}}}}}')
    _assert_names(resp, "variables/reason")
    assert api.start_leave("alice").status_code == 201
    task = api.tasks("bob", assignee="me")[0]
    resp = _raw(api, f"/api/v1/tasks/{task['id']}/complete", "bob",
                f'{{"variables": {{"approved": true}}, "comment": {LONE}}}')
    _assert_names(resp, "comment")
    # a surrogate in a key is caught too, and a valid pair (an emoji) is fine
    resp = _raw(api, f"/api/v1/tasks/{task['id']}/complete", "bob", f'{{"variables": {{{LONE}: 1}}}}')
    _assert_names(resp, "variables/x\ufffdy")
    ok = _raw(api, f"/api/v1/tasks/{task['id']}/complete", "bob",
              '{"variables": {"approved": true}, "comment": "ok \\ud83d\\ude00"}')
    assert ok.status_code == 200, ok.get_json()


def test_web_form_and_query_string_cannot_smuggle_one(api) -> None:  # noqa: ANN001
    """CESU-8 bytes of a surrogate (%ED%A0%80) in a form or the query are not UTF-8: no 500 either way."""
    client = api.app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    resp = client.post("/login", data=b"username=%ED%A0%80&password=demo",
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code < 500
    resp = api.client.get("/api/v1/customers?q=%ED%A0%80", headers=api.headers("alice"))
    assert resp.status_code == 200, resp.get_json()
