"""Laporan kemajuan pages: the peserta's four reports (upload, replace, cancel with X,
status and feedback), the rombel x report matrix with the deadline forms, one
peserta's reports with the review forms, and file downloads for those allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.dates import format_datetime as babel_datetime
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool.activities.forms import activity_in_course
from lti_tool.db import session as db_session
from lti_tool.mail.notices import notify_feedback
from lti_tool.models import Activity, CourseInstance
from lti_tool.services import roster, schedule
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA, STAFF
from lti_tool.storage import Storage, storage_for
from lti_tool.uploads.handoff import UploadUnavailableError, completed_file, upload_ids
from lti_tool.uploads.targets import name as upload_target
from lti_tool.web.auth import course_access
from plugins.laporan import service
from plugins.laporan.models import LaporanSubmission
from plugins.laporan.service import LaporanError

bp = Blueprint(
    "laporan",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/laporan",
)

MESSAGES = {
    "missing_file": _l("Choose a file to upload."),
    "name": _l(
        "“%(name)s”: a file name cannot contain folder parts (/ or \\) or the characters "
        '< > : " | ? *, and cannot be only dots. Rename the file and upload it again. '
        "Nothing was uploaded."
    ),
    "name_control": _l(
        "“%(name)s”: the file name contains control or invisible characters. Rename the "
        "file and upload it again. Nothing was uploaded."
    ),
    "name_long": _l(
        "“%(name)s”: the file name is longer than %(n)s characters. Shorten it and upload "
        "the file again. Nothing was uploaded."
    ),
    "empty": _l("“%(name)s” is empty (0 bytes). Nothing was uploaded."),
    "too_large": _l(
        "“%(name)s” is larger than %(mb)s MB, the largest file a report may be. Nothing "
        "was uploaded."
    ),
    "request_too_large": _l(
        "The upload is too large: a report may be at most %(mb)s MB. Nothing was uploaded."
    ),
    "storage_unavailable": _l(
        "The file store cannot be reached right now, so “%(name)s” was not uploaded. "
        "Nothing was changed: try again in a few minutes."
    ),
    "type": _l(
        "“%(name)s” is not a file type accepted for reports (%(types)s). The type is "
        "recognised from the file's content, not from its name. Nothing was uploaded."
    ),
    "mismatch": _l(
        "“%(name)s” is named as %(claimed)s but its content is %(actual)s. Save it in the "
        "right format or correct its name, then upload it again. Nothing was uploaded."
    ),
    "closed": _l(
        "The deadline of this report (%(due)s) has passed: it can no longer be uploaded, "
        "replaced or cancelled. Nothing was changed. Contact your mentor."
    ),
    "scored": _l(
        "Your mentor has already scored this report: it can no longer be replaced or "
        "cancelled. Nothing was changed."
    ),
    "nothing": _l("There is no uploaded file to cancel for this report. Nothing was changed."),
    "busy": _l(
        "Another change to this report was saved at the same moment. Nothing was changed: "
        "check the report below and try again."
    ),
    "score": _l(
        "Enter a score from 0 to 100 with at most two decimals (for example 85 or 85,5). "
        "Nothing was saved."
    ),
    "score_removed": _l(
        "A score that was given can be changed but not removed: enter a score. Nothing was saved."
    ),
    "comment_html": _l(
        "Comments are plain text: remove the HTML tags or code (such as <b> or <script>) "
        "and save again. Nothing was saved."
    ),
    "comment_long": _l("The comment is longer than %(n)s characters. Nothing was saved."),
    "not_missed": _l(
        "This report has not been handed in and its deadline has not passed: it can be "
        "scored once it is handed in, or after the deadline. Nothing was saved."
    ),
    "date": _l(
        "Enter the deadline as a date (and optionally a time, HH:MM) in the class time "
        "zone. Nothing was saved."
    ),
    "time_without_date": _l("A time needs a date. Nothing was saved."),
    "rombel": _l("Choose one of your rombels. Nothing was saved."),
}
DONE = {
    "uploaded": _l("Upload successful: your report was received."),
    "replaced": _l("Upload successful: your report was replaced by the new file."),
    "cancelled": _l("Your upload was cancelled and the file deleted."),
    "deadlines": _l("Deadlines saved."),
    "reviewed": _l("Review saved."),
}
STATUS = {
    "belum": _l("not uploaded yet"),
    "terlewat": _l("deadline passed, not uploaded"),
    "terkirim": _l("uploaded, waiting for review"),
    "dinilai": _l("scored"),
}
#: The same, short, for the matrix cells.
SHORT = {
    "belum": _l("not yet"),
    "terlewat": _l("missed"),
    "terkirim": _l("uploaded"),
    "dinilai": _l("scored"),
}
TZ_ABBR = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def message(code: str, **info) -> str:
    text = MESSAGES.get(code) or DONE.get(code)
    return str(text) % info if info else str(text)


def when(moment: datetime | None, tz: str) -> str:
    """A stored UTC moment in the class time zone, e.g. `5 Mei 2025 23.59 WIB`."""
    if moment is None:
        return ""
    local = babel_datetime(
        moment.replace(tzinfo=UTC),
        "d MMM y HH:mm",
        tzinfo=schedule.zone(tz),
        locale=str(get_locale() or "id"),
    )
    return f"{local} {TZ_ABBR.get(tz, tz)}"


def local_parts(moment: datetime | None, tz: str) -> tuple[str, str]:
    """(YYYY-MM-DD, HH:MM) of a stored UTC moment in the class time zone, for a form."""
    if moment is None:
        return "", ""
    local = moment.replace(tzinfo=UTC).astimezone(schedule.zone(tz))
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


@bp.app_context_processor
def _helpers():
    return {"laporan_asset": asset_url}


_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    import hashlib

    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("laporan.static", filename=filename, v=v)


def _storage() -> Storage:
    return storage_for("laporan")


def _framed(body_html: str, activity, module, status: int = 200):
    return render_template(
        "course/activity.html",
        module=module,
        block=activity.block,
        activity=activity,
        body=Markup(body_html),  # noqa: S704 - our own autoescaped templates
        viewer=g.viewer,
        context=g.context,
    ), status


def _instance(db, instance_id: int | None) -> CourseInstance | None:
    return db.get(CourseInstance, instance_id) if instance_id else None


# -- who sees whom ------------------------------------------------------------------------


@dataclass
class Group:
    rombel_id: int | None  # None: peserta in no rombel
    name: str
    mentor: str | None
    people: list


def groups_for_viewer(db, inst: CourseInstance, user_id: int, role: str) -> list[Group]:
    """The peserta the viewer reviews, by rombel: a mentor's own rombels; every rombel
    (and the peserta in none) for pengampu and admin; nobody for others."""
    if role not in STAFF:
        return []
    everyone = roster.peserta(db, inst)
    assigned = roster.assignments(db, inst)
    mentors = {m.id: m.name for m in roster.mentors(db, inst)}
    out = []
    for r in roster.rombels(db, inst):
        if role == MENTOR and r.mentor_id != user_id:
            continue
        people = [p for p in everyone if assigned.get(p.id) == r.id]
        out.append(Group(r.id, r.name, mentors.get(r.mentor_id), people))
    if role in (PENGAMPU, ADMIN):
        loose = [p for p in everyone if p.id not in assigned]
        if loose or not out:
            out.append(Group(None, "", None, loose))
    return out


def _visible_people(db, inst, user_id: int, role: str) -> dict[int, object]:
    return {p.id: p for grp in groups_for_viewer(db, inst, user_id, role) for p in grp.people}


# -- the peserta's page ---------------------------------------------------------------------


def render_page(page, error: tuple[str, str] | None = None) -> str:
    """Peserta: their reports. Staff: the rombel x report matrix."""
    db = db_session()
    inst = _instance(db, page.instance_id)
    if page.role in STAFF:
        return _matrix_html(db, inst, page.activity, page.context_id)
    return _peserta_html(db, inst, page, error)


def _peserta_html(db, inst, page, error) -> str:
    activity = page.activity
    s = service.settings_of(activity)
    now = service.now()
    tz = inst.timezone if inst else schedule.DEFAULT_TZ
    table = service.deadlines(db, inst, activity) if inst else {}
    rombel_id = service.rombel_id_of(db, inst, page.user_id) if inst else None
    mine = service.current(db, page.context_id, activity.id, [page.user_id])
    reports = []
    for number, r in enumerate(s.reports, 1):
        row = mine.get((page.user_id, r.key))
        due = service.deadline_for(table, rombel_id, r.key)
        state = service.status(row, due, now)
        is_open = (due is None or now <= due) and (row is None or row.score is None)
        reports.append(
            {
                "number": number,
                "report": r,
                "row": row,
                "due": when(due, tz),
                "state": state,
                "state_label": STATUS[state],
                "open": is_open and page.role == PESERTA,
                "submitted_at": when(row.submitted_at, tz)
                if row and row.state == "submitted"
                else "",
                "error": error[1] if error and error[0] == r.key else None,
            }
        )
    percent = service.aggregate(s, mine, page.user_id)
    done = request.args.get("done")
    return render_template(
        "laporan/peserta.html",
        page=page,
        settings=s,
        reports=reports,
        percent=percent,
        done=message(done) if done in DONE else None,
        done_report=request.args.get("report"),
        accept=",".join(sorted({f".{e}" for t in s.types for e in service.FILE_TYPES[t][2]})),
        tz=TZ_ABBR.get(tz, tz),
    )


def _report_or_404(activity, key: str):
    r = service.settings_of(activity).report(key)
    if r is None:
        abort(404)
    return r


def _due_of(db, inst, activity, user_id: int, key: str):
    table = service.deadlines(db, inst, activity)
    return service.deadline_for(table, service.rombel_id_of(db, inst, user_id), key)


def _refuse_peserta(ctx, activity, module, instance, key: str, exc: LaporanError):
    from lti_tool.activities.forms import page_of

    info = dict(exc.info)
    if "due" in info:
        info["due"] = when(info["due"], instance.timezone)
    page = page_of(ctx, activity, module, instance)
    html = _peserta_html(db_session(), instance, page, (key, message(exc.code, **info)))
    return _framed(html, activity, module, exc.status)


def _back(ctx, module, activity, **args):
    from lti_tool.activities.forms import back_to

    return back_to(ctx, module, activity, _anchor=f"r-{args.get('report', '')}", **args)


def _posted_file(ctx: int, activity, key: str):
    """(name, stream) of the report: the finished resumable upload the form names
    (`upload_id`, lti_tool/uploads: same checks and storage), else the posted file;
    None when there is neither."""
    ids = upload_ids()
    if ids:
        target = upload_target("laporan", activity.id, key)
        return completed_file(db_session(), ids[0], g.viewer.user_id, ctx, target=target)
    file = request.files.get("file")
    return (file.filename, file.stream) if file is not None else None


def _unavailable(ctx, activity, module, instance, key: str, exc: UploadUnavailableError):
    from lti_tool.activities.forms import page_of

    page = page_of(ctx, activity, module, instance)
    html = _peserta_html(db_session(), instance, page, (key, exc.message))
    return _framed(html, activity, module, exc.status)


@bp.post("/c/<int:ctx>/laporan/<int:activity_id>/<key>/upload")
@course_access
def upload(ctx: int, activity_id: int, key: str):
    """Hand in (or replace) one report: checked, then streamed to storage."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    _report_or_404(activity, key)
    now = service.now()
    storage = _storage()
    try:
        posted = _posted_file(ctx, activity, key)
        if posted is None:
            raise LaporanError("missing_file")
        stored = service.upload(
            db,
            storage,
            ctx=ctx,
            activity=activity,
            user_id=g.viewer.user_id,
            key=key,
            due=_due_of(db, instance, activity, g.viewer.user_id, key),
            filename=posted[0],
            stream=posted[1],
            now=now,
        )
    except LaporanError as exc:
        db.rollback()
        return _refuse_peserta(ctx, activity, module, instance, key, exc)
    except UploadUnavailableError as exc:
        db.rollback()
        return _unavailable(ctx, activity, module, instance, key, exc)
    try:
        db.commit()
    except IntegrityError:  # a second upload of the same report committed first
        db.rollback()
        storage.delete(stored.row.stored_name)
        return _refuse_peserta(ctx, activity, module, instance, key, LaporanError("busy"))
    except Exception:
        storage.delete(stored.row.stored_name)  # no file without its record
        raise
    for name in stored.delete_after_commit:
        storage.delete(name)
    done = "replaced" if stored.delete_after_commit else "uploaded"
    return _back(ctx, module, activity, done=done, report=key)


@bp.post("/c/<int:ctx>/laporan/<int:activity_id>/<key>/cancel")
@course_access
def cancel(ctx: int, activity_id: int, key: str):
    """The (X): withdraw an uploaded report before its deadline (the file is deleted)."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    _report_or_404(activity, key)
    try:
        names = service.cancel(
            db,
            ctx=ctx,
            activity=activity,
            user_id=g.viewer.user_id,
            key=key,
            due=_due_of(db, instance, activity, g.viewer.user_id, key),
            now=service.now(),
        )
    except LaporanError as exc:
        db.rollback()
        return _refuse_peserta(ctx, activity, module, instance, key, exc)
    db.commit()
    storage = _storage()
    for name in names:
        storage.delete(name)
    return _back(ctx, module, activity, done="cancelled", report=key)


@bp.get("/c/<int:ctx>/laporan/<int:activity_id>/file/<int:submission_id>")
@course_access
def download(ctx: int, activity_id: int, submission_id: int):
    """A report file, always as an attachment: its owner, or staff who review them."""
    db = db_session()
    _activity, _module, instance = activity_in_course(ctx, activity_id, "laporan")
    row = db.get(LaporanSubmission, submission_id)
    if row is None or row.context_pk != ctx or row.activity_id != activity_id:
        abort(404)
    if g.role == PESERTA:
        if row.user_id != g.viewer.user_id:
            abort(404)
    elif g.role in STAFF:
        if row.user_id not in _visible_people(db, instance, g.viewer.user_id, g.role):
            abort(404)
    else:
        abort(404)
    if not row.stored_name:
        abort(404)
    response = _storage().send(
        row.stored_name, mimetype=row.mime, download_name=row.original_name, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    """A request over the tool's whole limit, refused before any view ran: say the
    report's own limit (nothing was stored)."""
    args = request.view_args or {}
    activity = db_session().get(Activity, args["activity_id"]) if "activity_id" in args else None
    if activity is not None and activity.type == "laporan":
        mb = service.settings_of(activity).max_mb
    else:
        mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    text = message("request_too_large", mb=mb)
    return render_template("error.html", title=text, message=text, code=413), 413


# -- staff: the matrix and the deadlines ------------------------------------------------------


def _matrix_html(db, inst, activity, ctx: int, form_error=None) -> str:
    s = service.settings_of(activity)
    now = service.now()
    tz = inst.timezone if inst else schedule.DEFAULT_TZ
    groups = groups_for_viewer(db, inst, g.viewer.user_id, g.role) if inst else []
    table = service.deadlines(db, inst, activity) if inst else {}
    ids = [p.id for grp in groups for p in grp.people]
    rows = service.current(db, ctx, activity.id, ids)
    sections = []
    for grp in groups:
        people = []
        for p in grp.people:
            cells = []
            for r in s.reports:
                row = rows.get((p.id, r.key))
                due = service.deadline_for(table, grp.rombel_id, r.key)
                state = service.status(row, due, now)
                cells.append(
                    {
                        "key": r.key,
                        "row": row,
                        "state": state,
                        "label": SHORT[state],
                        "long": STATUS[state],
                    }
                )
            people.append(
                {"person": p, "cells": cells, "percent": service.aggregate(s, rows, p.id)}
            )
        deadlines = []
        for r in s.reports:
            own = table.get((grp.rombel_id, r.key)) if grp.rombel_id is not None else None
            effective = service.deadline_for(table, grp.rombel_id, r.key)
            day, clock = local_parts(own.due_at if own else None, tz)
            if grp.rombel_id is None:
                day, clock = local_parts(effective, tz)
            if form_error and form_error["rombel"] == _rombel_field(grp.rombel_id):
                day, clock = form_error["values"].get(r.key, (day, clock))
            deadlines.append(
                {
                    "report": r,
                    "due": when(effective, tz),
                    "inherited": own is None
                    and effective is not None
                    and grp.rombel_id is not None,
                    "day": day,
                    "clock": clock,
                }
            )
        sections.append(
            {
                "group": grp,
                "field": _rombel_field(grp.rombel_id),
                "people": people,
                "deadlines": deadlines,
                "error": form_error["message"]
                if form_error and form_error["rombel"] == _rombel_field(grp.rombel_id)
                else None,
            }
        )
    done = request.args.get("done")
    matched = any(sec["error"] for sec in sections)
    return render_template(
        "laporan/matrix.html",
        top_error=form_error["message"] if form_error and not matched else None,
        ctx=ctx,
        activity=activity,
        settings=s,
        sections=sections,
        tz=tz,
        tz_abbr=TZ_ABBR.get(tz, tz),
        role=g.role,
        done=message(done) if done in DONE else None,
        no_instance=inst is None,
    )


def _rombel_field(rombel_id: int | None) -> str:
    return "class" if rombel_id is None else str(rombel_id)


@bp.get("/c/<int:ctx>/laporan/<int:activity_id>/matrix")
@course_access
def matrix(ctx: int, activity_id: int):
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    return _framed(_matrix_html(db, instance, activity, ctx), activity, module)


@bp.post("/c/<int:ctx>/laporan/<int:activity_id>/deadlines")
@course_access
def deadlines(ctx: int, activity_id: int):
    """Set a rombel's deadlines (its mentor, or pengampu/admin for any rombel and for
    the class-wide default). All reports of the form are saved together or none."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    s = service.settings_of(activity)
    field = (request.form.get("rombel") or "").strip()
    allowed = {
        _rombel_field(grp.rombel_id): grp.rombel_id
        for grp in groups_for_viewer(db, instance, g.viewer.user_id, g.role)
    }
    if g.role in (PENGAMPU, ADMIN):
        allowed["class"] = None
    values = {
        r.key: (
            (request.form.get(f"date-{r.key}") or "").strip()[:20],
            (request.form.get(f"time-{r.key}") or "").strip()[:10],
        )
        for r in s.reports
    }
    if field not in allowed:
        error = {"rombel": field, "values": values, "message": message("rombel")}
        html = _matrix_html(db, instance, activity, ctx, form_error=error)
        return _framed(html, activity, module, 400)
    parsed = {}
    try:
        for key, (day, clock) in values.items():
            parsed[key] = service.parse_deadline(day, clock, instance.timezone)
    except LaporanError as exc:
        db.rollback()
        error = {"rombel": field, "values": values, "message": message(exc.code, **exc.info)}
        return _framed(
            _matrix_html(db, instance, activity, ctx, form_error=error), activity, module, 400
        )
    for key, due in parsed.items():
        service.set_deadline(db, instance, activity, allowed[field], key, due, g.viewer.user_id)
    db.commit()
    return redirect(
        url_for(
            "laporan.matrix",
            ctx=ctx,
            activity_id=activity.id,
            done="deadlines",
            _anchor=f"g-{field}",
        )
    )


# -- staff: one peserta's reports -----------------------------------------------------------


def _peserta_or_404(db, instance, user_id: int):
    person = _visible_people(db, instance, g.viewer.user_id, g.role).get(user_id)
    if person is None:
        abort(404)
    return person


def _review_html(db, instance, activity, ctx: int, person, form=None) -> str:
    s = service.settings_of(activity)
    now = service.now()
    tz = instance.timezone
    table = service.deadlines(db, instance, activity)
    rombel_id = service.rombel_id_of(db, instance, person.id)
    rows = service.current(db, ctx, activity.id, [person.id])
    past = {}
    for h in service.history(db, ctx, activity.id, person.id):
        if h.state in ("replaced", "cancelled"):
            past.setdefault(h.report_key, []).append(
                {
                    "row": h,
                    "submitted_at": when(h.submitted_at, tz),
                    "removed_at": when(h.removed_at, tz),
                }
            )
    reports = []
    for number, r in enumerate(s.reports, 1):
        row = rows.get((person.id, r.key))
        due = service.deadline_for(table, rombel_id, r.key)
        state = service.status(row, due, now)
        typed = (form or {}).get("key") == r.key
        reports.append(
            {
                "number": number,
                "report": r,
                "row": row,
                "due": when(due, tz),
                "state": state,
                "label": STATUS[state],
                "submitted_at": when(row.submitted_at, tz)
                if row and row.state == "submitted"
                else "",
                "reviewed_at": when(row.reviewed_at, tz) if row and row.reviewed_at else "",
                "can_review": row is not None or (due is not None and now > due),
                "score": form["score"] if typed else (row.score if row and row.score else ""),
                "comment": form["comment"]
                if typed
                else (row.comment if row and row.comment else ""),
                "error": form["error"] if typed else None,
                "past": past.get(r.key, []),
            }
        )
    rombel = next(
        (
            grp
            for grp in groups_for_viewer(db, instance, g.viewer.user_id, g.role)
            if grp.rombel_id == rombel_id
        ),
        None,
    )
    done = request.args.get("done")
    return render_template(
        "laporan/review.html",
        ctx=ctx,
        activity=activity,
        person=person,
        rombel=rombel,
        reports=reports,
        percent=service.aggregate(s, rows, person.id),
        settings=s,
        done=message(done) if done in DONE else None,
        done_report=request.args.get("report"),
    )


@bp.get("/c/<int:ctx>/laporan/<int:activity_id>/peserta/<int:user_id>")
@course_access
def review(ctx: int, activity_id: int, user_id: int):
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    person = _peserta_or_404(db, instance, user_id)
    return _framed(_review_html(db, instance, activity, ctx, person), activity, module)


@bp.post("/c/<int:ctx>/laporan/<int:activity_id>/peserta/<int:user_id>/<key>")
@course_access
def save_review(ctx: int, activity_id: int, user_id: int, key: str):
    """Score (0-100) and comment one report; the activity score follows the rule."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "laporan")
    person = _peserta_or_404(db, instance, user_id)
    report = _report_or_404(activity, key)
    score_text = (request.form.get("score") or "")[:20]
    comment_text = (request.form.get("comment") or "")[: service.COMMENT_MAX * 2]
    try:
        reviewed = service.review(
            db,
            ctx=ctx,
            activity=activity,
            user_id=user_id,
            key=key,
            due=_due_of(db, instance, activity, user_id, key),
            score_text=score_text,
            comment_text=comment_text,
            by=g.viewer.user_id,
            now=service.now(),
        )
    except LaporanError as exc:
        db.rollback()
        form = {
            "key": key,
            "score": score_text,
            "comment": comment_text,
            "error": message(exc.code, **exc.info),
        }
        html = _review_html(db, instance, activity, ctx, person, form)
        return _framed(html, activity, module, exc.status)
    if reviewed.score is not None or reviewed.comment:  # emailed once committed, if on
        by = g.viewer.user_id
        notify_feedback(db, instance, user_id, report.title, by, "laporan", activity_id=activity_id)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        form = {"key": key, "score": score_text, "comment": comment_text, "error": message("busy")}
        html = _review_html(db, instance, activity, ctx, person, form)
        return _framed(html, activity, module, 409)
    return redirect(
        url_for(
            "laporan.review",
            ctx=ctx,
            activity_id=activity.id,
            user_id=user_id,
            done="reviewed",
            report=key,
            _anchor=f"r-{key}",
        )
    )


@bp.app_template_filter("laporan_score")
def _score_filter(value) -> str:
    """A score, or a dash while there is none."""
    return "—" if value is None else str(value)
