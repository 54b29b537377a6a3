"""Record tatap muka (from the template) and web conferences: attendance and minutes.

A mentor records the meetings of their own rombel; the pengampu (or admin kelas) may
record any rombel's, and web conferences for the whole class. Every listed peserta
needs a status, so a daftar hadir is never half-filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.models import CourseInstance, MeetingAttendance, MeetingRecord
from lti_tool.services import roster
from lti_tool.services.instances import InstanceError

STATUSES = ("hadir", "izin", "sakit", "alpa")
TEXT_FIELDS = ("place", "resume", "material", "method", "lessons", "obstacles")
MAX_TEXT = 4000


def template_meetings(inst: CourseInstance) -> list[dict]:
    return list((inst.module.definition or {}).get("meetings") or [])


def members(db: Session, inst: CourseInstance, rombel_id: int | None) -> list[roster.Person]:
    """The peserta a record covers: one rombel, or the whole class."""
    people = roster.peserta(db, inst)
    if rombel_id is None:
        return people
    assigned = roster.assignments(db, inst)
    return [p for p in people if assigned.get(p.id) == rombel_id]


def find(db: Session, inst: CourseInstance, key: str, rombel_id: int | None):
    query = select(MeetingRecord).where(
        MeetingRecord.instance_id == inst.id, MeetingRecord.key == key
    )
    query = query.where(
        MeetingRecord.rombel_id.is_(None)
        if rombel_id is None
        else MeetingRecord.rombel_id == rombel_id
    )
    return db.scalars(query).first()


def attendance(db: Session, record: MeetingRecord | None) -> dict[int, str]:
    if record is None:
        return {}
    rows = db.execute(
        select(MeetingAttendance.user_id, MeetingAttendance.status).where(
            MeetingAttendance.record_id == record.id
        )
    )
    return dict(rows.all())


@dataclass
class MeetingInput:
    held_on: date
    time: str | None
    texts: dict[str, str]
    statuses: dict[int, str]


def save(
    db: Session,
    inst: CourseInstance,
    *,
    key: str,
    kind: str,
    title: str,
    rombel_id: int | None,
    data: MeetingInput,
    by: int,
) -> MeetingRecord:
    """Create or update a meeting record with its full daftar hadir. The caller commits."""
    covered = {p.id for p in members(db, inst, rombel_id)}
    if set(data.statuses) != covered or any(s not in STATUSES for s in data.statuses.values()):
        raise InstanceError("attendance_incomplete")
    if any(len(v) > MAX_TEXT for v in data.texts.values()):
        raise InstanceError("text_too_long")
    record = find(db, inst, key, rombel_id)
    if record is None:
        record = MeetingRecord(
            instance_id=inst.id,
            key=key,
            kind=kind,
            title=title,
            rombel_id=rombel_id,
            held_on=data.held_on,
        )
        db.add(record)
    record.held_on = data.held_on
    record.time = data.time
    for field in TEXT_FIELDS:
        setattr(record, field, data.texts.get(field) or None)
    record.recorded_by = by
    db.flush()
    db.execute(delete(MeetingAttendance).where(MeetingAttendance.record_id == record.id))
    for user_id, status in data.statuses.items():
        db.add(MeetingAttendance(record_id=record.id, user_id=user_id, status=status))
    return record


def next_web_key(db: Session, inst: CourseInstance) -> str:
    keys = db.scalars(
        select(MeetingRecord.key).where(
            MeetingRecord.instance_id == inst.id, MeetingRecord.kind == "web"
        )
    ).all()
    numbers = [int(k.split("-")[1]) for k in keys if k.startswith("web-") and k[4:].isdigit()]
    return f"web-{max(numbers, default=0) + 1}"
