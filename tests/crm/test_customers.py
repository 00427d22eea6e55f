"""Customers: create, duplicate check, data scope (rep / manager / admin / shares), audit trail, settings."""

from __future__ import annotations

from tests.crm.conftest import C, fields_of


def test_create_and_read_customer_in_scope(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice", name="Acme Ltd", industry="manufacturing")
    assert {k: c[k] for k in ("name", "industry", "owner", "level")} == {
        "name": "Acme Ltd", "industry": "manufacturing", "owner": "alice", "level": "B"}
    assert api.get(f"{C}/{c['id']}", "alice").status_code == 200
    assert api.get(f"{C}/{c['id']}", "bob").status_code == 200  # bob manages alice
    assert api.get(f"{C}/{c['id']}", "admin").status_code == 200
    assert api.get(f"{C}/{c['id']}", "carol").status_code == 404  # not hers: 404, not 403
    assert api.get(f"{C}/999999", "alice").status_code == 404
    assert api.get(C, None).status_code == 401
    mine = api.get(C, "alice").get_json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == c["id"]
    assert api.get(C, "carol").get_json()["total"] == 0
    bobs = crm.customer("bob")
    assert {i["id"] for i in api.get(C, "bob").get_json()["items"]} == {c["id"], bobs["id"]}
    assert {i["id"] for i in api.get(C, "alice").get_json()["items"]} == {c["id"]}  # alice does not see up
    assert api.get(f"{C}/{bobs['id']}", "alice").status_code == 404


def test_search_takes_percent_and_underscore_literally(api, crm) -> None:  # noqa: ANN001
    """`q` is text to find, not a LIKE pattern: '%' and '_' match only themselves."""
    plain, percent, underscore = (crm.customer("alice", name=n)["id"] for n in ("Acme Ltd", "100% Tea", "Big_Co"))

    def found(q: str) -> set[int]:
        return {i["id"] for i in api.get(C, "alice", query_string={"q": q}).get_json()["items"]}

    assert found("%") == {percent}
    assert found("_") == {underscore}
    assert found("acme") == {plain}
    assert found("a%e") == set()


def test_bad_input_names_the_field(api) -> None:  # noqa: ANN001
    resp = api.post(C, "alice", json={"name": "", "level": "Z"})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert set(fields_of(resp)) == {"name", "level"}
    resp = api.post(C, "alice", json={"name": "X", "owner": "bob"})
    assert resp.status_code == 422 and fields_of(resp) == ["owner"]
    resp = api.client.post(C, data="{not json", headers={**api.headers("alice"), "Content-Type": "application/json"})
    assert resp.status_code == 400
    resp = api.get(C, "alice", query_string={"per_page": "0"})
    assert resp.status_code == 422 and fields_of(resp) == ["per_page"]


def test_duplicate_name_or_phone_is_409_revealing_only_what_the_caller_may_see(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice", name="Acme Ltd", phone="010-5555 1234")
    resp = api.post(C, "alice", json={"name": "  acme   LTD "})
    assert resp.status_code == 409
    err = resp.get_json()["errors"][0]
    assert err["field"] == "name" and err["existing_id"] == c["id"] and err["owner"] == "alice"
    resp = api.post(C, "alice", json={"name": "Other", "phone": "(010) 55551234"})
    assert resp.status_code == 409 and fields_of(resp) == ["phone"]
    # carol cannot see alice's customer: the duplicate is reported without its name or id
    resp = api.post(C, "carol", json={"name": "ACME LTD"})
    body = resp.get_json()
    assert resp.status_code == 409 and "owned by another rep" in body["detail"]
    assert "existing_id" not in body["errors"][0] and "Acme" not in body["detail"]
    # bob (alice's manager) may see it
    assert api.post(C, "bob", json={"name": "Acme Ltd"}).get_json()["errors"][0]["existing_id"] == c["id"]
    assert api.get(C, "admin").get_json()["total"] == 1


def test_update_is_audited_and_needs_edit_access(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice", name="Acme", region="north")
    resp = crm.patch(f"{C}/{c['id']}", "alice", {"region": "south", "level": "A"})
    assert resp.status_code == 200 and resp.get_json()["region"] == "south"
    assert crm.patch(f"{C}/{c['id']}", "carol", {"region": "east"}).status_code == 404
    assert crm.patch(f"{C}/{c['id']}", "alice", {"owner": "carol"}).status_code == 422
    trail = api.get("/api/v1/audit", "alice", query_string={"entity": "customer", "id": c["id"]}).get_json()["items"]
    changes = {(e["field"], e["old"], e["new"], e["user"]) for e in trail if e["action"] == "update"}
    assert changes == {("region", "north", "south", "alice"), ("level", "B", "A", "alice")}
    assert any(e["action"] == "create" for e in trail)
    assert api.get("/api/v1/audit", "carol", query_string={"entity": "customer", "id": c["id"]}).status_code == 404
    resp = api.get("/api/v1/audit", "alice", query_string={"entity": "planet", "id": c["id"]})
    assert resp.status_code == 422 and fields_of(resp) == ["entity"]


def test_share_for_read_or_edit(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    assert api.post(f"{C}/{c['id']}/shares", "carol", json={"user": "frank"}).status_code == 404
    resp = api.post(f"{C}/{c['id']}/shares", "alice", json={"user": "nobody"})
    assert resp.status_code == 422 and fields_of(resp) == ["user"]
    assert api.post(f"{C}/{c['id']}/shares", "alice", json={"user": "carol", "access": "read"}).status_code == 201
    assert api.get(f"{C}/{c['id']}", "carol").status_code == 200
    assert [i["id"] for i in api.get(C, "carol").get_json()["items"]] == [c["id"]]
    assert crm.patch(f"{C}/{c['id']}", "carol", {"region": "east"}).status_code == 403
    assert api.post(f"{C}/{c['id']}/shares", "alice", json={"user": "carol", "access": "edit"}).status_code == 201
    assert crm.patch(f"{C}/{c['id']}", "carol", {"region": "east"}).status_code == 200
    # an edit share does not let carol re-share
    assert api.post(f"{C}/{c['id']}/shares", "carol", json={"user": "frank"}).status_code == 403
    assert crm.delete(f"{C}/{c['id']}/shares/carol", "alice").status_code == 204
    assert api.get(f"{C}/{c['id']}", "carol").status_code == 404


def test_settings_admin_only(api, crm) -> None:  # noqa: ANN001
    settings = api.get("/api/v1/crm/settings", "alice").get_json()
    assert {k: settings[k] for k in ("pool_release_days", "claim_cap")} == {"pool_release_days": 30, "claim_cap": 50}
    assert crm.put("/api/v1/crm/settings", "alice", {"claim_cap": 2}).status_code == 403
    resp = crm.put("/api/v1/crm/settings", "admin", {"claim_cap": 0})
    assert resp.status_code == 422 and fields_of(resp) == ["claim_cap"]
    assert crm.put("/api/v1/crm/settings", "admin", {"claim_cap": 2}).get_json()["claim_cap"] == 2
