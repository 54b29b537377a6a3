"""`lti-tool worker`: an RQ worker that runs the app's jobs in the app's context.

By default each job runs in a forked child (RQ's Worker): memory a job allocates is
returned when it ends, and a job that crashes the interpreter takes only its child
with it. The child drops the database connections it inherited (without closing
them: they belong to the parent) and opens its own. `simple=True` runs jobs in the
worker process itself (RQ's SimpleWorker; tests).

Between jobs (at most every JOBS_TICK_SECONDS), the worker calls the app's tick functions
(`app.extensions["job_ticks"]`): periodic checks that enqueue work found in the
database, such as scores due for a retry or claimed by a worker that died. The
scheduler runs in the worker too (retries with backoff are scheduled jobs); it is
taken over within MAINTENANCE_SECONDS when the worker holding it died.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence

from flask import Flask
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)
TICK_SECONDS = 10.0
MAINTENANCE_SECONDS = 60


def add_tick(app: Flask, tick: Callable[[Flask], None]) -> None:
    """Have `lti-tool worker` call `tick(app)` between jobs, every JOBS_TICK_SECONDS."""
    app.extensions.setdefault("job_ticks", []).append(tick)


class _AppWorkerMixin:
    """Jobs in an app context; ticks between jobs."""

    app: Flask
    tick_seconds: float = TICK_SECONDS
    _last_tick: float = -math.inf

    def main_work_horse(self, job, queue):  # in the forked child
        from lti_tool.db import get_db

        get_db(self.app).engine.dispose(close=False)
        return super().main_work_horse(job, queue)  # type: ignore[misc]

    def perform_job(self, job, queue) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue)  # type: ignore[misc]

    def run_ticks(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_tick < self.tick_seconds:
            return
        self._last_tick = now
        for tick in self.app.extensions.get("job_ticks", ()):
            try:
                tick(self.app)
            except Exception:  # a tick must never stop the worker
                log.exception("worker tick %r failed", tick)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Wait for a job at most `tick_seconds` at a time, ticking in between."""
        parent = super().dequeue_job_and_maintain_ttl  # type: ignore[misc]
        if timeout is None:  # burst: look once, no waiting
            self.run_ticks()
            return parent(timeout, max_idle_time)
        started = time.monotonic()
        while True:
            self.run_ticks()
            wait = max(1, math.ceil(self.tick_seconds))
            if max_idle_time is not None:
                left = max_idle_time - (time.monotonic() - started)
                if left <= 0:
                    return None
                wait = min(wait, max(1, math.ceil(left)))
            result = parent(timeout, wait)
            if result is not None or self._stop_requested:  # type: ignore[attr-defined]
                return result


class AppWorker(_AppWorkerMixin, Worker):
    pass


class AppSimpleWorker(_AppWorkerMixin, SimpleWorker):
    pass


def make_worker(
    app: Flask,
    queues: Sequence[str] = (),
    *,
    simple: bool = False,
    tick_seconds: float | None = None,
) -> Worker:
    """A worker on the app's queue (or `queues`), with its own Redis connection (RQ
    lengthens the socket timeout of the connection it blocks on)."""
    from rq import Queue

    from lti_tool.jobs import set_process_app
    from lti_tool.redis_client import connect

    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: jobs run inside the web processes")
    connection = connect(url, timeout=float(app.config.get("REDIS_TIMEOUT") or 2))
    names = list(queues) or [app.config.get("JOBS_QUEUE") or "lti-tool"]
    rq_queues = [Queue(n, connection=connection, serializer=JSONSerializer) for n in names]
    cls = AppSimpleWorker if simple else AppWorker
    worker = cls(
        rq_queues,
        connection=connection,
        serializer=JSONSerializer,
        maintenance_interval=MAINTENANCE_SECONDS,
    )
    worker.app = app
    if tick_seconds is None:
        tick_seconds = float(app.config.get("JOBS_TICK_SECONDS") or TICK_SECONDS)
    worker.tick_seconds = tick_seconds
    set_process_app(app)
    return worker


def run_worker(
    app: Flask,
    queues: Sequence[str] = (),
    *,
    burst: bool = False,
    simple: bool = False,
    tick_seconds: float | None = None,
) -> bool:
    """Work the queues (until stopped, or until empty with `burst`); True if any job ran."""
    worker = make_worker(app, queues, simple=simple, tick_seconds=tick_seconds)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
