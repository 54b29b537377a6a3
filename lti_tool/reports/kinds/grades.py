"""Grade recap: each peserta's components (as the template's rule names them: PD, TS,
TA for Guru Pembelajar; proses, laporan, presentasi for PLPG), final score (NA or SP),
pass and predikat, and the initial UKG score; a notes table gives the formula."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lti_tool.models import CourseInstance
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from lti_tool.reports.gradecalc import UKG, GradeStream
from lti_tool.services import gradebook_export


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

        exp = Decimal(1).scaleb(-precision)
        scored = engine.scored
        manual_scores = engine.manual_scores
        display_name = q.display_name

        def cells(reported: str | None, folded: str | None) -> tuple:
            """The computed cells of one peserta: components, NA, passed, predikat, UKG
            (the numbers of `GradeStream.result` without its objects)."""
            manual = manual_scores(folded)
            shown, value, passed, predikat = scored(reported, manual)
            ukg = manual.get(UKG)
            return (
                *[v if v.__class__ is Decimal else None for v in shown],
                value if value.__class__ is Decimal else None,
                None if passed is None else (yes if passed else no),
                predikat,
                ukg.quantize(exp, ROUND_HALF_UP) if ukg is not None else None,
            )

        def rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for row in engine.raw_rows(filters, offset, limit):
                _uid, name, given, family, email, sub, nomor, rombel, reported, folded = row
                number += 1
                yield (
                    number,
                    display_name(name, given, family, email, sub),
                    email or "",
                    nomor or "",
                    rombel or "",
                    *cells(reported, folded),
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
