"""Run the app under gunicorn (a real WSGI server) from `lti-tool serve`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import BaseApplication

MAX_DEFAULT_WORKERS = 12


def default_workers(environ: Mapping[str, str], cores: int | None) -> int:
    """WEB_CONCURRENCY when set, else gunicorn's 2 * cores + 1, at most
    MAX_DEFAULT_WORKERS (each worker holds its own app, database pool and threads:
    more processes than that rarely help a database-bound app, and cost memory)."""
    raw = (environ.get("WEB_CONCURRENCY") or "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValueError(f"WEB_CONCURRENCY must be a whole number, got {raw!r}") from exc
        if value < 1:
            raise ValueError(f"WEB_CONCURRENCY must be at least 1, got {value}")
        return value
    return min(2 * max(cores or 1, 1) + 1, MAX_DEFAULT_WORKERS)


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
