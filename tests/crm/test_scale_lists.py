"""Lists page by key (`?after=` / `next_after`) with exact totals up to a bound; customer search finds Chinese
two-character names, phone digits and contact names through the bigram index, kept in the write's transaction;
the RFM summary behind the segments report follows each write and shows when it was computed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.extensions import db
from store.base import utcnow
from tests.crm.conftest import C, fields_of


def test_keyset_pages_walk_every_customer_once(api, crm) -> None:  # noqa: ANN001
    made = [crm.customer("alice")["id"] for _ in range(7)]
    seen, after = [], None
    while True:
        query = {"per_page": 3} | ({"after": after} if after is not None else {})
        body = api.get(C, "alice", query_string=query).get_json()
        assert body["total"] == 7 and body["total_is_estimate"] is False
        seen += [c["id"] for c in body["items"]]
        after = body["next_after"]
        if after is None:
            break
    assert seen == sorted(made)
    # newest-first lists walk downwards
    for cid in made[:4]:
        assert api.post("/api/v1/follow-ups", "alice", json={"customer_id": cid, "type": "call",
                                                              "content": "x"}).status_code == 201
    first = api.get("/api/v1/follow-ups", "alice", query_string={"per_page": 2}).get_json()
    second = api.get("/api/v1/follow-ups", "alice",
                     query_string={"per_page": 2, "after": first["next_after"]}).get_json()
    ids = [f["id"] for f in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4 and second["next_after"] is None


def test_a_bad_cursor_is_refused_and_a_wrong_user_sees_nothing_past_it(api, crm) -> None:  # noqa: ANN001
    crm.customer("alice")
    for bad in ("x", "-1", "9" * 40):
        resp = api.get(C, "alice", query_string={"after": bad})
        assert resp.status_code == 422 and fields_of(resp) == ["after"]
    assert api.get(C, "carol", query_string={"after": 0}).get_json()["items"] == []  # not her scope
    resp = api.get("/api/v1/receivables", "alice", query_string={"after": 1})
    assert resp.status_code == 422 and fields_of(resp) == ["after"]  # no single key column: page numbers only


def test_totals_past_the_bound_are_marked_as_estimates(api, crm, monkeypatch) -> None:  # noqa: ANN001
    from api import http
    for _ in range(5):
        crm.customer("alice")
    monkeypatch.setattr(http, "EXACT_TOTAL_UP_TO", 3)
    body = api.get(C, "alice", query_string={"per_page": 2}).get_json()
    assert body["total_is_estimate"] is True and body["total"] >= 4 and len(body["items"]) == 2
    body = api.get(C, "alice", query_string={"q": "50% it's"}).get_json()  # quotes and LIKE marks in the estimate
    assert body["total"] == 0 and body["total_is_estimate"] is False
    body = api.get(C, "alice", query_string={"q": "company"}).get_json()
    assert body["total_is_estimate"] is True and len(body["items"]) == 5
    monkeypatch.setattr(http, "EXACT_TOTAL_UP_TO", 10)
    assert api.get(C, "alice").get_json() | {"items": None} == {
        "items": None, "total": 5, "total_is_estimate": False, "page": 1, "per_page": 50, "next_after": None}


def _names(api, user: str, q: str) -> list[str]:  # noqa: ANN001
    resp = api.get(C, user, query_string={"q": q})
    assert resp.status_code == 200, resp.get_json()
    return sorted(c["name"] for c in resp.get_json()["items"])


def test_chinese_two_character_search_phone_and_contacts(api, crm) -> None:  # noqa: ANN001
    a = crm.customer("alice", name="北京华为科技有限公司", phone="+86 10 5555 1234")
    crm.customer("alice", name="上海华联超市", phone="021-7777-0000")
    crm.customer("bob", name="华为深圳分部", phone="0755 1111 2222")
    assert _names(api, "alice", "华为") == ["北京华为科技有限公司"]  # bob's customer is out of alice's scope
    assert _names(api, "admin", "华为") == ["北京华为科技有限公司", "华为深圳分部"]
    assert _names(api, "alice", "华") == ["上海华联超市", "北京华为科技有限公司"]  # one character: substring
    assert _names(api, "alice", "55551234") == ["北京华为科技有限公司"]
    assert _names(api, "alice", "为华") == []  # every bigram, and the exact substring
    resp = api.post("/api/v1/contacts", "alice", json={"customer_id": a["id"], "name": "王小明"})
    assert resp.status_code == 201
    assert _names(api, "alice", "小明") == ["北京华为科技有限公司"]
    # a rename takes effect in the same transaction: the old name no longer matches
    assert crm.patch(f"{C}/{a['id']}", "alice", {"name": "北京鸿蒙软件"}).status_code == 200
    assert _names(api, "alice", "科技") == [] and _names(api, "alice", "鸿蒙") == ["北京鸿蒙软件"]


def test_search_input_is_bounded_and_literal(api, crm) -> None:  # noqa: ANN001
    crm.customer("alice", name="100% <b>Bold</b> Ltd")
    assert _names(api, "alice", "100%") == ["100% <b>Bold</b> Ltd"]
    assert _names(api, "alice", "%") == ["100% <b>Bold</b> Ltd"] and _names(api, "alice", "_") == []
    assert _names(api, "alice", "<b>bold") == ["100% <b>Bold</b> Ltd"]
    resp = api.get(C, "alice", query_string={"q": "字" * 201})
    assert resp.status_code == 422 and fields_of(resp) == ["q"]


def test_segments_follow_each_payment_at_once_and_show_as_of(api, crm, app) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    body = api.get("/api/v1/reports/segments", "alice").get_json()
    assert body["counts"]["prospect"] == 1
    k = crm.contract("alice", c["id"], amount=500000)
    resp = api.post(f"/api/v1/contracts/{k['id']}/payments", "carol",
                    json={"amount": 200000, "paid_on": utcnow().date().isoformat()})
    assert resp.status_code == 201, resp.get_json()
    body = api.get("/api/v1/reports/segments", "alice").get_json()
    assert body["counts"]["high_value"] == 1 and body["customers"][0]["monetary"] == 200000.0
    assert body["as_of"] is not None and body["customers_total"] == 1
    # the daily refresh moves the window: a year later the payment is outside it and the customer is lost
    from crm.access import viewer_for
    from crm.reports import segments
    from crm.rfm import refresh_if_stale
    later = utcnow() + timedelta(days=400)
    with app.app_context():
        assert refresh_if_stale(db.session, utcnow()) == 0  # already current today
        assert refresh_if_stale(db.session, later) == 1
        got = segments(db.session, viewer_for(db.session, "alice"), later)
    assert got["customers"][0]["segment"] == "lost" and got["customers"][0]["monetary"] == 0.0


@pytest.mark.parametrize("per_page", ["0", "5001", "x"])
def test_segment_pages_are_bounded(api, per_page: str) -> None:  # noqa: ANN001
    resp = api.get("/api/v1/reports/segments", "alice", query_string={"per_page": per_page})
    assert resp.status_code == 422 and fields_of(resp) == ["per_page"]


def test_concurrent_payments_and_contacts_of_one_customer_all_land(api, crm, app) -> None:  # noqa: ANN001
    from tests.conftest import run_in_threads
    c = crm.customer("alice", name="并发客户")
    contracts = [crm.contract("alice", c["id"], amount=100000)["id"] for _ in range(4)]
    api.token("alice"), api.token("carol")  # log in before the threads start
    statuses: list[int] = []

    def work(i: int) -> None:
        if i % 2:
            resp = api.post(f"/api/v1/contracts/{contracts[i // 2]}/payments", "carol",
                            json={"amount": 1000, "paid_on": utcnow().date().isoformat()})
        else:
            resp = api.post("/api/v1/contacts", "alice", json={"customer_id": c["id"], "name": f"联系人{i}"})
        statuses.append(resp.status_code)

    run_in_threads(8, work)
    assert statuses.count(201) == 8, statuses
    row = api.get("/api/v1/reports/segments", "alice").get_json()["customers"][0]
    assert row["monetary"] == 4000.0 and row["frequency"] >= 4
    assert _names(api, "alice", "联系") == ["并发客户"]
