"""Attendance at face-to-face meetings (TM) and web conferences: each peserta's status
at every meeting held (the record of their rombel, or the class's web conference),
and each meeting's record with its counts. Dates filter by the day a meeting was held."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.models import CourseInstance, MeetingAttendance, MeetingRecord, Membership, Rombel
from lti_tool.reports import query as q
from lti_tool.reports.base import Column, Filters, ReportKind, Table, sliced
from lti_tool.services.meetings import STATUSES, template_meetings


class Attendance(ReportKind):
    name = "attendance"
    title = _l("Attendance at meetings")
    description = _l(
        "Each peserta's attendance (hadir, izin, sakit, alpa) at the face-to-face meetings "
        "and web conferences, and each meeting's record."
    )
    dates = _l("meetings held between")

    def tables(self, db: Session, inst: CourseInstance, filters: Filters) -> list[Table]:
        held = [MeetingRecord.instance_id == inst.id]
        if filters.date_from is not None:
            held.append(MeetingRecord.held_on >= filters.date_from)
        if filters.date_to is not None:
            held.append(MeetingRecord.held_on <= filters.date_to)
        allowed = filters.rombel_ids(db, inst)
        if allowed is not None:
            held.append(
                or_(MeetingRecord.rombel_id.is_(None), MeetingRecord.rombel_id.in_(sorted(allowed)))
            )
        titles: dict[str, str] = {}
        for key, title in db.execute(
            select(MeetingRecord.key, MeetingRecord.title).where(*held).order_by(MeetingRecord.id)
        ):
            titles.setdefault(key, title)
        template_order = {m["key"]: i for i, m in enumerate(template_meetings(inst))}

        def order(key: str):
            if key in template_order:
                return (0, template_order[key], 0)
            tail = key.split("-")[-1]
            return (1, 0, int(tail) if tail.isdigit() else 0, key)

        keys = sorted(titles, key=order)
        folded = (
            select(q.folded(db, MeetingRecord.key, MeetingAttendance.status))
            .select_from(MeetingAttendance)
            .join(MeetingRecord, MeetingRecord.id == MeetingAttendance.record_id)
            .where(*held, MeetingAttendance.user_id == Membership.user_id)
            .scalar_subquery()
        )
        query = q.peserta_select(db, inst, filters).add_columns(folded)
        columns = [
            Column(_("No"), "int", width=6),
            Column(_("Name"), width=28),
            Column(_("Participant number"), width=16),
            Column(_("Rombel"), width=14),
            *(Column(titles[k], width=12) for k in keys),
            Column(_("Present"), "int"),
            Column(_("Meetings"), "int"),
            Column("%", "number", 0),
        ]

        def peserta_rows(offset: int, limit: int | None) -> Iterator[tuple]:
            number = offset
            for row in q.stream(db, query, offset, limit):
                number += 1
                person = q.person(row)
                status = dict(q.unfold(row[-1]))
                present = sum(1 for s in status.values() if s == "hadir")
                share = (
                    (Decimal(100 * present) / len(status)).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                    if status
                    else None
                )
                yield (
                    number,
                    person.name,
                    person.nomor,
                    person.rombel,
                    *(status.get(k) for k in keys),
                    present,
                    len(status),
                    share,
                )

        def meeting_rows() -> Iterator[tuple]:
            counts: dict[tuple[int, str], int] = {
                (rid, st): n
                for rid, st, n in db.execute(
                    select(MeetingAttendance.record_id, MeetingAttendance.status, func.count())
                    .join(MeetingRecord, MeetingRecord.id == MeetingAttendance.record_id)
                    .where(*held)
                    .group_by(MeetingAttendance.record_id, MeetingAttendance.status)
                )
            }
            records = db.execute(
                select(MeetingRecord, Rombel.name)
                .outerjoin(Rombel, Rombel.id == MeetingRecord.rombel_id)
                .where(*held)
                .order_by(MeetingRecord.held_on, MeetingRecord.key, Rombel.name.nulls_first())
            ).all()
            for n, (r, rombel) in enumerate(records, start=1):
                yield (
                    n,
                    r.title,
                    _("TM") if r.kind == "tm" else _("Web conference"),
                    rombel or _("whole class"),
                    r.held_on,
                    r.time or "",
                    r.place or "",
                    *(counts.get((r.id, s), 0) for s in STATUSES),
                    r.resume or "",
                )

        return [
            Table("peserta", _("Per peserta"), columns, peserta_rows),
            Table(
                "meetings",
                _("Meetings"),
                [
                    Column(_("No"), "int", width=6),
                    Column(_("Meeting"), width=30),
                    Column(_("Kind"), width=14),
                    Column(_("Rombel"), width=14),
                    Column(_("Date"), "date"),
                    Column(_("Time"), width=8),
                    Column(_("Place"), width=24),
                    *(Column(s, "int") for s in STATUSES),
                    Column(_("Resume"), width=40),
                ],
                sliced(meeting_rows),
            ),
        ]
