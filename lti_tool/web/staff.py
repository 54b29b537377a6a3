"""Staff views of a class: completion matrix, deadlines, start, rombel assignment.

Pengampu and admin kelas see the whole class; a mentor sees their own rombel only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.db import session as db_session
from lti_tool.lti.http import http_session
from lti_tool.models import ActivityCompletion, Context, DueOverride, Membership
from lti_tool.services import instances, lms_groups, nrps, roster, schedule
from lti_tool.services.instances import InstanceError
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, STAFF
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("staff", __name__)
EDITORS = (PENGAMPU, ADMIN)

ERRORS = {
    "roster_frozen": _l(
        "The class has started: its peserta and mentors can no longer change (Juknis IV.D.2.b)."
    ),
    "rombel_name": _l("Give the rombel a name."),
    "rombel_exists": _l("A rombel with this name exists already."),
    "rombel_name_long": _l("The rombel's name is too long: at most 100 characters."),
    "not_a_mentor": _l("Only a mentor of this course can lead a rombel."),
    "not_a_peserta": _l("Only peserta of this course can be placed in a rombel."),
    "no_such_rombel": _l("That rombel does not exist."),
    "no_start_date": _l("Set the start date before starting the class."),
    "no_such_activity": _l("That activity is not part of this module."),
    "due_before_start": _l("A due date cannot be before the start of the class."),
    "due_date": _l("Enter the due date as a date (for example 2026-07-31)."),
    "no_nrps": _l("The LMS does not share this course's roster with the tool (NRPS)."),
    "no_platform": _l("This course's LMS registration was removed."),
    "lms_error": _l("The LMS did not give the roster. Nothing was changed: try again later."),
    "groups_frozen": _l(
        "The class has started: its rombel can no longer be taken from the LMS groups, "
        "nothing was changed (Juknis IV.D.2.b)."
    ),
    "no_gs": _l("The LMS does not share this course's groups with the tool."),
    "gs_error": _l("The LMS did not give its course groups. Nothing was changed: try again later."),
}
WARNINGS = {
    "too_many_peserta": _l("%(n)s peserta: a Model 1 class has at most %(max)s (40 per pengampu)."),
    "mentors_needed": _l("%(n)s peserta need %(needed)s mentor(s); the rombel have %(have)s."),
    "rombel_too_big": _l("Rombel %(name)s has %(n)s peserta; a PLPG rombel has about 10."),
    "unassigned": _l("%(n)s peserta are in no rombel yet."),
}


def _back(ctx: int, key: str, **args):
    return redirect(url_for("staff.overview", ctx=ctx, module_key=key, **args))


@bp.get("/c/<int:ctx>/module/<module_key>/kelas")
@course_access
def overview(ctx: int, module_key: str):
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    inst = _instance(ctx, module_key)
    people = roster.peserta(db, inst)
    groups = roster.rombels(db, inst)
    assigned = roster.assignments(db, inst)
    if g.role == MENTOR:
        mine = {r.id for r in groups if r.mentor_id == g.viewer.user_id}
        people = [p for p in people if assigned.get(p.id) in mine]
        groups = [r for r in groups if r.id in mine]
    activities = [(b, a) for b in inst.module.blocks for a in b.activities]
    plugins = current_app.extensions["lti_activities"]
    review_links = {}
    for _b, a in activities:
        plugin = plugins.get(a.type)
        link = plugin.staff_url(ctx, inst.module_key, a) if plugin is not None else None
        if link:
            review_links[a.id] = link
    done = {
        (user_id, activity_id)
        for user_id, activity_id in db.execute(
            select(ActivityCompletion.user_id, ActivityCompletion.activity_id).where(
                ActivityCompletion.context_pk == ctx,
                ActivityCompletion.completed_at.is_not(None),
            )
        )
    }
    first_launch = dict(
        db.execute(
            select(Membership.user_id, Membership.first_launch_at).where(
                Membership.context_pk == ctx
            )
        ).all()
    )
    gone = roster.withdrawn(db, inst)
    never = roster.never_launched(db, inst)
    rows = []
    for p in people:
        ticks = [(p.id, a.id) in done for _b, a in activities]
        percent = round(100 * sum(ticks) / len(ticks)) if ticks else 0
        rows.append(
            {
                "person": p,
                "ticks": ticks,
                "percent": percent,
                "rombel": assigned.get(p.id),
                "first_launch": first_launch.get(p.id),
                "withdrawn": p.id in gone,
                "never": p.id in never,
            }
        )
    per_activity = [
        round(100 * sum(r["ticks"][i] for r in rows) / len(rows)) if rows else 0
        for i in range(len(activities))
    ]
    deadlines = []
    if inst.start_date:
        overrides = {
            (o.activity_id, o.user_id): o.due_date
            for o in db.scalars(select(DueOverride).where(DueOverride.instance_id == inst.id))
        }
        names = {p.id: p.name for p in roster.peserta(db, inst)}
        for b, a in activities:
            due = schedule.due_date(
                inst.start_date, b.week, b.weeks, a.due_day, overrides.get((a.id, None))
            )
            personal = [
                (names.get(uid, uid), d)
                for (aid, uid), d in overrides.items()
                if aid == a.id and uid is not None
            ]
            deadlines.append((b, a, due, (a.id, None) in overrides, personal))
    return render_template(
        "course/staff.html",
        inst=inst,
        module=inst.module,
        activities=activities,
        review_links=review_links,
        rows=rows,
        per_activity=per_activity,
        deadlines=deadlines,
        groups=groups,
        group_names={r.id: r.name for r in roster.rombels(db, inst)},
        mentors=roster.mentors(db, inst),
        mentor_names={m.id: m.name for m in roster.mentors(db, inst)},
        warnings=[str(WARNINGS[code]) % args for code, args in roster.warnings(db, inst)]
        if g.role in EDITORS
        else [],
        late=roster.late_launches(db, inst) if g.role in EDITORS else [],
        can_edit=g.role in EDITORS,
        has_nrps=bool((db.get(Context, ctx).services or {}).get("nrps")),
        has_groups=lms_groups.offered(db.get(Context, ctx)),
        grouped=_grouped_summary(db, inst) if g.role in EDITORS else None,
        never=[r["person"] for r in rows if r["never"]],
        synced=request.args.get("synced"),
        viewer=g.viewer,
        context=g.context,
        error=ERRORS.get(request.args.get("error", "")),
        saved=request.args.get("saved"),
    )


def _apply_change(ctx: int, module_key: str, change) -> Any:
    """Run a roster or schedule change; a refusal rolls back and says why, in one place."""
    db = db_session()
    try:
        change(db)
    except InstanceError as exc:
        db.rollback()
        return _back(ctx, module_key, error=str(exc))
    db.commit()
    return _back(ctx, module_key, saved=1)


def _editor_instance(ctx: int, module_key: str):
    if g.role not in EDITORS:
        abort(403)
    return _instance(ctx, module_key)


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/start")
@course_access
def start(ctx: int, module_key: str):
    inst = _editor_instance(ctx, module_key)
    return _apply_change(ctx, module_key, lambda db: roster.start_class(db, inst))


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/sync")
@course_access
def sync(ctx: int, module_key: str):
    """Read the course roster from the LMS (NRPS): who is enrolled but never came."""
    _editor_instance(ctx, module_key)
    db = db_session()
    context = db.get(Context, ctx)
    key = current_app.extensions["lti_registry"].signing_key(db)
    try:
        members = nrps.fetch_members(db, context, key, http_session())
        result = nrps.sync_roster(db, context, members)
    except nrps.RosterError as exc:
        db.rollback()
        return _back(ctx, module_key, error=exc.code)
    db.commit()
    return _back(ctx, module_key, synced=f"{result.added}-{result.updated}")


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/due")
@course_access
def set_due(ctx: int, module_key: str):
    """Move a due date for the whole class or for one peserta (empty date: back to the
    template's date)."""
    inst = _editor_instance(ctx, module_key)
    db = db_session()
    raw = request.form.get("due_date", "").strip()
    try:
        due = date.fromisoformat(raw) if raw else None
        activity_id = int(request.form.get("activity_id", ""))
        user = request.form.get("user_id", "")
        user_id = int(user) if user else None
    except ValueError:
        return _back(ctx, module_key, error="due_date")
    if user_id is not None and user_id not in {p.id for p in roster.peserta(db, inst)}:
        return _back(ctx, module_key, error="not_a_peserta")
    return _apply_change(
        ctx,
        module_key,
        lambda db: instances.set_due(db, inst, activity_id, due, user_id, g.viewer.user_id),
    )


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/rombel")
@course_access
def create_rombel(ctx: int, module_key: str):
    inst = _editor_instance(ctx, module_key)
    mentor_id = int_param(request.form.get("mentor_id"))
    name = request.form.get("name", "")
    return _apply_change(
        ctx, module_key, lambda db: roster.create_rombel(db, inst, name, mentor_id)
    )


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/assign")
@course_access
def assign(ctx: int, module_key: str):
    """Assign every listed peserta (field `rombel-<user id>`) in one transaction."""
    inst = _editor_instance(ctx, module_key)
    wanted = [
        (user_id, int_param(value))
        for field, value in request.form.items()
        if field.startswith("rombel-") and (user_id := int_param(field[7:])) is not None
    ]

    def change(db) -> None:
        for user_id, rombel_id in wanted:
            roster.assign(db, inst, user_id, rombel_id, g.viewer.user_id)

    return _apply_change(ctx, module_key, change)


def _grouped_summary(db, inst) -> dict | None:
    """The result of the last "rombel from the LMS groups", from the redirect's query."""
    raw = request.args.get("grouped", "")
    parts = raw.split("-")
    counts = [int_param(p, 9) for p in parts]
    if len(parts) != 4 or None in counts:
        return None
    several = {int_param(u) for u in request.args.get("several", "").split(".")} - {None}
    names = [p.name for p in roster.peserta(db, inst) if p.id in several]
    return {
        "groups": counts[0],
        "created": counts[1],
        "assigned": counts[2],
        "mentors": counts[3],
        "several": names,
        "several_mentors": [n for n in request.args.getlist("mm") if n][:50],
    }


@bp.post("/c/<int:ctx>/module/<module_key>/kelas/lms-groups")
@course_access
def from_lms_groups(ctx: int, module_key: str):
    """Rombel from the LMS's course groups (LTI Course Groups Service): one rombel per
    group, with its peserta and its mentor. Refused once the class has started."""
    inst = _editor_instance(ctx, module_key)
    if inst.started_at is not None:
        return _back(ctx, module_key, error="groups_frozen")
    db = db_session()
    context = db.get(Context, ctx)
    key = current_app.extensions["lti_registry"].signing_key(db)
    http = http_session()
    chosen = request.form.get("set_id") or None
    try:
        groups, sets = lms_groups.fetch_groups(db, context, key, http)
        in_use = lms_groups.group_sets_in_use(groups)
        if chosen is None and len(in_use) > 1:
            names = {s.id: s.name for s in sets}
            choices = [
                (
                    sid or lms_groups.NO_SET,
                    names.get(sid, sid) if sid else None,
                    sum(1 for gr in groups if gr.set_id == sid),
                )
                for sid in in_use
            ]
            db.rollback()
            return render_template(
                "course/lms_groups_choose.html",
                inst=inst,
                module=inst.module,
                choices=choices,
                viewer=g.viewer,
                context=g.context,
            )
        members = lms_groups.fetch_group_members(db, context, key, http)
        nrps.sync_roster(db, context, members)
        result = lms_groups.map_to_rombels(db, inst, groups, members, g.viewer.user_id, chosen)
    except (lms_groups.GroupsError, nrps.RosterError) as exc:
        db.rollback()
        return _back(ctx, module_key, error=exc.code)
    except InstanceError as exc:
        db.rollback()
        code = "groups_frozen" if str(exc) == "roster_frozen" else str(exc)
        return _back(ctx, module_key, error=code)
    db.commit()
    return _back(
        ctx,
        module_key,
        grouped=f"{result.groups}-{result.created}-{result.assigned}-{result.mentors}",
        several=".".join(str(u) for u in result.in_several) or None,
        mm=result.several_mentors or None,
    )
