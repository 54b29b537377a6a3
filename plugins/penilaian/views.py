"""Penilaian Diri pages: the peserta's self-assessment, the staff overview, one
peserta's deliverable beside the two scorings (with the moderation form), and the
pengampu's edit of the class's rubric before the class starts.

Every refusal re-renders what was chosen and typed, changes nothing, and says why in
the user's language (400 for a form that cannot be read, 409 for one that arrives too
late or in the wrong state).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.mail.notices import notify_feedback
from lti_tool.models import CourseInstance, User
from lti_tool.services import completion, roster
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, PESERTA, STAFF
from lti_tool.web.auth import course_access
from plugins.penilaian import assessments, deliverable, rubrics
from plugins.penilaian.assessments import MODERATION, SELF

bp = Blueprint(
    "penilaian",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/penilaian",
)

MESSAGES = {
    "missing": _l(
        "Nothing was saved: choose a level for every criterion marked below. "
        "Your other choices are kept."
    ),
    "invalid": _l(
        "Nothing was saved: a chosen level does not exist in this rubric (the form was "
        "changed or the rubric was edited). Choose again for the criteria marked below."
    ),
    "comment": _l("The comment can be at most 2000 characters."),
    "late": _l(
        "The self-assessment closed on %(date)s: it can no longer be changed. "
        "What you chose is shown below but was not saved."
    ),
    "need_deliverable": _l(
        "Upload your deliverable first: the self-assessment is about the file you "
        "submitted. What you chose is kept below."
    ),
    "no_rubric": _l(
        "The rubric %(key)s of this activity is missing from the course template. "
        "Please tell your pengampu."
    ),
    "no_self": _l("There is nothing to moderate yet: this peserta has not assessed the work."),
    "moderation_off": _l("This activity is not moderated."),
    "started": _l(
        "The class has started: its rubric can no longer be changed, so that every "
        "peserta is assessed with the same rubric. Your changes were not saved."
    ),
}
RUBRIC_ERRORS = {
    "rubric_title": _l("Give the rubric a title."),
    "criterion_title": _l("Criterion %(n)s needs a title."),
    "level_description": _l("Every level of criterion %(n)s needs a description."),
    "level_points": _l(
        "Points of criterion %(n)s must be numbers from 0 to 100 (at most 2 decimals)."
    ),
    "same_points": _l("Two levels of criterion %(n)s give the same points."),
    "two_levels": _l("Criterion %(n)s needs at least two levels."),
    "too_many_levels": _l("A criterion can have at most %(n)s levels."),
    "too_many_criteria": _l("A rubric can have at most %(n)s criteria."),
    "no_criteria": _l("A rubric needs at least one criterion."),
    "too_long": _l("A text is too long (at most %(n)s characters)."),
}


def message(code: str, **info) -> str:
    text = str(MESSAGES.get(code) or RUBRIC_ERRORS[code])
    return text % info if info else text


_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """The plugin's static file with a content fingerprint."""
    v = _asset_versions.get(filename)
    if v is None:
        data = (Path(bp.static_folder) / filename).read_bytes()
        v = _asset_versions[filename] = hashlib.sha256(data).hexdigest()[:12]
    return url_for("penilaian.static", filename=filename, v=v)


def signed(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value)


@bp.app_context_processor
def _helpers():
    return {"penilaian_asset": asset_url, "penilaian_signed": signed}


def _inst(db, instance_id):
    return db.get(CourseInstance, instance_id) if instance_id else None


def _framed(body_html: str, activity, module, status: int = 200):
    return render_template(
        "course/activity.html",
        module=module,
        block=activity.block,
        activity=activity,
        body=Markup(body_html),  # noqa: S704 - our own autoescaped templates
        viewer=g.viewer,
        context=g.context,
    ), status


def _side_by_side(rubric, own, moderated, max_score):
    """Rows (criterion, own level, moderator's level) and both results."""
    rows = []
    own_r = assessments.rubric_of(own) if own else None
    mod_r = assessments.rubric_of(moderated) if moderated else None

    def level(r, row, i):
        if r is None or row is None or i >= len(r.criteria):
            return None
        j = (row.choices or {}).get(str(i))
        levels = r.criteria[i].levels
        return levels[j] if isinstance(j, int) and 0 <= j < len(levels) else None

    for i, c in enumerate(rubric.criteria):
        rows.append((c, level(own_r, own, i), level(mod_r, moderated, i)))
    own_s = assessments.scored(own, max_score) if own else None
    mod_s = assessments.scored(moderated, max_score) if moderated else None
    diff = mod_s.score - own_s.score if own_s and mod_s else None
    return {"rows": rows, "own": own_s, "mod": mod_s, "diff": diff}


# -- the activity page -----------------------------------------------------------------


def render_page(page, choices=None, comment=None, missing=(), invalid=(), error=None) -> str:
    db = db_session()
    activity = page.activity
    s = assessments.settings_of(activity)
    inst = _inst(db, page.instance_id)
    rubric = rubrics.rubric_for(db, page.module, page.instance_id, s.rubric)
    if rubric is None:
        return render_template("penilaian/missing.html", error=message("no_rubric", key=s.rubric))
    context = {
        "page": page,
        "settings": s,
        "rubric": rubric,
        "max_score": activity.max_score,
        "error": error,
        "staff": page.role in STAFF,
        "can_edit": page.role in (PENGAMPU, ADMIN),
        "started": inst is not None and inst.started_at is not None,
    }
    if page.role == PESERTA:
        own = assessments.get(db, page.context_id, activity.id, page.user_id, SELF)
        moderated = assessments.get(db, page.context_id, activity.id, page.user_id, MODERATION)
        stale = own is not None and not assessments.rubric_of(own).same_shape(rubric)
        if choices is None:
            choices = dict(own.choices) if own is not None and not stale else {}
        closes = assessments.closes_at(db, inst, activity, page.user_id)
        context.update(
            own=own,
            moderated=moderated,
            stale=stale,
            choices=choices,
            comment=comment if comment is not None else (own.comment if own else "") or "",
            missing=set(missing),
            invalid=set(invalid),
            closes=closes,
            late=assessments.is_late(closes),
            compare=_side_by_side(rubric, own, moderated, activity.max_score)
            if moderated is not None
            else None,
            own_score=assessments.scored(own, activity.max_score) if own else None,
            deliverable=deliverable.deliverable_of(
                db, page.context_id, page.module, s.deliverable, page.user_id
            ),
            action=url_for("penilaian.assess", ctx=page.context_id, activity_id=activity.id),
            saved=request.args.get("saved"),
        )
    return render_template("penilaian/page.html", **context)


@bp.post("/c/<int:ctx>/penilaian/<int:activity_id>")
@course_access
def assess(ctx: int, activity_id: int):
    """Save the peserta's self-assessment: a level for every criterion, until the due date."""
    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "penilaian")
    s = assessments.settings_of(activity)
    user_id = g.viewer.user_id
    rubric = rubrics.rubric_for(db, module, instance.id, s.rubric)
    if rubric is None:
        abort(404)
    reading = rubrics.read_choices(rubric, request.form)
    text = (request.form.get("comment") or "").strip() if s.comment else ""

    def again(code: str, status: int, **info):
        page = page_of(ctx, activity, module, instance)
        html = render_page(
            page,
            choices=reading.choices,
            comment=text,
            missing=reading.missing,
            invalid=reading.invalid,
            error=message(code, **info),
        )
        return refuse(html, activity, module, status)

    closes = assessments.closes_at(db, instance, activity, user_id)
    if assessments.is_late(closes):
        from flask_babel import format_datetime

        return again("late", 409, date=format_datetime(closes, "medium"))
    if s.require_deliverable:
        d = deliverable.deliverable_of(db, ctx, module, s.deliverable, user_id)
        if deliverable.has_submitted(d) is False:
            return again("need_deliverable", 409)
    if reading.invalid:
        return again("invalid", 400)
    if reading.missing:
        return again("missing", 400)
    if len(text) > rubrics.MAX_COMMENT:
        return again("comment", 400)
    assessments.save(db, ctx, activity, user_id, SELF, rubric, reading.choices, text, user_id)
    completion.record(db, ctx, activity, user_id, "submitted")
    assessments.update_grade(db, ctx, activity, user_id)
    db.commit()
    return back_to(ctx, module, activity, saved=1)


# -- staff: the overview and one peserta ---------------------------------------------------


def _mentor_rombels(db, instance) -> set[int]:
    return {r.id for r in roster.rombels(db, instance) if r.mentor_id == g.viewer.user_id}


def _visible_peserta(db, instance) -> list:
    """The peserta this viewer may see (a mentor: those of their own rombel)."""
    people = roster.peserta(db, instance)
    if g.role == MENTOR:
        mine = _mentor_rombels(db, instance)
        assigned = roster.assignments(db, instance)
        people = [p for p in people if assigned.get(p.id) in mine]
    elif g.role not in (PENGAMPU, ADMIN):
        return []
    return people


@bp.get("/c/<int:ctx>/penilaian/<int:activity_id>/staff")
@course_access
def overview(ctx: int, activity_id: int):
    """Every peserta (a mentor: their rombel) with self score, moderator's score, difference."""
    if g.role not in STAFF:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "penilaian")
    s = assessments.settings_of(activity)
    rows = assessments.all_of(db, ctx, activity.id)
    top = activity.max_score
    people = []
    for p in _visible_peserta(db, instance):
        own, mod = rows.get((p.id, SELF)), rows.get((p.id, MODERATION))
        own_s = assessments.scored(own, top) if own else None
        mod_s = assessments.scored(mod, top) if mod else None
        counted = None
        if own_s is not None:
            counted = mod_s if (s.moderated_counts and mod_s is not None) else own_s
        people.append(
            {
                "person": p,
                "own": own_s,
                "mod": mod_s,
                "diff": mod_s.score - own_s.score if own_s and mod_s else None,
                "counted": counted,
                "url": url_for("penilaian.review", ctx=ctx, activity_id=activity.id, user_id=p.id),
            }
        )
    html = render_template(
        "penilaian/staff.html",
        activity=activity,
        settings=s,
        people=people,
        max_score=top,
        mentor=g.role == MENTOR,
        rubric_url=url_for("penilaian.edit_rubric", ctx=ctx, activity_id=activity.id)
        if g.role in (PENGAMPU, ADMIN)
        else None,
    )
    return _framed(html, activity, module)


def _peserta_or_404(db, instance, user_id: int):
    """The peserta `user_id` if this viewer may see their work; 404 otherwise (a peserta
    sees only their own; a mentor only their rombel's)."""
    if g.role == PESERTA:
        if user_id != g.viewer.user_id:
            abort(404)
        visible = [p for p in roster.peserta(db, instance) if p.id == user_id]
    else:
        visible = [p for p in _visible_peserta(db, instance) if p.id == user_id]
    if not visible:
        abort(404)
    return visible[0]


def _render_review(
    ctx,
    activity,
    module,
    instance,
    person,
    choices=None,
    comment=None,
    missing=(),
    invalid=(),
    error=None,
    status=200,
):
    db = db_session()
    s = assessments.settings_of(activity)
    rubric = rubrics.rubric_for(db, module, instance.id, s.rubric)
    if rubric is None:
        abort(404)
    own = assessments.get(db, ctx, activity.id, person.id, SELF)
    moderated = assessments.get(db, ctx, activity.id, person.id, MODERATION)
    moderator = db.get(User, moderated.assessor_id) if moderated and moderated.assessor_id else None
    can_moderate = g.role in STAFF and s.moderation
    if choices is None:
        choices = (
            dict(moderated.choices)
            if moderated and rubrics.fits(rubric, moderated.choices or {})
            else {}
        )
    html = render_template(
        "penilaian/review.html",
        activity=activity,
        settings=s,
        person=person,
        rubric=rubric,
        own=own,
        moderated=moderated,
        moderator=moderator,
        compare=_side_by_side(rubric, own, moderated, activity.max_score),
        deliverable=deliverable.deliverable_of(db, ctx, module, s.deliverable, person.id),
        can_moderate=can_moderate,
        choices=choices,
        comment=comment if comment is not None else (moderated.comment if moderated else "") or "",
        missing=set(missing),
        invalid=set(invalid),
        error=error,
        saved=request.args.get("saved"),
        action=url_for("penilaian.review", ctx=ctx, activity_id=activity.id, user_id=person.id),
        overview_url=url_for("penilaian.overview", ctx=ctx, activity_id=activity.id)
        if g.role in STAFF
        else None,
    )
    return _framed(html, activity, module, status)


@bp.route("/c/<int:ctx>/penilaian/<int:activity_id>/peserta/<int:user_id>", methods=["GET", "POST"])
@course_access
def review(ctx: int, activity_id: int, user_id: int):
    """One peserta's deliverable beside the self-assessment and the moderation; staff
    post the moderation form here."""
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "penilaian")
    person = _peserta_or_404(db, instance, user_id)
    if request.method == "GET":
        return _render_review(ctx, activity, module, instance, person)
    if g.role not in STAFF:
        abort(403)
    s = assessments.settings_of(activity)
    rubric = rubrics.rubric_for(db, module, instance.id, s.rubric)
    if rubric is None:
        abort(404)
    reading = rubrics.read_choices(rubric, request.form)
    text = (request.form.get("comment") or "").strip()

    def again(code: str, status: int):
        return _render_review(
            ctx,
            activity,
            module,
            instance,
            person,
            choices=reading.choices,
            comment=text,
            missing=reading.missing,
            invalid=reading.invalid,
            error=message(code),
            status=status,
        )

    if not s.moderation:
        return again("moderation_off", 409)
    if assessments.get(db, ctx, activity.id, person.id, SELF) is None:
        return again("no_self", 409)
    if reading.invalid:
        return again("invalid", 400)
    if reading.missing:
        return again("missing", 400)
    if len(text) > rubrics.MAX_COMMENT:
        return again("comment", 400)
    assessments.save(
        db, ctx, activity, person.id, MODERATION, rubric, reading.choices, text, g.viewer.user_id
    )
    assessments.update_grade(db, ctx, activity, person.id)
    by, title = g.viewer.user_id, activity.title  # emailed once committed, if notices are on
    notify_feedback(db, instance, person.id, title, by, "penilaian", activity_id=activity.id)
    db.commit()
    return redirect(
        url_for("penilaian.review", ctx=ctx, activity_id=activity.id, user_id=person.id, saved=1)
    )


# -- pengampu: the class's rubric ----------------------------------------------------------


def _render_rubric(ctx, activity, module, instance, rubric, draft, errors=(), status=200):
    from plugins.penilaian.models import PenilaianAssessment

    db = db_session()
    s = assessments.settings_of(activity)
    saved_with_other = 0
    for row in db.scalars(select(PenilaianAssessment).where(PenilaianAssessment.context_pk == ctx)):
        r = assessments.rubric_of(row)
        if r.key == s.rubric and not r.same_shape(rubric):
            saved_with_other += 1
    html = render_template(
        "penilaian/rubric_edit.html",
        activity=activity,
        rubric=rubric,
        draft=draft,
        errors=list(errors),
        started=instance.started_at is not None,
        saved=request.args.get("saved"),
        reset=request.args.get("reset"),
        saved_with_other=saved_with_other,
        action=url_for("penilaian.edit_rubric", ctx=ctx, activity_id=activity.id),
        back=url_for(
            "web.activity",
            ctx=ctx,
            module_key=module.key,
            block_key=activity.block.key,
            activity_key=activity.key,
        ),
        max_levels=rubrics.MAX_LEVELS,
        max_criteria=rubrics.MAX_CRITERIA,
    )
    return _framed(html, activity, module, status)


@bp.route("/c/<int:ctx>/penilaian/<int:activity_id>/rubric", methods=["GET", "POST"])
@course_access
def edit_rubric(ctx: int, activity_id: int):
    """The pengampu edits the class's copy of the rubric (or restores the template's),
    only before the class starts."""
    from plugins.penilaian.models import PenilaianRubric

    if g.role not in (PENGAMPU, ADMIN):
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "penilaian")
    s = assessments.settings_of(activity)
    rubric = rubrics.rubric_for(db, module, instance.id, s.rubric)
    if rubric is None:
        abort(404)
    if request.method == "GET":
        return _render_rubric(ctx, activity, module, instance, rubric, rubrics.draft_of(rubric))
    resetting = request.form.get("action") == "reset"
    draft = rubrics.draft_of(rubric) if resetting else rubrics.read_draft(request.form)
    if instance.started_at is not None:
        errors = [message("started")]
        return _render_rubric(ctx, activity, module, instance, rubric, draft, errors, 409)
    if draft.errors:
        errors: list[str] = []
        for code, info in draft.errors:
            text = message(code, **info)
            if text not in errors:
                errors.append(text)
        return _render_rubric(ctx, activity, module, instance, rubric, draft, errors, 400)
    row = rubrics.class_copy(db, instance.id, s.rubric)
    if resetting:
        if row is not None:
            db.delete(row)
        db.commit()
        return redirect(url_for("penilaian.edit_rubric", ctx=ctx, activity_id=activity.id, reset=1))
    edited = draft.rubric(s.rubric)
    if row is None:
        row = PenilaianRubric(instance_id=instance.id, rubric_key=s.rubric, title="", criteria=[])
        db.add(row)
    row.title = edited.title
    row.criteria = rubrics.criteria_json(edited.criteria)
    row.updated_by = g.viewer.user_id
    row.updated_at = utcnow()
    db.commit()
    return redirect(url_for("penilaian.edit_rubric", ctx=ctx, activity_id=activity.id, saved=1))
