"""The survey form (peserta) and its recap (staff).

A peserta answers every item on a five-face scale, may add a comment, and can change
the answers until the session's week ends. Staff see per item the distribution, the
mean and the response rate, and the comments; when the template says so, comments
reach mentors without names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, User
from lti_tool.services import completion, roster, schedule
from lti_tool.services.roles import MENTOR, PESERTA, STAFF
from lti_tool.web.auth import course_access

bp = Blueprint("smiley", __name__, template_folder="templates")

# value, colour of the drawn face (contrast >= 3:1 on white), label for screen readers
FACES = (
    (1, "#c62828", _l("Very dissatisfied")),
    (2, "#c2410c", _l("Dissatisfied")),
    (3, "#8a6d00", _l("Neutral")),
    (4, "#2e7d32", _l("Satisfied")),
    (5, "#1b5e20", _l("Very satisfied")),
)
MAX_COMMENT = 1000
ERRORS = {
    "incomplete": _l("Nothing was lost: choose a face for every statement marked below."),
    "comment": _l("The comment can be at most 1000 characters."),
    "closed": _l("This survey closed at the end of the session's week."),
}


@dataclass(frozen=True)
class Survey:
    items: list[str]
    comment: bool
    anonymous_to_mentor: bool


def survey_of(activity, module) -> Survey:
    """The activity's items and options, falling back to the template's smiley block."""
    settings = activity.settings or {}
    declared = (module.definition or {}).get("smiley") or {}
    comment = settings.get("comment")
    anonymous = settings.get("anonymous_to_mentor")
    return Survey(
        items=settings.get("items") or declared.get("items") or [],
        comment=declared.get("comment", True) if comment is None else comment,
        anonymous_to_mentor=(
            declared.get("anonymous_to_mentor", False) if anonymous is None else anonymous
        ),
    )


def closes_at(instance: CourseInstance | None, activity) -> datetime | None:
    """The end of the session's week (naive UTC), or None while there is no start date."""
    if instance is None or instance.start_date is None:
        return None
    block = activity.block
    last = schedule.block_span(instance.start_date, block.week, block.weeks).last
    return schedule.end_of_day_utc(last, instance.timezone)


def _response(db, ctx: int, activity_id: int, user_id: int):
    from plugins.smiley.models import SmileyResponse

    return db.scalars(
        select(SmileyResponse).where(
            SmileyResponse.context_pk == ctx,
            SmileyResponse.activity_id == activity_id,
            SmileyResponse.user_id == user_id,
        )
    ).first()


@dataclass
class ItemRecap:
    text: str
    counts: list[int]  # for faces 1..5
    n: int
    mean: Decimal | None


def recap(db, ctx: int, activity_id: int, survey: Survey, instance, user_ids=None) -> dict:
    """Per item the counts per face and the mean; `user_ids` (a set) limits it to
    those peserta (a mentor's rombel on the analysis page)."""
    from plugins.smiley.models import SmileyResponse

    rows = db.execute(
        select(SmileyResponse, User)
        .join(User, SmileyResponse.user_id == User.id)
        .where(SmileyResponse.context_pk == ctx, SmileyResponse.activity_id == activity_id)
        .order_by(SmileyResponse.submitted_at)
    ).all()
    if user_ids is not None:
        rows = [(r, u) for r, u in rows if r.user_id in user_ids]
    items = []
    for i, text in enumerate(survey.items):
        values = [r.answers.get(str(i)) for r, _u in rows if r.answers.get(str(i))]
        counts = [sum(1 for v in values if v == face) for face, _e, _l in FACES]
        mean = None
        if values:
            mean = (Decimal(sum(values)) / len(values)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
        items.append(ItemRecap(text=text, counts=counts, n=len(values), mean=mean))
    peserta = len(roster.peserta(db, instance)) if instance is not None else 0
    if user_ids is not None and instance is not None:
        peserta = sum(1 for p in roster.peserta(db, instance) if p.id in user_ids)
    rate = round(100 * len(rows) / peserta) if peserta else None
    hide_names = survey.anonymous_to_mentor and g.role == MENTOR
    comments = [
        (None if hide_names else (u.name or u.email or u.sub), r.comment)
        for r, u in rows
        if r.comment
    ]
    return {
        "items": items,
        "responses": len(rows),
        "peserta": peserta,
        "rate": rate,
        "comments": comments,
        "hide_names": hide_names,
    }


def recap_chart(title: str, data: dict):
    """The recap as a 100% stacked bar per statement (faces 1 to 5)."""
    from lti_tool.charts import svg

    categories = [svg.Category(str(face), str(label), colour) for face, colour, label in FACES]
    return svg.stacked(
        title,
        _(
            "Share of each face (1 very dissatisfied to 5 very satisfied) per statement, "
            "%(n)s answers.",
            n=data["responses"],
        ),
        categories,
        [(item.text, item.counts) for item in data["items"]],
    )


def recap_section(db, inst, activity, user_ids):
    """The analysis page's section for one smiley survey: chart and table."""
    from lti_tool.analysis.sections import Section

    survey = survey_of(activity, inst.module)
    data = recap(db, inst.context_pk, activity.id, survey, inst, user_ids)
    title = _("Reaksi peserta: %(block)s", block=activity.block.title)
    rate = f" ({data['rate']}%)" if data["rate"] is not None else ""
    return Section(
        title=title,
        chart=recap_chart(title, data),
        headers=[
            _("Statement"),
            *[f"{face} {label}" for face, _c, label in FACES],
            _("n"),
            _("Mean"),
        ],
        rows=[
            [
                item.text,
                *[str(c) for c in item.counts],
                str(item.n),
                str(item.mean) if item.mean is not None else "—",
            ]
            for item in data["items"]
        ],
        intro=_("%(n)s of %(total)s peserta answered", n=data["responses"], total=data["peserta"])
        + rate,
    )


def analysis_sections(db, inst, rombel_ids) -> list:
    """One section per smiley survey of the module (limited to the rombel's peserta)."""
    from lti_tool.analysis.sections import members_of

    user_ids = members_of(db, inst, rombel_ids)
    return [
        recap_section(db, inst, a, user_ids)
        for b in inst.module.blocks
        for a in b.activities
        if a.type == "smiley"
    ]


def render_page(page, answers=None, comment=None, missing=(), error=None) -> str:
    db = db_session()
    instance = db.get(CourseInstance, page.instance_id) if page.instance_id else None
    survey = survey_of(page.activity, page.module)
    closes = closes_at(instance, page.activity)
    mine = _response(db, page.context_id, page.activity.id, page.user_id)
    data = (
        recap(db, page.context_id, page.activity.id, survey, instance)
        if page.role in STAFF
        else None
    )
    return render_template(
        "smiley/survey.html",
        page=page,
        survey=survey,
        faces=FACES,
        answers=answers if answers is not None else (mine.answers if mine else {}),
        comment=comment if comment is not None else (mine.comment if mine else ""),
        mine=mine,
        missing=set(missing),
        error=error or ERRORS.get(request.args.get("error", "")),
        closed=closes is not None and utcnow() > closes,
        closes=closes,
        recap=data,
        recap_chart=recap_chart(_("Recap"), data) if data else None,
        action=url_for("smiley.answer", ctx=page.context_id, activity_id=page.activity.id),
    )


@bp.post("/c/<int:ctx>/smiley/<int:activity_id>")
@course_access
def answer(ctx: int, activity_id: int):
    """Save a peserta's answers (all items required); refused once the week is over."""
    from plugins.smiley.models import SmileyResponse

    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "smiley")
    survey = survey_of(activity, module)
    closes = closes_at(instance, activity)
    if closes is not None and utcnow() > closes:
        return back_to(ctx, module, activity, error="closed")
    answers, missing = {}, []
    for i in range(len(survey.items)):
        raw = request.form.get(f"item-{i}", "")
        if raw in {"1", "2", "3", "4", "5"}:
            answers[str(i)] = int(raw)
        else:
            missing.append(str(i))
    text = (request.form.get("comment") or "").strip() if survey.comment else ""
    if missing or len(text) > MAX_COMMENT:
        # Keep what was chosen and typed; store nothing.
        page = page_of(ctx, activity, module, instance)
        error = ERRORS["comment"] if len(text) > MAX_COMMENT else ERRORS["incomplete"]
        html = render_page(page, answers=answers, comment=text, missing=missing, error=error)
        return refuse(html, activity, module)
    row = _response(db, ctx, activity_id, g.viewer.user_id)
    if row is None:
        row = SmileyResponse(context_pk=ctx, activity_id=activity_id, user_id=g.viewer.user_id)
        db.add(row)
    row.answers = answers
    row.comment = text or None
    row.updated_at = utcnow()
    completion.record(db, ctx, activity, g.viewer.user_id, "submitted")
    db.commit()
    return back_to(ctx, module, activity, saved=1)
