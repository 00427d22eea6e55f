"""A local HTTP receiver for webhook tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer


@contextmanager
def receiver(redirect_to: str | None = None) -> Iterator[tuple[HTTPServer, list[tuple[str, dict]]]]:
    """A local HTTP receiver recording (path, JSON body); with `redirect_to`, /hook answers 302 there."""
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            if redirect_to and self.path == "/hook":
                self.send_response(302)
                self.send_header("Location", redirect_to)
            else:
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, received
    finally:
        server.shutdown()
        server.server_close()
