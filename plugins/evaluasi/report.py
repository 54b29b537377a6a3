"""The `evaluation` report kind (Evaluasi Penyelenggaraan, Juknis Lampiran 1): per
scaled item the answers from Sangat Baik to Sangat Kurang and the item's index; the
relevance and effectiveness indices; the open answers (without names, as on the
recap page)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lti_tool.models import User
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from plugins.evaluasi.models import EvaluasiResponse
from plugins.evaluasi.questions import EFFECTIVENESS, RELEVANCE, SCALE, index_of
from plugins.evaluasi.views import items_of


def _questionnaires(inst):
    return [(b, a) for b in inst.module.blocks for a in b.activities if a.type == "evaluasi"]


class EvaluationReport(ReportKind):
    name = "evaluation"
    title = _l("Programme evaluation recap")
    description = _l(
        "Evaluasi Penyelenggaraan: answers per item from Sangat Baik to Sangat Kurang, the "
        "relevance and effectiveness indices, and the open answers."
    )
    dates = _l("answered between")

    def applies(self, db, inst) -> bool:
        return bool(_questionnaires(inst))

    def tables(self, db, inst, filters: Filters) -> list[Table]:
        found = [(b, a, *items_of(a)) for b, a in _questionnaires(inst)]
        names = {a.id: a.title for _b, a, _l_, _o in found}
        start, end = filters.utc_range(inst.timezone)
        covered = (
            q.peserta_select(db, inst, filters)
            .with_only_columns(User.id.label("uid"))
            .order_by(None)
            .subquery()
        )
        responses = (
            select(EvaluasiResponse.activity_id, EvaluasiResponse.answers)
            .join(covered, covered.c.uid == EvaluasiResponse.user_id)
            .where(
                EvaluasiResponse.context_pk == inst.context_pk,
                EvaluasiResponse.activity_id.in_(list(names)),
            )
            .order_by(EvaluasiResponse.activity_id, EvaluasiResponse.id)
        )
        if start is not None:
            responses = responses.where(EvaluasiResponse.updated_at >= start)
        if end is not None:
            responses = responses.where(EvaluasiResponse.updated_at < end)

        def collect() -> tuple[dict, dict]:
            """(activity, item) -> answers 1..5 in order, and the number of responses."""
            values: dict[tuple[int, int], list[int]] = {}
            count: dict[int, int] = {}
            for activity_id, answers in q.stream(db, responses):
                count[activity_id] = count.get(activity_id, 0) + 1
                for key, value in (answers or {}).items():
                    if key.startswith("l") and key[1:].isdigit() and value in (1, 2, 3, 4, 5):
                        values.setdefault((activity_id, int(key[1:])), []).append(value)
            return values, count

        def item_rows() -> Iterator[tuple]:
            values, _count = collect()
            for _b, a, likert, _open in found:
                for i, text in enumerate(likert):
                    answers = values.get((a.id, i), [])
                    yield (
                        names[a.id],
                        i + 1,
                        text,
                        *(answers.count(v) for v, _label in SCALE),
                        len(answers),
                        index_of(answers),
                    )

        def index_rows() -> Iterator[tuple]:
            values, count = collect()
            for _b, a, _likert, _open in found:
                for label, items in (
                    (_("Relevance"), RELEVANCE),
                    (_("Effectiveness"), EFFECTIVENESS),
                ):
                    picked = [v for i in items for v in values.get((a.id, i), [])]
                    numbers = ", ".join(str(i + 1) for i in items)
                    yield (names[a.id], label, numbers, count.get(a.id, 0), index_of(picked))

        def open_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            def every() -> Iterator[tuple]:
                for _b, a, likert, open_items in found:
                    for i, question in enumerate(open_items):
                        key = f"o{i}"
                        for activity_id, answers in q.stream(
                            db, responses.where(EvaluasiResponse.activity_id == a.id)
                        ):
                            text = (answers or {}).get(key)
                            if text:
                                yield (names[activity_id], len(likert) + i + 1, question, text)

            return islice(every(), offset, None if limit is None else offset + limit)

        return [
            Table(
                "items",
                _("Per item"),
                [
                    Column(_("Questionnaire"), width=24),
                    Column(_("No"), "int", width=5),
                    Column(_("Item"), width=50),
                    *(Column(str(label), "int", width=10) for _v, label in SCALE),
                    Column(_("Answers"), "int"),
                    Column(_("Index (0-100)"), "number", 1),
                ],
                sliced(item_rows),
                note=_("Index = (mean - 1) / 4 x 100, with Sangat Baik = 5 … Sangat Kurang = 1."),
            ),
            Table(
                "indices",
                _("Indices"),
                [
                    Column(_("Questionnaire"), width=24),
                    Column(_("Index"), width=16),
                    Column(_("Items"), width=12),
                    Column(_("Responses"), "int"),
                    Column(_("Value (0-100)"), "number", 1),
                ],
                sliced(index_rows),
            ),
            Table(
                "open",
                _("Open answers"),
                [
                    Column(_("Questionnaire"), width=24),
                    Column(_("No"), "int", width=5),
                    Column(_("Question"), width=50),
                    Column(_("Answer"), width=60),
                ],
                open_rows,
            ),
        ]
