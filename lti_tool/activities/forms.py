"""Helpers for plugin form handlers.

Every plugin form posts to `/c/<ctx>/<plugin>/<activity_id>`: the handler must find the
activity in a module placed in *this* course, and a refused form must come back inside
the activity's page, with what was typed, and status 400.
"""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from markupsafe import Markup

from lti_tool.activities.base import ActivityPage
from lti_tool.db import session as db_session


def activity_in_course(ctx: int, activity_id: int, type_name: str):
    """(activity, module, instance) for an activity of this plugin placed in this course;
    404 otherwise."""
    from lti_tool.models import Activity
    from lti_tool.services.instances import instance_for

    db = db_session()
    activity = db.get(Activity, activity_id)
    if activity is None or activity.type != type_name:
        abort(404)
    module = activity.block.module
    instance, _created = instance_for(db, ctx, module.key)
    if instance is None or instance.module_id != module.id:
        abort(404)
    return activity, module, instance


def page_of(ctx: int, activity, module, instance) -> ActivityPage:
    from lti_tool.web.views import activity_page

    return activity_page(ctx, module, activity, instance.id)


def refuse(body_html: str, activity, module, status: int = 400):
    """The activity page around a plugin body re-rendered with the refused input."""
    return render_template(
        "course/activity.html",
        module=module,
        block=activity.block,
        activity=activity,
        body=Markup(body_html),  # noqa: S704 - plugins render autoescaped templates
        viewer=g.viewer,
        context=g.context,
    ), status


def back_to(ctx: int, module, activity, **args):
    """Redirect to the activity's page (after a successful post)."""
    return redirect(
        url_for(
            "web.activity",
            ctx=ctx,
            module_key=module.key,
            block_key=activity.block.key,
            activity_key=activity.key,
            **args,
        )
    )
