"""The web session: logging out ends it on the server (a copied cookie is refused afterwards), and the
session cookie is Secure when served over https."""

from __future__ import annotations

import re

import pytest

from api.throttle import TrustedProxies
from api.web import secure_cookies_setting

COOKIE = "oaflow_session"


def _login(client, username: str = "alice", base: str = "http://localhost", headers: dict | None = None,  # noqa: ANN001
           **kw):  # noqa: ANN003, ANN202
    headers = dict(headers or {})
    html = client.get("/login", base_url=base, headers=headers, **kw).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    headers["Referer"] = "https://localhost/login"  # over https, the CSRF check wants a same-site referrer
    return client.post("/login", base_url=base, headers=headers, data={"username": username, "password": "demo",
                                                                     "csrf_token": token}, **kw)


def _csrf(client) -> str:  # noqa: ANN001
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_a_cookie_copied_before_logout_is_refused_after_it(app) -> None:  # noqa: ANN001
    victim = app.test_client()
    assert _login(victim).status_code == 302
    stolen = victim.get_cookie(COOKIE).value
    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert victim.post("/logout", data={"csrf_token": _csrf(victim)}).status_code == 302
    resp = thief.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # logging in again gives a fresh, working session; the old copy stays dead
    assert _login(victim).status_code == 302 and victim.get("/").status_code == 200
    thief.set_cookie(COOKIE, stolen)
    assert thief.get("/").status_code == 302


def test_logout_needs_the_csrf_token(app) -> None:  # noqa: ANN001
    client = app.test_client()
    _login(client)
    assert client.post("/logout").status_code == 400  # a cross-site form cannot log the user out
    assert client.get("/").status_code == 200


def _secure_flag(resp) -> bool:  # noqa: ANN001
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    return "Secure" in cookie


def test_the_session_cookie_is_secure_over_https_by_default(app) -> None:  # noqa: ANN001
    assert app.config["OAFLOW_SECURE_COOKIES"] is None  # automatic
    assert _secure_flag(_login(app.test_client(), base="https://localhost")) is True
    assert _secure_flag(_login(app.test_client())) is False
    # behind a trusted proxy that terminated TLS; a client's own X-Forwarded-Proto is ignored
    app.wsgi_app = TrustedProxies(app.wsgi_app, ["10.9.0.1"])
    proxied = {"headers": {"X-Forwarded-Proto": "https"}}
    assert _secure_flag(_login(app.test_client(), environ_base={"REMOTE_ADDR": "10.9.0.1"}, **proxied)) is True
    assert _secure_flag(_login(app.test_client(), environ_base={"REMOTE_ADDR": "10.0.0.3"}, **proxied)) is False
    app.config["OAFLOW_SECURE_COOKIES"] = True
    assert _secure_flag(_login(app.test_client())) is True


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None), ({"OAFLOW_SECURE_COOKIES": "1"}, True), ({"OAFLOW_SECURE_COOKIES": "0"}, False),
    ({"OAFLOW_BASE_URL": "https://oa.example.com"}, True), ({"OAFLOW_BASE_URL": "http://intranet"}, None),
    ({"OAFLOW_BASE_URL": "https://oa.example.com", "OAFLOW_SECURE_COOKIES": "off"}, False),
])
def test_secure_cookie_setting_from_the_environment(monkeypatch, env: dict, expected: bool | None) -> None:  # noqa: ANN001
    monkeypatch.delenv("OAFLOW_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("OAFLOW_BASE_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert secure_cookies_setting() is expected
