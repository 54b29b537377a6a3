"""Contents of mentor and pengampu reports (Juknis Lampiran 4 and 5), from the tool's data.

The meeting table lists the TM of the rombel (all rombel for the pengampu) and the web
conferences: number, attendees present, date, time and place, and the resume. The
activity recap gives each covered peserta's completion.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import (
    ActivityCompletion,
    CourseInstance,
    MeetingAttendance,
    MeetingRecord,
    Membership,
    StaffReport,
)
from lti_tool.services import meetings, roster


def meeting_table(db: Session, inst: CourseInstance, rombel_id: int | None) -> list[dict]:
    query = select(MeetingRecord).where(MeetingRecord.instance_id == inst.id)
    if rombel_id is not None:
        query = query.where((MeetingRecord.rombel_id == rombel_id) | (MeetingRecord.kind == "web"))
    records = sorted(db.scalars(query), key=lambda r: (r.held_on, r.key))
    present = dict(
        db.execute(
            select(MeetingAttendance.record_id, func.count())
            .where(MeetingAttendance.status == "hadir")
            .group_by(MeetingAttendance.record_id)
        ).all()
    )
    rows = []
    for n, r in enumerate(records, 1):
        parts = [
            (label, getattr(r, field))
            for field, label in (
                ("resume", "Resume"),
                ("material", "Materi"),
                ("method", "Metode"),
                ("lessons", "Pelajaran"),
                ("obstacles", "Kendala"),
            )
            if getattr(r, field)
        ]
        rows.append(
            {
                "no": n,
                "meeting": r.title,
                "kind": r.kind,
                "present": present.get(r.id, 0),
                "when": f"{r.held_on.isoformat()} {r.time or ''}".strip(),
                "where": r.place or "",
                "resume": "; ".join(f"{label}: {text}" for label, text in parts),
            }
        )
    return rows


def activity_recap(db: Session, inst: CourseInstance, rombel_id: int | None) -> list[dict]:
    people = meetings.members(db, inst, rombel_id)
    total = sum(len(b.activities) for b in inst.module.blocks)
    done = dict(
        db.execute(
            select(ActivityCompletion.user_id, func.count())
            .where(
                ActivityCompletion.context_pk == inst.context_pk,
                ActivityCompletion.completed_at.is_not(None),
            )
            .group_by(ActivityCompletion.user_id)
        ).all()
    )
    first = dict(
        db.execute(
            select(Membership.user_id, Membership.first_launch_at).where(
                Membership.context_pk == inst.context_pk
            )
        ).all()
    )
    return [
        {
            "name": p.name,
            "done": done.get(p.id, 0),
            "total": total,
            "percent": round(100 * done.get(p.id, 0) / total) if total else 0,
            "never": first.get(p.id) is None,
        }
        for p in people
    ]


def contents(db: Session, inst: CourseInstance, report: StaffReport) -> dict:
    """The pre-filled parts: frozen once submitted, computed while a draft."""
    if report.snapshot is not None:
        return report.snapshot
    rombel_name = None
    if report.rombel_id is not None:
        rombel_name = next(
            (r.name for r in roster.rombels(db, inst) if r.id == report.rombel_id), None
        )
    return {
        "rombel": rombel_name,
        "meetings": meeting_table(db, inst, report.rombel_id),
        "activity": activity_recap(db, inst, report.rombel_id),
    }
