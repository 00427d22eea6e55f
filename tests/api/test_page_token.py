"""The API token a web page embeds is tied to the web session: it stops working at logout and is
short-lived, while an API login's token is unaffected by web logouts."""

from __future__ import annotations

import re

import pytest

from api import auth
from tests.api.test_web_session import _csrf, _login

ME = "/api/v1/users/me"


def _page_token(client, path: str) -> str:  # noqa: ANN001
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="api-token" content="([^"]+)">', html).group(1)


def _me(app, token: str) -> int:  # noqa: ANN001
    return app.test_client().get(ME, headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize("path", ["/processes/leave_request"])
def test_a_page_token_is_refused_after_web_logout(app, api, path: str) -> None:  # noqa: ANN001
    browser = app.test_client()
    assert _login(browser).status_code == 302
    token = _page_token(browser, path)
    api_token = api.token("alice")  # an API client's own login is another session
    assert _me(app, token) == 200
    assert browser.post("/logout", data={"csrf_token": _csrf(browser)}).status_code == 302
    assert _me(app, token) == 401
    assert _me(app, api_token) == 200
    # a new web login gives a new page a working token; the old one stays dead
    assert _login(browser).status_code == 302
    assert _me(app, _page_token(browser, path)) == 200
    assert _me(app, token) == 401


def test_a_page_token_is_short_lived(app, monkeypatch) -> None:  # noqa: ANN001
    browser = app.test_client()
    _login(browser)
    token = _page_token(browser, "/processes/leave_request")
    assert _me(app, token) == 200
    monkeypatch.setattr(auth, "PAGE_TOKEN_TTL", -1)  # as if the page had been open longer than its TTL
    resp = app.test_client().get(ME, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and "expired" in resp.get_json()["detail"]


def test_a_forged_epoch_claim_is_refused(app) -> None:  # noqa: ANN001
    with app.app_context():
        bad = auth._serializer().dumps({"uid": 1, "tv": 0, "se": "x"})
    assert _me(app, bad) == 401
