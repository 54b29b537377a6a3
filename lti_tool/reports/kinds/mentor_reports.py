"""The mentors' and pengampu's reports (Juknis Lampiran 4 and 5) as tables: every
report with its written parts, the meeting tables they contain, and the peserta
activity they recap (a submitted report as frozen, a draft as it is now).

A mentor reader, or a rombel or mentor filter, keeps the reports on those rombel
(the pengampu's reports on the whole class are then left out). Dates filter by the
day a report was submitted."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from lti_tool.models import CourseInstance, Rombel, StaffReport, User
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from lti_tool.services import reports


class MentorReports(ReportKind):
    name = "mentor_reports"
    title = _l("Mentor and pengampu reports")
    description = _l(
        "The mentors' (Lampiran 4) and pengampu's (Lampiran 5) reports: written parts, "
        "meeting tables and peserta activity."
    )
    dates = _l("submitted between")

    def _reports(self, db: Session, inst: CourseInstance, filters: Filters) -> list:
        author = aliased(User)
        query = (
            select(StaffReport, author, Rombel.name)
            .outerjoin(author, author.id == StaffReport.author_id)
            .outerjoin(Rombel, Rombel.id == StaffReport.rombel_id)
            .where(StaffReport.instance_id == inst.id)
            .order_by(StaffReport.week, StaffReport.kind, Rombel.name, StaffReport.id)
        )
        allowed = filters.rombel_ids(db, inst)
        if allowed is not None:
            query = query.where(StaffReport.rombel_id.in_(sorted(allowed)))
        start, end = filters.utc_range(inst.timezone)
        if start is not None:
            query = query.where(StaffReport.submitted_at >= start)
        if end is not None:
            query = query.where(StaffReport.submitted_at < end)
        return db.execute(query).all()

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        kinds = {"mentor": _("Mentor (Lampiran 4)"), "pengampu": _("Pengampu (Lampiran 5)")}
        found = self._reports(db, inst, filters)

        def who(user) -> str:
            if user is None:
                return "—"
            return q.display_name(
                user.name, user.given_name, user.family_name, user.email, user.sub
            )

        def report_rows() -> Iterator[tuple]:
            for n, (r, author, rombel) in enumerate(found, start=1):
                yield (
                    n,
                    kinds.get(r.kind, r.kind),
                    who(author),
                    rombel or "",
                    r.week,
                    _("submitted") if r.submitted_at else _("draft"),
                    r.submitted_at,
                    r.constraints or "",
                    r.lessons or "",
                    r.recommendations or "",
                )

        def meeting_rows() -> Iterator[tuple]:
            for n, (r, author, rombel) in enumerate(found, start=1):
                for m in reports.contents(db, inst, r)["meetings"]:
                    yield (
                        n,
                        who(author),
                        rombel or "",
                        r.week,
                        m["no"],
                        m["meeting"],
                        m["present"],
                        m["when"],
                        m["where"],
                        m["resume"],
                    )

        def activity_rows() -> Iterator[tuple]:
            for n, (r, author, rombel) in enumerate(found, start=1):
                for a in reports.contents(db, inst, r)["activity"]:
                    yield (
                        n,
                        who(author),
                        rombel or "",
                        r.week,
                        a["name"],
                        a["done"],
                        a["total"],
                        a["percent"],
                        _("Yes") if a["never"] else "",
                    )

        lead = [
            Column(_("Report"), "int", width=7),
            Column(_("Author"), width=24),
            Column(_("Rombel"), width=14),
            Column(_("Week"), "int", width=7),
        ]
        return [
            Table(
                "reports",
                _("Reports"),
                [
                    Column(_("No"), "int", width=6),
                    Column(_("Kind"), width=20),
                    Column(_("Author"), width=24),
                    Column(_("Rombel"), width=14),
                    Column(_("Week"), "int", width=7),
                    Column(_("State"), width=10),
                    Column(_("Submitted"), "datetime"),
                    Column(_("Constraints and solutions"), width=40),
                    Column(_("Lessons learned"), width=40),
                    Column(_("Recommendations"), width=40),
                ],
                sliced(report_rows),
            ),
            Table(
                "meetings",
                _("Meetings in the reports"),
                [
                    *lead,
                    Column(_("No"), "int", width=6),
                    Column(_("Meeting"), width=30),
                    Column(_("Present"), "int"),
                    Column(_("Date and time"), width=18),
                    Column(_("Place"), width=24),
                    Column(_("Resume"), width=40),
                ],
                sliced(meeting_rows),
            ),
            Table(
                "activity",
                _("Peserta activity in the reports"),
                [
                    *lead,
                    Column(_("Name"), width=28),
                    Column(_("Completed"), "int"),
                    Column(_("Activities"), "int"),
                    Column("%", "int"),
                    Column(_("Never opened"), width=12),
                ],
                sliced(activity_rows),
            ),
        ]
