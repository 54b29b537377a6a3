"""The `plpg` report kind: the PLPG recap. Per peserta the four progress reports
(status, when handed in, score), the components of SP (proses, laporan, presentasi)
as the template's rule computes them, SP and pass (SP >= the pass mark, 65), and
whether the peserta counts as withdrawn (no launch within 14 days of the start)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table
from lti_tool.reports.gradecalc import GradeStream
from lti_tool.services import roster
from plugins.laporan import service

STATUS = {
    "belum": _l("not yet"),
    "terkirim": _l("handed in"),
    "terlewat": _l("missed"),
    "dinilai": _l("scored"),
}


def _activities(inst):
    return [a for b in inst.module.blocks for a in b.activities if a.type == "laporan"]


class PlpgReport(ReportKind):
    name = "plpg"
    title = _l("PLPG recap")
    description = _l(
        "Each peserta's progress reports (status, date, score), the SP components, SP and "
        "pass, and who counts as withdrawn."
    )

    def applies(self, db, inst) -> bool:
        return bool(_activities(inst))

    def tables(self, db, inst, filters: Filters) -> list[Table]:
        engine = GradeStream(db, inst)
        rule = engine.rule
        activities = [(a, service.settings_of(a)) for a in _activities(inst)]
        several = len(activities) > 1
        yes, no = _("Yes"), _("No")
        status_text = {k: str(v) for k, v in STATUS.items()}
        report_columns = []
        for a, s in activities:
            for r in s.reports:
                head = f"{a.title} {r.key}" if several else _("Report %(key)s", key=r.key)
                report_columns += [
                    Column(head, width=12),
                    Column(f"{head}: " + _("handed in"), "datetime"),
                    Column(f"{head}: " + _("score"), "number", 2),
                ]
        columns = [
            Column(_("No"), "int", width=6),
            Column(_("Name"), width=28),
            Column(_("Participant number"), width=16),
            Column(_("Rombel"), width=14),
            Column(_("Withdrawn"), width=10),
            *report_columns,
            *(Column(c.key, "number", rule.precision) for c in rule.components),
            Column(rule.name, "number", rule.precision),
            Column(_("Passed"), width=8),
        ]

        def rows(offset: int, limit: int | None) -> Iterator[tuple]:
            gone = roster.withdrawn(db, inst)
            now = service.now()
            deadlines = [(a, s, service.deadlines(db, inst, a)) for a, s in activities]
            assigned: dict[int, int] | None = None
            number = offset
            for chunk in q.chunks(engine.rows(filters, offset, limit), 500):
                ids = [person.id for person, _r, _m in chunk]
                current = {
                    a.id: service.current(db, inst.context_pk, a.id, ids) for a, _s in activities
                }
                if any(d for _a, _s, d in deadlines) and assigned is None:
                    assigned = roster.assignments(db, inst)
                for person, result, _manual in chunk:
                    number += 1
                    cells: list = []
                    for a, s, table in deadlines:
                        rombel = assigned.get(person.id) if assigned else None
                        for r in s.reports:
                            row = current[a.id].get((person.id, r.key))
                            due = service.deadline_for(table, rombel, r.key)
                            handed = (
                                row.submitted_at
                                if row is not None and row.state == "submitted"
                                else None
                            )
                            cells += [
                                status_text[service.status(row, due, now)],
                                handed,
                                Decimal(row.score) if row is not None and row.score else None,
                            ]
                    yield (
                        number,
                        person.name,
                        person.nomor,
                        person.rombel,
                        yes if person.id in gone else "",
                        *cells,
                        *(
                            v if isinstance(v := result.components[c.key], Decimal) else None
                            for c in rule.components
                        ),
                        result.value if isinstance(result.value, Decimal) else None,
                        None if result.passed is None else yes if result.passed else no,
                    )

        return [
            Table(
                "peserta",
                _("PLPG recap"),
                columns,
                rows,
                note=_("Pass: %(name)s at least %(mark)s.", name=rule.name, mark=rule.pass_mark)
                if rule.pass_mark is not None
                else None,
            )
        ]
