"""Course pages: the course home, a module by weeks, an activity."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from lti_tool.activities import ActivityPage
from lti_tool.db import session as db_session
from lti_tool.models import Activity, CourseBlock, CourseInstance, CourseModule
from lti_tool.services import completion, instances, roster, schedule
from lti_tool.services.launch_sql import run
from lti_tool.services.roles import ADMIN, PENGAMPU, PESERTA
from lti_tool.web.auth import course_access

bp = Blueprint("web", __name__)

# Indonesia's three time zones (WIB, WITA, WIT).
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/healthz")
def healthz():
    db_session().execute(select(1))
    return {"status": "ok"}


STAFF_EDIT = (PENGAMPU, ADMIN)


def _instance(ctx: int, module_key: str) -> CourseInstance:
    """The module's instance in this course (created, pinned, on first visit)."""
    db = db_session()
    inst, created = instances.instance_for(db, ctx, module_key)
    if inst is None:
        abort(404)
    if created:
        db.commit()
    return inst


@bp.get("/c/<int:ctx>/")
@course_access
def course_home(ctx: int):
    placed = run(db_session(), "placed", {"context_pk": ctx}).all()
    modules = []
    if not placed and g.role in STAFF_EDIT:
        # Nothing placed yet: staff may open any installed module from here.
        modules = current_app.extensions["lti_catalog"].get(
            "modules", lambda: [tuple(row) for row in run(db_session(), "modules")]
        )
    return render_template(
        "course/home.html", placed=placed, modules=modules, viewer=g.viewer, context=g.context
    )


@bp.get("/c/<int:ctx>/module/<module_key>")
@course_access
def module(ctx: int, module_key: str):
    inst = _instance(ctx, module_key)
    db = db_session()
    progress = instances.progress(db, inst, g.viewer.user_id)
    my_rombel = roster.rombel_of(db, inst, g.viewer.user_id) if g.role == PESERTA else None
    return render_template(
        "course/module.html",
        inst=inst,
        module=inst.module,
        progress=progress,
        my_rombel=my_rombel,
        can_edit=g.role in STAFF_EDIT,
        viewer=g.viewer,
        context=g.context,
        error=request.args.get("error"),
        saved=request.args.get("saved"),
    )


@bp.post("/c/<int:ctx>/module/<module_key>/dates")
@course_access
def module_dates(ctx: int, module_key: str):
    """The pengampu sets the start date (and time zone) the schedule is computed from."""
    if g.role not in STAFF_EDIT:
        abort(403)
    inst = _instance(ctx, module_key)
    db = db_session()
    try:
        start = date.fromisoformat(request.form.get("start_date", ""))
    except ValueError:
        return redirect(url_for("web.module", ctx=ctx, module_key=module_key, error="date"))
    tz = request.form.get("timezone") or schedule.DEFAULT_TZ
    if tz not in TIMEZONES:
        return redirect(url_for("web.module", ctx=ctx, module_key=module_key, error="timezone"))
    try:
        instances.set_dates(db, inst, start, tz)
    except instances.InstanceError:
        return redirect(url_for("web.module", ctx=ctx, module_key=module_key, error="started"))
    db.commit()
    return redirect(url_for("web.module", ctx=ctx, module_key=module_key, saved=1))


def activity_page(
    ctx: int, module: CourseModule, activity: Activity, instance_id: int | None = None
) -> ActivityPage:
    from course_templates.loader import installed_files_dir

    return ActivityPage(
        instance_id=instance_id,
        activity=activity,
        module=module,
        context_id=ctx,
        user_id=g.viewer.user_id,
        role=g.role,
        files_dir=installed_files_dir(current_app.instance_path, module.key, module.version),
    )


@bp.get("/c/<int:ctx>/module/<module_key>/<block_key>/<activity_key>")
@course_access
def activity(ctx: int, module_key: str, block_key: str, activity_key: str):
    """An activity page: the core frame, the plugin's body, and the peserta's visit
    recorded for completion."""
    inst = _instance(ctx, module_key)
    module = inst.module
    db = db_session()
    row = db.scalars(
        select(Activity)
        .join(CourseBlock)
        .where(
            CourseBlock.module_id == module.id,
            CourseBlock.key == block_key,
            Activity.key == activity_key,
        )
    ).first()
    if row is None:
        abort(404)
    plugin = current_app.extensions["lti_activities"].get(row.type)
    body = None
    if plugin is not None:
        page = activity_page(ctx, module, row, inst.id)
        event = plugin.on_view(page) if g.role == PESERTA else None
        if event is not None:
            completion.record(db, ctx, row, g.viewer.user_id, event)
            db.commit()
        body = Markup(plugin.render(page))  # noqa: S704 - plugins render autoescaped templates
    return render_template(
        "course/activity.html",
        module=module,
        block=row.block,
        activity=row,
        body=body,
        viewer=g.viewer,
        context=g.context,
    )
