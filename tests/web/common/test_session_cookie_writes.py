"""The session cookie is written only when the session changes, so a slow response cannot undo a language switch."""

from __future__ import annotations

from tests.web.conftest import Web


def _sets_session(resp) -> bool:  # noqa: ANN001
    return any(h.startswith("oaflow_session=") for h in resp.headers.getlist("Set-Cookie"))


def test_a_response_from_before_the_switch_does_not_bring_the_old_language_back(app) -> None:  # noqa: ANN001
    web = Web(app)
    assert _sets_session(web.login("alice"))
    web.get("/")  # the CSRF token for the pages is in the session now
    stale = app.test_client()  # a request that read the session before the switch ...
    stale.set_cookie("oaflow_session", web.client.get_cookie("oaflow_session").value)
    assert _sets_session(web.get("/lang/zh_CN"))
    late_page, late_file = stale.get("/"), stale.get("/static/web/app.css")  # ... answers after it
    assert late_page.status_code == 200 and late_file.status_code == 200
    assert not _sets_session(late_page) and not _sets_session(late_file)
    assert "审批" in web.get("/").get_data(as_text=True)  # still Chinese


def test_the_cookie_still_expires_twelve_hours_after_log_in(app) -> None:  # noqa: ANN001
    web = Web(app)
    cookie = [h for h in web.login("alice").headers.getlist("Set-Cookie") if h.startswith("oaflow_session=")][0]
    assert "Expires=" in cookie and "HttpOnly" in cookie
