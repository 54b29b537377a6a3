"""Task pages: the peserta's submission (upload, replace, delete, see the grade), file
downloads for the people allowed to see them, and the staff's grading pages."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool.activities.forms import activity_in_course, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.mail.notices import notify_feedback
from lti_tool.models import Activity, CourseInstance, User
from lti_tool.services import roster
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA, STAFF
from lti_tool.storage import Storage, storage_for
from lti_tool.uploads.handoff import UploadUnavailableError, completed_file, upload_ids
from lti_tool.uploads.targets import name as upload_target
from lti_tool.web.auth import course_access
from plugins.tugas import service
from plugins.tugas.models import TugasFile, TugasSubmission
from plugins.tugas.settings import FILE_TYPES

bp = Blueprint("tugas", __name__, template_folder="templates")

MESSAGES = {
    "missing": _l("Choose one or more files to upload."),
    "name": _l(
        "“%(name)s”: a file name cannot contain folder parts (/ or \\), the characters "
        "< or >, or be only dots. Rename the file and upload it again. Nothing was uploaded."
    ),
    "name_control": _l(
        "“%(name)s”: the file name contains control characters. Rename the file and "
        "upload it again. Nothing was uploaded."
    ),
    "empty": _l("“%(name)s” is empty (0 bytes). Nothing was uploaded."),
    "too_large": _l(
        "“%(name)s” is larger than %(mb)s MB, the largest file this task accepts. "
        "Nothing was uploaded."
    ),
    "request_too_large": _l(
        "The upload is too large: this task accepts files of at most %(mb)s MB. "
        "Nothing was uploaded."
    ),
    "type": _l(
        "“%(name)s” is not a file type this task accepts (%(types)s). The type is "
        "recognised from the file's content, not from its name. Nothing was uploaded."
    ),
    "mismatch": _l(
        "“%(name)s” is named as %(claimed)s but its content is %(actual)s. Save it in the "
        "right format or correct its name, then upload it again. Nothing was uploaded."
    ),
    "closed": _l(
        "The due date (%(date)s) has passed: this task no longer accepts changes. "
        "Nothing was changed."
    ),
    "too_many": _l(
        "A submission holds at most %(n)s files: delete or replace a file first. "
        "Nothing was uploaded."
    ),
    "score": _l(
        "Enter a score from 0 to %(max)s with at most two decimals (for example 85 or "
        "85,5). Nothing was saved."
    ),
    "score_removed": _l(
        "A score that was given can be changed but not removed: enter a score. Nothing was saved."
    ),
    "feedback_html": _l(
        "Feedback is plain text: remove the HTML tags (< … >) and save again. Nothing was saved."
    ),
    "feedback_long": _l("Feedback can be at most %(n)s characters. Nothing was saved."),
    "storage_unavailable": _l(
        "The file store cannot be reached right now, so “%(name)s” was not uploaded. "
        "Nothing was changed: try again in a few minutes."
    ),
}
DONE = {
    "uploaded": _l("Your file was uploaded."),
    "replaced": _l("The file was replaced."),
    "deleted": _l("The file was deleted."),
    "graded": _l("The grade and feedback were saved."),
    "unchanged": _l("Nothing was changed."),
}
STATUS_LABELS = {
    service.NOT_SUBMITTED: _l("Not submitted"),
    service.SUBMITTED: _l("Submitted"),
    service.LATE: _l("Submitted late"),
    service.GRADED: _l("Graded"),
}
TYPE_LABELS = {
    "pdf": "PDF",
    "docx": "Word (DOCX)",
    "pptx": "PowerPoint (PPTX)",
    "xlsx": "Excel (XLSX)",
    "odt": "OpenDocument (ODT)",
    "jpg": "JPEG",
    "png": "PNG",
    "mp4": "MP4",
    "txt": _l("plain text"),
    "zip": "ZIP",
}


def message(code: str, **info) -> str:
    if "at" in info:
        at = info.pop("at")
        info["date"] = format_datetime(at, "medium") if at else ""
    text = str(MESSAGES[code])
    return text % info if "%(" in text else text


def _storage() -> Storage:
    return storage_for("tugas")


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")


@bp.app_context_processor
def _helpers():
    return {
        "tugas_size": _size,
        "tugas_status": lambda s: str(STATUS_LABELS.get(s, s)),
        "tugas_type": lambda t: str(TYPE_LABELS.get(t, t)),
    }


def _framed(body_html: str, activity, module, status: int = 200):
    return refuse(body_html, activity, module, status)


def _inst(db, instance_id: int | None) -> CourseInstance | None:
    return db.get(CourseInstance, instance_id) if instance_id else None


# -- the activity page ---------------------------------------------------------------------


def render_page(page, error: str | None = None) -> str:
    """The task as its page shows it: for a peserta their submission, for staff a summary
    and the way to the grading page."""
    db = db_session()
    activity = page.activity
    settings = service.settings_of(activity)
    inst = _inst(db, page.instance_id)
    now = utcnow()
    ctx = page.context_id
    common = {
        "activity": activity,
        "settings": settings,
        "ctx": ctx,
        "error": error,
        "done": DONE.get(request.args.get("done", "")),
        "instructions_url": url_for("tugas.instructions", ctx=ctx, activity_id=activity.id)
        if settings.instructions_file
        else None,
    }
    if page.role in STAFF:
        people = _people_for_viewer(db, inst) if inst is not None else []
        counts = {s: 0 for s in STATUS_LABELS}
        for p in people:
            sub = service.submission_of(db, ctx, activity.id, p.id)
            counts[service.standing(db, inst, activity, sub, p.id).status] += 1
        return render_template(
            "tugas/staff_summary.html",
            counts=counts,
            total=len(people),
            grading_url=url_for("tugas.grading", ctx=ctx, activity_id=activity.id),
            **common,
        )
    sub = service.submission_of(db, ctx, activity.id, page.user_id)
    st = service.standing(db, inst, activity, sub, page.user_id)
    return render_template(
        "tugas/view.html",
        st=st,
        now=now,
        closed=service.closed(settings, st.due, now),
        past_due=service.is_late(now, st.due),
        can_add=len(st.files) < settings.max_files,
        is_late=service.is_late,
        upload_action=url_for("tugas.upload", ctx=ctx, activity_id=activity.id),
        accept=settings.accept_attribute(),
        **common,
    )


def _refused(ctx: int, activity, module, instance, exc: service.TugasError):
    page = page_of(ctx, activity, module, instance)
    return refuse(
        render_page(page, error=message(exc.code, **exc.info)), activity, module, exc.status
    )


# -- a peserta's files ---------------------------------------------------------------------


def _commit_change(db, change: service.Change) -> None:
    """Commit, then remove the files no longer used; on a failed commit remove the new
    ones (no stored file without its row, no row without its file)."""
    store = _storage()
    try:
        db.commit()
    except BaseException:
        db.rollback()
        for name in change.stored:
            store.delete(name)
        raise
    for name in change.obsolete:
        store.delete(name)


def _incoming(ctx: int, activity) -> list[service.Incoming]:
    """The files of the form: posted ones, and finished resumable uploads it names
    (`upload_id`, lti_tool/uploads), which go through the same checks and storage."""
    incoming = [service.Incoming(f.filename, f.stream) for f in request.files.getlist("file")]
    target = upload_target("tugas", activity.id)
    for token in upload_ids():
        name, stream = completed_file(db_session(), token, g.viewer.user_id, ctx, target=target)
        incoming.append(service.Incoming(name, stream))
    return incoming


def _unavailable(ctx: int, activity, module, instance, exc: UploadUnavailableError):
    page = page_of(ctx, activity, module, instance)
    return refuse(render_page(page, error=exc.message), activity, module, exc.status)


@bp.post("/c/<int:ctx>/tugas/<int:activity_id>/upload")
@course_access
def upload(ctx: int, activity_id: int):
    """Add one or more files to the peserta's submission (each streamed to storage)."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "tugas")
    try:
        incoming = _incoming(ctx, activity)
        change = service.upload(
            db,
            _storage(),
            context_pk=ctx,
            inst=instance,
            activity=activity,
            user_id=g.viewer.user_id,
            incoming=incoming,
            now=utcnow(),
        )
    except service.TugasError as exc:
        db.rollback()
        return _refused(ctx, activity, module, instance, exc)
    except UploadUnavailableError as exc:
        db.rollback()
        return _unavailable(ctx, activity, module, instance, exc)
    _commit_change(db, change)
    return _back(ctx, module, activity, "uploaded")


def _own_file(db, ctx: int, file_id: int):
    """(file, submission, activity, module, instance) of a file of the signed-in
    peserta in this course; 404 for any other (nothing tells whose it is)."""
    file = db.get(TugasFile, file_id)
    sub = db.get(TugasSubmission, file.submission_id) if file is not None else None
    if sub is None or sub.context_pk != ctx or sub.user_id != g.viewer.user_id:
        abort(404)
    activity, module, instance = activity_in_course(ctx, sub.activity_id, "tugas")
    return file, sub, activity, module, instance


@bp.post("/c/<int:ctx>/tugas/file/<int:file_id>/replace")
@course_access
def replace(ctx: int, file_id: int):
    """Put a new file in the place of one of the peserta's files."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    file, _sub, activity, module, instance = _own_file(db, ctx, file_id)
    try:
        incoming = [f for f in _incoming(ctx, activity) if f.filename]
        change = service.upload(
            db,
            _storage(),
            context_pk=ctx,
            inst=instance,
            activity=activity,
            user_id=g.viewer.user_id,
            incoming=incoming[:1] if len(incoming) > 1 else incoming,
            now=utcnow(),
            replace=file,
        )
    except service.TugasError as exc:
        db.rollback()
        return _refused(ctx, activity, module, instance, exc)
    except UploadUnavailableError as exc:
        db.rollback()
        return _unavailable(ctx, activity, module, instance, exc)
    _commit_change(db, change)
    return _back(ctx, module, activity, "replaced")


@bp.post("/c/<int:ctx>/tugas/file/<int:file_id>/delete")
@course_access
def delete(ctx: int, file_id: int):
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    file, sub, activity, module, instance = _own_file(db, ctx, file_id)
    try:
        change = service.delete(
            db, inst=instance, activity=activity, submission=sub, file=file, now=utcnow()
        )
    except service.TugasError as exc:
        db.rollback()
        return _refused(ctx, activity, module, instance, exc)
    _commit_change(db, change)
    return _back(ctx, module, activity, "deleted")


def _back(ctx: int, module, activity, done: str):
    return redirect(
        url_for(
            "web.activity",
            ctx=ctx,
            module_key=module.key,
            block_key=activity.block.key,
            activity_key=activity.key,
            done=done,
        ),
        303,
    )


def _may_see(db, instance: CourseInstance | None, owner_id: int) -> bool:
    """Whether the viewer may see this peserta's work: the peserta themself, the
    pengampu and admin of the course, the mentor of the peserta's rombel."""
    if g.role == PESERTA:
        return owner_id == g.viewer.user_id
    if g.role in (PENGAMPU, ADMIN):
        return True
    if g.role == MENTOR and instance is not None:
        return owner_id in _mentor_peserta(db, instance)
    return False


def _mentor_peserta(db, instance: CourseInstance) -> set[int]:
    mine = {r.id for r in roster.rombels(db, instance) if r.mentor_id == g.viewer.user_id}
    return {u for u, r in roster.assignments(db, instance).items() if r in mine}


@bp.get("/c/<int:ctx>/tugas/file/<int:file_id>")
@course_access
def download(ctx: int, file_id: int):
    """A submitted file, always as an attachment, to its owner and the staff allowed to
    see it; 404 to anyone else (whether the file exists is not revealed)."""
    db = db_session()
    file = db.get(TugasFile, file_id)
    sub = db.get(TugasSubmission, file.submission_id) if file is not None else None
    if sub is None or sub.context_pk != ctx:
        abort(404)
    activity = db.get(Activity, sub.activity_id)
    instance = service.instance_of(db, ctx, activity) if activity is not None else None
    if activity is None or not _may_see(db, instance, sub.user_id):
        abort(404)
    response = _storage().send(
        file.stored_name,
        mimetype=file.mime,
        download_name=service.download_name(file.original_name, file.mime),
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/c/<int:ctx>/tugas/<int:activity_id>/instructions")
@course_access
def instructions(ctx: int, activity_id: int):
    """The worksheet or brief the template ships with the task."""
    from course_templates.loader import installed_files_dir

    activity, module, _instance = activity_in_course(ctx, activity_id, "tugas")
    rel = service.settings_of(activity).instructions_file
    if not rel:
        abort(404)
    base = installed_files_dir(current_app.instance_path, module.key, module.version).resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name, max_age=3600)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    """A request over the tool's whole limit, refused before any view ran: say the
    task's own limit (nothing was read into storage)."""
    db = db_session()
    args = request.view_args or {}
    activity = None
    if "activity_id" in args:
        activity = db.get(Activity, args["activity_id"])
    elif "file_id" in args:
        file = db.get(TugasFile, args["file_id"])
        sub = db.get(TugasSubmission, file.submission_id) if file is not None else None
        activity = db.get(Activity, sub.activity_id) if sub is not None else None
    if activity is not None and activity.type == "tugas":
        mb = service.settings_of(activity).max_mb
    else:
        mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    text = message("request_too_large", mb=mb)
    return render_template("error.html", title=text, message=text, code=413), 413


# -- staff: grading --------------------------------------------------------------------------


def _people_for_viewer(db, instance: CourseInstance):
    """The peserta the viewer grades: all for pengampu and admin, a mentor's rombel."""
    people = roster.peserta(db, instance)
    if g.role == MENTOR:
        mine = _mentor_peserta(db, instance)
        people = [p for p in people if p.id in mine]
    return people


def _staff_activity(ctx: int, activity_id: int):
    if g.role not in STAFF:
        abort(403)
    return activity_in_course(ctx, activity_id, "tugas")


@bp.get("/c/<int:ctx>/tugas/<int:activity_id>/grading")
@course_access
def grading(ctx: int, activity_id: int):
    """Every peserta the viewer grades: status, files, score, who graded and when."""
    db = db_session()
    activity, module, instance = _staff_activity(ctx, activity_id)
    people = _people_for_viewer(db, instance)
    subs = {
        s.user_id: s
        for s in db.scalars(
            select(TugasSubmission).where(
                TugasSubmission.context_pk == ctx, TugasSubmission.activity_id == activity.id
            )
        )
    }
    rows = []
    for p in people:
        sub = subs.get(p.id)
        rows.append((p, service.standing(db, instance, activity, sub, p.id)))
    status_filter = request.args.get("status")
    if status_filter in STATUS_LABELS:
        rows = [(p, st) for p, st in rows if st.status == status_filter]
    graders = _names(db, {st.submission.graded_by for _p, st in rows if st.submission})
    html = render_template(
        "tugas/grading.html",
        activity=activity,
        settings=service.settings_of(activity),
        rows=rows,
        graders=graders,
        ctx=ctx,
        status_filter=status_filter,
        statuses=STATUS_LABELS,
        is_late=service.is_late,
    )
    return _framed(html, activity, module)


def _names(db, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {
        u.id: (u.name or " ".join(x for x in (u.given_name, u.family_name) if x) or u.sub)
        for u in db.scalars(select(User).where(User.id.in_(ids)))
    }


def _peserta_page(ctx: int, activity, module, instance, user_id: int, error=None, form=None):
    db = db_session()
    people = _people_for_viewer(db, instance)
    person = next((p for p in people if p.id == user_id), None)
    if person is None:
        abort(404)  # not a peserta of this course, or not in the mentor's rombel
    sub = service.submission_of(db, ctx, activity.id, user_id)
    st = service.standing(db, instance, activity, sub, user_id)
    audit = service.audit_of(db, sub)
    names = _names(db, {a.changed_by for a in audit} | {sub.graded_by if sub else None})
    ids = [p.id for p in people]
    at = ids.index(user_id)
    html = render_template(
        "tugas/peserta.html",
        activity=activity,
        settings=service.settings_of(activity),
        person=person,
        st=st,
        audit=audit,
        names=names,
        ctx=ctx,
        error=error,
        form=form,
        done=DONE.get(request.args.get("done", "")),
        is_late=service.is_late,
        max_score=Decimal(activity.max_score),
        previous=people[at - 1] if at > 0 else None,
        next_=people[at + 1] if at + 1 < len(people) else None,
    )
    return _framed(html, activity, module, 200 if error is None else error[1])


@bp.get("/c/<int:ctx>/tugas/<int:activity_id>/grading/<int:user_id>")
@course_access
def grade_page(ctx: int, activity_id: int, user_id: int):
    """One peserta's files, status, grade form and grading history."""
    activity, module, instance = _staff_activity(ctx, activity_id)
    return _peserta_page(ctx, activity, module, instance, user_id)


@bp.post("/c/<int:ctx>/tugas/<int:activity_id>/grading/<int:user_id>")
@course_access
def grade(ctx: int, activity_id: int, user_id: int):
    db = db_session()
    activity, module, instance = _staff_activity(ctx, activity_id)
    if user_id not in {p.id for p in _people_for_viewer(db, instance)}:
        abort(404)
    form = {"score": request.form.get("score", ""), "feedback": request.form.get("feedback", "")}
    try:
        changed = service.grade(
            db,
            context_pk=ctx,
            activity=activity,
            user_id=user_id,
            by=g.viewer.user_id,
            score_text=form["score"],
            feedback_text=form["feedback"],
            now=utcnow(),
        )
    except service.TugasError as exc:
        db.rollback()
        error = (message(exc.code, **exc.info), exc.status)
        return _peserta_page(ctx, activity, module, instance, user_id, error=error, form=form)
    if changed:  # emailed once committed, if the course sends feedback notices
        by = g.viewer.user_id
        notify_feedback(db, instance, user_id, activity.title, by, "tugas", activity_id=activity.id)
    db.commit()
    return redirect(
        url_for(
            "tugas.grade_page",
            ctx=ctx,
            activity_id=activity.id,
            user_id=user_id,
            done="graded" if changed else "unchanged",
        ),
        303,
    )


def type_names(settings) -> str:
    return ", ".join(str(TYPE_LABELS[t]) for t in settings.types if t in FILE_TYPES)


bp.add_app_template_global(type_names, "tugas_type_names")
