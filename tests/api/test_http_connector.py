"""The built-in HTTP connector: SpiffArena's http/GetRequestV2 and PostRequestV2 call allowed hosts only,
store {body, mimetype, http_status}, and refuse what the operator did not allow (an incident, never a call)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.bpmn_samples import service_chain_process
from tests.conftest import deploy_files


@contextmanager
def _server() -> Iterator[tuple[str, list[dict]]]:
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None):  # noqa: ANN202
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            seen.append({"method": "GET", "path": self.path, "auth": self.headers.get("Authorization")})
            if self.path.startswith("/big"):
                self._answer(200, b"x" * 1_100_000, "text/plain")
            elif self.path.startswith("/fail"):
                self._answer(503, b'{"error": "down"}')
            elif self.path.startswith("/away"):
                self._answer(302, b"", extra={"Location": "http://localhost.localdomain.invalid/x"})
            elif self.path.startswith("/hop"):
                self._answer(302, b"", extra={"Location": "/rates?hopped=1"})
            else:
                self._answer(200, json.dumps({"rate": 7.1, "path": self.path}).encode())

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"method": "POST", "path": self.path, "body": body, "x": self.headers.get("X-Token")})
            self._answer(201, json.dumps({"created": body}).encode())

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def _run(api, key: str, operation: str, params: dict[str, str]) -> dict:  # noqa: ANN001
    model = service_chain_process(key, [("call", operation, params)])
    assert deploy_files(api, "grace", {f"{key}.bpmn": model}).status_code == 201
    resp = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.fixture
def allowed(app):  # noqa: ANN001, ANN201
    settings = app.config["OAFLOW_SETTINGS"]
    settings.http_connector_allow, settings.http_connector_allow_private = "127.0.0.1", True
    return settings


def test_get_and_post_store_the_answer_as_spiffarena_shapes_it(api, allowed) -> None:  # noqa: ANN001
    with _server() as (base, seen):
        got = _run(api, "rates", "http/GetRequestV2", {
            "url": repr(f"{base}/rates"), "params": "{'currency': 'EUR'}", "basic_auth_username": "'u'",
            "basic_auth_password": "'p'", "timeout": "5"})
        assert got["status"] == "completed", got.get("error")
        assert got["variables"]["result_call"] == {"body": {"rate": 7.1, "path": "/rates?currency=EUR"},
                                                   "mimetype": "application/json", "http_status": 200}
        assert seen[0]["auth"] == "Basic " + base64.b64encode(b"u:p").decode()
        posted = _run(api, "order", "http/PostRequest", {
            "url": repr(f"{base}/orders"), "data": "{'qty': 3}", "headers": "{'X-Token': 'abc'}"})
        assert posted["status"] == "completed", posted.get("error")
        assert posted["variables"]["result_call"]["http_status"] == 201
        assert posted["variables"]["result_call"]["body"] == {"created": {"qty": 3}}
        assert seen[-1] == {"method": "POST", "path": "/orders", "body": {"qty": 3}, "x": "abc"}
        hopped = _run(api, "hop", "http/GetRequest", {"url": repr(f"{base}/hop")})  # a redirect to the same host
        assert hopped["variables"]["result_call"]["body"]["path"] == "/rates?hopped=1"


@pytest.mark.parametrize(("path", "message"), [
    ("/big", "larger than"), ("/fail", "HTTP 503"), ("/away", "not in OAFLOW_HTTP_CONNECTOR_ALLOW")])
def test_refused_answers_are_incidents(api, allowed, path: str, message: str) -> None:  # noqa: ANN001
    with _server() as (base, _seen):
        inst = _run(api, "bad" + path.strip("/"), "http/GetRequestV2", {"url": repr(base + path)})
    assert inst["status"] == "error" and message in inst["error"]["message"], inst["error"]


def test_the_operator_decides_which_hosts(api, app) -> None:  # noqa: ANN001
    settings = app.config["OAFLOW_SETTINGS"]
    with _server() as (base, seen):
        settings.http_connector_allow = ""
        off = _run(api, "off", "http/GetRequestV2", {"url": repr(f"{base}/rates")})
        assert off["status"] == "error" and "connector is off" in off["error"]["message"]
        settings.http_connector_allow = "api.example.com"
        other = _run(api, "other", "http/GetRequestV2", {"url": repr(f"{base}/rates")})
        assert "not in OAFLOW_HTTP_CONNECTOR_ALLOW" in other["error"]["message"]
        settings.http_connector_allow, settings.http_connector_allow_private = "127.0.0.1", False
        private = _run(api, "private", "http/GetRequestV2", {"url": repr(f"{base}/rates")})
        assert "loopback" in private["error"]["message"]
        settings.http_connector_allow_private = True
        scheme = _run(api, "scheme", "http/GetRequestV2", {"url": "'file:///etc/passwd'"})
        assert "http or https" in scheme["error"]["message"]
        assert seen == []  # nothing was called
