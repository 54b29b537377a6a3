"""Resumable uploads in progress: their rows (upload_session) and their bytes.

Each upload's bytes go to one file, `<UPLOAD_TMP_DIR>/<id>.part`, written in place:
a piece is appended at the offset the row records, synced, and only then is the
row's offset moved on, so the row never claims bytes the disk does not hold. A
piece cut short by a lost connection keeps what arrived (the client asks for the
offset and continues from there); a piece that would run past the declared length
keeps nothing. One piece at a time: the file is locked while a piece is written.

With several hosts, UPLOAD_TMP_DIR must be a volume they all share (the next piece
may reach another host). Unfinished and unused uploads expire UPLOAD_EXPIRY_HOURS
after their last piece; `lti-tool cleanup` removes them (`purge_expired`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import ClientDisconnected

from lti_tool.models import UploadSession

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("lti_tool.uploads")

#: How much of a piece is read (and written) at a time: never a whole piece in memory.
READ = 64 * 1024
#: Unfinished uploads one user may keep; a new one beyond that replaces the oldest.
MAX_OPEN_PER_USER = 10
SUFFIX = ".part"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class TusError(Exception):
    """A refused tus request: the HTTP `status` and a `code` naming the message
    (lti_tool/uploads/tus.py), with `info` to fill it in."""

    status: int
    code: str
    info: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code} {self.info}"


# -- where the bytes live -------------------------------------------------------------


def folder(app: Flask) -> Path:
    configured = app.config.get("UPLOAD_TMP_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "upload-sessions"


def valid_token(token: str) -> bool:
    return bool(_TOKEN.match(token or ""))


def data_path(app: Flask, token: str) -> Path:
    if not valid_token(token):
        raise ValueError("not an upload id")
    return folder(app) / f"{token}{SUFFIX}"


def expiry_hours(app: Flask) -> int:
    return int(app.config.get("UPLOAD_EXPIRY_HOURS") or 24)


def _expires(app: Flask, now: datetime) -> datetime:
    return now + timedelta(hours=expiry_hours(app))


# -- the rows -------------------------------------------------------------------------


def find(db: Session, token: str, *, user_id: int, context_pk: int) -> UploadSession | None:
    """The upload `token` of this user in this course; None for any other (whether
    it exists is not revealed)."""
    if not valid_token(token):
        return None
    upload = db.scalars(
        select(UploadSession)
        .where(UploadSession.id == token)
        .execution_options(populate_existing=True)
    ).first()
    if upload is None or upload.user_id != user_id or upload.context_pk != context_pk:
        return None
    return upload


def create(
    db: Session,
    app: Flask,
    *,
    user_id: int,
    context_pk: int,
    target: str,
    filename: str,
    length: int,
    now: datetime,
) -> UploadSession:
    """A new upload with its empty file (the caller commits)."""
    _make_room(db, app, user_id, now)
    upload = UploadSession(
        id=secrets.token_urlsafe(24),
        user_id=user_id,
        context_pk=context_pk,
        target=target,
        filename=filename,
        length=length,
        offset=0,
        created_at=now,
        updated_at=now,
        expires_at=_expires(app, now),
    )
    if length == 0:
        upload.completed_at = now
    db.add(upload)
    db.flush()
    path = data_path(app, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.open("xb").close()
    log.info("upload %s created: %s bytes for %s", upload.id, length, target)
    return upload


def _make_room(db: Session, app: Flask, user_id: int, now: datetime) -> None:
    """Forget the user's oldest unfinished uploads beyond MAX_OPEN_PER_USER - 1 (a
    page that lost track of them cannot fill the disk)."""
    open_ = db.scalars(
        select(UploadSession)
        .where(
            UploadSession.user_id == user_id,
            UploadSession.completed_at.is_(None),
            UploadSession.expires_at >= now,
        )
        .order_by(UploadSession.updated_at.desc())
    ).all()
    for old in open_[MAX_OPEN_PER_USER - 1 :]:
        terminate(db, app, old)


def terminate(db: Session, app: Flask, upload: UploadSession) -> None:
    """Remove an upload and its bytes (the caller commits)."""
    db.delete(upload)
    db.flush()
    data_path(app, upload.id).unlink(missing_ok=True)
    log.info("upload %s removed", upload.id)


def expired(upload: UploadSession, now: datetime) -> bool:
    return upload.expires_at < now


# -- a piece --------------------------------------------------------------------------


@dataclass(frozen=True)
class Appended:
    offset: int  # where the upload stands now
    cut: bool  # the connection ended before the whole piece arrived


def append(
    db: Session,
    app: Flask,
    upload: UploadSession,
    stream: BinaryIO,
    *,
    offset: int,
    now: datetime,
) -> Appended:
    """Write the piece arriving on `stream` at `offset` and commit the new offset.

    Refused (TusError, nothing kept) when `offset` is not where the upload stands
    (409), while another piece of it is being written (423), or when the piece runs
    past the declared length (413). A piece cut short keeps what arrived. No database
    connection is held while the piece arrives (on a slow phone that takes a while)."""
    token, length = upload.id, upload.length
    path = data_path(app, token)
    try:
        out = path.open("r+b")
    except FileNotFoundError:
        raise TusError(404, "unknown") from None
    with out:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TusError(423, "busy") from None
        db.refresh(upload)  # the offset as it stands now that we hold the lock
        have = upload.offset
        db.rollback()  # ends the read: the connection goes back to the pool
        if offset != have:
            raise TusError(409, "offset", {"got": offset, "have": have})
        room = length - offset
        out.seek(offset)
        out.truncate()  # bytes of a piece whose offset never reached the row
        received, cut = 0, False
        try:
            while chunk := stream.read(READ):
                if received + len(chunk) > room:
                    out.truncate(offset)
                    raise TusError(413, "too_long", {"length": length})
                out.write(chunk)
                received += len(chunk)
        except (ClientDisconnected, OSError):
            cut = True  # keep what arrived: the client resumes from the new offset
        out.flush()
        os.fsync(out.fileno())
        new = offset + received
        values: dict[str, Any] = {"offset": new, "updated_at": now}
        if received:
            values["expires_at"] = _expires(app, now)
        if new == length:
            values["completed_at"] = now
        moved = db.execute(
            update(UploadSession)
            .where(UploadSession.id == token, UploadSession.offset == offset)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:  # another host wrote this piece meanwhile (no shared lock)
            db.rollback()
            raise TusError(409, "offset", {"got": offset, "have": offset})
        db.commit()
    for key, value in values.items():  # what the statement wrote, without a new read
        set_committed_value(upload, key, value)
    log.info(
        "upload %s: bytes %s-%s of %s%s",
        token,
        offset,
        new,
        length,
        " (connection cut)" if cut else "",
    )
    return Appended(offset=new, cut=cut)


# -- housekeeping ---------------------------------------------------------------------


def purge_expired(db: Session, app: Flask, now: datetime) -> dict[str, int]:
    """Remove expired uploads with their bytes, and files no row points to (left by a
    crash) once they are as old as the expiry; `lti-tool cleanup` runs this."""
    gone = db.scalars(select(UploadSession.id).where(UploadSession.expires_at < now)).all()
    if gone:
        db.execute(
            delete(UploadSession)
            .where(UploadSession.id.in_(gone))
            .execution_options(synchronize_session=False)
        )
        db.commit()
    for token in gone:
        data_path(app, token).unlink(missing_ok=True)
    strays = 0
    where = folder(app)
    if where.is_dir():
        known = set(db.scalars(select(UploadSession.id)))
        oldest = (now - timedelta(hours=expiry_hours(app))).replace(tzinfo=UTC).timestamp()
        for path in where.iterdir():
            token = path.name.removesuffix(SUFFIX)
            if (
                path.is_file()
                and path.name.endswith(SUFFIX)
                and token not in known
                and path.stat().st_mtime < oldest
            ):
                path.unlink(missing_ok=True)
                strays += 1
    return {"expired uploads removed": len(gone), "stray upload files removed": strays}
