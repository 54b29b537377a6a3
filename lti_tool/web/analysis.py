"""The class's analysis page (Juknis V.C-D): initial UKG vs final test with the paired
t-test and effect size, the pengampu's interpretation, and charts with their tables
(score distributions, completion over the weeks, and what plugins contribute, such as
the smiley survey and the programme evaluation).

Pengampu and admin see the whole class and every rombel and write the interpretation;
a mentor sees only the rombel they lead and reads it; peserta get 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.analysis import notes as note_service
from lti_tool.analysis import prepost, progress
from lti_tool.analysis.sections import Section, members_of
from lti_tool.charts import svg
from lti_tool.db import session as db_session
from lti_tool.models import CourseInstance, Rombel
from lti_tool.services import scores
from lti_tool.services.roles import ADMIN, MENTOR, PENGAMPU, STAFF
from lti_tool.web.auth import course_access
from lti_tool.web.params import int_param
from lti_tool.web.views import _instance

bp = Blueprint("analysis", __name__)
EDITORS = (PENGAMPU, ADMIN)
#: More groups than this and the interpretations get one form with a choice of group.
MAX_NOTE_BOXES = 31

EFFECT = {
    "negligible": _l("negligible"),
    "small": _l("small"),
    "medium": _l("medium"),
    "large": _l("large"),
}


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def _signed(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def _message(result: prepost.PrePost) -> str | None:
    """What a reader must know about a result that is missing or weak."""
    if result.status == prepost.TOO_SMALL:
        return _(
            "Too few pairs for a paired t-test: %(n)s peserta have both an initial UKG "
            "score and a final test score; at least 2 are needed, and %(min)s or more for "
            "a result worth interpreting.",
            n=result.n,
            min=prepost.MIN_RELIABLE,
        )
    if result.status == prepost.NO_VARIATION:
        return _(
            "Every peserta's score changed by the same amount (%(d)s): the differences do "
            "not vary (s_d = 0), so t, p and the effect size d_z are undefined.",
            d=_signed(result.mean_diff),
        )
    if result.status == prepost.FEW:
        return _(
            "Only %(n)s pairs: the test is computed, but with fewer than %(min)s pairs it "
            "is not reliable. Interpret it with great care.",
            n=result.n,
            min=prepost.MIN_RELIABLE,
        )
    return None


def _row(group: prepost.GroupResult) -> dict[str, Any]:
    r = group.result
    return {
        "name": group.name or _("Whole class"),
        "rombel_id": group.rombel_id,
        "peserta": group.peserta,
        "n": r.n,
        "initial": f"{_f(r.mean_initial)} ({_f(r.sd_initial)})",
        "final": f"{_f(r.mean_final)} ({_f(r.sd_final)})",
        "diff": f"{_signed(r.mean_diff)} ({_f(r.sd_diff)})",
        "ci": "—" if r.ci_low is None else f"{_f(r.ci_low)} {_('to')} {_f(r.ci_high)}",
        "t": _f(r.t, 3),
        "df": "—" if r.df is None else str(r.df),
        "p": _p(r.p),
        "d_z": _f(r.d_z),
        "d_av": _f(r.d_av),
        "effect": str(EFFECT[r.effect]) if r.effect else "—",
        "message": _message(r),
        "status": r.status,
    }


def _prepost_chart(group: prepost.GroupResult) -> Section:
    """Each peserta's pair as a line for a class-sized group; box summaries (and no
    single lines) when there are more pairs than a chart can show one by one."""
    name = group.name or _("Whole class")
    title = _("Initial and final scores: %(group)s", group=name)
    initial = [float(p.initial) for p in group.pairs]
    final = [float(p.final) for p in group.pairs]
    diff = [b - a for a, b in zip(initial, final, strict=True)]
    summaries = [
        (_("Initial (UKG)"), prepost.summarize(initial)),
        (_("Final (TA)"), prepost.summarize(final)),
    ]
    if not group.pairs:
        chart = svg.no_data(title, _("No peserta has both scores yet."))
    elif len(group.pairs) <= svg.MAX_SLOPES:
        chart = svg.slopes(
            title,
            _(
                "One line per peserta from the initial UKG score (left) to the final test "
                "score (right), %(n)s peserta; the thick line joins the means.",
                n=len(group.pairs),
            ),
            list(zip(initial, final, strict=True)),
            left_label=_("Initial"),
            right_label=_("Final"),
        )
    else:
        chart = svg.boxes(
            title,
            _(
                "Lowest, quartiles, median, highest and mean of the initial UKG and final "
                "test scores of %(n)s peserta.",
                n=len(group.pairs),
            ),
            summaries,
        )
    headers = [
        "",
        _("n"),
        _("Mean"),
        _("SD"),
        _("Lowest"),
        _("Q1"),
        _("Median"),
        _("Q3"),
        _("Highest"),
    ]
    rows = []
    for label, s in [*summaries, (_("Difference (final - initial)"), prepost.summarize(diff))]:
        if s is None:
            rows.append([label, "0", *["—"] * 7])
            continue
        rows.append(
            [
                label,
                str(s.n),
                _f(s.mean),
                _f(s.sd),
                _f(s.minimum),
                _f(s.q1),
                _f(s.median),
                _f(s.q3),
                _f(s.maximum),
            ]
        )
    return Section(title=title, chart=chart, headers=headers, rows=rows)


def _histogram(
    title: str, values: list[Decimal], pass_mark: Decimal | None, pending: int
) -> Section:
    floats = [float(v) for v in values]
    chart = svg.histogram(
        title,
        _("Number of peserta per score range of 10 points, %(n)s scores.", n=len(values)),
        floats,
        mark=float(pass_mark) if pass_mark is not None else None,
    )
    counts = svg.bin_counts(floats)
    notes = [_("Each range includes its lower bound; the last one includes 100.")]
    if pending:
        notes.append(_("%(n)s peserta have no score yet (pending).", n=pending))
    return Section(
        title=title,
        chart=chart,
        headers=[_("Score"), _("Peserta"), "%"],
        rows=[
            [label, str(c), f"{svg.percent(c, len(values))}%"]
            for label, c in zip(svg.bin_labels(), counts, strict=True)
        ],
        intro=_("%(n)s peserta", n=len(values)),
        notes=notes,
    )


def _distributions(db, inst: CourseInstance, user_ids: list[int]) -> list[Section]:
    """NA (or the template's final score) and TA histograms, from `scores.finals`.

    finals() computes every component of every peserta; for very large classes a
    streaming grade recap (lti_tool/reports/) is the faster source."""
    rule = scores.rule_of(inst)
    results = scores.finals(db, inst, user_ids) if user_ids else {}
    finals = [r.value for r in results.values() if isinstance(r.value, Decimal)]
    out = [
        _histogram(
            _("Final score %(name)s (%(label)s)", name=rule.name, label=rule.label),
            finals,
            rule.pass_mark,
            len(results) - len(finals),
        )
    ]
    if any(c.key == prepost.FINAL for c in rule.components):
        ta = [
            r.components[prepost.FINAL]
            for r in results.values()
            if isinstance(r.components.get(prepost.FINAL), Decimal)
        ]
        out.append(_histogram(_("Final test (TA)"), ta, None, len(results) - len(ta)))
    return out


def _weeks(db, inst: CourseInstance, user_ids: list[int]) -> Section:
    rows = progress.weekly(db, inst, user_ids)
    title = _("Completion over the weeks")
    chart = svg.columns(
        title,
        _(
            "Per week of the module, the share of %(n)s peserta who completed every "
            "activity of that week.",
            n=len(user_ids),
        ),
        [(w.label, w.percent) for w in rows],
        axis_label=_("Week"),
    )
    return Section(
        title=title,
        chart=chart,
        headers=[
            _("Week"),
            _("Activities"),
            _("Completed the whole week"),
            "%",
            _("Mean share done"),
        ],
        rows=[
            [
                w.label,
                str(w.activities),
                f"{w.complete} / {w.peserta}",
                "—" if w.percent is None else f"{w.percent:.0f}%",
                "—" if w.mean_percent is None else f"{w.mean_percent:.0f}%",
            ]
            for w in rows
        ],
    )


def _plugin_sections(db, inst: CourseInstance, rombel_ids: list[int] | None) -> list[Section]:
    """What the activity types used in this module add (in the order they appear)."""
    registry = current_app.extensions["lti_activities"]
    names = list(dict.fromkeys(a.type for b in inst.module.blocks for a in b.activities))
    out: list[Section] = []
    for name in names:
        plugin = registry.get(name)
        if plugin is not None:
            out.extend(plugin.analysis_sections(db, inst, rombel_ids))
    return out


def _other_modules(db, inst: CourseInstance) -> list[dict[str, Any]]:
    """The whole-class test of every module placed in this course (several modules:
    one row each), for pengampu and admin."""
    others = list(
        db.scalars(
            select(CourseInstance)
            .where(CourseInstance.context_pk == inst.context_pk)
            .order_by(CourseInstance.id)
        )
    )
    if len(others) < 2:
        return []
    out = []
    for other in others:
        people = prepost.peserta_ids(db, other)
        result = prepost.paired_test(prepost.pairs(db, other, people))
        row = _row(prepost.GroupResult(None, other.module.title, len(people), result))
        row["module_key"] = other.module_key
        row["current"] = other.id == inst.id
        out.append(row)
    return out


def _scope(db, inst: CourseInstance) -> list[int] | None:
    """The rombel a mentor leads (None: everything, for pengampu and admin)."""
    if g.role != MENTOR:
        return None
    return list(
        db.scalars(
            select(Rombel.id).where(
                Rombel.instance_id == inst.id, Rombel.mentor_id == g.viewer.user_id
            )
        )
    )


def _render(inst: CourseInstance, *, typed: dict | None = None, note_error: dict | None = None):
    db = db_session()
    rombel_ids = _scope(db, inst)
    groups = prepost.by_group(db, inst, rombel_ids=rombel_ids)
    everyone = prepost.peserta_ids(db, inst)
    members = members_of(db, inst, rombel_ids)
    user_ids = everyone if members is None else [u for u in everyone if u in members]
    shown = groups[:1] if rombel_ids is None else groups
    saved_notes = note_service.notes(db, inst, rombel_ids)
    note_rows = [(None, _("Whole class"))] + [
        (gr.rombel_id, gr.name) for gr in groups if gr.rombel_id
    ]
    return render_template(
        "course/analysis.html",
        inst=inst,
        module=inst.module,
        rows=[_row(gr) for gr in groups],
        charts=[_prepost_chart(gr) for gr in shown],
        modules=_other_modules(db, inst) if g.role in EDITORS else [],
        distributions=_distributions(db, inst, user_ids),
        weeks=_weeks(db, inst, user_ids),
        sections=_plugin_sections(db, inst, rombel_ids),
        notes=saved_notes,
        note_rows=note_rows,
        many_notes=len(note_rows) > MAX_NOTE_BOXES,
        typed=typed or {},
        note_error=note_error or {},
        max_note=note_service.MAX_NOTE,
        mentor_without_rombel=rombel_ids is not None and not rombel_ids,
        can_edit=g.role in EDITORS,
        saved=request.args.get("saved"),
        viewer=g.viewer,
        context=g.context,
    )


@bp.get("/c/<int:ctx>/module/<module_key>/analisis")
@course_access
def page(ctx: int, module_key: str):
    if g.role not in STAFF:
        abort(403)
    return _render(_instance(ctx, module_key))


@bp.post("/c/<int:ctx>/module/<module_key>/analisis")
@course_access
def save_note(ctx: int, module_key: str):
    """Save the interpretation of the class or of one rombel (pengampu and admin). A
    refused text comes back in its box, as typed, with status 400."""
    if g.role not in EDITORS:
        abort(403)
    inst = _instance(ctx, module_key)
    db = db_session()
    raw = request.form.get("rombel_id", "")
    rombel_id = int_param(raw)
    if raw and (
        rombel_id is None
        or db.scalar(select(Rombel.id).where(Rombel.id == rombel_id, Rombel.instance_id == inst.id))
        is None
    ):
        abort(404)
    text = request.form.get("text", "")
    try:
        note_service.save(db, inst, rombel_id, text, g.viewer.user_id)
    except note_service.NoteTooLongError:
        db.rollback()
        message = _(
            "The interpretation can be at most %(max)s characters; it has %(n)s. Nothing "
            "was saved: shorten the text below and save again.",
            max=note_service.MAX_NOTE,
            n=len(note_service.clean(text)),
        )
        return _render(inst, typed={rombel_id: text}, note_error={rombel_id: message}), 400
    db.commit()
    anchor = f"note-{rombel_id or 'class'}"
    return redirect(
        url_for("analysis.page", ctx=ctx, module_key=module_key, saved=1, _anchor=anchor)
    )
