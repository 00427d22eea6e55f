"""The HTTP connector for service tasks, under SpiffArena's operator names (`http/GetRequest`,
`http/PostRequest`, `http/GetRequestV2`, `http/PostRequestV2`) and parameters (url, headers, params,
data, basic_auth_username, basic_auth_password; oaflow adds timeout).

The result variable gets `{"body": <JSON or text>, "mimetype": ..., "http_status": ...}`; an HTTP error
(4xx/5xx), a refused host or a failure stops the instance with an incident (retry with /retry).
Only hosts matching OAFLOW_HTTP_CONNECTOR_ALLOW (comma-separated patterns such as `api.example.com`,
`*.example.com`; empty = the connector is off) are called, at public addresses unless
OAFLOW_HTTP_CONNECTOR_ALLOW_PRIVATE=1, through a connection pinned to the checked address; redirects are
followed (at most 3) only to allowed hosts, checked again. The answer is capped at 1 MB, the timeout at 30 s.
"""

from __future__ import annotations

import base64
import fnmatch
import json
from typing import Any
from urllib.parse import urlencode, urljoin

from engine.services import ServiceCall, ServiceRegistry
from engine.webhook_targets import TargetRefused, pinned_connection, resolve_checked, split_target

MAX_RESPONSE_BYTES = 1_000_000
MAX_REQUEST_BYTES = 1_000_000
MAX_TIMEOUT = 30.0
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3
MAX_URL = 2000
MAX_HEADERS = 50
_REDIRECTS = {301, 302, 303, 307, 308}
PARAMS = {"headers", "basic_auth_username", "basic_auth_password", "timeout"}


class ConnectorError(Exception):
    """The HTTP connector refused or failed a call (the instance gets an incident saying why)."""


def host_allowed(host: str, patterns: list[str]) -> bool:
    """True if `host` matches one of the operator's allow-list patterns (case-insensitive, `*` wildcards)."""
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, p) for p in patterns)


def _patterns(setting: str) -> list[str]:
    return [p.strip().lower() for p in setting.split(",") if p.strip()]


def _headers(call: ServiceCall) -> dict[str, str]:
    raw = call.params.get("headers") or {}
    if not isinstance(raw, dict) or len(raw) > MAX_HEADERS:
        raise ConnectorError(f"headers must be an object of at most {MAX_HEADERS} names")
    headers = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, str | int | float) or "\n" in f"{name}{value}" \
                or "\r" in f"{name}{value}":
            raise ConnectorError(f"header {str(name)[:50]!r} must be a single-line name and value")
        headers[name] = str(value)
    user, password = call.params.get("basic_auth_username"), call.params.get("basic_auth_password")
    if user is not None and password is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return headers


def _timeout(call: ServiceCall) -> float:
    value = call.params.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConnectorError("timeout must be a positive number of seconds")
    return min(float(value), MAX_TIMEOUT)


def _read_capped(response: Any) -> bytes:
    body = response.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise ConnectorError(f"the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    return body


def _send(method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float,
          patterns: list[str], allow_private: bool) -> tuple[int, str, bytes]:
    """One request with redirects followed only to allowed hosts: (status, content type, body)."""
    for _hop in range(MAX_REDIRECTS + 1):
        if len(url) > MAX_URL:
            raise ConnectorError(f"the URL is longer than {MAX_URL} characters")
        try:
            scheme, host, port, path = split_target(url)
            if not host_allowed(host, patterns):
                raise ConnectorError(f"host {host!r} is not in OAFLOW_HTTP_CONNECTOR_ALLOW")
            address = resolve_checked(host, port, allow_private)[0]
        except TargetRefused as err:
            raise ConnectorError(str(err)) from err
        conn = pinned_connection(scheme, host, port, address, timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                url = urljoin(url, location)
                if response.status in (301, 302, 303) and method != "GET":
                    method, body = "GET", None
                    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                continue
            return response.status, response.getheader("Content-Type") or "", _read_capped(response)
        except OSError as err:
            raise ConnectorError(f"could not reach {host}: {type(err).__name__}: {err}"[:300]) from err
        finally:
            conn.close()
    raise ConnectorError(f"more than {MAX_REDIRECTS} redirects")


def _result(status: int, content_type: str, raw: bytes) -> dict[str, Any]:
    mimetype = content_type.split(";", 1)[0].strip().lower() or "application/octet-stream"
    text = raw.decode("utf-8", errors="replace")
    body: Any = text
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            body = json.loads(text) if text.strip() else {}
        except ValueError as err:
            raise ConnectorError(f"the answer is not valid JSON: {err}") from err
    if status >= 400:
        raise ConnectorError(f"HTTP {status}: {text[:200]}")
    return {"body": body, "mimetype": mimetype, "http_status": status}


def _operation(method: str, settings: Any) -> Any:
    def run(call: ServiceCall) -> dict[str, Any]:
        patterns = _patterns(settings.http_connector_allow)
        if not patterns:
            raise ConnectorError("the HTTP connector is off: the operator sets OAFLOW_HTTP_CONNECTOR_ALLOW "
                                 "to the hosts it may call")
        url = call.params.get("url")
        if not isinstance(url, str) or not url:
            raise ConnectorError("url must be a non-empty string")
        headers, body = _headers(call), None
        if method == "GET":
            params = call.params.get("params")
            if params:
                if not isinstance(params, dict):
                    raise ConnectorError("params must be an object")
                url += ("&" if "?" in url else "?") + urlencode({k: str(v) for k, v in params.items()})
        else:
            data = call.params.get("data")
            body = json.dumps(data if data is not None else {}, default=str).encode()
            if len(body) > MAX_REQUEST_BYTES:
                raise ConnectorError(f"data is larger than {MAX_REQUEST_BYTES} bytes")
            headers.setdefault("Content-Type", "application/json")
        status, content_type, raw = _send(method, url, body, headers, _timeout(call), patterns,
                                          settings.http_connector_allow_private)
        return _result(status, content_type, raw)

    run.__doc__ = f"HTTP {method} through the connector's allow-list (SpiffArena http/{method.title()}Request)."
    return run


def register(registry: ServiceRegistry, settings: Any) -> None:
    """Register the connector's operations; `settings` (api.config.Settings) is read at each call."""
    get, post = _operation("GET", settings), _operation("POST", settings)
    for name in ("http/GetRequest", "http/GetRequestV2"):
        registry.register(name, get, params=PARAMS | {"params"}, required={"url"})
    for name in ("http/PostRequest", "http/PostRequestV2"):
        registry.register(name, post, params=PARAMS | {"data"}, required={"url"})
