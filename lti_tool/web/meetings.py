"""Pages for tatap muka and web conferences: the list, and the record form."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.db import session as db_session
from lti_tool.models import MeetingRecord, Rombel
from lti_tool.services import meetings, roster
from lti_tool.services.instances import InstanceError
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("meetings", __name__)
EDITORS = (PENGAMPU, ADMIN)
STATUS_LABELS = {
    "hadir": _l("present"),
    "izin": _l("excused"),
    "sakit": _l("sick"),
    "alpa": _l("absent"),
}
ERRORS = {
    "date": _l("Enter the date of the meeting."),
    "title": _l("Give the web conference a title."),
    "time": _l("Enter the time as HH:MM, for example 08:30."),
    "attendance_incomplete": _l("Nothing was lost: mark every peserta on the attendance list."),
    "text_too_long": _l("A field of the minutes can be at most 4000 characters."),
}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _rombels_for(db, inst) -> list[Rombel]:
    groups = roster.rombels(db, inst)
    if g.role == MENTOR:
        return [r for r in groups if r.mentor_id == g.viewer.user_id]
    if g.role in EDITORS:
        return groups
    abort(403)


@bp.get("/c/<int:ctx>/module/<module_key>/pertemuan")
@course_access
def index(ctx: int, module_key: str):
    db = db_session()
    inst = _instance(ctx, module_key)
    groups = _rombels_for(db, inst)
    records = {
        (r.key, r.rombel_id): r
        for r in db.scalars(select(MeetingRecord).where(MeetingRecord.instance_id == inst.id))
    }
    web = sorted((r for r in records.values() if r.kind == "web"), key=lambda r: (r.held_on, r.key))
    return render_template(
        "course/meetings.html",
        inst=inst,
        module=inst.module,
        planned=meetings.template_meetings(inst),
        groups=groups,
        records=records,
        web=web,
        can_edit=g.role in EDITORS,
        viewer=g.viewer,
        context=g.context,
        saved=request.args.get("saved"),
    )


def _target(db, inst, key: str, rombel_arg: str):
    """(kind, title, rombel id) of the meeting being recorded, or 404/403."""
    groups = {r.id: r for r in _rombels_for(db, inst)}
    if key.startswith("web-"):
        if g.role not in EDITORS:
            abort(403)
        existing = meetings.find(db, inst, key, None)
        if key != "web-new" and existing is None:
            abort(404)
        return "web", (existing.title if existing else ""), None
    planned = {m["key"]: m for m in meetings.template_meetings(inst)}
    rombel_id = int_param(rombel_arg)
    if key not in planned or rombel_id not in groups:
        abort(404)
    return "tm", planned[key]["title"], rombel_id


@bp.route("/c/<int:ctx>/module/<module_key>/pertemuan/<key>", methods=["GET", "POST"])
@course_access
def record(ctx: int, module_key: str, key: str):
    db = db_session()
    inst = _instance(ctx, module_key)
    rombel_arg = request.args.get("rombel", "")
    kind, title, rombel_id = _target(db, inst, key, rombel_arg)
    existing = None if key == "web-new" else meetings.find(db, inst, key, rombel_id)
    people = meetings.members(db, inst, rombel_id)
    form = request.form
    error = None
    if request.method == "POST":
        title = (form.get("title") or title).strip()[:300] if kind == "web" else title
        statuses = {p.id: form.get(f"hadir-{p.id}", "") for p in people}
        texts = {f: (form.get(f) or "").strip() for f in meetings.TEXT_FIELDS}
        time_value = (form.get("time") or "").strip()
        try:
            held_on = date.fromisoformat(form.get("held_on", ""))
        except ValueError:
            error = "date"
        if error is None and time_value and not _TIME.match(time_value):
            error = "time"
        if error is None and kind == "web" and not title:
            error = "title"
        if error is None:
            try:
                saved_key = meetings.next_web_key(db, inst) if key == "web-new" else key
                meetings.save(
                    db,
                    inst,
                    key=saved_key,
                    kind=kind,
                    title=title,
                    rombel_id=rombel_id,
                    data=meetings.MeetingInput(held_on, time_value or None, texts, statuses),
                    by=g.viewer.user_id,
                )
                db.commit()
                return redirect(url_for("meetings.index", ctx=ctx, module_key=module_key, saved=1))
            except InstanceError as exc:
                db.rollback()
                error = str(exc)
        values = {**texts, "held_on": form.get("held_on", ""), "time": time_value, "title": title}
        marks = statuses
        status_code = 400
    else:
        values = {f: getattr(existing, f) or "" for f in meetings.TEXT_FIELDS} if existing else {}
        values["held_on"] = existing.held_on.isoformat() if existing else ""
        values["time"] = (existing.time or "") if existing else ""
        values["title"] = title
        marks = meetings.attendance(db, existing)
        status_code = 200
    rombel = db.get(Rombel, rombel_id) if rombel_id else None
    return render_template(
        "course/meeting_form.html",
        inst=inst,
        module=inst.module,
        kind=kind,
        key=key,
        title=title,
        rombel=rombel,
        people=people,
        values=values,
        marks=marks,
        statuses=STATUS_LABELS,
        error=ERRORS.get(error or ""),
        viewer=g.viewer,
        context=g.context,
    ), status_code
