"""Completion recap (ketuntasan belajar): each peserta's state of every activity and
percentage complete (and the completion gate, if the template has one); per activity;
per rombel. With dates, only completions in that period count."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from lti_tool.models import ActivityCompletion, CourseInstance, Membership, Rombel, User
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced

STATES = {
    "viewed": _l("viewed"),
    "submitted": _l("submitted"),
    "passed": _l("passed"),
    "graded": _l("graded"),
}
DONE = "✓"


def percent(done: int, total: int) -> Decimal | None:
    if not total:
        return None
    return (Decimal(100 * done) / total).quantize(Decimal(1), rounding=ROUND_HALF_UP)


class Completion(ReportKind):
    name = "completion"
    title = _l("Completion recap (ketuntasan)")
    description = _l(
        "Each peserta's state of every activity and percentage complete; completion per "
        "activity and per rombel."
    )
    dates = _l("completed between")

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        activities = [(b, a) for b in inst.module.blocks for a in b.activities]
        ids = [a.id for _b, a in activities]
        total = len(ids)
        start, end = filters.utc_range(inst.timezone)
        complete = ActivityCompletion.completed_at.is_not(None)
        if start is not None:
            complete = and_(complete, ActivityCompletion.completed_at >= start)
        if end is not None:
            complete = and_(complete, ActivityCompletion.completed_at < end)
        flag = case((complete, literal("1")), else_=literal("0"))
        gate = (inst.module.definition or {}).get("completion_gate")
        by_ref = {f"{b.key}/{a.key}": str(a.id) for b, a in activities}
        required = [by_ref[r] for r in gate["require"] if r in by_ref] if gate else []
        yes, no = _("Yes"), _("No")
        states = {k: str(v) for k, v in STATES.items()}

        def activity_label(n: int, b, a) -> str:
            return f"{b.week}.{n} {a.title}"

        numbering: list[str] = []
        counters: dict[int, int] = {}
        for b, a in activities:
            counters[b.week] = counters.get(b.week, 0) + 1
            numbering.append(activity_label(counters[b.week], b, a))
        columns = [
            Column(_("No"), "int", width=6),
            Column(_("Name"), width=28),
            Column(_("Rombel"), width=14),
            *(Column(label, width=10) for label in numbering),
            Column(_("Completed"), "int"),
            Column(_("Activities"), "int"),
            Column("%", "number", 0),
        ]
        if gate:
            columns.append(Column(gate.get("label") or _("Completion gate"), width=14))
        folded = (
            select(q.folded(db, ActivityCompletion.activity_id, ActivityCompletion.state, flag))
            .where(
                ActivityCompletion.context_pk == inst.context_pk,
                ActivityCompletion.user_id == Membership.user_id,
                ActivityCompletion.activity_id.in_(ids),
            )
            .scalar_subquery()
        )
        query = q.peserta_select(db, inst, filters).add_columns(folded)
        order = [str(i) for i in ids]

        def peserta_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for row in q.stream(db, query, offset, limit):
                number += 1
                person = q.person(row)
                mine = {aid: (state, done == "1") for aid, state, done in q.unfold(row[-1])}
                cells = []
                count = 0
                for aid in order:
                    state, done = mine.get(aid, (None, False))
                    count += done
                    cells.append(DONE if done else states.get(state, "") if state else "")
                out = [
                    number,
                    person.name,
                    person.rombel,
                    *cells,
                    count,
                    total,
                    percent(count, total),
                ]
                if gate:
                    met = all(mine.get(aid, (None, False))[1] for aid in required)
                    out.append(yes if met else no)
                yield tuple(out)

        covered = (
            q.peserta_select(db, inst, filters)
            .with_only_columns(User.id.label("uid"), Rombel.name.label("rombel"))
            .order_by(None)
            .subquery()
        )

        def activity_rows() -> Iterator[tuple]:
            counts = dict(
                db.execute(
                    select(ActivityCompletion.activity_id, func.count())
                    .join(covered, covered.c.uid == ActivityCompletion.user_id)
                    .where(ActivityCompletion.context_pk == inst.context_pk, complete)
                    .group_by(ActivityCompletion.activity_id)
                ).all()
            )
            n = db.scalar(select(func.count()).select_from(covered)) or 0
            for label, (b, a) in zip(numbering, activities, strict=True):
                done = counts.get(a.id, 0)
                yield (label, b.title, done, n, percent(done, n))

        def rombel_rows() -> Iterator[tuple]:
            per_user = (
                select(ActivityCompletion.user_id.label("uid"), func.count().label("done"))
                .where(
                    ActivityCompletion.context_pk == inst.context_pk,
                    ActivityCompletion.activity_id.in_(ids),
                    ActivityCompletion.user_id.in_(select(covered.c.uid)),
                    complete,
                )
                .group_by(ActivityCompletion.user_id)
                .subquery()
            )
            done = func.coalesce(per_user.c.done, 0)
            rows = db.execute(
                select(
                    covered.c.rombel,
                    func.count(),
                    func.sum(done),
                    func.sum(case((done >= total, 1), else_=0)),
                )
                .select_from(covered)
                .outerjoin(per_user, per_user.c.uid == covered.c.uid)
                .group_by(covered.c.rombel)
                .order_by(covered.c.rombel.nulls_first())  # "(no rombel)" first, as on SQLite
            )
            everyone = [0, 0, 0]
            for rombel, n, total_done, full in rows:
                total_done, full = int(total_done or 0), int(full or 0)
                everyone = [everyone[0] + n, everyone[1] + total_done, everyone[2] + full]
                yield (rombel or _("(no rombel)"), n, percent(total_done, n * total), full)
            yield (
                _("Whole class") if not filters.restricted() else _("All shown"),
                everyone[0],
                percent(everyone[1], everyone[0] * total),
                everyone[2],
            )

        return [
            Table(
                "peserta",
                _("Per peserta"),
                columns,
                peserta_rows,
                note=_("✓ complete; otherwise the furthest state reached"),
            ),
            Table(
                "activities",
                _("Per activity"),
                [
                    Column(_("Activity"), width=40),
                    Column(_("Week"), width=24),
                    Column(_("Completed"), "int"),
                    Column(_("Peserta"), "int"),
                    Column("%", "number", 0),
                ],
                sliced(activity_rows),
            ),
            Table(
                "rombel",
                _("Per rombel"),
                [
                    Column(_("Rombel"), width=20),
                    Column(_("Peserta"), "int"),
                    Column(_("Mean completion %"), "number", 0),
                    Column(_("Fully complete"), "int"),
                ],
                sliced(rombel_rows),
            ),
        ]
