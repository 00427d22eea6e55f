"""Notification channels: a user's e-mail and robot channels (and their group's) get their notifications,
queued in the step's transaction and sent by the scheduler; robots are signed as DingTalk/Feishu document."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from email import message_from_string
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from api.extensions import db
from api.scheduler import deliver_channels_once
from oa.models import ChannelDelivery
from tests.conftest import leave_span
from tests.smtp_server import smtp_server

CH = "/api/v1/notification-channels"


def _robot_receiver(received: list) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _start_leave(api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/leave_request/start", "alice",
                    json={"variables": {"leave_type": "annual", "reason": "trip <b>x</b> [a](http://evil)",
                                        **leave_span(1)}})
    assert resp.status_code == 201, resp.get_json()


def test_channels_deliver_email_and_signed_robot_messages(api, app, monkeypatch) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the robot receiver is on loopback
    received: list = []
    robots = _robot_receiver(received)
    base = f"http://127.0.0.1:{robots.server_port}"
    try:
        with smtp_server() as (port, mails):
            monkeypatch.setenv("OAFLOW_SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("OAFLOW_SMTP_PORT", str(port))
            monkeypatch.setenv("OAFLOW_SMTP_FROM", "oaflow@example.com")
            monkeypatch.setenv("OAFLOW_PUBLIC_URL", "https://oa.example.com")
            mail = api.post(CH, "bob", json={"kind": "email", "target": "bob@example.com"})
            assert mail.status_code == 201, mail.get_json()
            ding = api.post(CH, "bob", json={"kind": "dingtalk", "target": f"{base}/ding?access_token=t",
                                             "secret": "SECding"}).get_json()
            assert "secret" not in ding and ding["has_secret"] is True
            api.post(CH, "admin", json={"kind": "feishu", "target": f"{base}/feishu", "secret": "fs",
                                        "group": "sales"})  # bob is in sales
            api.post(CH, "carol", json={"kind": "wecom", "target": f"{base}/carol"})
            _start_leave(api)  # bob gets a task: one notification
            with app.app_context():
                queued = db.session.scalars(select(ChannelDelivery.channel_id)).all()
            assert len(queued) == 3  # bob's two channels and his group's; not carol's
            assert deliver_channels_once(app) == 3
            assert deliver_channels_once(app) == 0
        [message] = mails
        parsed = message_from_string(message["data"])
        assert message["to"] == ["<bob@example.com>"] and parsed["Subject"]
        assert "https://oa.example.com/" in parsed.get_payload()
    finally:
        robots.shutdown()
        robots.server_close()
    by_path = {urlsplit(path).path: (path, body) for path, body in received}
    assert set(by_path) == {"/ding", "/feishu"}
    ding_path, ding_body = by_path["/ding"]
    query = parse_qs(urlsplit(ding_path).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECding", f"{stamp}\nSECding".encode(), hashlib.sha256).digest())
    assert unquote(query["sign"][0]).encode() == expected or query["sign"][0].encode() == expected
    assert ding_body["msgtype"] == "markdown" and "[Open](https://oa.example.com/" in ding_body["markdown"]["text"]
    _path, feishu = by_path["/feishu"]
    sign = base64.b64encode(hmac.new(f"{feishu['timestamp']}\nfs".encode(), b"", hashlib.sha256).digest()).decode()
    assert feishu["sign"] == sign and feishu["msg_type"] == "interactive"


def test_channel_requests_are_checked(api, app) -> None:  # noqa: ANN001
    bad = [({"kind": "sms", "target": "x"}, "kind"), ({"kind": "email", "target": "not-mail"}, "target"),
           ({"kind": "wecom", "target": "http://plain.example.com/x"}, "target"),
           ({"kind": "email", "target": "a@b.co", "extra": 1}, "extra"),
           ({"kind": "wecom", "target": "https://" + "a" * 1000}, "target")]
    for body, field in bad:
        resp = api.post(CH, "alice", json=body)
        assert resp.status_code == 422 and field in [e["field"] for e in resp.get_json()["errors"]], resp.get_json()
    private = api.post(CH, "alice", json={"kind": "wecom", "target": "https://127.0.0.1/hook"})
    assert private.status_code == 422 and private.get_json()["errors"][0]["field"] == "target"
    assert api.post(CH, "alice", json={"kind": "email", "target": "a@b.co", "group": "sales"}).status_code == 403
    mine = api.post(CH, "alice", json={"kind": "email", "target": "alice@example.com"}).get_json()
    assert api.get(CH, "carol").get_json()["items"] == []
    assert api.client.delete(f"{CH}/{mine['id']}", headers=api.headers("carol")).status_code == 404
    assert api.client.delete(f"{CH}/{mine['id']}", headers=api.headers("alice")).status_code == 204
    assert api.get(CH, "alice").get_json()["items"] == []


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_robot_markdown_escapes_what_users_wrote(kind: str) -> None:
    from oa.channels import robot_message
    message = robot_message(kind, "Leave [click](http://evil)", "**bold** <b>", "/tasks/1")
    markdown = {"wecom": lambda m: m["markdown"]["content"], "dingtalk": lambda m: m["markdown"]["text"],
                "feishu": lambda m: m["card"]["elements"][0]["content"]}[kind](message)
    assert "[click](http" not in markdown and "\\[click\\]" in markdown and "\\<b\\>" in markdown
    assert markdown.endswith("[Open](/tasks/1)")
