"""Run the app under gunicorn (a real WSGI server) from `lti-tool serve`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _App(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from lti_tool.app import create_app

        return create_app()


def run_gunicorn(bind: str, *, workers: int, threads: int) -> None:
    _App(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "accesslog": "-",
            "timeout": 60,
            "forwarded_allow_ips": "127.0.0.1",
        }
    ).run()
