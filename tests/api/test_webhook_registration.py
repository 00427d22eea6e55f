"""Registering webhooks: a refused private address names the operator's setting, and an owner's identical second
hook (same URL, same events in any order) is refused with 409 naming `url`."""

from __future__ import annotations


def test_a_private_address_refusal_names_the_operators_setting(api) -> None:  # noqa: ANN001
    api.use_api_key("erp")
    resp = api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/hook"})
    assert resp.status_code == 422
    body = resp.get_json()
    assert "OAFLOW_WEBHOOK_ALLOW_PRIVATE=1" in body["detail"]
    assert body["errors"][0]["field"] == "url" and "OAFLOW_WEBHOOK_ALLOW_PRIVATE=1" in body["errors"][0]["message"]
    bad = api.post("/api/v1/webhooks", "erp", json={"url": "http://no-such-host.invalid/hook"}).get_json()
    assert "OAFLOW_WEBHOOK_ALLOW_PRIVATE" not in bad["detail"]  # not an address kind: the switch would not help


def test_an_identical_webhook_is_refused_naming_the_url(api) -> None:  # noqa: ANN001
    api.use_api_key("erp")
    url = "https://93.184.215.14/hook"
    first = api.post("/api/v1/webhooks", "erp", json={"url": url, "events": ["task.created", "instance.completed"]})
    assert first.status_code == 201
    twin = api.post("/api/v1/webhooks", "erp", json={"url": url, "events": ["instance.completed", "task.created"]})
    assert twin.status_code == 409 and twin.headers["Content-Type"].startswith("application/problem+json")
    assert twin.get_json()["errors"] == [{"field": "url", "message": f"webhook {first.get_json()['id']} already "
                                                                     "sends these events to this URL"}]
    assert api.post("/api/v1/webhooks", "erp", json={"url": url, "events": ["task.created"]}).status_code == 201
    both = ["task.created", "instance.completed"]
    assert api.post("/api/v1/webhooks", "admin", json={"url": url, "events": both}).status_code == 201  # another owner
    removed = api.client.delete(f"/api/v1/webhooks/{first.get_json()['id']}", headers=api.headers("erp"))
    assert removed.status_code == 204
    again = api.post("/api/v1/webhooks", "erp", json={"url": url, "events": ["task.created", "instance.completed"]})
    assert again.status_code == 201  # the first one was removed
