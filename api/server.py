"""Running the app under gunicorn (gthread) from `oaflow serve`, announcing once when it answers."""

from __future__ import annotations

# Werkzeug encodes every request's host name with the idna codec, whose module is imported on first use.
# If that first import fails once (seen under heavy load: "LookupError: unknown encoding: idna"), the codec
# registry caches the failure and the worker answers 500 to every request for the rest of its life.
# Importing it here, in the master before gunicorn forks, makes start-up the only place it can fail.
import encodings.idna  # noqa: F401
import sys
import threading
import time
import urllib.request

from gunicorn.app.base import BaseApplication

from api.config import Settings

READY_TIMEOUT = 300  # seconds the master waits for the first answer before giving up on the notice


def public_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses for a server bound to `host`:`port`."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_when_ready(url: str, line: str, timeout: float = READY_TIMEOUT) -> threading.Thread:
    """Print `line` (one line, stdout) as soon as `url`/healthz answers 200; from a daemon thread."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy

    def poll() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with opener.open(f"{url}/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        print(line, file=sys.stdout, flush=True)
                        return
            except OSError:
                pass
            time.sleep(0.1)
    thread = threading.Thread(target=poll, name="oaflow-ready", daemon=True)
    thread.start()
    return thread


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, scheduler: bool) -> None:
        self.options = options
        self.scheduler = scheduler
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        from api.app import create_app
        app = create_app(Settings())
        if self.scheduler:
            from api.scheduler import start_scheduler
            start_scheduler(app)
        return app


def run_gunicorn(host: str, port: int, workers: int, threads: int, scheduler: bool = True,
                 ready_line: str | None = None) -> None:
    """Serve until stopped; each worker builds its own app (and scheduler) after the fork.
    `ready_line` is printed once, by the master, when the server first answers /healthz."""
    def when_ready(_arbiter) -> None:  # noqa: ANN001
        if ready_line:
            announce_when_ready(public_url(host, port), ready_line)

    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": "warning",  # gunicorn's start-up chatter would bury the one ready line
        "preload_app": False,
        "when_ready": when_ready,
    }, scheduler).run()
