"""/engine-rest lists never ignore a filter (attacker finding 10): an unreadable value, an unknown sortBy or a
parameter the list does not take is Camunda's 400 InvalidRequestException, not the unfiltered list; the date
filters and sorting Camunda documents work; a huge firstResult is a Camunda-shaped 400, not a problem+json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import leave_span

HISTORY = "/engine-rest/history/process-instance"


def _camunda_400(resp, says: str) -> None:  # noqa: ANN001
    assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"type", "message"} and body["type"] == "InvalidRequestException", body
    assert says in body["message"], body


def _start(api, key: str) -> dict:  # noqa: ANN001
    span = leave_span(1)
    resp = api.post("/engine-rest/process-definition/key/leave_request/start", "alice", json={
        "businessKey": key, "variables": {"leave_type": {"value": "annual"}, "reason": {"value": "trip"},
                                          "start_date": {"value": span["start_date"]},
                                          "end_date": {"value": span["end_date"]}}})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize(("query", "says"), [
    ("startedAfter=garbage", "'startedAfter' to value 'garbage'"),
    ("finishedBefore=2026-13-45", "'finishedBefore'"),
    ("sortBy=__class__&sortOrder=asc", "sortBy parameter has invalid value: __class__"),
    ("sortBy=startTime", "sortBy and sortOrder required"),
    ("sortBy=startTime&sortOrder=sideways", "sortOrder parameter has invalid value"),
    ("finished=maybe", "'finished'"),
    ("processInstanceIds=1,2", "Unsupported query parameter 'processInstanceIds'"),
    ("firstResult=99999999999999999999", "'firstResult'"),
    ("maxResults=-1", "'maxResults'"),
])
def test_history_refuses_what_it_cannot_apply(api, query: str, says: str) -> None:  # noqa: ANN001
    _start(api, "filters-1")
    for path in (HISTORY, HISTORY + "/count"):
        if ("Result" in query or "sort" in query) and path.endswith("count"):
            continue  # paging and sorting have no meaning for a count
        _camunda_400(api.get(f"{path}?{query}", "alice"), says)


@pytest.mark.parametrize("path", ["/engine-rest/task?firstResult=99999999999999999999",
                                  "/engine-rest/task?sortBy=__class__&sortOrder=asc",
                                  "/engine-rest/task?dueBefore=tomorrow",
                                  "/engine-rest/process-instance?firstResult=x",
                                  "/engine-rest/process-instance?variables=a_eq_b",
                                  "/engine-rest/process-definition?nameLike=%25",
                                  "/engine-rest/external-task?workerId=w1"])
def test_other_lists_refuse_too(api, path: str) -> None:  # noqa: ANN001
    user = "admin" if "external" in path else "alice"
    resp = api.get(path, user)
    assert resp.status_code == 400, (path, resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.get_json()["type"] == "InvalidRequestException"


def test_date_filters_and_sorting_apply(api) -> None:  # noqa: ANN001
    first, second = _start(api, "filters-a"), _start(api, "filters-b")
    ids = {first["id"], second["id"]}
    now = datetime.now(UTC)
    past = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    future = (now + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S.000+0800")  # an hour from now, in UTC+8
    mine = api.get(f"{HISTORY}?startedAfter={past.replace('+', '%2B')}", "alice").get_json()
    assert ids <= {i["id"] for i in mine}
    assert api.get(f"{HISTORY}?startedAfter={future.replace('+', '%2B')}", "alice").get_json() == []
    assert api.get(f"{HISTORY}/count?startedBefore={past.replace('+', '%2B')}", "alice").get_json() == {"count": 0}
    down = api.get(f"{HISTORY}?sortBy=instanceId&sortOrder=desc", "alice").get_json()
    assert [i["id"] for i in down] == sorted((i["id"] for i in down), key=int, reverse=True)
    keys = [i["businessKey"] for i in api.get(f"{HISTORY}?sortBy=businessKey&sortOrder=asc&maxResults=2",
                                               "alice").get_json()]
    assert keys == ["filters-a", "filters-b"]
    tasks = api.get("/engine-rest/task?sortBy=created&sortOrder=desc", "bob").get_json()
    assert [t["processInstanceId"] for t in tasks][:2] == [second["id"], first["id"]]


@pytest.mark.parametrize("path", [HISTORY, "/engine-rest/task", "/engine-rest/process-instance"])
def test_a_page_larger_than_the_limit_is_refused_not_cut(api, path: str) -> None:  # noqa: ANN001
    """Camunda's queryMaxResultsLimit: asking for more than 1,000 rows is a 400 naming the limit, so a client
    never takes a cut page for the whole list; 1,000 itself is a page."""
    resp = api.get(f"{path}?maxResults=1001", "alice")
    assert resp.status_code == 400 and resp.get_json() == {
        "type": "BadUserRequestException", "message": "Max results limit of 1000 exceeded!"}
    assert api.get(f"{path}?maxResults=1000", "alice").status_code == 200


def test_definition_xml_and_unknown_paths_answer_as_camunda(api) -> None:  # noqa: ANN001
    """GET /process-definition/key/{key}/xml is Camunda's {"id", "bpmn20Xml"}; an address outside the subset is
    a 404 in Camunda's {"type", "message"} shape, not problem+json (attacker finding)."""
    xml = api.get("/engine-rest/process-definition/key/leave_request/xml", "alice")
    body = xml.get_json()
    assert xml.status_code == 200 and set(body) == {"id", "bpmn20Xml"}
    assert body["id"].startswith("leave_request:") and 'id="leave_request"' in body["bpmn20Xml"]
    missing = api.get("/engine-rest/process-definition/key/nope/xml", "alice")
    assert missing.status_code == 404 and set(missing.get_json()) == {"type", "message"}
    unknown = api.get("/engine-rest/decision-definition", "alice")
    assert unknown.status_code == 404 and unknown.mimetype == "application/json"
    assert set(unknown.get_json()) == {"type", "message"}
