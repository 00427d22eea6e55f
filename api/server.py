"""Running the app under gunicorn (gthread) from `oaflow serve`."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from api.config import Settings


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


def run_gunicorn(host: str, port: int, workers: int, threads: int, scheduler: bool = True) -> None:
    """Serve until stopped; each worker builds its own app (and scheduler) after the fork."""
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "preload_app": False,
    }, scheduler).run()
