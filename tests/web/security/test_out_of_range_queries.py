"""Out-of-range query values on web pages answer a 422 page naming the field (never a raw problem+json 400
or a 500), and the pages' JSON lookups answer a JSON problem, not HTML."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web

PAGES = [(f"/approvals?tab={tab}&end=9999-12-31", "end") for tab in ("todo", "done", "mine", "cc")] + [
    ("/calendar?week=9999-12-31", "week"), ("/calendar?week=0001-01-01", "week"),
    ("/start/leave_request?from=999999999999999999999999999999", "from")]


@pytest.mark.parametrize(("path", "field"), PAGES)
def test_out_of_range_query_is_a_422_page_naming_the_field(web: Web, api, path: str, field: str) -> None:  # noqa: ANN001
    web.login("alice")
    resp = web.get(path)
    assert resp.status_code == 422 and resp.content_type.startswith("text/html")
    assert f"<code>{field}</code> must be between" in resp.get_data(as_text=True) or (
        f"<code>{field}</code> out of range" in resp.get_data(as_text=True))


def test_api_out_of_range_id_is_422_naming_it(api) -> None:  # noqa: ANN001
    resp = api.get("/api/v1/tasks", "alice", query_string={"instance_id": "99999999999999999999999"})
    assert resp.status_code == 422 and [e["field"] for e in resp.get_json()["errors"]] == ["instance_id"]


def test_json_lookup_errors_are_json_problems(web: Web) -> None:
    web.login("alice")
    resp = web.get("/leave-days?start_date=2026-12-01&end_date=2026-12-02&start_half=xx")
    assert resp.status_code == 422 and resp.content_type == "application/problem+json"
    assert "start_half" in [e["field"] for e in resp.get_json()["errors"]]
    huge = web.get("/pick/crm.customer?id=999999999999999999999999")
    assert huge.status_code == 422 and huge.content_type == "application/problem+json"


def test_in_range_values_still_work(web: Web) -> None:
    web.login("alice")
    assert web.get("/calendar?week=2026-12-07").status_code == 200
    assert web.get("/approvals?tab=mine&end=2026-12-31").status_code == 200
