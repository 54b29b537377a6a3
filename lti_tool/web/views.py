"""Course pages: the course home, a module by weeks, an activity."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template
from markupsafe import Markup
from sqlalchemy import select

from lti_tool.activities import ActivityPage
from lti_tool.db import session as db_session
from lti_tool.models import Activity, CourseBlock, CourseModule
from lti_tool.services import completion
from lti_tool.services.launch_sql import run
from lti_tool.services.roles import PESERTA
from lti_tool.web.auth import course_access

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/healthz")
def healthz():
    db_session().execute(select(1))
    return {"status": "ok"}


def _module(key: str) -> CourseModule:
    module = (
        db_session()
        .scalars(
            select(CourseModule).where(CourseModule.key == key).order_by(CourseModule.id.desc())
        )
        .first()
    )
    if module is None:
        abort(404)
    return module


@bp.get("/c/<int:ctx>/")
@course_access
def course_home(ctx: int):
    modules = current_app.extensions["lti_catalog"].get(
        "modules", lambda: [tuple(row) for row in run(db_session(), "modules")]
    )
    return render_template("course/home.html", modules=modules, viewer=g.viewer, context=g.context)


@bp.get("/c/<int:ctx>/module/<module_key>")
@course_access
def module(ctx: int, module_key: str):
    return render_template(
        "course/module.html",
        module=_module(module_key),
        viewer=g.viewer,
        context=g.context,
    )


def activity_page(ctx: int, module: CourseModule, activity: Activity) -> ActivityPage:
    from course_templates.loader import installed_files_dir

    return ActivityPage(
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
    module = _module(module_key)
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
        page = activity_page(ctx, module, row)
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
