"""Background jobs: one API (`enqueue`, `job_status`, `failed_jobs`, `requeue_failed`)
that runs jobs through RQ when REDIS_URL is set and inside the process otherwise.

Why RQ and not Dramatiq: the tool needs Redis anyway once it scales out (nonces,
launch data, rate limits), and RQ needs nothing else. It runs plain importable
functions; `Retry(max, interval=[...])` retries a job with backoff (the worker's
scheduler requeues it); a job that gave up stays in RQ's FailedJobRegistry, which can be
listed and requeued: the dead-letter list (`lti-tool jobs failed`, `lti-tool jobs
retry`), with no extra middleware. Its default worker forks a child per job, so memory
a big export or certificate batch allocates goes back to the system when the job ends.
Dramatiq would add a broker abstraction, middleware for retries and results, and a
dead-letter queue that is harder to inspect and replay; its strengths (RabbitMQ,
high throughput) are not what this tool needs.

JOBS_BACKEND picks the runner: "rq" (Redis queue JOBS_QUEUE, run by `lti-tool
worker`); "thread" (a daemon thread in the process that enqueued: the behaviour
without Redis; retries wait in the thread; statuses and dead letters are kept in this
process's memory only, lost on restart); "inline" (at once, in the caller, retries
without waiting: tests and commands); "auto" (rq when REDIS_URL is set, else thread).

A job is a module-level function, best decorated with `@job`. It runs inside an app
context (the worker's or the enqueuing app's; `@job` builds one from the environment
when run by a bare `rq worker`) and reads what it needs from the database. Its
arguments and result must be JSON values: the queue stores them as JSON, not pickle,
so that whoever can write to Redis cannot run code in the worker (a bare `rq worker`
needs `--serializer rq.serializers.JSONSerializer`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

BACKENDS = ("auto", "rq", "thread", "inline")
#: Seconds before retry 1, 2, 3, ... (the last one repeats).
DEFAULT_INTERVALS = (10, 60, 300, 900, 3600)
#: How long a job that gave up stays in the dead-letter list (seconds).
FAILED_TTL = 30 * 24 * 3600
_LOCAL_KEEP = 1000  # jobs remembered by the in-process backend


class JobQueueError(Exception):
    """The job queue (Redis) could not be reached: nothing was enqueued."""


@dataclass(frozen=True)
class Retry:
    """Retry a failing job up to `max` times, waiting `intervals[n-1]` seconds before
    retry n (the last interval repeats)."""

    max: int
    intervals: tuple[int, ...] = DEFAULT_INTERVALS

    def __post_init__(self) -> None:
        if self.max < 1 or not self.intervals or min(self.intervals) < 0:
            raise ValueError("Retry needs max >= 1 and non-negative intervals")

    def interval(self, retry_number: int) -> int:
        return self.intervals[min(retry_number, len(self.intervals)) - 1]


@dataclass(frozen=True)
class JobInfo:
    """What the API tells about a job. `status` is one of queued, scheduled (waiting
    for a retry), started, finished, failed, stopped, canceled, deferred."""

    id: str
    name: str
    status: str
    description: str | None = None
    enqueued_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None
    result: Any = None


# -- the process's app, for jobs run outside one ---------------------------------------
_process_app: Flask | None = None


def set_process_app(app: Flask) -> None:
    """The app jobs of this process run in when no app context is active."""
    global _process_app
    _process_app = app


def _app_for_jobs() -> Flask:
    global _process_app
    if _process_app is None:
        from lti_tool.app import create_app

        _process_app = create_app()
    return _process_app


def job(func: Callable) -> Callable:
    """Run `func` inside an app context: the active one, or the process's app."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        with _app_for_jobs().app_context():
            return func(*args, **kwargs)

    return run


# -- the API -----------------------------------------------------------------------------
def backend_name(app: Flask | None = None) -> str:
    """The runner JOBS_BACKEND (and REDIS_URL) amount to: rq, thread or inline."""
    cfg = (app or current_app).config
    name = (cfg.get("JOBS_BACKEND") or "auto").strip().lower()
    if name == "auto":
        return "rq" if cfg.get("REDIS_URL") else "thread"
    return name


def uses_rq(app: Flask | None = None) -> bool:
    return backend_name(app) == "rq"


def init_app(app: Flask) -> None:
    raw = (app.config.get("JOBS_BACKEND") or "auto").strip().lower()
    if raw not in BACKENDS:
        raise ValueError(f"JOBS_BACKEND must be one of {', '.join(BACKENDS)}, got {raw!r}")
    name = backend_name(app)
    if name == "rq":
        if not app.config.get("REDIS_URL"):
            raise ValueError("JOBS_BACKEND=rq needs REDIS_URL")
        app.extensions["lti_jobs"] = RqBackend(app)
    else:
        app.extensions["lti_jobs"] = LocalBackend(app, threaded=name == "thread")


def _backend(app: Flask | None) -> RqBackend | LocalBackend:
    return (app or current_app).extensions["lti_jobs"]


def enqueue(
    func: Callable,
    *args: Any,
    retry: int | Retry | None = None,
    job_id: str | None = None,
    description: str | None = None,
    timeout: int | None = None,
    app: Flask | None = None,
) -> str:
    """Run `func(*args)` in the background; returns the job id. Enqueue after the
    commit whose rows the job needs (an inline job runs at once, in a session of its
    own). `retry`: how many times to retry on an exception (with DEFAULT_INTERVALS),
    or a Retry. Raises
    ValueError for a function that cannot be imported by name or arguments that are
    not JSON, JobQueueError when the queue cannot be reached."""
    _import_path(func)
    try:
        json.dumps(list(args))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job arguments must be JSON values: {exc}") from exc
    policy = Retry(retry) if isinstance(retry, int) else retry
    return _backend(app).enqueue(
        func, args, retry=policy, job_id=job_id, description=description, timeout=timeout
    )


def job_status(job_id: str, app: Flask | None = None) -> JobInfo | None:
    """The job's state, or None for an unknown (or long expired) job."""
    return _backend(app).status(job_id)


def failed_jobs(limit: int = 100, app: Flask | None = None) -> list[JobInfo]:
    """The dead-letter list: jobs that gave up, newest first."""
    return _backend(app).failed(limit)


def requeue_failed(job_ids: Iterable[str] | None = None, app: Flask | None = None) -> list[str]:
    """Queue dead-letter jobs again (all of them when `job_ids` is None); returns the
    ids that were requeued (unknown ids are skipped)."""
    return _backend(app).requeue(None if job_ids is None else list(job_ids))


def _import_path(func: Callable) -> str:
    """`module.name` of a function importable by that name (what a worker imports)."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        raise ValueError(f"{func!r} is not a module-level function")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if target is not func:
        raise ValueError(f"{module}.{qualname} does not import as this function")
    return f"{module}.{qualname}"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip()[:500] if lines else None


# -- RQ ------------------------------------------------------------------------------
class RqBackend:
    """Jobs in the Redis queue JOBS_QUEUE (JSON-serialised), run by `lti-tool worker`."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue_name = app.config.get("JOBS_QUEUE") or "lti-tool"

    def queue(self):
        from rq import Queue
        from rq.serializers import JSONSerializer

        from lti_tool.redis_client import redis_client

        return Queue(self.queue_name, connection=redis_client(self.app), serializer=JSONSerializer)

    def enqueue(self, func, args, *, retry, job_id, description, timeout) -> str:
        from redis.exceptions import RedisError
        from rq import Retry as RqRetry

        try:
            job = self.queue().enqueue_call(
                func,
                args=list(args),
                retry=None if retry is None else RqRetry(retry.max, list(retry.intervals)),
                job_id=job_id,
                description=description,
                timeout=timeout,
                failure_ttl=FAILED_TTL,
            )
        except RedisError as exc:
            raise JobQueueError(f"cannot enqueue {func.__qualname__}: {exc}") from exc
        return job.id

    def _info(self, job) -> JobInfo:
        from rq.results import Result

        status = job.get_status(refresh=False)
        status = getattr(status, "value", status) or "unknown"
        error = result = None
        latest = job.latest_result()
        if latest is not None and latest.type == Result.Type.FAILED:
            error = _last_line(latest.exc_string)
        elif latest is not None and latest.type == Result.Type.SUCCESSFUL:
            result = latest.return_value
        if error is None and status == "failed":
            error = _last_line(getattr(job, "_exc_info", None))
        return JobInfo(
            id=job.id,
            name=job.func_name,
            status=str(status),
            description=job.description,
            enqueued_at=_naive(job.enqueued_at),
            ended_at=_naive(job.ended_at),
            error=error,
            result=result,
        )

    def status(self, job_id: str) -> JobInfo | None:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        queue = self.queue()
        try:
            job = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
        except NoSuchJobError:
            return None
        return self._info(job)

    def failed(self, limit: int) -> list[JobInfo]:
        from rq.job import Job

        queue = self.queue()
        ids = queue.failed_job_registry.get_job_ids(0, max(limit, 1) - 1, desc=True)
        jobs = Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer)
        return [self._info(j) for j in jobs if j is not None]

    def requeue(self, job_ids: list[str] | None) -> list[str]:
        from rq.exceptions import InvalidJobOperation, NoSuchJobError

        registry = self.queue().failed_job_registry
        done = []
        for job_id in registry.get_job_ids() if job_ids is None else job_ids:
            try:
                registry.requeue(job_id)
            except (InvalidJobOperation, NoSuchJobError):
                continue
            done.append(job_id)
        return done


# -- in the process ------------------------------------------------------------------
def _start_ticks(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None where
    there is no /proc or no such process. With the pid it names one process: a pid is
    reused, a pid and its start time are not."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _owner_tag() -> str:
    """This process, as written into the ids of its in-process jobs."""
    pid = os.getpid()
    return f"{pid}.{_start_ticks(pid) or '-'}.{_host_tag()}"


def local_job_alive(job_id: str | None) -> bool | None:
    """Whether the process that runs in-process job `job_id` still exists: False when it
    ran on this machine and is gone (a restart, a killed worker: its threads went with
    it), True when it is there, None when that cannot be told (another machine, an RQ
    job, no /proc)."""
    _, sep, owner = (job_id or "").partition("@")
    pid, _, rest = owner.partition(".")
    ticks, _, host = rest.partition(".")
    if not sep or not pid.isdigit() or ticks == "-" or host != _host_tag():
        return None
    if _start_ticks(os.getpid()) is None:
        return None
    return _start_ticks(int(pid)) == ticks


@dataclass
class _Call:
    func: Callable
    args: tuple
    retry: Retry | None


class LocalBackend:
    """Jobs run in this process: in a daemon thread each, or at once (inline)."""

    def __init__(self, app: Flask, *, threaded: bool) -> None:
        self.app = app
        self.threaded = threaded
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, JobInfo] = OrderedDict()
        self._calls: dict[str, _Call] = {}

    def enqueue(self, func, args, *, retry, job_id, description, timeout) -> str:
        # The id names the process too (`local_job_alive`): another process can tell a
        # job whose process died from one still running.
        jid = job_id or f"{uuid.uuid4().hex[:16]}@{_owner_tag()}"
        info = JobInfo(jid, _import_path(func), "queued", description, _utcnow())
        call = _Call(func, tuple(args), retry)
        self._remember(info, call)
        self._start(jid, call)
        return jid

    def _start(self, jid: str, call: _Call) -> None:
        if self.threaded:
            threading.Thread(
                target=self._run, args=(jid, call), name=f"job-{jid}", daemon=True
            ).start()
        else:
            self._run(jid, call, wait=False)

    def _remember(self, info: JobInfo, call: _Call) -> None:
        with self._lock:
            self._jobs[info.id] = info
            self._calls[info.id] = call
            self._jobs.move_to_end(info.id)
            while len(self._jobs) > _LOCAL_KEEP:
                old, _ = self._jobs.popitem(last=False)
                self._calls.pop(old, None)

    def _update(self, jid: str, **changes: Any) -> None:
        with self._lock:
            if jid in self._jobs:
                self._jobs[jid] = replace(self._jobs[jid], **changes)

    def _run(self, jid: str, call: _Call, wait: bool = True) -> None:
        retries = 0
        while True:
            self._update(jid, status="started")
            try:
                with self.app.app_context():
                    result = call.func(*call.args)
            except Exception as exc:
                log.exception("job %s (%s) failed", jid, call.func.__qualname__)
                error = f"{type(exc).__name__}: {exc}"[:500]
                if call.retry is not None and retries < call.retry.max:
                    retries += 1
                    self._update(jid, status="scheduled", error=error)
                    if wait:
                        time.sleep(call.retry.interval(retries))
                    continue
                self._update(jid, status="failed", ended_at=_utcnow(), error=error)
                return
            self._update(jid, status="finished", ended_at=_utcnow(), error=None, result=result)
            return

    def status(self, job_id: str) -> JobInfo | None:
        with self._lock:
            return self._jobs.get(job_id)

    def failed(self, limit: int) -> list[JobInfo]:
        with self._lock:
            gave_up = [j for j in self._jobs.values() if j.status == "failed"]
        return list(reversed(gave_up))[:limit]

    def requeue(self, job_ids: list[str] | None) -> list[str]:
        with self._lock:
            wanted = [
                jid
                for jid, info in self._jobs.items()
                if info.status == "failed" and (job_ids is None or jid in job_ids)
            ]
            for jid in wanted:
                self._jobs[jid] = replace(self._jobs[jid], status="queued", ended_at=None)
        for jid in wanted:
            self._start(jid, self._calls[jid])
        return wanted
