"""A finished resumable upload handed to a plugin's form, as if its file had been
posted with the form.

The page sends the file in pieces (tus), then posts the plugin's normal form with
`upload_id=<id>` instead of the file. The plugin view calls `completed_file` and
passes the (name, stream) it gets through exactly the checks and the storage path of
a posted file (name, size, type from the content, atomic store).

An upload is used once. `completed_file` deletes its row inside the plugin's own
transaction: if the plugin commits, the upload is gone and its bytes are removed
right after; if the plugin refuses the file and rolls back, the row is back and the
page may post the same upload again (say, after the peserta deleted a file to make
room). The stream is closed when that transaction ends.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from lti_tool.db import get_db, utcnow
from lti_tool.models import UploadSession
from lti_tool.uploads import sessions

log = logging.getLogger("lti_tool.uploads")

#: The most uploads one form may name (a task takes at most 20 files).
MAX_PER_FORM = 20


class UploadUnavailableError(LookupError):
    """The form names no finished upload of this user for this target: `code` is
    "missing" (unknown, someone else's, expired, used) or "incomplete"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.status = 409 if code == "incomplete" else 410

    @property
    def message(self) -> str:
        if self.code == "incomplete":
            return _(
                "The upload of this file has not finished yet. Wait until it is "
                "complete, then send the form again. Nothing was changed."
            )
        return _(
            "The uploaded file is no longer available (unfinished or unused uploads are "
            "removed after %(hours)s hours). Choose the file and upload it again. "
            "Nothing was changed.",
            hours=sessions.expiry_hours(current_app),
        )


def upload_ids() -> list[str]:
    """The `upload_id` fields of the posted form, each once, in order."""
    ids = [t for t in dict.fromkeys(request.form.getlist("upload_id")) if t]
    if len(ids) > MAX_PER_FORM:
        raise UploadUnavailableError("missing")
    return ids


def completed_file(
    db: Session, token: str, user_id: int, ctx: int, *, target: str | None = None
) -> tuple[str, BinaryIO]:
    """(file name, stream) of the finished upload `token` of this user in this course
    (and for `target`, when given), claimed for the caller's transaction; raises
    UploadUnavailableError otherwise."""
    upload = sessions.find(db, token, user_id=user_id, context_pk=ctx)
    if (
        upload is None
        or (target is not None and upload.target != target)
        or sessions.expired(upload, utcnow())
    ):
        raise UploadUnavailableError("missing")
    if not upload.complete:
        raise UploadUnavailableError("incomplete")
    path = sessions.data_path(current_app, token)
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise UploadUnavailableError("missing") from None
    claimed = db.execute(
        delete(UploadSession)
        .where(UploadSession.id == token, UploadSession.completed_at.is_not(None))
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another request took it first
        stream.close()
        raise UploadUnavailableError("missing")
    db.expunge(upload)
    _settle_after_transaction(db, token, stream)
    log.info("upload %s handed to %s", token, upload.target)
    return upload.filename, stream


def _settle_after_transaction(db: Session, token: str, stream: BinaryIO) -> None:
    """When the caller's transaction ends: close the stream; remove the bytes if the
    claim was committed (the row is gone), keep them if it was rolled back."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settled = False

    def ended(session: Session, transaction: SessionTransaction) -> None:
        nonlocal settled
        if settled or transaction.parent is not None:
            return  # a savepoint ended, not the caller's transaction
        settled = True
        stream.close()
        with get_db(app).engine.connect() as conn:
            kept = conn.scalar(select(UploadSession.id).where(UploadSession.id == token))
        if kept is None:
            sessions.data_path(app, token).unlink(missing_ok=True)

    event.listen(db, "after_transaction_end", ended)
