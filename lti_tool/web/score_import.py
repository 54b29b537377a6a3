"""Import TA and initial UKG scores from a file: upload, preview, apply (pengampu, admin).

The preview page carries the valid changes signed (the app's secret, bound to the
class and the uploader, valid for an hour), so the file is never stored; applying
writes them all in one transaction, or nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer

from lti_tool.db import session as db_session
from lti_tool.models import CourseInstance
from lti_tool.services import score_import
from lti_tool.services.roles import ADMIN, PENGAMPU
from lti_tool.services.score_import import ApplyError, ScoreFileError
from lti_tool.web.auth import course_access
from lti_tool.web.views import _instance

bp = Blueprint("score_import", __name__)
EDITORS = (PENGAMPU, ADMIN)
#: How long a preview can be applied.
MAX_AGE = 3600

FILE_ERRORS = {
    "no_file": _l("Choose a file to upload."),
    "empty": _l("The file is empty."),
    "too_large": _l("The file is too large: at most %(max_mb)s MB."),
    "too_many_rows": _l("The file has too many rows: at most %(max)s."),
    "not_supported": _l(
        "This is not a CSV or XLSX file. Save the sheet as CSV (UTF-8) or as an Excel "
        "workbook (.xlsx)."
    ),
    "encrypted": _l(
        "The file is password-protected or an old Excel file (.xls). Save it as an Excel "
        "workbook (.xlsx) without a password, or as CSV."
    ),
    "xlsx_unreadable": _l(
        "The workbook could not be read: it is damaged or not an Excel workbook. Save it "
        "again as .xlsx, or as CSV."
    ),
    "not_text": _l("The CSV file could not be read as text. Save it as CSV (UTF-8)."),
    "no_header": _l(
        "No header row was found. One of the first rows must name a column for the email "
        "or the participant number (nomor peserta), and a column for TA or UKG."
    ),
    "no_score_column": _l(
        "The file has no score column: name one TA (or Tes Akhir) or UKG (or Nilai Awal)."
    ),
    "duplicate_column": _l("The column %(column)s appears twice in the header."),
}
ROW_ERRORS = {
    "empty_key": _l("No email or participant number."),
    "unknown_email": _l("No peserta of this class has the email %(value)s."),
    "unknown_number": _l("No peserta of this class has the participant number %(value)s."),
    "not_peserta": _l("%(value)s is %(name)s, who is not a peserta of this class."),
    "ambiguous": _l("More than one peserta of this class has %(value)s."),
    "key_mismatch": _l("The email and the participant number belong to different people."),
    "invalid_score": _l(
        '%(column)s: "%(value)s" is not a score from 0 to 100 with at most two decimals.'
    ),
    "duplicate": _l("The same peserta is also on row %(rows)s."),
}
BAD_PAYLOAD = _l(
    "These changes could not be checked: the preview has expired or was altered. "
    "Nothing was changed: upload the file again."
)
STALE = _l(
    "Some of these scores were changed since the preview. Nothing was changed: upload "
    "the file again."
)
KEY_LABELS = {
    score_import.EMAIL: _l("Email"),
    score_import.NOMOR: _l("Participant number"),
}


def _editor_instance(ctx: int, module_key: str) -> CourseInstance:
    if g.role not in EDITORS:
        abort(403)
    return _instance(ctx, module_key)


def _serializer(inst: CourseInstance) -> URLSafeTimedSerializer:
    # Bound to the class and the uploader: valid for no other class and no one else.
    return URLSafeTimedSerializer(
        current_app.secret_key, salt=f"score-import:{inst.id}:{g.viewer.user_id}"
    )


def _page(inst: CourseInstance, status: int = 200, **extra):
    return render_template(
        "course/score_import.html",
        inst=inst,
        module=inst.module,
        max_mb=score_import.MAX_BYTES // (1024 * 1024),
        max_rows=score_import.MAX_ROWS,
        viewer=g.viewer,
        context=g.context,
        **extra,
    ), status


@bp.get("/c/<int:ctx>/module/<module_key>/nilai/impor")
@course_access
def form(ctx: int, module_key: str):
    return _page(_editor_instance(ctx, module_key))


@bp.post("/c/<int:ctx>/module/<module_key>/nilai/impor")
@course_access
def upload(ctx: int, module_key: str):
    inst = _editor_instance(ctx, module_key)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(inst, 400, error=FILE_ERRORS["no_file"])
    data = file.stream.read(score_import.MAX_BYTES + 1)
    try:
        sheet = score_import.read(data, file.filename)
    except ScoreFileError as exc:
        return _page(inst, 400, error=FILE_ERRORS[exc.code] % exc.params)
    preview = score_import.preview(db_session(), inst, sheet)
    changes = preview.changes
    token = _serializer(inst).dumps(
        {"i": inst.id, "u": g.viewer.user_id, "c": score_import.dump_changes(changes)}
    )
    messages = {r.number: [ROW_ERRORS[e.code] % e.params for e in r.errors] for r in preview.rows}
    columns = [str(KEY_LABELS[k]) for k in sheet.key_columns] + list(sheet.components)
    return _page(
        inst,
        preview=preview,
        messages=messages,
        columns=", ".join(columns),
        changes=len(changes),
        token=token,
        filename=file.filename,
    )


@bp.post("/c/<int:ctx>/module/<module_key>/nilai/impor/terapkan")
@course_access
def apply(ctx: int, module_key: str):
    inst = _editor_instance(ctx, module_key)
    try:
        payload = _serializer(inst).loads(request.form.get("changes", ""), max_age=MAX_AGE)
        if not isinstance(payload, dict):
            raise ValueError("payload")
        if payload.get("i") != inst.id or payload.get("u") != g.viewer.user_id:
            raise ValueError("payload")
        changes = score_import.load_changes(payload.get("c"))
    except (BadData, ValueError):
        return _page(inst, 400, error=BAD_PAYLOAD)
    db = db_session()
    try:
        changed = score_import.apply(db, inst, changes, g.viewer.user_id)
    except ApplyError:
        db.rollback()
        return _page(inst, 409, error=STALE)
    db.commit()
    return redirect(url_for("scores.page", ctx=ctx, module_key=module_key, imported=changed))
