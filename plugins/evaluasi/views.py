"""The questionnaire (peserta) and its recap (staff): distributions, the relevance and
effectiveness indices with their formula, and the open answers grouped per question."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.activities.forms import activity_in_course, back_to, page_of, refuse
from lti_tool.db import session as db_session
from lti_tool.db import utcnow
from lti_tool.models import CourseInstance
from lti_tool.services import completion, roster
from lti_tool.services.roles import PESERTA, STAFF
from lti_tool.web.auth import course_access
from plugins.evaluasi.questions import (
    EFFECTIVENESS,
    LIKERT_ITEMS,
    OPEN_ITEMS,
    RELEVANCE,
    SCALE,
    index_of,
)

bp = Blueprint("evaluasi", __name__, template_folder="templates")
MAX_TEXT = 2000
ERRORS = {
    "incomplete": _l("Nothing was lost: answer every question marked below."),
    "too_long": _l("An answer can be at most 2000 characters."),
}


def items_of(activity) -> tuple[list[str], list[str]]:
    settings = activity.settings or {}
    return (
        [*LIKERT_ITEMS, *settings.get("extra_items", [])],
        [*OPEN_ITEMS, *settings.get("extra_open", [])],
    )


def _mine(db, ctx: int, activity_id: int, user_id: int):
    from plugins.evaluasi.models import EvaluasiResponse

    return db.scalars(
        select(EvaluasiResponse).where(
            EvaluasiResponse.context_pk == ctx,
            EvaluasiResponse.activity_id == activity_id,
            EvaluasiResponse.user_id == user_id,
        )
    ).first()


def recap(db, ctx: int, activity, instance) -> dict:
    from plugins.evaluasi.models import EvaluasiResponse

    likert, open_items = items_of(activity)
    rows = list(
        db.scalars(
            select(EvaluasiResponse).where(
                EvaluasiResponse.context_pk == ctx, EvaluasiResponse.activity_id == activity.id
            )
        )
    )
    dist = []
    for i, text in enumerate(likert):
        values = [r.answers.get(f"l{i}") for r in rows if r.answers.get(f"l{i}")]
        dist.append(
            {
                "text": text,
                "counts": [values.count(v) for v, _label in SCALE],
                "index": index_of(values),
            }
        )
    pick = lambda idx: [r.answers[f"l{i}"] for r in rows for i in idx if r.answers.get(f"l{i}")]  # noqa: E731
    peserta = len(roster.peserta(db, instance)) if instance is not None else 0
    return {
        "responses": len(rows),
        "peserta": peserta,
        "items": dist,
        "relevance": index_of(pick(RELEVANCE)),
        "effectiveness": index_of(pick(EFFECTIVENESS)),
        "open": [
            (text, [r.answers[f"o{i}"] for r in rows if r.answers.get(f"o{i}")])
            for i, text in enumerate(open_items)
        ],
    }


def render_page(page, answers=None, missing=(), error=None) -> str:
    db = db_session()
    likert, open_items = items_of(page.activity)
    mine = _mine(db, page.context_id, page.activity.id, page.user_id)
    instance = db.get(CourseInstance, page.instance_id) if page.instance_id else None
    return render_template(
        "evaluasi/form.html",
        page=page,
        likert=likert,
        open_items=open_items,
        scale=SCALE,
        answers=answers if answers is not None else (mine.answers if mine else {}),
        mine=mine,
        missing=set(missing),
        error=error,
        recap=recap(db, page.context_id, page.activity, instance) if page.role in STAFF else None,
        action=url_for("evaluasi.answer", ctx=page.context_id, activity_id=page.activity.id),
    )


@bp.post("/c/<int:ctx>/evaluasi/<int:activity_id>")
@course_access
def answer(ctx: int, activity_id: int):
    """Save the questionnaire (every question required); it can be sent again."""
    from plugins.evaluasi.models import EvaluasiResponse

    if g.role != PESERTA:
        abort(403)
    db = db_session()
    activity, module, instance = activity_in_course(ctx, activity_id, "evaluasi")
    likert, open_items = items_of(activity)
    answers, missing = {}, []
    for i in range(len(likert)):
        raw = request.form.get(f"l{i}", "")
        if raw in {"1", "2", "3", "4", "5"}:
            answers[f"l{i}"] = int(raw)
        else:
            missing.append(f"l{i}")
    too_long = False
    for i in range(len(open_items)):
        text = (request.form.get(f"o{i}") or "").strip()
        answers[f"o{i}"] = text
        if not text:
            missing.append(f"o{i}")
        too_long = too_long or len(text) > MAX_TEXT
    if missing or too_long:
        page = page_of(ctx, activity, module, instance)
        error = ERRORS["too_long"] if too_long else ERRORS["incomplete"]
        html = render_page(page, answers=answers, missing=missing, error=error)
        return refuse(html, activity, module)
    row = _mine(db, ctx, activity_id, g.viewer.user_id)
    if row is None:
        row = EvaluasiResponse(context_pk=ctx, activity_id=activity_id, user_id=g.viewer.user_id)
        db.add(row)
    row.answers = answers
    row.updated_at = utcnow()
    completion.record(db, ctx, activity, g.viewer.user_id, "submitted")
    db.commit()
    return back_to(ctx, module, activity, saved=1)
