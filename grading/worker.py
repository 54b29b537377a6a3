"""The in-process passback worker: a thread per server process that delivers the grade
outbox, woken right after a commit that queued a score and otherwise polling for
retries (and for rows another process queued). With several processes, claims keep
any row from being sent twice. A job queue (GRADES_WORKER=queue, or auto with
REDIS_URL: grading/queue.py) replaces the thread by configuration."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import func, select

log = logging.getLogger(__name__)
POLL_SECONDS = 10.0


class PassbackWorker:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def notify(self) -> None:
        """Deliver soon (starting the thread in this process if needed)."""
        self.start()
        self._wake.set()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="grade-passback", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = POLL_SECONDS
            try:
                wait = self.run_once()
            except Exception:  # a bad row or a database hiccup must not kill the thread
                log.exception("grade passback failed; retrying")
            self._wake.wait(max(0.05, min(wait, POLL_SECONDS)))
            self._wake.clear()

    def run_once(self) -> float:
        """Deliver what is due; return the seconds until the next row is due."""
        from grading.delivery import deliver_due
        from lti_tool.db import session, utcnow
        from lti_tool.lti.http import http_session
        from lti_tool.models import GradeOutbox

        with self.app.app_context():
            db = session()
            key = self.app.extensions["lti_registry"].signing_key(db)
            deliver_due(db, key, http_session())
            nxt = db.scalar(
                select(func.min(GradeOutbox.next_try_at)).where(GradeOutbox.state == "pending")
            )
            db.commit()
            if nxt is None:
                return POLL_SECONDS
            return max((nxt - utcnow()).total_seconds(), 0.0)


def init_app(app: Flask) -> None:
    """Wake the worker after commits that queued scores (GRADES_WORKER=thread), or
    hand deliveries to the job queue (queue; auto when jobs go through RQ)."""
    from sqlalchemy import event

    from lti_tool.db import get_db
    from lti_tool.jobs import uses_rq

    mode = app.config.get("GRADES_WORKER") or "auto"
    if mode in ("auto", "queue"):
        if uses_rq(app):
            from grading import queue

            queue.init_app(app)
            return
        if mode == "queue":
            log.warning("GRADES_WORKER=queue without the RQ job backend: using a thread")
        mode = "thread"
    if mode != "thread":
        return
    worker = PassbackWorker(app)
    app.extensions["grades_worker"] = worker

    @event.listens_for(get_db(app).sessionmaker, "after_commit")
    def _queued(session) -> None:
        if session.info.pop("grades_enqueued", False):
            worker.notify()

    @app.before_request
    def _ensure_running() -> None:
        # Rows left by an earlier run (or queued by another process) need a worker here.
        if worker._thread is None:
            worker.start()
