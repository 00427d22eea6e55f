"""Webhook deliveries are signed with a timestamp (the README's verifier accepts them, refuses tampering and
replays) and logged per webhook for its owner or an admin."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from api.scheduler import deliver_webhooks_once
from tests.conftest import leave_span

ROOT = Path(__file__).resolve().parents[2]


def _readme_verifier() -> Callable[..., bool]:
    section = (ROOT / "README.md").read_text().split("## For integrators", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - the README's own example, run as printed
    return scope["verify"]


def _receiver(received: list) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_signed_deliveries_and_their_log(api, app) -> None:  # noqa: ANN001
    received: list = []
    server = _receiver(received)
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the receiver is on loopback
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        hook = api.post("/api/v1/webhooks", "admin", json={"url": url, "events": ["task.created"]}).get_json()
        dead = api.post("/api/v1/webhooks", "admin", json={"url": "http://127.0.0.1:9/x",
                                                           "events": ["task.created"]}).get_json()
        started = api.post("/api/v1/process-definitions/leave_request/start", "alice",
                           json={"variables": {"leave_type": "annual", "reason": "trip", **leave_span(1)}})
        assert started.status_code == 201
        assert deliver_webhooks_once(app) == 1
    finally:
        server.shutdown()
        server.server_close()
    headers, body = received[0]
    verify = _readme_verifier()
    assert verify(hook["secret"], headers["X-Oaflow-Signature"], body)
    assert not verify(hook["secret"], headers["X-Oaflow-Signature"], body + b" ")  # tampered body
    assert not verify("wrong", headers["X-Oaflow-Signature"], body)
    assert headers["X-Oaflow-Signature-Legacy"].startswith("sha256=")
    from engine.webhooks import sign
    replay = sign(hook["secret"], body, timestamp=int(time.time()) - 301)
    assert not verify(hook["secret"], replay, body)  # older than five minutes

    log = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", "admin")
    assert log.status_code == 200, log.get_json()
    [item] = log.get_json()["items"]
    assert item["event"] == "task.created" and item["status"] == "delivered" and item["attempts"] == 1
    assert item["last_response_code"] == 204 and item["next_retry_at"] is None and item["created_at"]
    [failed] = api.get(f"/api/v1/webhooks/{dead['id']}/deliveries", "admin").get_json()["items"]
    assert failed["status"] == "pending" and failed["attempts"] == 1 and failed["next_retry_at"]
    assert failed["last_response_code"] is None and failed["last_error"]
    # another integrator and a plain employee cannot read the log
    api.use_api_key("erp")
    assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", "erp").status_code == 404
    assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", "alice").status_code == 403
    assert api.get("/api/v1/webhooks/99999/deliveries", "admin").status_code == 404



def test_no_events_listed_means_every_event(api, app) -> None:  # noqa: ANN001
    """`events: []` (or none) subscribes to every event, as the README says; a list subscribes to those only."""
    import json
    every, only = [], []
    servers = [_receiver(every), _receiver(only)]
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the receivers are on loopback
    try:
        urls = [f"http://127.0.0.1:{server.server_port}/hook" for server in servers]
        made = api.post("/api/v1/webhooks", "admin", json={"url": urls[0], "events": []})
        assert made.status_code == 201 and made.get_json()["events"] == []
        assert api.post("/api/v1/webhooks", "admin", json={"url": urls[1],
                                                           "events": ["instance.withdrawn"]}).status_code == 201
        started = api.start_leave("alice").get_json()
        assert api.post(f"/api/v1/process-instances/{started['id']}/withdraw", "alice").status_code == 200
        deliver_webhooks_once(app)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert {json.loads(body)["event"] for _, body in every} >= {"task.created", "instance.withdrawn"}
    assert [json.loads(body)["event"] for _, body in only] == ["instance.withdrawn"]
