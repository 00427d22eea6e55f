"""Claiming from the pool page: a customer the caller cannot read answers 404 like a missing one (no 409
telling it exists), and stays its owner's."""

from __future__ import annotations

from tests.crm.conftest import Crm
from tests.web.conftest import Web


def test_claiming_someone_elses_customer_is_404_like_a_missing_one(web: Web, api) -> None:  # noqa: ANN001
    theirs = Crm(api).customer("bob", name="别人的客户")["id"]
    web.login("erin")
    assert web.get("/pool").status_code == 200  # a rep who may claim from the pool
    assert web.post(f"/pool/{theirs}/claim", {}, csrf_from="/pool").status_code == 404
    assert web.post("/pool/999/claim", {}, csrf_from="/pool").status_code == 404
    assert api.get(f"/api/v1/customers/{theirs}", "bob").get_json()["owner"] == "bob"
