"""Grade recap: each peserta's components (as the template's rule names them: PD, TS,
TA for Guru Pembelajar; proses, laporan, presentasi for PLPG), final score (NA or SP),
pass and predikat, and the initial UKG score; a notes table gives the formula."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from grading.formulas import Result, quantize
from lti_tool.models import CourseInstance
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from lti_tool.reports.gradecalc import UKG, GradeStream
from lti_tool.services import gradebook_export


def score(value) -> Decimal | None:
    """A shown score, or None (empty) while pending."""
    return value if isinstance(value, Decimal) else None


def passed_text(result: Result, yes: str, no: str) -> str | None:
    if result.passed is None:
        return None
    return yes if result.passed else no


class Grades(ReportKind):
    name = "grades"
    title = _l("Grade recap")
    description = _l(
        "Each peserta's component scores, final score, pass status and predikat, with the "
        "initial UKG score."
    )

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        engine = GradeStream(db, inst)
        rule = engine.rule
        yes, no = _("Yes"), _("No")
        precision = rule.precision
        columns = [
            Column(_("No"), "int", width=6),
            Column(_("Name"), width=28),
            Column(_("Email"), width=26),
            Column(_("Participant number"), width=16),
            Column(_("Rombel"), width=14),
            *(Column(c.key, "number", precision) for c in rule.components),
            Column(rule.name, "number", precision),
            Column(_("Passed"), width=8),
            Column(_("Predikat"), width=12),
            Column(_("Initial UKG"), "number", precision),
        ]

        def rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for person, result, manual in engine.rows(filters, offset, limit):
                number += 1
                ukg = manual.get(UKG)
                yield (
                    number,
                    person.name,
                    person.email,
                    person.nomor,
                    person.rombel,
                    *(score(result.components[c.key]) for c in rule.components),
                    score(result.value),
                    passed_text(result, yes, no),
                    result.predikat,
                    quantize(ukg, precision) if ukg is not None else None,
                )

        return [
            Table("peserta", _("Scores"), columns, rows, note=_("empty = no score yet")),
            notes_table(inst, rule),
        ]


def notes_table(inst: CourseInstance, rule) -> Table:
    """The rule in words: formula, components, pass mark, predikat bands, rounding."""
    lines = [(_("Formula"), gradebook_export.formula(rule))]
    lines += [(c.key, c.label) for c in rule.components]
    lines.append(
        (
            _("Pass mark"),
            format(rule.pass_mark.normalize(), "f") if rule.pass_mark is not None else _("none"),
        )
    )
    if rule.predikat:
        lines.append((_("Predikat bands"), "; ".join(gradebook_export.bands(rule))))
    lines.append((_("Rounding"), _("half up to %(n)s decimals", n=rule.precision)))
    lines.append(
        (
            "",
            _(
                "The final score is computed from the unrounded component scores; each score "
                "is rounded only as shown."
            ),
        )
    )
    columns = [Column(_("Item"), width=22), Column(_("Value"), width=80)]
    return Table("notes", _("Notes"), columns, sliced(lambda: iter(lines)))
