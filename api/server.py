"""Running the app under gunicorn (gthread) from `oaflow serve`, announcing once when it answers."""

from __future__ import annotations

import os
import subprocess
import sys

from gunicorn.app.base import BaseApplication

from api.config import Settings

READY_TIMEOUT = 300  # seconds the master waits for the first answer before giving up on the notice


def public_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses for a server bound to `host`:`port`."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# Run in its own process: a thread in gunicorn's master would be mid-import or mid-lookup while the master
# forks its workers, and a worker can inherit a half-imported module or a held lock (seen as every request
# failing with "LookupError: unknown encoding: idna").
_PROBE = """
import os, sys, time, urllib.request
url, line, parent, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
deadline = time.monotonic() + timeout
while time.monotonic() < deadline and os.getppid() == parent:
    try:
        with opener.open(url + "/healthz", timeout=5) as resp:
            if resp.status == 200:
                print(line, flush=True)
                break
    except OSError:
        pass
    time.sleep(0.1)
"""


def announce_when_ready(url: str, line: str, timeout: float = READY_TIMEOUT) -> subprocess.Popen:
    """Print `line` (one line, to this process's stdout) as soon as `url`/healthz answers 200. The probe
    is a small child process that gives up after `timeout` seconds or when this process ends."""
    return subprocess.Popen([sys.executable, "-I", "-c", _PROBE, url, line, str(os.getpid()), str(timeout)])


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
