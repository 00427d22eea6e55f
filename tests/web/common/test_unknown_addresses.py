"""An address nothing serves: a browser gets the app's 404 page (in its language), an API client problem+json."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/instances", "/tasks/", "/no/such/page<script>"])
def test_a_browser_gets_the_404_page_in_its_language(app, path: str) -> None:  # noqa: ANN001
    web = Web(app)
    web.login("alice")
    web.get("/lang/zh_CN")
    resp = web.get(path, headers=BROWSER)
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "未找到" in page and "<script>" not in page.split("</head>", 1)[1]


@pytest.mark.parametrize(("path", "accept"), [("/instances", "*/*"), ("/api/v1/nope", BROWSER["Accept"]),
                                              ("/nope", None)])
def test_an_api_client_gets_problem_json(app, path: str, accept: str | None) -> None:  # noqa: ANN001
    resp = app.test_client().get(path, headers={"Accept": accept} if accept else {})
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == 404


@pytest.mark.parametrize("accept", [BROWSER["Accept"], None])
def test_a_camunda_client_gets_camundas_error_shape(app, accept: str | None) -> None:  # noqa: ANN001
    """Outside the /engine-rest subset a Camunda client reads {type, message}, whatever it accepts."""
    resp = app.test_client().get("/engine-rest/nope", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 404 and resp.mimetype == "application/json"
    assert set(resp.get_json()) == {"type", "message"}
