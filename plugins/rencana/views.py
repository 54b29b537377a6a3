"""The learning-plan form: saved as a draft at any time, submitted once complete.

Nothing a peserta typed is lost: a refused submission (an empty week, a text too
long) keeps everything that was typed, and staff read the plans of their class.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import User
from lti_tool.services import completion
from lti_tool.services.roles import PESERTA, STAFF
from lti_tool.web.auth import course_access

bp = Blueprint("rencana", __name__, template_folder="templates")


def _plan(db, ctx: int, activity_id: int, user_id: int):
    from plugins.rencana.models import RencanaPlan

    return db.scalars(
        select(RencanaPlan).where(
            RencanaPlan.context_pk == ctx,
            RencanaPlan.activity_id == activity_id,
            RencanaPlan.user_id == user_id,
        )
    ).first()


def render_page(page, entries=None, errors=None) -> str:
    from plugins.rencana.models import RencanaPlan
    from plugins.rencana.plugin import RencanaSettings

    settings = RencanaSettings.model_validate(page.activity.settings)
    db = db_session()
    plan = _plan(db, page.context_id, page.activity.id, page.user_id)
    plans = []
    if page.role in STAFF:
        rows = db.execute(
            select(RencanaPlan, User)
            .join(User, RencanaPlan.user_id == User.id)
            .where(
                RencanaPlan.context_pk == page.context_id,
                RencanaPlan.activity_id == page.activity.id,
            )
            .order_by(User.name)
        )
        plans = [(p, u) for p, u in rows]
    return render_template(
        "rencana/form.html",
        page=page,
        prompts=settings.weeks,
        max_chars=settings.max_chars,
        entries=entries if entries is not None else (plan.entries if plan else {}),
        plan=plan,
        plans=plans,
        errors=errors or {},
        action=url_for("rencana.save", ctx=page.context_id, activity_id=page.activity.id),
    )


@bp.post("/c/<int:ctx>/rencana/<int:activity_id>")
@course_access
def save(ctx: int, activity_id: int):
    """Save the draft, or submit it (`submit` button) when every week is filled in."""
    from plugins.rencana.models import RencanaPlan
    from plugins.rencana.plugin import RencanaSettings

    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "rencana")
    settings = RencanaSettings.model_validate(activity.settings)
    entries = {
        str(i): request.form.get(f"week-{i}", "").strip() for i in range(len(settings.weeks))
    }
    errors = {}
    for key, text in entries.items():
        if len(text) > settings.max_chars:
            errors[key] = _("At most %(n)s characters.", n=settings.max_chars)
    submitting = "submit" in request.form
    if submitting:
        for key, text in entries.items():
            if not text:
                errors[key] = _("Fill in this week before submitting.")
    plan = _plan(db, ctx, activity_id, g.viewer.user_id)
    if errors:
        # Keep what was typed: show it again with the messages, change nothing stored.
        page = page_of(ctx, activity, module, instance)
        return refuse(render_page(page, entries=entries, errors=errors), activity, module)
    if plan is None:
        plan = RencanaPlan(context_pk=ctx, activity_id=activity_id, user_id=g.viewer.user_id)
        db.add(plan)
    plan.entries = entries
    plan.updated_at = utcnow()
    if submitting:
        plan.submitted_at = utcnow()
        completion.record(db, ctx, activity, g.viewer.user_id, "submitted")
    db.commit()
    return back_to(ctx, module, activity, saved="submitted" if submitting else "draft")
