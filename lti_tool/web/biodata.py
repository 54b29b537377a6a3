"""Biodata pages: a peserta fills in theirs; staff see the class's (the UPT's biodata).

A peserta's biodata belongs to one course: they see and change only their own in the
course they launched into. Pengampu and admin kelas see every peserta of the course,
a mentor only the peserta of their own rombel.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from lti_tool.db import session as db_session
from lti_tool.models import Biodata, CourseInstance, Membership, Rombel, RombelMember, User
from lti_tool.reference import lptk, nomor_peserta
from lti_tool.services import biodata
from lti_tool.services.roles import MENTOR, PESERTA, STAFF
from lti_tool.web.auth import course_access

bp = Blueprint("biodata", __name__)
PAGE_SIZE = 200


def _mentored(db, ctx: int) -> set[int] | None:
    """The peserta the viewer may see: None for everyone (pengampu, admin), else the
    members of the rombel the viewing mentor leads in this course."""
    if g.role != MENTOR:
        return None
    rows = db.scalars(
        select(RombelMember.user_id)
        .join(Rombel, Rombel.id == RombelMember.rombel_id)
        .join(CourseInstance, CourseInstance.id == Rombel.instance_id)
        .where(CourseInstance.context_pk == ctx, Rombel.mentor_id == g.viewer.user_id)
    )
    return set(rows)


@bp.route("/c/<int:ctx>/biodata", methods=["GET", "POST"])
@course_access
def page(ctx: int):
    if g.role == PESERTA:
        return _own(ctx)
    if g.role not in STAFF or request.method != "GET":
        abort(403)
    return _class_list(ctx)


def _own(ctx: int):
    """The peserta's form: prefilled from the LMS's ID number the first time."""
    db = db_session()
    uid = g.viewer.user_id
    row = biodata.get(db, ctx, uid)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data, errors = biodata.check(request.form)
        if data is not None:
            biodata.save(db, ctx, uid, data)
            db.commit()
            return redirect(url_for("biodata.page", ctx=ctx, saved=1))
        db.rollback()
        status = 400
        values = {k: request.form.get(k, "") for k in FIELDS}
    elif row is not None:
        values = {k: getattr(row, k) or "" for k in FIELDS}
    else:
        user = db.get(User, uid)
        values = dict.fromkeys(FIELDS, "")
        values["nomor_peserta"] = (user.person_sourcedid if user else None) or ""
    parsed = nomor_peserta.try_parse(row.nomor_peserta) if row is not None else None
    return render_template(
        "course/biodata.html",
        values=values,
        errors=errors,
        row=row,
        parsed=parsed,
        lptk_list=lptk.all_lptk(),
        chosen_lptk=lptk.get(row.lptk) if row is not None else None,
        saved=request.args.get("saved") and not errors,
        viewer=g.viewer,
        context=g.context,
    ), status


FIELDS = ("nomor_peserta", "nuptk", "instansi", "lptk", "phone")


def _class_list(ctx: int):
    """Every peserta of the course with their biodata (or none yet), a page at a time."""
    db = db_session()
    allowed = _mentored(db, ctx)
    members = (
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.context_pk == ctx, Membership.role == PESERTA)
    )
    if allowed is not None:
        members = members.where(User.id.in_(sorted(allowed) or [-1]))
    total = db.scalar(select(func.count()).select_from(members.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = db.execute(
        select(User, Biodata)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Biodata, (Biodata.user_id == User.id) & (Biodata.context_pk == ctx))
        .where(User.id.in_(members.scalar_subquery()), Membership.context_pk == ctx)
        .order_by(User.name, User.id)
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "course/biodata_list.html",
        rows=[(u, b, b.nomor_peserta if b else u.person_sourcedid) for u, b in rows],
        lptk_of=lptk.get,
        total=total,
        with_biodata=db.scalar(
            select(func.count(Biodata.id)).where(
                Biodata.context_pk == ctx, Biodata.user_id.in_(members.scalar_subquery())
            )
        ),
        page=number,
        pages=pages,
        viewer=g.viewer,
        context=g.context,
    )


@bp.get("/c/<int:ctx>/biodata/<int:user_id>")
@course_access
def view(ctx: int, user_id: int):
    """One peserta's biodata, for staff of the course."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    member = db.scalar(
        select(Membership.id).where(
            Membership.context_pk == ctx,
            Membership.user_id == user_id,
            Membership.role == PESERTA,
        )
    )
    if member is None:
        abort(404)
    allowed = _mentored(db, ctx)
    if allowed is not None and user_id not in allowed:
        abort(403)
    user = db.get(User, user_id)
    row = biodata.get(db, ctx, user_id)
    number = row.nomor_peserta if row is not None else user.person_sourcedid
    return render_template(
        "course/biodata_view.html",
        person=user,
        row=row,
        number=number,
        parsed=nomor_peserta.try_parse(number),
        chosen_lptk=lptk.get(row.lptk) if row is not None else None,
        viewer=g.viewer,
        context=g.context,
    )
