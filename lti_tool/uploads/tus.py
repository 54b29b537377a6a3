"""The tus 1.0.0 resumable upload protocol (core, with creation, termination and
expiration) under `/c/<ctx>/uploads/`, for the people launched into that course.

    OPTIONS  /c/<ctx>/uploads/        Tus-Version, Tus-Extension, Tus-Max-Size
    POST     /c/<ctx>/uploads/        create: Upload-Length, Upload-Metadata
                                      (filename, target) -> 201 Location
    HEAD     /c/<ctx>/uploads/<id>    Upload-Offset, Upload-Length, Upload-Expires
    PATCH    /c/<ctx>/uploads/<id>    application/offset+octet-stream at Upload-Offset
    DELETE   /c/<ctx>/uploads/<id>    terminate

An upload belongs to the user who created it in that course: anyone else (another
user, the same user in another course) gets 404. POST, PATCH and DELETE carry the
page's CSRF token in the X-CSRFToken header. The size the target takes is checked at
creation against Upload-Length, and no piece may run past that length. Refusals are
plain text in the user's language. A finished upload is handed to the plugin's own
form (`upload_id`, lti_tool/uploads/handoff.py), which stores it like any upload.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from datetime import UTC

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.extensions import csrf
from lti_tool.models import UploadSession
from lti_tool.uploads import sessions, targets
from lti_tool.uploads.sessions import TusError, log
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param

bp = Blueprint("uploads", __name__)

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
PIECE_TYPE = "application/offset+octet-stream"
NAME_MAX = 255

MESSAGES = {
    "version": _l("This upload needs the tus protocol, version 1.0.0."),
    "length": _l("Upload-Length must be the file's size, a whole number of bytes."),
    "defer": _l("The file's size must be known when its upload starts (Upload-Length)."),
    "metadata": _l(
        "The upload needs the file's name and the activity it is for (Upload-Metadata: "
        "filename and target)."
    ),
    "name_long": _l("The file name is too long (at most %(n)s characters). Rename the file."),
    "name_control": _l(
        "The file name contains control characters. Rename the file and upload it again."
    ),
    "target": _l("This activity does not take this upload from you."),
    "empty": _l("“%(name)s” is empty (0 bytes). Nothing was uploaded."),
    "too_large": _l(
        "“%(name)s” is larger than %(mb)s MB, the largest file this activity accepts. "
        "Nothing was uploaded."
    ),
    "unknown": _l(
        "This upload does not exist: it was finished, cancelled or removed. Start the upload again."
    ),
    "expired": _l(
        "This upload has expired: unfinished uploads are kept for %(hours)s hours. Start "
        "the upload again."
    ),
    "content_type": _l("A piece of an upload must be sent as application/offset+octet-stream."),
    "offset": _l(
        "This piece starts at byte %(got)s, but %(have)s bytes have arrived: continue "
        "from byte %(have)s."
    ),
    "offset_header": _l("Upload-Offset must be a whole number of bytes."),
    "too_long": _l(
        "This piece runs past the end of the file (%(length)s bytes). Nothing of it was kept."
    ),
    "busy": _l("Another piece of this upload is arriving right now. Try again in a moment."),
    "csrf": _l(
        "This page has expired or did not come from this tool. Nothing was changed: "
        "reload the page and try again."
    ),
}
HTTP_MESSAGES = {
    401: _l("Your session has ended. Open the tool again from your course."),
    403: _l("You do not have access to this page."),
    404: MESSAGES["unknown"],
    405: _l("This page cannot be used this way."),
    413: _l("The file or form is too large."),
}


def _tus_headers(**extra: str | int) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Cache-Control": "no-store"}
    headers.update({k.replace("_", "-"): str(v) for k, v in extra.items()})
    return headers


def _text(status: int, message: str, **headers: str | int) -> Response:
    return Response(
        message if request.method != "HEAD" else "",
        status=status,
        mimetype="text/plain",
        headers=_tus_headers(**headers),
    )


def _message(code: str, info: dict) -> str:
    text = str(MESSAGES[code])
    return text % info if info and "%(" in text else text


@bp.errorhandler(TusError)
def _refused(exc: TusError):
    extra = {}
    if exc.status == 412:
        extra["Tus_Version"] = VERSION
    if exc.status == 409 and "have" in exc.info:
        extra["Upload_Offset"] = exc.info["have"]
    return _text(exc.status, _message(exc.code, exc.info), **extra)


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError):
    return _text(400, str(MESSAGES["csrf"]))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    code = exc.code or 500
    message = HTTP_MESSAGES.get(code) or _("Something went wrong. Please try again.")
    return _text(code, str(message))


# -- helpers ----------------------------------------------------------------------------


def _check_version() -> None:
    if request.headers.get("Tus-Resumable") != VERSION:
        raise TusError(412, "version")


def _whole(raw: str | None, code: str) -> int:
    value = int_param(raw.strip() if raw else None)
    if value is None:
        raise TusError(400, code)
    return value


def parse_metadata(raw: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs (UTF-8 values)."""
    out: dict[str, str] = {}
    for pair in raw.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, value = pair.partition(" ")
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, "metadata") from None
    return out


def _filename(raw: str | None) -> str:
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise TusError(400, "metadata")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise TusError(400, "name_control")
    if len(name) > NAME_MAX:
        raise TusError(400, "name_long", {"n": NAME_MAX})
    return name


def _expires_header(upload: UploadSession) -> str:
    return http_date(upload.expires_at.replace(tzinfo=UTC))


def _own(ctx: int, token: str, *, allow_expired: bool = False) -> UploadSession:
    upload = sessions.find(db_session(), token, user_id=g.viewer.user_id, context_pk=ctx)
    if upload is None:
        raise TusError(404, "unknown")
    if not allow_expired and sessions.expired(upload, utcnow()):
        raise TusError(410, "expired", {"hours": sessions.expiry_hours(current_app)})
    return upload


def max_size() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


# -- the endpoints ----------------------------------------------------------------------


@bp.route("/c/<int:ctx>/uploads/", methods=["OPTIONS"], provide_automatic_options=False)
@bp.route("/c/<int:ctx>/uploads/<token>", methods=["OPTIONS"], provide_automatic_options=False)
def options(ctx: int, token: str | None = None):
    """What this server speaks (no session needed: it says nothing about uploads)."""
    headers = {"Tus_Version": VERSION, "Tus_Extension": EXTENSIONS}
    if max_size():
        headers["Tus_Max_Size"] = max_size()
    return Response(status=204, headers=_tus_headers(**headers))


@bp.route("/c/<int:ctx>/uploads/", methods=["POST"], provide_automatic_options=False)
@course_access
def create(ctx: int):
    """Start an upload of a file of Upload-Length bytes for a target of this course."""
    _check_version()
    if "Upload-Defer-Length" in request.headers:
        raise TusError(400, "defer")
    length = _whole(request.headers.get("Upload-Length"), "length")
    meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
    name = _filename(meta.get("filename"))
    target = targets.parse(meta.get("target"))
    if target is None:
        raise TusError(400, "metadata")
    limit = targets.limit_of(ctx, target, g.role)
    if limit is None:
        raise TusError(403, "target")
    if length == 0:
        raise TusError(400, "empty", {"name": name})
    if length > limit:
        mb = limit // (1024 * 1024) or 1
        raise TusError(413, "too_large", {"name": name, "mb": mb})
    db = db_session()
    upload = sessions.create(
        db,
        current_app,
        user_id=g.viewer.user_id,
        context_pk=ctx,
        target=str(target),
        filename=name,
        length=length,
        now=utcnow(),
    )
    db.commit()
    location = url_for("uploads.status", ctx=ctx, token=upload.id)
    return Response(
        status=201,
        headers=_tus_headers(
            Location=location, Upload_Expires=_expires_header(upload), Upload_Offset=0
        ),
    )


@bp.route("/c/<int:ctx>/uploads/<token>", methods=["HEAD"], provide_automatic_options=False)
@course_access
def status(ctx: int, token: str):
    """How many bytes of the upload have arrived (where the next piece starts)."""
    _check_version()
    upload = _own(ctx, token)
    log.info("upload %s: offset asked, %s of %s", upload.id, upload.offset, upload.length)
    return Response(
        status=200,
        headers=_tus_headers(
            Upload_Offset=upload.offset,
            Upload_Length=upload.length,
            Upload_Expires=_expires_header(upload),
        ),
    )


@bp.route("/c/<int:ctx>/uploads/<token>", methods=["PATCH"], provide_automatic_options=False)
@csrf.exempt  # checked below, once the body limit fits a piece (see the docstring)
@course_access
def append(ctx: int, token: str):
    """Append a piece at Upload-Offset, streamed to disk.

    The app-wide CSRF hook would look for a form in the body while non-form bodies are
    capped at MAX_FORM_MEMORY_SIZE (lti_tool/request_limits.py): a piece is streamed
    to disk instead, so this view lifts the cap to MAX_CONTENT_LENGTH and then runs
    the same CSRF check (the X-CSRFToken header)."""
    _check_version()
    request.max_content_length = max_size() or None
    if request.mimetype != PIECE_TYPE:
        raise TusError(415, "content_type")
    csrf.protect()
    offset = _whole(request.headers.get("Upload-Offset"), "offset_header")
    upload = _own(ctx, token)
    if offset != upload.offset:
        raise TusError(409, "offset", {"got": offset, "have": upload.offset})
    size = request.content_length
    if size is not None and size > upload.length - offset:
        raise TusError(413, "too_long", {"length": upload.length})
    db = db_session()
    done = sessions.append(db, current_app, upload, request.stream, offset=offset, now=utcnow())
    return Response(
        status=204,
        headers=_tus_headers(Upload_Offset=done.offset, Upload_Expires=_expires_header(upload)),
    )


@bp.route("/c/<int:ctx>/uploads/<token>", methods=["DELETE"], provide_automatic_options=False)
@course_access
def terminate(ctx: int, token: str):
    """Cancel an upload: its bytes are removed at once."""
    _check_version()
    upload = _own(ctx, token, allow_expired=True)
    db = db_session()
    sessions.terminate(db, current_app, upload)
    db.commit()
    return Response(status=204, headers=_tus_headers())
