"""The `smiley` report kind: per survey and item, how many chose each face, the mean
and the number of answers; the response rate; every peserta's answers and comment
(without names for a mentor when the survey is anonymous to mentors)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lti_tool.models import Membership, User
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from plugins.smiley.models import SmileyResponse
from plugins.smiley.views import FACES, survey_of


def _surveys(inst):
    return [(b, a) for b in inst.module.blocks for a in b.activities if a.type == "smiley"]


class SmileyReport(ReportKind):
    name = "smiley"
    title = _l("Smiley-face survey recap")
    description = _l(
        "Per survey and statement: answers per face, mean and number of answers; the "
        "response rate; each peserta's answers and comment."
    )
    dates = _l("answered between")

    def applies(self, db, inst) -> bool:
        return bool(_surveys(inst))

    def tables(self, db, inst, filters: Filters) -> list[Table]:
        surveys = [(b, a, survey_of(a, inst.module)) for b, a in _surveys(inst)]
        width = max((len(s.items) for _b, _a, s in surveys), default=0)
        start, end = filters.utc_range(inst.timezone)
        people = (
            q.peserta_select(db, inst, filters)
            .add_columns(SmileyResponse.activity_id, SmileyResponse.answers, SmileyResponse.comment)
            .join(
                SmileyResponse,
                (SmileyResponse.user_id == Membership.user_id)
                & (SmileyResponse.context_pk == inst.context_pk)
                & SmileyResponse.activity_id.in_([a.id for _b, a, _s in surveys]),
            )
            .order_by(SmileyResponse.activity_id)
        )
        when = []
        if start is not None:
            when.append(SmileyResponse.updated_at >= start)
        if end is not None:
            when.append(SmileyResponse.updated_at < end)
        people = people.where(*when)
        names = {a.id: f"{b.title}: {a.title}" for b, a, _s in surveys}
        hidden = {a.id for _b, a, s in surveys if s.anonymous_to_mentor and filters.only_mentor}

        def answer_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for row in q.stream(db, people, offset, limit):
                number += 1
                person = q.person(row)
                activity_id, answers, comment = row[-3:]
                answers = answers or {}
                yield (
                    number,
                    "—" if activity_id in hidden else person.name,
                    person.rombel,
                    names.get(activity_id, ""),
                    *(answers.get(str(i)) for i in range(width)),
                    comment or "",
                )

        def distribution_rows() -> Iterator[tuple]:
            counts: dict[tuple[int, int], list[int]] = {}
            for row in q.stream(db, people):
                activity_id, answers = row[-3], row[-2] or {}
                for key, value in answers.items():
                    if key.isdigit() and value in (1, 2, 3, 4, 5):
                        counts.setdefault((activity_id, int(key)), [0] * 5)[value - 1] += 1
            for _b, a, s in surveys:
                for i, text in enumerate(s.items):
                    faces = counts.get((a.id, i), [0] * 5)
                    n = sum(faces)
                    mean = None
                    if n:
                        total = sum(face * c for face, c in zip(range(1, 6), faces, strict=True))
                        mean = (Decimal(total) / n).quantize(
                            Decimal("0.01"), rounding=ROUND_HALF_UP
                        )
                    yield (names[a.id], i + 1, text, *faces, n, mean)

        def rate_rows() -> Iterator[tuple]:
            covered = (
                q.peserta_select(db, inst, filters)
                .with_only_columns(User.id.label("uid"))
                .order_by(None)
                .subquery()
            )
            peserta = db.scalar(select(func.count()).select_from(covered)) or 0
            answered = dict(
                db.execute(
                    select(SmileyResponse.activity_id, func.count())
                    .join(covered, covered.c.uid == SmileyResponse.user_id)
                    .where(SmileyResponse.context_pk == inst.context_pk, *when)
                    .group_by(SmileyResponse.activity_id)
                ).all()
            )
            for _b, a, _s in surveys:
                n = answered.get(a.id, 0)
                share = (
                    (Decimal(100 * n) / peserta).quantize(Decimal(1), rounding=ROUND_HALF_UP)
                    if peserta
                    else None
                )
                yield (names[a.id], n, peserta, share)

        faces = [Column(f"{value} {label}", "int", width=10) for value, _c, label in FACES]
        return [
            Table(
                "items",
                _("Per statement"),
                [
                    Column(_("Survey"), width=30),
                    Column(_("No"), "int", width=5),
                    Column(_("Statement"), width=40),
                    *faces,
                    Column(_("Answers"), "int"),
                    Column(_("Mean (1-5)"), "number", 2),
                ],
                sliced(distribution_rows),
            ),
            Table(
                "rate",
                _("Response rate"),
                [
                    Column(_("Survey"), width=30),
                    Column(_("Responses"), "int"),
                    Column(_("Peserta"), "int"),
                    Column("%", "number", 0),
                ],
                sliced(rate_rows),
            ),
            Table(
                "answers",
                _("Answers"),
                [
                    Column(_("No"), "int", width=6),
                    Column(_("Name"), width=28),
                    Column(_("Rombel"), width=14),
                    Column(_("Survey"), width=30),
                    *(Column(str(i + 1), "int", width=5) for i in range(width)),
                    Column(_("Comment"), width=40),
                ],
                answer_rows,
                note=_("1 = very dissatisfied … 5 = very satisfied"),
            ),
        ]
