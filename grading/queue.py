"""Grade passback through the job queue (GRADES_WORKER=queue, or auto with Redis).

A commit that queued outbox rows asks for one "deliver the outbox" job: a short Redis
lock (LOCK_SECONDS) lets only one job wait in the queue at a time, so a burst of a
thousand scores makes one job, not a thousand. The job drops the lock when it starts
(scores committed meanwhile ask for the next one), then claims and delivers batches
like the in-process thread does, for at most RUN_SECONDS before handing over to a new
job. Scores the LMS did not take wait in the outbox with their own backoff (and end in
its failed state, shown on the grades status page); a job that crashes (database down)
is retried by RQ with RETRY's backoff and, when it gives up, is in the dead-letter
list. Each worker's tick (every few seconds between jobs) asks for a job when rows are
due: retries whose time came, rows queued while Redis was down, and rows claimed by a
worker that died once their claim expires (GRADES_CLAIM_SECONDS).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import or_, select

from lti_tool import jobs

log = logging.getLogger(__name__)

LOCK_SECONDS = 30
RUN_SECONDS = 60.0
# A run stops starting batches after RUN_SECONDS; a batch against a slow LMS may take a
# few minutes more (posts time out after HTTP_TIMEOUT, 32 at a time).
JOB_TIMEOUT = 900
RETRY = jobs.Retry(max=5, intervals=(10, 60, 300, 900, 3600))


def _lock_key(app: Flask) -> str:
    from lti_tool.redis_client import redis_key

    return redis_key(app, "grades", "deliver-queued")


def claim_timeout(app: Flask) -> timedelta:
    return timedelta(seconds=int(app.config.get("GRADES_CLAIM_SECONDS") or 300))


def request_delivery(app: Flask) -> str | None:
    """Enqueue a delivery job unless one is already waiting; returns its id. Never
    raises: when Redis is down, the rows wait for a worker's tick."""
    from lti_tool.redis_client import redis_client

    client = redis_client(app)
    try:
        if client is not None and not client.set(_lock_key(app), "1", nx=True, ex=LOCK_SECONDS):
            return None
        return jobs.enqueue(
            deliver_outbox,
            retry=RETRY,
            description="grade passback to the LMS",
            timeout=JOB_TIMEOUT,
            app=app,
        )
    except (RedisError, jobs.JobQueueError) as exc:
        log.warning("grade passback job not enqueued (a worker tick will): %s", exc)
        return None


def due_work(app: Flask) -> bool:
    """Whether outbox rows wait for a delivery now (due, or claimed by a dead worker)."""
    from lti_tool.db import session, utcnow
    from lti_tool.models import GradeOutbox

    now = utcnow()
    with app.app_context():
        db = session()
        found = db.scalar(
            select(GradeOutbox.id)
            .where(
                or_(
                    (GradeOutbox.state == "pending") & (GradeOutbox.next_try_at <= now),
                    (GradeOutbox.state == "sending")
                    & (GradeOutbox.claimed_at < now - claim_timeout(app)),
                )
            )
            .limit(1)
        )
        db.rollback()
    return found is not None


def tick(app: Flask) -> None:
    """Between jobs (lti-tool worker): ask for a delivery when rows are due."""
    if due_work(app):
        request_delivery(app)


@jobs.job
def deliver_outbox() -> dict[str, int]:
    """Deliver every score due now (a job of the queue); returns the counts."""
    from grading.delivery import deliver_due
    from lti_tool.db import session
    from lti_tool.lti.http import http_session
    from lti_tool.redis_client import redis_client

    app = current_app._get_current_object()
    client = redis_client(app)
    if client is not None:
        client.delete(_lock_key(app))  # commits from now on ask for the next job
    db = session()
    # Made once for the whole run, not per batch: the signing key, the HTTP session
    # (and its pooled connections) and the AGS clients (their token and settings).
    key = app.extensions["lti_registry"].signing_key(db)
    http = http_session()
    totals = {"delivered": 0, "retried": 0, "failed": 0, "superseded": 0}
    started = time.monotonic()
    clients: dict = {}  # one AGS token per platform for the whole run
    while True:
        out = deliver_due(db, key, http, clients=clients)
        for name in totals:
            totals[name] += getattr(out, name)
        if out.retried or not (out.delivered + out.failed + out.superseded):
            break  # done, or the LMS struggles: the rest waits for its retry time
        if time.monotonic() - started > RUN_SECONDS:
            request_delivery(app)  # let other jobs run; a new one goes on
            break
    db.commit()
    return totals


def init_app(app: Flask) -> None:
    """Ask for a delivery job after commits that queued scores; tick in the worker."""
    from sqlalchemy import event

    from lti_tool.db import get_db
    from lti_tool.job_worker import add_tick

    @event.listens_for(get_db(app).sessionmaker, "after_commit")
    def _queued(session) -> None:
        if session.info.pop("grades_enqueued", False):
            request_delivery(app)

    add_tick(app, tick)
