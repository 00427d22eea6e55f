"""A customer merged into another takes no more writes (409) and its reads redirect (308) to the one kept."""

from __future__ import annotations

from tests.crm.conftest import Crm

C = "/api/v1/customers"


def test_every_route_of_a_merged_customer_redirects_reads_and_refuses_writes(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    keep, dup = crm.customer("alice", name="ACME Ltd"), crm.customer("alice", name="ACME Limited")
    assert api.post(f"{C}/merge", "alice", json={"keep": keep["id"], "merge": dup["id"]}).status_code == 200
    for path in (f"{C}/{dup['id']}", f"{C}/{dup['id']}/sales", f"{C}/{dup['id']}/points",
                 f"{C}/{dup['id']}/satisfaction"):
        resp = api.get(path, "alice")
        assert resp.status_code == 308, (path, resp.status_code)
        assert resp.headers["Location"].endswith(path.replace(str(dup["id"]), str(keep["id"]), 1))
    assert api.get(f"{C}/{dup['id']}/sales", "carol").status_code == 308  # finance reads every balance
    writes = [("put", f"{C}/{dup['id']}/credit-limit", "carol", {"credit_limit": 5}),
              ("post", f"{C}/{dup['id']}/transfer", "alice", {"to": "bob"}),
              ("post", f"{C}/{dup['id']}/release", "alice", {}),
              ("patch", f"{C}/{dup['id']}", "alice", {"level": "A"}),
              ("post", f"{C}/{dup['id']}/shares", "alice", {"user": "bob", "access": "read"})]
    for method, path, user, body in writes:
        resp = api.post(path, user, json=body) if method == "post" else getattr(crm, method)(path, user, body)
        assert resp.status_code == 409, (method, path, resp.status_code)
    assert api.get(f"{C}/{dup['id']}", "erin").status_code == 404  # no hint for who cannot read it
