"""Initial (UKG) vs final (TA) scores: per peserta, and the paired t-test with its
effect size for the class and each rombel (Juknis V.C-D), from
`lti_tool.analysis.prepost`."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from lti_tool.analysis import prepost
from lti_tool.models import CourseInstance
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced

EFFECTS = {
    "negligible": _l("negligible"),
    "small": _l("small"),
    "medium": _l("medium"),
    "large": _l("large"),
}


def dec(value: float | None, places: int) -> Decimal | None:
    """A statistic as a Decimal with `places` decimals (half up), or None."""
    if value is None:
        return None
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class PrePost(ReportKind):
    name = "prepost"
    title = _l("Initial and final scores (pre/post)")
    description = _l(
        "Each peserta's initial UKG score, final test (TA) score and their difference; the "
        "paired t-test and effect size for the class and each rombel."
    )

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        query = q.peserta_select(db, inst, filters)
        precision = int((inst.module.definition.get("scoring") or {}).get("precision", 2))

        def peserta_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for chunk in q.chunks(q.stream(db, query, offset, limit)):
                people = [q.person(row) for row in chunk]
                ids = {p.id for p in people}
                initial = prepost.initial_scores(db, inst, ids)
                final = prepost.final_scores(db, inst, ids)
                for p in people:
                    number += 1
                    before, after = initial.get(p.id), final.get(p.id)
                    diff = after - before if before is not None and after is not None else None
                    yield (
                        number,
                        p.name,
                        p.nomor,
                        p.rombel,
                        before,
                        after,
                        diff.quantize(Decimal(1).scaleb(-precision)) if diff is not None else None,
                    )

        def analysis_rows() -> Iterator[tuple]:
            allowed = filters.rombel_ids(db, inst)
            groups = (
                prepost.by_group(db, inst)
                if allowed is None
                else prepost.by_group(db, inst, rombel_ids=allowed)
            )
            for g in groups:
                r = g.result
                yield (
                    g.name or _("Whole class"),
                    g.peserta,
                    r.n,
                    dec(r.mean_initial, 2),
                    dec(r.mean_final, 2),
                    dec(r.mean_diff, 2),
                    dec(r.sd_diff, 2),
                    dec(r.t, 3),
                    r.df,
                    dec(r.p, 4),
                    dec(r.d_z, 2),
                    str(EFFECTS.get(r.effect, r.effect)) if r.effect else None,
                    dec(r.ci_low, 2),
                    dec(r.ci_high, 2),
                )

        return [
            Table(
                "peserta",
                _("Per peserta"),
                [
                    Column(_("No"), "int", width=6),
                    Column(_("Name"), width=28),
                    Column(_("Participant number"), width=16),
                    Column(_("Rombel"), width=14),
                    Column(_("Initial UKG"), "number", precision),
                    Column(_("Final (TA)"), "number", precision),
                    Column(_("Difference"), "number", precision),
                ],
                peserta_rows,
            ),
            Table(
                "analysis",
                _("Paired t-test"),
                [
                    Column(_("Group"), width=20),
                    Column(_("Peserta"), "int"),
                    Column(_("Pairs"), "int"),
                    Column(_("Mean initial"), "number", 2),
                    Column(_("Mean final"), "number", 2),
                    Column(_("Mean difference"), "number", 2),
                    Column(_("SD of differences"), "number", 2),
                    Column("t", "number", 3),
                    Column("df", "int"),
                    Column("p", "number", 4),
                    Column(_("Effect size d"), "number", 2),
                    Column(_("Effect"), width=12),
                    Column(_("95% CI low"), "number", 2),
                    Column(_("95% CI high"), "number", 2),
                ],
                sliced(analysis_rows),
                note=_(
                    "Pairs: peserta with both scores. p: two-sided. d = mean difference / SD "
                    "of the differences."
                ),
            ),
        ]
