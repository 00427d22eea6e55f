"""A web form names a date outside 1900-01-01..2999-12-31 beside its input (attacker finding 5), as the API
answers 422 naming the field."""

from __future__ import annotations

LOW = "0001-01-01"


def test_a_web_form_names_the_out_of_range_date_beside_its_input(web, api) -> None:  # noqa: ANN001
    customer = api.post("/api/v1/customers", "alice", json={"name": "Web Date Probe", "industry": "retail",
                                                            "region": "north", "level": "B", "source": "web",
                                                            "phone": "+86 10 1234 5679"}).get_json()
    web.login("alice")
    resp = web.post("/opportunities/new", {"customer_id": str(customer["id"]), "name": "Far deal",
                                           "amount": "100", "stage": "lead", "expected_close_date": LOW},
                    csrf_from="/opportunities/new")
    assert resp.status_code == 422
    assert "1900-01-01" in resp.get_data(as_text=True)
