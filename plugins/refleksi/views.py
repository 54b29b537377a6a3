"""Reflection pages: the peserta's form (draft, submit, edit until the configured
time), the staff list of the class (a mentor sees only his rombel), a reading view
per reflection with its comment thread, and a printable record of the class.

Nothing a peserta typed is lost: a refused form (too few words, too long, the time
for editing over) comes back with the typed text and changes nothing stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.mail.notices import notify_feedback
from lti_tool.models import CourseInstance, DueOverride, User
from lti_tool.services import completion, roster, schedule
from lti_tool.services.roles import MENTOR, PESERTA, STAFF
from lti_tool.web.auth import course_access
from plugins.refleksi import text
from plugins.refleksi.models import RefleksiComment, RefleksiEntry
from plugins.refleksi.settings import RefleksiSettings, settings_of

bp = Blueprint(
    "refleksi",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/refleksi",
)

#: Longest answer to one prompt, and longest comment (characters as typed).
MAX_CHARS = 20000
MAX_COMMENT = 5000

MESSAGES = {
    "draft": _l("Draft saved. It is not submitted yet."),
    "submitted": _l("Your reflection was submitted."),
    "updated": _l("Your submitted reflection was updated."),
    "commented": _l("Your comment was added."),
    "invalid": _l("Nothing was lost: correct the answers marked below, then try again."),
    "closed": _l(
        "The time for changing this reflection ended on %(date)s. Nothing was saved; what "
        "you typed is below so that you can copy it."
    ),
    "comment_empty": _l("Write a comment before sending it."),
    "comment_long": _l("A comment can be at most %(n)s characters."),
}
FIELD_ERRORS = {
    "required": _l("Answer this question before submitting."),
    "too_long": _l("At most %(n)s characters."),
    "min_words": _l("At least %(n)s words are needed (now %(have)s)."),
}
STATUS = {
    "none": _l("Not started (status)"),
    "draft": _l("Draft (status)"),
    "submitted": _l("Submitted (status)"),
}

_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """The plugin's static file with a content fingerprint."""
    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("refleksi.static", filename=filename, v=v)


@bp.app_context_processor
def _helpers():
    return {"refleksi_asset": asset_url, "refleksi_html": text.render}


def _message(code: str | None, **info) -> str | None:
    if code not in MESSAGES:
        return None
    return str(MESSAGES[code]) % info if info else str(MESSAGES[code])


# -- who, when ---------------------------------------------------------------------------


def _instance(db, instance_id: int | None) -> CourseInstance | None:
    return db.get(CourseInstance, instance_id) if instance_id else None


def closes_at(
    db, inst: CourseInstance | None, activity, user_id: int, settings: RefleksiSettings
) -> datetime | None:
    """When the peserta can no longer change the reflection (naive UTC); None: never
    (`always`, or no start date yet)."""
    if settings.editable_until == "always" or inst is None or inst.start_date is None:
        return None
    block = activity.block
    if settings.editable_until == "week_end":
        last = schedule.block_span(inst.start_date, block.week, block.weeks).last
        return schedule.end_of_day_utc(last, inst.timezone)
    overrides = {
        o.user_id: o.due_date
        for o in db.scalars(
            select(DueOverride).where(
                DueOverride.instance_id == inst.id,
                DueOverride.activity_id == activity.id,
                (DueOverride.user_id.is_(None)) | (DueOverride.user_id == user_id),
            )
        )
    }
    due = schedule.due_date(
        inst.start_date,
        block.week,
        block.weeks,
        activity.due_day,
        overrides.get(None),
        overrides.get(user_id),
    )
    return schedule.end_of_day_utc(due, inst.timezone)


def _is_closed(closes: datetime | None) -> bool:
    return closes is not None and utcnow() > closes


def visible_peserta(db, inst: CourseInstance | None, role: str, viewer_id: int):
    """The peserta whose reflections this staff member reads (a mentor: his rombels)."""
    if inst is None or role not in STAFF:
        return []
    people = roster.peserta(db, inst)
    if role == MENTOR:
        mine = {r.id for r in roster.rombels(db, inst) if r.mentor_id == viewer_id}
        assigned = roster.assignments(db, inst)
        people = [p for p in people if assigned.get(p.id) in mine]
    return people


def _peers(db, inst: CourseInstance | None, user_id: int) -> set[int]:
    """A peserta's fellow peserta: his rombel, or the class when he is in none."""
    if inst is None:
        return set()
    mine = roster.rombel_of(db, inst, user_id)
    people = mine.members if mine is not None else roster.peserta(db, inst)
    return {p.id for p in people if p.id != user_id}


def _entry(db, ctx: int, activity_id: int, user_id: int) -> RefleksiEntry | None:
    return db.scalars(
        select(RefleksiEntry).where(
            RefleksiEntry.context_pk == ctx,
            RefleksiEntry.activity_id == activity_id,
            RefleksiEntry.user_id == user_id,
        )
    ).first()


def _entries(db, ctx: int, activity_id: int) -> dict[int, RefleksiEntry]:
    rows = db.scalars(
        select(RefleksiEntry).where(
            RefleksiEntry.context_pk == ctx, RefleksiEntry.activity_id == activity_id
        )
    )
    return {e.user_id: e for e in rows}


def status_of(entry: RefleksiEntry | None) -> str:
    if entry is None:
        return "none"
    return "submitted" if entry.submitted_at is not None else "draft"


def _name(user: User | None) -> str:
    if user is None:
        return "—"
    full = " ".join(p for p in (user.given_name, user.family_name) if p)
    return user.name or full or user.email or user.sub


@dataclass
class CommentView:
    author: str
    role: str
    body: Markup
    at: datetime
    mine: bool


def _comments(db, entry: RefleksiEntry | None, viewer_id: int) -> list[CommentView]:
    if entry is None:
        return []
    rows = db.execute(
        select(RefleksiComment, User)
        .outerjoin(User, RefleksiComment.author_id == User.id)
        .where(RefleksiComment.entry_id == entry.id)
        .order_by(RefleksiComment.created_at, RefleksiComment.id)
    )
    return [
        CommentView(
            author=_name(u),
            role=c.author_role,
            body=text.render(c.body),
            at=c.created_at,
            mine=c.author_id == viewer_id,
        )
        for c, u in rows
    ]


# -- the activity page -------------------------------------------------------------------


def render_page(
    page,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    refused_closed: bool = False,
    comment: str = "",
    comment_error: str | None = None,
) -> str:
    """The reflection as its activity page shows it: the peserta's form (or his
    reflection, once closed) with the comments; for staff, the class at a glance."""
    db = db_session()
    activity = page.activity
    settings = settings_of(activity)
    inst = _instance(db, page.instance_id)
    context: dict = {
        "page": page,
        "activity": activity,
        "settings": settings,
        "status_labels": STATUS,
        "max_chars": MAX_CHARS,
        "max_comment": MAX_COMMENT,
    }
    if page.role == PESERTA:
        entry = _entry(db, page.context_id, activity.id, page.user_id)
        closes = closes_at(db, inst, activity, page.user_id, settings)
        values = (
            typed
            if typed is not None
            else {k: text.for_editing(v) for k, v in (entry.answers if entry else {}).items()}
        )
        peers = []
        if settings.visible_to_peers:
            others = _peers(db, inst, page.user_id)
            all_entries = _entries(db, page.context_id, activity.id)
            users = (
                {u.id: u for u in db.scalars(select(User).where(User.id.in_(others)))}
                if others
                else {}
            )
            peers = [
                (_name(users.get(uid)), e)
                for uid, e in all_entries.items()
                if uid in others and e.submitted_at is not None
            ]
            peers.sort(key=lambda pe: pe[0].lower())
        context.update(
            entry=entry,
            status=status_of(entry),
            values=values,
            errors=errors or {},
            error=error or _message(request.args.get("saved")),
            error_is_ok=error is None
            and request.args.get("saved")
            in (
                "draft",
                "submitted",
                "updated",
                "commented",
            ),
            closes=closes,
            closed=_is_closed(closes),
            refused_closed=refused_closed,
            comments=_comments(db, entry, page.user_id),
            comment=comment,
            comment_error=comment_error,
            peers=peers,
            action=url_for("refleksi.save", ctx=page.context_id, activity_id=activity.id),
        )
    elif page.role in STAFF:
        people = visible_peserta(db, inst, page.role, page.user_id)
        entries = _entries(db, page.context_id, activity.id)
        counts = {"none": 0, "draft": 0, "submitted": 0}
        for p in people:
            counts[status_of(entries.get(p.id))] += 1
        context.update(
            counts=counts,
            total=len(people),
            staff_url=url_for("refleksi.staff", ctx=page.context_id, activity_id=activity.id),
            record_url=url_for("refleksi.record", ctx=page.context_id, activity_id=activity.id),
        )
    return render_template("refleksi/page.html", **context)


def _read_form(settings: RefleksiSettings) -> dict[str, str]:
    return {p.key: text.normalise(request.form.get(f"p-{p.key}")) for p in settings.prompts}


def check(settings: RefleksiSettings, typed: dict[str, str], submitting: bool) -> dict[str, str]:
    """Per prompt key, what is wrong with the answers (empty: acceptable)."""
    errors: dict[str, str] = {}
    total = 0
    for p in settings.prompts:
        value = typed.get(p.key, "")
        if len(value) > MAX_CHARS:
            errors[p.key] = str(FIELD_ERRORS["too_long"]) % {"n": MAX_CHARS}
            continue
        words = text.word_count(text.clean_source(value))
        total += words
        if not submitting:
            continue
        if p.required and words == 0:
            errors[p.key] = str(FIELD_ERRORS["required"])
        elif words and words < p.min_words:
            errors[p.key] = str(FIELD_ERRORS["min_words"]) % {"n": p.min_words, "have": words}
    if submitting and not errors and total < settings.min_words:
        errors["_total"] = str(FIELD_ERRORS["min_words"]) % {
            "n": settings.min_words,
            "have": total,
        }
    return errors


@bp.post("/c/<int:ctx>/refleksi/<int:activity_id>")
@course_access
def save(ctx: int, activity_id: int):
    """Save a draft (`action=draft`) or submit (`action=submit`). A submitted
    reflection can only be changed by submitting again, so it always meets the rules."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "refleksi")
    settings = settings_of(activity)
    typed = _read_form(settings)
    entry = _entry(db, ctx, activity_id, g.viewer.user_id)
    submitting = request.form.get("action") == "submit" or (
        entry is not None and entry.submitted_at is not None
    )
    closes = closes_at(db, instance, activity, g.viewer.user_id, settings)
    page = page_of(ctx, activity, module, instance)
    if _is_closed(closes):
        message = _message("closed", date=format_datetime(closes, "medium"))
        html = render_page(page, typed=typed, error=message, refused_closed=True)
        return refuse(html, activity, module, 409)
    errors = check(settings, typed, submitting)
    if errors:
        html = render_page(page, typed=typed, errors=errors, error=_message("invalid"))
        return refuse(html, activity, module)
    if entry is None:
        entry = RefleksiEntry(context_pk=ctx, activity_id=activity_id, user_id=g.viewer.user_id)
        db.add(entry)
    was_submitted = entry.submitted_at is not None
    entry.answers = {k: text.clean_source(v) for k, v in typed.items()}
    entry.words = sum(text.word_count(v) for v in entry.answers.values())
    now = utcnow()
    entry.updated_at = now
    if submitting:
        if entry.submitted_at is None:
            entry.submitted_at = now
        completion.record(db, ctx, activity, g.viewer.user_id, "submitted")
    db.commit()
    outcome = "updated" if was_submitted else ("submitted" if submitting else "draft")
    return back_to(ctx, module, activity, saved=outcome, _anchor="refleksi")


# -- staff: the class, one reflection, the printable record ---------------------------------


def _framed(body_html: str, activity, module, status: int = 200):
    return refuse(body_html, activity, module, status)


@dataclass
class Row:
    person: roster.Person
    rombel: str | None
    entry: RefleksiEntry | None
    status: str


def _rows(db, ctx: int, activity, inst) -> list[Row]:
    people = visible_peserta(db, inst, g.role, g.viewer.user_id)
    entries = _entries(db, ctx, activity.id)
    names = {r.id: r.name for r in roster.rombels(db, inst)} if inst else {}
    assigned = roster.assignments(db, inst) if inst else {}
    return [
        Row(
            person=p,
            rombel=names.get(assigned.get(p.id)),
            entry=entries.get(p.id),
            status=status_of(entries.get(p.id)),
        )
        for p in people
    ]


@bp.get("/c/<int:ctx>/refleksi/<int:activity_id>/staff")
@course_access
def staff(ctx: int, activity_id: int):
    """The peserta of the class (a mentor: of his rombels) with the state of their
    reflection, its length and when it was submitted."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "refleksi")
    html = render_template(
        "refleksi/staff.html",
        activity=activity,
        module=module,
        rows=_rows(db, ctx, activity, instance),
        mentor=g.role == MENTOR,
        status_labels=STATUS,
        record_url=url_for("refleksi.record", ctx=ctx, activity_id=activity.id),
    )
    return _framed(html, activity, module)


def _readable_entry(db, ctx: int, entry_id: int):
    """The reflection if it is in this course and the viewer may read it; 404 else."""
    entry = db.get(RefleksiEntry, entry_id)
    if entry is None or entry.context_pk != ctx:
        abort(404)
    if g.role == PESERTA:
        if entry.user_id != g.viewer.user_id:
            abort(404)
    elif g.role in STAFF:
        pass
    else:
        abort(403)
    activity, module, instance = activity_in_course(ctx, entry.activity_id, "refleksi")
    if g.role in STAFF:
        allowed = {p.id for p in visible_peserta(db, instance, g.role, g.viewer.user_id)}
        if entry.user_id not in allowed:
            abort(404)
    return entry, activity, module, instance


def _entry_page(db, ctx, entry, activity, module, comment="", comment_error=None, status=200):
    owner = db.get(User, entry.user_id)
    html = render_template(
        "refleksi/entry.html",
        activity=activity,
        module=module,
        settings=settings_of(activity),
        entry=entry,
        owner=_name(owner),
        status=status_of(entry),
        status_labels=STATUS,
        comments=_comments(db, entry, g.viewer.user_id),
        comment=comment,
        comment_error=comment_error,
        max_comment=MAX_COMMENT,
        notice=_message(request.args.get("saved")),
        staff=g.role in STAFF,
        staff_url=url_for("refleksi.staff", ctx=ctx, activity_id=activity.id),
    )
    return _framed(html, activity, module, status)


@bp.get("/c/<int:ctx>/refleksi/entry/<int:entry_id>")
@course_access
def entry(ctx: int, entry_id: int):
    """One reflection, read-only, with its comment thread."""
    db = db_session()
    row, activity, module, _inst = _readable_entry(db, ctx, entry_id)
    return _entry_page(db, ctx, row, activity, module)


@bp.post("/c/<int:ctx>/refleksi/entry/<int:entry_id>/comment")
@course_access
def comment(ctx: int, entry_id: int):
    """Add a comment: staff who read the reflection, or the peserta who wrote it."""
    db = db_session()
    row, activity, module, instance = _readable_entry(db, ctx, entry_id)
    typed = text.normalise(request.form.get("comment"))
    problem = None
    if len(typed) > MAX_COMMENT:
        problem = _message("comment_long", n=MAX_COMMENT)
    elif text.word_count(text.clean_source(typed)) == 0:
        problem = _message("comment_empty")
    if problem:
        if g.role == PESERTA:
            page = page_of(ctx, activity, module, instance)
            html = render_page(page, comment=typed, comment_error=problem)
            return refuse(html, activity, module)
        return _entry_page(
            db, ctx, row, activity, module, comment=typed, comment_error=problem, status=400
        )
    db.add(
        RefleksiComment(
            entry_id=row.id,
            author_id=g.viewer.user_id,
            author_role=g.role,
            body=text.clean_source(typed),
        )
    )
    if g.role in STAFF:  # emailed to the writer once committed, if the course sends them
        by, title = g.viewer.user_id, activity.title
        notify_feedback(db, instance, row.user_id, title, by, "refleksi", activity_id=activity.id)
    db.commit()
    if g.role == PESERTA:
        return back_to(ctx, module, activity, saved="commented", _anchor="comments")
    return redirect(
        url_for("refleksi.entry", ctx=ctx, entry_id=row.id, saved="commented", _anchor="comments")
    )


@bp.get("/c/<int:ctx>/refleksi/<int:activity_id>/record")
@course_access
def record(ctx: int, activity_id: int):
    """Every submitted reflection of the class (a mentor: his rombels), with the
    comments, read-only and laid out for printing (the programme's reports)."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "refleksi")
    rows = _rows(db, ctx, activity, instance)
    submitted = [
        (r, _comments(db, r.entry, g.viewer.user_id)) for r in rows if r.status == "submitted"
    ]
    return render_template(
        "refleksi/record.html",
        activity=activity,
        module=module,
        settings=settings_of(activity),
        rows=rows,
        submitted=submitted,
        printed_at=utcnow(),
        viewer=g.viewer,
        context=g.context,
        mentor=g.role == MENTOR,
        back=url_for("refleksi.staff", ctx=ctx, activity_id=activity.id),
    )
