"""The status page of an export ("being prepared", then the download link) and the
download itself.

Both answer only the person who asked, in the course it was asked in (404 for anyone
else, so an id says nothing), and only while they hold the role the request needed
(staff for a recap, pengampu or admin for certificates). The status page reloads itself
with a Refresh header while the export is unfinished: no script.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.exports import service
from lti_tool.exports.service import ACTIVE, CERT_ISSUE, CERT_ZIP, READY, REKAP
from lti_tool.models import CourseInstance, ExportFile
from lti_tool.services.roles import ADMIN, PENGAMPU, STAFF
from lti_tool.storage import storage_for
from lti_tool.web.auth import course_access

bp = Blueprint("exports", __name__)

#: Who may see an export of each kind (besides having asked for it).
ROLES = {REKAP: tuple(STAFF), CERT_ZIP: (PENGAMPU, ADMIN), CERT_ISSUE: (PENGAMPU, ADMIN)}
FORMATS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "zip": "ZIP"}
STATUS = {
    "queued": _l("Waiting to start"),
    "running": _l("Being prepared"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}
ERRORS = {
    "lost": _l("The preparation was interrupted (the server may have restarted). Try again."),
    "queue": _l("The job queue cannot be reached right now. Try again in a few minutes."),
    "storage": _l("The file store could not be reached. Try again in a few minutes."),
    "no_report": _l("This report is not available for this module any more."),
    "format": _l("This file format cannot be made."),
}


def title_of(row: ExportFile) -> str:
    """What the export is, for people: the report and format, or the certificates."""
    if row.kind == REKAP:
        from lti_tool.reports.base import kinds

        kind = kinds(current_app).get(row.report or "")
        name = str(kind.title) if kind else (row.report or "")
        return f"{name} · {FORMATS.get(row.format, row.format)}"
    if row.kind == CERT_ZIP:
        return _("Certificates of the class (ZIP)")
    return _("Issuing certificates to every peserta who passes")


def error_of(row: ExportFile) -> str:
    """Why an export failed, in the reader's language."""
    from lti_tool.web.certificates import ERRORS as CERT_ERRORS

    code = row.error_code or ""
    if code == "filters" and row.error:
        return row.error
    if code in ERRORS:
        return str(ERRORS[code])
    if code in CERT_ERRORS:
        return str(CERT_ERRORS[code])
    return _(
        "Something went wrong while preparing this (tried %(num)s times). "
        "Try again later; if it fails again, tell the tool's administrator.",
        num=row.attempts,
    )


def links_of(row: ExportFile, inst: CourseInstance) -> dict[str, Any]:
    """Where to go back to, and where to post to ask again (its form's action)."""
    ctx, key = row.context_pk, inst.module_key
    if row.kind == REKAP:
        query = dict((row.params or {}).get("filters") or {})
        endpoint = "rekap.xlsx_file" if row.format == "xlsx" else "rekap.csv_file"
        return {
            "back": url_for("rekap.show", ctx=ctx, module_key=key, kind_name=row.report, **query),
            "back_label": _("Back to the recap"),
            "again": url_for(endpoint, ctx=ctx, module_key=key, kind_name=row.report, **query),
        }
    rombel = (row.params or {}).get("rombel")
    back = url_for("certificates.klass", ctx=ctx, module_key=key, rombel=rombel)
    if row.kind == CERT_ZIP:
        again = url_for("certificates.class_zip", ctx=ctx, module_key=key, rombel=rombel)
    else:
        again = url_for("certificates.issue_all", ctx=ctx, module_key=key)
    return {"back": back, "back_label": _("Back to the certificates"), "again": again}


@bp.app_template_global("export_title")
def _export_title(row: ExportFile) -> str:
    return title_of(row)


@bp.app_template_global("export_status")
def _export_status(row: ExportFile) -> str:
    return str(STATUS.get(row.status, row.status))


def _mine(ctx: int, export_id: int) -> ExportFile:
    row = service.find(db_session(), ctx, g.viewer.user_id, export_id)
    if row is None:
        abort(404)
    if g.role not in ROLES.get(row.kind, ()):
        abort(403)
    return row


@bp.get("/c/<int:ctx>/ekspor/<int:export_id>")
@course_access
def status(ctx: int, export_id: int):
    db = db_session()
    row = _mine(ctx, export_id)
    service.check_lost(db, row)
    inst = db.get(CourseInstance, row.instance_id)
    page = render_template(
        "course/export_status.html",
        row=row,
        inst=inst,
        module=inst.module,
        title=title_of(row),
        state=STATUS.get(row.status, row.status),
        error=error_of(row) if row.status == "failed" else None,
        links=links_of(row, inst),
        viewer=g.viewer,
        context=g.context,
    )
    response = make_response(page)
    if row.status in ACTIVE:
        response.headers["Refresh"] = str(service.refresh_seconds(row, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/c/<int:ctx>/ekspor/<int:export_id>/unduh")
@course_access
def download(ctx: int, export_id: int):
    row = _mine(ctx, export_id)
    if row.status != READY or not row.storage_key:
        return redirect(url_for("exports.status", ctx=ctx, export_id=export_id))
    response = storage_for(service.AREA).send(
        row.storage_key,
        mimetype=row.mime or "application/octet-stream",
        download_name=row.filename or f"export-{row.id}.{row.format}",
    )
    response.headers["Cache-Control"] = "private, no-store"  # personal data
    return response
