"""Mentor and pengampu reports: write (draft, then submit), read, print."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import StaffReport
from lti_tool.services import reports, roster
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("reports", __name__)
READERS = (PENGAMPU, ADMIN)
MAX_TEXT = 8000
ERRORS = {
    "week": _l("Choose the week the report is about."),
    "rombel": _l("Choose one of your rombel."),
    "too_long": _l("A part of the report can be at most 8000 characters."),
    "empty": _l("Nothing was lost: fill in the three parts before submitting."),
}
FIELDS = ("constraints", "lessons", "recommendations")


def _visible(report: StaffReport) -> bool:
    return g.role in READERS or report.author_id == g.viewer.user_id


@bp.get("/c/<int:ctx>/module/<module_key>/laporan")
@course_access
def index(ctx: int, module_key: str):
    if g.role not in (MENTOR, PENGAMPU, ADMIN):
        abort(403)
    db = db_session()
    inst = _instance(ctx, module_key)
    rows = db.scalars(
        select(StaffReport).where(StaffReport.instance_id == inst.id).order_by(StaffReport.week)
    ).all()
    own_rombels = [r for r in roster.rombels(db, inst) if r.mentor_id == g.viewer.user_id]
    return render_template(
        "course/reports.html",
        inst=inst,
        module=inst.module,
        reports=[r for r in rows if _visible(r)],
        own_rombels=own_rombels,
        rombel_names={r.id: r.name for r in roster.rombels(db, inst)},
        weeks=max((b.week + b.weeks - 1 for b in inst.module.blocks), default=6),
        error=ERRORS.get(request.args.get("error", "")),
        viewer=g.viewer,
        context=g.context,
    )


@bp.post("/c/<int:ctx>/module/<module_key>/laporan")
@course_access
def create(ctx: int, module_key: str):
    """Start a report: a mentor's on one of their rombel, or the pengampu's on the class."""
    db = db_session()
    inst = _instance(ctx, module_key)
    week = int_param(request.form.get("week"), 2)
    if week is None or not 1 <= week <= 52:
        return redirect(url_for("reports.index", ctx=ctx, module_key=module_key, error="week"))
    if g.role == MENTOR:
        own = {r.id for r in roster.rombels(db, inst) if r.mentor_id == g.viewer.user_id}
        rombel = int_param(request.form.get("rombel_id"))
        if rombel not in own:
            return redirect(
                url_for("reports.index", ctx=ctx, module_key=module_key, error="rombel")
            )
        report = StaffReport(
            instance_id=inst.id,
            author_id=g.viewer.user_id,
            kind="mentor",
            rombel_id=rombel,
            week=week,
        )
    elif g.role in (PENGAMPU, ADMIN):
        report = StaffReport(
            instance_id=inst.id, author_id=g.viewer.user_id, kind="pengampu", week=week
        )
    else:
        abort(403)
    db.add(report)
    db.commit()
    return redirect(url_for("reports.show", ctx=ctx, module_key=module_key, report_id=report.id))


@bp.route("/c/<int:ctx>/module/<module_key>/laporan/<int:report_id>", methods=["GET", "POST"])
@course_access
def show(ctx: int, module_key: str, report_id: int):
    db = db_session()
    inst = _instance(ctx, module_key)
    report = db.get(StaffReport, report_id)
    if report is None or report.instance_id != inst.id or not _visible(report):
        abort(404)
    editable = report.submitted_at is None and report.author_id == g.viewer.user_id
    values = {f: getattr(report, f) or "" for f in FIELDS}
    error, status = None, 200
    if request.method == "POST":
        if not editable:
            abort(403)
        values = {f: (request.form.get(f) or "").strip() for f in FIELDS}
        submitting = "submit" in request.form
        if any(len(v) > MAX_TEXT for v in values.values()):
            error, status = ERRORS["too_long"], 400
        elif submitting and not all(values.values()):
            error, status = ERRORS["empty"], 400
        else:
            for f in FIELDS:
                setattr(report, f, values[f] or None)
            if submitting:
                report.snapshot = reports.contents(db, inst, report)
                report.submitted_at = utcnow()
            db.commit()
            return redirect(
                url_for(
                    "reports.show", ctx=ctx, module_key=module_key, report_id=report.id, saved=1
                )
            )
    return render_template(
        "course/report.html",
        inst=inst,
        module=inst.module,
        report=report,
        contents=reports.contents(db, inst, report),
        values=values,
        editable=editable,
        error=error,
        saved=request.args.get("saved"),
        viewer=g.viewer,
        context=g.context,
    ), status
