"""The gradebook sync page (pengampu, admin): what reached the LMS, what waits, what the
LMS refused and why; send now, send the failed ones again, or every score again; and
what the LMS gradebook holds for a column, next to the tool's value."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grading import outbox
from grading.delivery import RefusedError, RetryLaterError, deliver_due, read_results
from grading.passback import activity_resource_id, final_resource_id, offers_ags
from grading.report import scores_in
from lti_tool.db import session as db_session
from lti_tool.lti.http import http_session
from lti_tool.models import Context, LineItem, User
from lti_tool.services import roster, scores
from lti_tool.services.roles import ADMIN, PENGAMPU
from lti_tool.web.auth import course_access
from lti_tool.web.views import _instance

bp = Blueprint("grades", __name__)
MESSAGES = {
    "sent": _l("Sent: %(n)s delivered."),
    "requeued": _l("%(n)s failed score(s) queued again."),
    "resent": _l("%(n)s score(s) queued again, with the final scores."),
    "read_failed": _l("The LMS gradebook could not be read: %(detail)s"),
}


def _editor(ctx: int, module_key: str):
    if g.role not in (PENGAMPU, ADMIN):
        abort(403)
    return _instance(ctx, module_key)


def _columns(inst) -> list[tuple[str, str]]:
    """(resource id, label) of the class's gradebook columns."""
    rule = scores.rule_of(inst)
    cols = [
        (activity_resource_id(a), f"{b.title}: {a.title}")
        for b in inst.module.blocks
        for a in b.activities
        if a.graded
    ]
    return [*cols, (final_resource_id(inst.module_key), f"{rule.label} ({rule.name})")]


@bp.get("/c/<int:ctx>/module/<module_key>/nilai/lms")
@course_access
def page(ctx: int, module_key: str):
    db = db_session()
    inst = _editor(ctx, module_key)
    st = outbox.status(db, ctx)
    names = {
        u.id: u.name or u.email or u.sub
        for u in db.scalars(
            select(User).where(User.id.in_({r.user_id for r in st.failed + st.pending}))
        )
    }
    columns = _columns(inst)
    labels = dict(columns)
    created = {
        r.resource_id for r in db.scalars(select(LineItem).where(LineItem.context_pk == ctx))
    }
    comparison, read_error = None, None
    chosen = request.args.get("column")
    if chosen in labels:
        comparison, read_error = _compare(db, inst, chosen)
    code = request.args.get("done")
    note = None
    if code in MESSAGES and code != "read_failed":
        note = str(MESSAGES[code]) % {"n": request.args.get("n", "0")}
    return render_template(
        "course/grades.html",
        inst=inst,
        module=inst.module,
        status=st,
        names=names,
        labels=labels,
        columns=columns,
        created=created,
        chosen=chosen,
        comparison=comparison,
        read_error=read_error,
        note=note,
        ags=offers_ags(db, ctx),
        viewer=g.viewer,
        context=g.context,
    )


def _compare(db, inst, resource_id: str):
    """[(name, the tool's value, the LMS's value)] for one column."""
    context = db.get(Context, inst.context_pk)
    key = current_app.extensions["lti_registry"].signing_key(db)
    try:
        held = read_results(db, key, http_session(), context, resource_id)
    except (RefusedError, RetryLaterError) as exc:
        return None, str(MESSAGES["read_failed"]) % {"detail": exc.detail[:300]}
    people = roster.peserta(db, inst)
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_([p.id for p in people])))}
    mine: dict[int, Decimal | None] = {}
    if resource_id.startswith("f:"):
        for uid, result in scores.finals(db, inst, list(users)).items():
            mine[uid] = result.value if isinstance(result.value, Decimal) else None
    else:
        acts = {activity_resource_id(a): a for b in inst.module.blocks for a in b.activities}
        activity = acts[resource_id]
        for (uid, aid), row in scores_in(db, inst.context_pk, list(users)).items():
            if aid == activity.id:
                mine[uid] = Decimal(row.score)
    rows = []
    for p in people:
        lms = held.get(users[p.id].sub) if p.id in users else None
        rows.append((p.name, mine.get(p.id), lms))
    return rows, None


@bp.post("/c/<int:ctx>/module/<module_key>/nilai/lms/<action>")
@course_access
def act(ctx: int, module_key: str, action: str):
    db = db_session()
    inst = _editor(ctx, module_key)
    if action == "send":
        key = current_app.extensions["lti_registry"].signing_key(db)
        out = deliver_due(db, key, http_session(), context_pk=ctx, limit=500)
        done, n = "sent", out.delivered
    elif action == "retry":
        n = outbox.retry_failed(db, ctx)
        done = "requeued"
    elif action == "resend":
        n = outbox.resend_all(db, inst)
        done = "resent"
    else:
        abort(404)
    db.commit()
    return redirect(url_for("grades.page", ctx=ctx, module_key=module_key, done=done, n=n))
