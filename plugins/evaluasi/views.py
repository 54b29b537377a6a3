"""The questionnaire (peserta) and its recap (staff): distributions, the relevance and
effectiveness indices with their formula, and the open answers grouped per question."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
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


def recap(db, ctx: int, activity, instance, user_ids=None) -> dict:
    """Distributions, indices and open answers; `user_ids` (a set) limits them to
    those peserta (a mentor's rombel on the analysis page)."""
    from plugins.evaluasi.models import EvaluasiResponse

    likert, open_items = items_of(activity)
    rows = list(
        db.scalars(
            select(EvaluasiResponse).where(
                EvaluasiResponse.context_pk == ctx, EvaluasiResponse.activity_id == activity.id
            )
        )
    )
    if user_ids is not None:
        rows = [r for r in rows if r.user_id in user_ids]
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
    if user_ids is not None and instance is not None:
        peserta = sum(1 for p in roster.peserta(db, instance) if p.id in user_ids)
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


#: Answer colours (white text on each has a contrast of at least 4.5:1), 5 .. 1.
COLOURS = {5: "#1b5e20", 4: "#2e7d32", 3: "#8a6d00", 2: "#c2410c", 1: "#b42318"}


def recap_chart(title: str, data: dict):
    """The recap as a 100% stacked bar per question (Very good 5 to Very poor 1)."""
    from lti_tool.charts import svg

    categories = [svg.Category(str(v), str(label), COLOURS[v]) for v, label in SCALE]
    return svg.stacked(
        title,
        _(
            "Share of each answer (5 very good to 1 very poor) per question, %(n)s answers.",
            n=data["responses"],
        ),
        categories,
        [(f"{i}. {item['text']}", item["counts"]) for i, item in enumerate(data["items"], 1)],
    )


def recap_section(db, inst, activity, user_ids):
    """The analysis page's section for one evaluation questionnaire."""
    from lti_tool.analysis.sections import Section

    data = recap(db, inst.context_pk, activity, inst, user_ids)
    title = _("Programme evaluation: %(title)s", title=activity.title)
    dash = "—"
    return Section(
        title=title,
        chart=recap_chart(title, data),
        headers=["#", *[f"{v} {label}" for v, label in SCALE], _("Index")],
        rows=[
            [
                str(i),
                *[str(c) for c in item["counts"]],
                str(item["index"]) if item["index"] is not None else dash,
            ]
            for i, item in enumerate(data["items"], 1)
        ],
        intro=_("%(n)s of %(total)s peserta answered", n=data["responses"], total=data["peserta"])
        + " · "
        + _("Relevance index")
        + ": "
        + (str(data["relevance"]) if data["relevance"] is not None else dash)
        + " · "
        + _("Effectiveness index")
        + ": "
        + (str(data["effectiveness"]) if data["effectiveness"] is not None else dash),
        notes=[
            _(
                "Scores: Very good 5 … Very poor 1. Index = (mean - 1) / 4 × 100. Relevance: "  # noqa: RUF001
                "questions 1 and 6; effectiveness: questions 2 to 5."
            ),
            *[f"{i}. {item['text']}" for i, item in enumerate(data["items"], 1)],
        ],
    )


def analysis_sections(db, inst, rombel_ids) -> list:
    """One section per evaluation questionnaire of the module."""
    from lti_tool.analysis.sections import members_of

    user_ids = members_of(db, inst, rombel_ids)
    return [
        recap_section(db, inst, a, user_ids)
        for b in inst.module.blocks
        for a in b.activities
        if a.type == "evaluasi"
    ]


def render_page(page, answers=None, missing=(), error=None) -> str:
    db = db_session()
    likert, open_items = items_of(page.activity)
    mine = _mine(db, page.context_id, page.activity.id, page.user_id)
    instance = db.get(CourseInstance, page.instance_id) if page.instance_id else None
    data = recap(db, page.context_id, page.activity, instance) if page.role in STAFF else None
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
        recap=data,
        recap_chart=recap_chart(_("Recap"), data) if data else None,
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
