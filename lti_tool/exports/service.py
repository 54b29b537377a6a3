"""Requesting an export, the job that makes it, finding and cleaning them up.

See the package docstring for the flow. The row is the truth about an export: the job
updates it (running, progress, ready or failed) so that every web process, whatever
the job backend, shows the same state.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool import jobs
from lti_tool.db import get_db, utcnow
from lti_tool.db import session as db_session
from lti_tool.models import CourseInstance, ExportFile
from lti_tool.storage import UNAVAILABLE, StorageError, storage_for

log = logging.getLogger(__name__)

#: The storage area (folder or key prefix) of finished files.
AREA = "exports"
QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
ACTIVE = (QUEUED, RUNNING)
#: What can be exported: a class report, the class's certificates as a ZIP, and
#: "issue every certificate" (a batch with no file).
REKAP, CERT_ZIP, CERT_ISSUE = "rekap", "sertifikat_zip", "sertifikat_terbit"

#: Seconds between two progress notes a running job writes (its heartbeat).
HEARTBEAT_SECONDS = 20
#: A running export whose heartbeat is older than this is taken as lost (its process
#: died); a queued one too, unless the RQ queue still holds its job. Without RQ, an
#: export whose process is known to be gone is lost at once (`jobs.local_job_alive`).
STALE = timedelta(minutes=15)
#: A queued row younger than this is never taken as lost (its job id may not be saved).
QUEUE_GRACE = timedelta(minutes=1)
RETRY_INTERVALS = (10, 60, 300)
#: Longest a build may run under RQ before the worker stops it (seconds).
JOB_TIMEOUT = 4 * 3600
#: Largest file stored (bytes); far above any class.
MAX_BYTES = 50 * 1024**3
RECENT = 10
#: Expired exports deleted after each finished one (the rest by `lti-tool cleanup`).
PURGE_BATCH = 50

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Download type per format.
MIMES = {"csv": "text/csv", "xlsx": _XLSX, "zip": "application/zip"}
#: What the storage may recognise in a file of each format (an XLSX is a ZIP).
ALLOWED = {
    "csv": {"text/plain": "csv"},
    "xlsx": {_XLSX: "xlsx", "application/zip": "xlsx"},
    "zip": {"application/zip": "zip"},
}


class ExportRefusedError(Exception):
    """What was asked cannot be made (filters no longer valid, nobody passes, a bad
    certificate prefix): the export fails at once, without retries. `code` names the
    reason for the status page; `detail` is a message already in the user's language."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# -- requesting --------------------------------------------------------------------------


def _key(row: ExportFile) -> str:
    """The same request, whoever makes it when: one key (sha256 hex)."""
    what = [
        row.context_pk,
        row.instance_id,
        row.user_id,
        row.kind,
        row.report,
        row.format,
        row.params,
    ]
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def request_export(
    db: Session,
    *,
    inst: CourseInstance,
    user_id: int,
    kind: str,
    params: dict[str, Any],
    filename: str = "",
    fmt: str = "",
    report: str | None = None,
) -> ExportFile:
    """The queued or running export that is this very request, else a new one:
    committed, its job enqueued. `params` must be JSON values (what the job needs)."""
    row = ExportFile(
        context_pk=inst.context_pk,
        instance_id=inst.id,
        user_id=user_id,
        kind=kind,
        report=report,
        format=fmt,
        params=params,
        filename=filename,
        status=QUEUED,
        attempts=0,
        progress=0,
        created_at=utcnow(),
    )
    row.active_key = _key(row)
    existing = db.scalar(select(ExportFile).where(ExportFile.active_key == row.active_key))
    if existing is not None and not check_lost(db, existing):
        return existing
    db.add(row)
    try:
        db.commit()
    except IntegrityError:  # the same request, a moment earlier, from another process
        db.rollback()
        again = db.scalar(select(ExportFile).where(ExportFile.active_key == row.active_key))
        if again is None:
            raise
        return again
    _enqueue(db, row)
    return row


def _enqueue(db: Session, row: ExportFile) -> None:
    retries = int(current_app.config.get("EXPORT_RETRIES", 2))
    policy = jobs.Retry(retries, RETRY_INTERVALS) if retries > 0 else None
    description = f"export {row.id}: {row.kind} {row.report or ''} {row.format}".strip()
    try:
        job_id = jobs.enqueue(
            run_export, row.id, retry=policy, description=description, timeout=JOB_TIMEOUT
        )
    except jobs.JobQueueError as exc:
        log.warning("export %s could not be queued: %s", row.id, exc)
        _set(db, row.id, status=FAILED, active_key=None, error_code="queue", error=str(exc)[:500])
        db.refresh(row)
        return
    # An inline job has finished by now, a thread may be running: set only the job id.
    db.execute(update(ExportFile).where(ExportFile.id == row.id).values(job_id=job_id))
    db.commit()
    db.refresh(row)


def _lost(row: ExportFile, now: datetime) -> bool:
    if not jobs.uses_rq() and row.job_id and jobs.local_job_alive(row.job_id) is False:
        return True  # its process is gone (restarted): its thread went with it
    if row.status == RUNNING:
        return (row.heartbeat_at or row.started_at or row.created_at) < now - STALE
    if row.status != QUEUED:
        return False
    last = row.heartbeat_at or row.created_at
    if not jobs.uses_rq():
        # a thread starts at once, and waits at most the longest retry interval
        return last < now - STALE
    if last > now - QUEUE_GRACE:
        return False
    try:
        info = jobs.job_status(row.job_id) if row.job_id else None
    except Exception:  # Redis unreachable: it cannot be told, so not lost
        return False
    return info is None or info.status in ("finished", "failed", "stopped", "canceled")


def check_lost(db: Session, row: ExportFile, now: datetime | None = None) -> bool:
    """Whether `row` is queued or running with no job behind it any more (a process
    that died, a queue that was flushed); such a row is marked failed."""
    if row.status not in ACTIVE or not _lost(row, now or utcnow()):
        return False
    log.warning("export %s was lost (%s since %s)", row.id, row.status, row.heartbeat_at)
    _set(db, row.id, status=FAILED, active_key=None, error_code="lost", finished_at=utcnow())
    db.refresh(row)
    return True


def _set(db: Session, export_id: int, **values: Any) -> None:
    db.execute(update(ExportFile).where(ExportFile.id == export_id).values(**values))
    db.commit()


# -- finding -------------------------------------------------------------------------------


def find(db: Session, context_pk: int, user_id: int, export_id: int) -> ExportFile | None:
    """The export `export_id` if `user_id` asked for it in course `context_pk`."""
    row = db.get(ExportFile, export_id)
    if row is None or row.context_pk != context_pk or row.user_id != user_id:
        return None
    return row


def recent(
    db: Session, inst: CourseInstance, user_id: int, kinds: tuple[str, ...]
) -> list[ExportFile]:
    """The user's latest exports of these kinds in this module, newest first."""
    keep = timedelta(days=current_app.config.get("EXPORT_KEEP_DAYS", 7))
    return list(
        db.scalars(
            select(ExportFile)
            .where(
                ExportFile.context_pk == inst.context_pk,
                ExportFile.user_id == user_id,
                ExportFile.instance_id == inst.id,
                ExportFile.kind.in_(kinds),
                ExportFile.created_at >= utcnow() - keep,
            )
            .order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
            .limit(RECENT)
        )
    )


def refresh_seconds(row: ExportFile, now: datetime | None = None) -> int:
    """How often the status page of an unfinished export reloads: often at first,
    rarely for a long build."""
    age = ((now or utcnow()) - row.created_at).total_seconds()
    return 1 if age < 10 else 3 if age < 60 else 10


# -- the job -------------------------------------------------------------------------------


class Heartbeat:
    """Counts rows or certificates; every HEARTBEAT_SECONDS writes the count and the
    time to the row, on a connection of its own (the build's session may be streaming)."""

    def __init__(self, app: Flask, export_id: int, every: float = HEARTBEAT_SECONDS) -> None:
        self.app, self.export_id, self.every = app, export_id, every
        self.count = 0
        self._last = time.monotonic()

    def __call__(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        try:
            with get_db(self.app).engine.begin() as conn:
                conn.execute(
                    update(ExportFile)
                    .where(ExportFile.id == self.export_id, ExportFile.status == RUNNING)
                    .values(heartbeat_at=utcnow(), progress=self.count)
                )
        except Exception:  # a missed heartbeat must not fail the build
            log.warning("export %s: heartbeat not written", self.export_id, exc_info=True)


@contextmanager
def _language(code: str | None) -> Iterator[None]:
    """Column titles and messages in the language of the person who asked."""
    cfg = current_app.config
    lang = code if code in cfg["BABEL_SUPPORTED_LOCALES"] else cfg["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        yield


#: Failures an admin's `lti-tool jobs retry` may run again: the build raised after its
#: last retry (no code), the file store was down, the row was given up as lost. A
#: refusal ends its job normally, so it never reaches the dead-letter list.
REVIVABLE = (None, "storage", "lost")


def _claim(db: Session, export_id: int, now: datetime) -> bool:
    """Mark the export running for this attempt. A queued or running row is claimed; a
    failed one whose job is run again (`lti-tool jobs retry` of its dead letter) is
    revived as the one last attempt, unless the same request is already being made
    again (its "Try again"), which keeps the export's key."""
    running = {"status": RUNNING, "started_at": now, "heartbeat_at": now, "progress": 0}
    claimed = db.execute(
        update(ExportFile)
        .where(ExportFile.id == export_id, ExportFile.status.in_(ACTIVE))
        .values(attempts=ExportFile.attempts + 1, **running)
    ).rowcount
    db.commit()
    if claimed:
        return True
    row = db.get(ExportFile, export_id, populate_existing=True)
    if row is None or row.status != FAILED or row.error_code not in REVIVABLE:
        return False
    retries = int(current_app.config.get("EXPORT_RETRIES", 2))
    try:
        revived = db.execute(
            update(ExportFile)
            .where(ExportFile.id == export_id, ExportFile.status == FAILED)
            .values(
                active_key=_key(row),
                attempts=max(row.attempts, retries) + 1,  # a failure now is final
                error_code=None,
                error=None,
                finished_at=None,
                **running,
            )
        ).rowcount
        db.commit()
    except IntegrityError:  # an active export of the same request exists
        db.rollback()
        return False
    if revived:
        log.info("export %s: failed, run again (job retried)", export_id)
    return bool(revived)


@jobs.job
def run_export(export_id: int) -> dict[str, Any]:
    """Build export `export_id`, store its file, mark it ready. A refusal fails it at
    once; any other error is raised for the queue to retry (the row says so), and on
    the last attempt marks it failed."""
    from lti_tool.exports.builders import BUILDERS

    db = db_session()
    if not _claim(db, export_id, utcnow()):  # gone, finished, or made again meanwhile
        return {"export": export_id, "skipped": True}
    row = db.get(ExportFile, export_id, populate_existing=True)
    inst = db.get(CourseInstance, row.instance_id)
    builder = BUILDERS[row.kind]
    beat = Heartbeat(current_app._get_current_object(), export_id)  # type: ignore[attr-defined]
    stored = None
    try:
        with _language(row.params.get("locale")):
            if builder.makes_file:
                with tempfile.TemporaryFile() as out:
                    result = builder.build(db, row, inst, out, beat)
                    out.seek(0)
                    stored = storage_for(AREA).save(
                        out, max_bytes=MAX_BYTES, allowed=ALLOWED[row.format]
                    )
            else:
                result = builder.build(db, row, inst, None, beat)
    except ExportRefusedError as exc:
        db.rollback()
        _set(
            db,
            export_id,
            status=FAILED,
            active_key=None,
            error_code=exc.code[:32],
            error=exc.detail[:2000] or None,
            progress=beat.count,
            finished_at=utcnow(),
        )
        return {"export": export_id, "refused": exc.code}
    except Exception as exc:
        db.rollback()
        final = row.attempts > int(current_app.config.get("EXPORT_RETRIES", 2))
        storage_down = isinstance(exc, StorageError) and exc.code == UNAVAILABLE
        changes: dict[str, Any] = {
            "status": FAILED if final else QUEUED,
            "error_code": "storage" if storage_down else None,
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "heartbeat_at": utcnow(),
        }
        if final:
            changes.update(active_key=None, finished_at=utcnow())
        _set(db, export_id, **changes)
        raise
    _set(
        db,
        export_id,
        status=READY,
        active_key=None,
        storage_key=stored.name if stored else None,
        size=stored.size if stored else None,
        mime=MIMES.get(row.format),
        result=result,
        progress=beat.count,
        error_code=None,
        error=None,
        finished_at=utcnow(),
    )
    try:
        purge_expired(db, current_app, utcnow(), limit=PURGE_BATCH)
    except Exception:  # housekeeping must not fail a finished export
        db.rollback()
        log.warning("exports: purge after export %s failed", export_id, exc_info=True)
    return {"export": export_id, "size": stored.size if stored else None, **(result or {})}


# -- cleaning up ---------------------------------------------------------------------------


def purge_expired(
    db: Session, app: Flask, now: datetime, *, limit: int | None = None, sweep: bool = False
) -> dict[str, int]:
    """Delete exports older than EXPORT_KEEP_DAYS with their files (at most `limit`);
    `sweep`: also files no row names that are a day old (a build whose row update
    never committed)."""
    cutoff = now - timedelta(days=app.config.get("EXPORT_KEEP_DAYS", 7))
    query = select(ExportFile).where(ExportFile.created_at < cutoff).order_by(ExportFile.id)
    if limit is not None:
        query = query.limit(limit)
    store = storage_for(AREA, app)
    deleted = 0
    for row in db.scalars(query).all():
        if row.storage_key:
            store.delete(row.storage_key)
        db.delete(row)
        deleted += 1
    db.commit()
    out = {"deleted": deleted}
    if sweep:
        keep = set(
            db.scalars(select(ExportFile.storage_key).where(ExportFile.storage_key.is_not(None)))
        )
        out["strays"] = store.sweep(keep, now - timedelta(days=1))
    return out
