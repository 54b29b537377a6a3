"""The class roster: peserta and mentors, rombel, the start that freezes them.

Juknis IV.D.2.b: once a class has started, its peserta and mentors cannot change.
Starting a class records the moment; from then on rombel assignments are refused
with a clear message, while peserta who launch later are still recorded (the
launch log) and listed for the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import CourseInstance, Membership, Rombel, RombelMember, User
from lti_tool.services.instances import InstanceError
from lti_tool.services.roles import MENTOR, PENGAMPU, PESERTA

#: Model 1: one pengampu for at most 40 peserta per class (Juknis IV.E).
MAX_PESERTA_PER_PENGAMPU = 40
#: PLPG: a rombel of about 10 peserta with one mentor.
PLPG_ROMBEL_SIZE = 10
#: Characters of a rombel's name (the column's size; the form says so too).
MAX_ROMBEL_NAME = 100


def mentors_needed(peserta: int) -> int:
    """Mentors per learning centre by the Juknis table (10-30 -> 1, 31 -> 2, 60 -> 3)."""
    if peserta <= 0:
        return 0
    if peserta <= 30:
        return 1
    if peserta < 60:
        return 2
    return 3


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str | None


def _people(db: Session, context_pk: int, role: str) -> list[Person]:
    rows = db.execute(
        select(User.id, User.name, User.given_name, User.family_name, User.email, User.sub)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.context_pk == context_pk, Membership.role == role)
        .order_by(User.name, User.id)
    )
    out = []
    for uid, name, given, family, email, sub in rows:
        full = " ".join(p for p in (given, family) if p)
        out.append(Person(uid, name or full or email or sub, email))
    return out


def peserta(db: Session, inst: CourseInstance) -> list[Person]:
    return _people(db, inst.context_pk, PESERTA)


def mentors(db: Session, inst: CourseInstance) -> list[Person]:
    return _people(db, inst.context_pk, MENTOR)


def rombels(db: Session, inst: CourseInstance) -> list[Rombel]:
    return list(
        db.scalars(select(Rombel).where(Rombel.instance_id == inst.id).order_by(Rombel.name))
    )


def assignments(db: Session, inst: CourseInstance) -> dict[int, int]:
    """user id -> rombel id."""
    rows = db.execute(
        select(RombelMember.user_id, RombelMember.rombel_id).where(
            RombelMember.instance_id == inst.id
        )
    )
    return dict(rows.all())


def _not_started(inst: CourseInstance) -> None:
    if inst.started_at is not None:
        raise InstanceError("roster_frozen")


def create_rombel(db: Session, inst: CourseInstance, name: str, mentor_id: int | None) -> Rombel:
    _not_started(inst)
    name = name.strip()
    if not name:
        raise InstanceError("rombel_name")
    if len(name) > MAX_ROMBEL_NAME:
        raise InstanceError("rombel_name_long")
    if db.scalar(select(Rombel.id).where(Rombel.instance_id == inst.id, Rombel.name == name)):
        raise InstanceError("rombel_exists")
    if mentor_id is not None and mentor_id not in {m.id for m in mentors(db, inst)}:
        raise InstanceError("not_a_mentor")
    rombel = Rombel(instance_id=inst.id, name=name, mentor_id=mentor_id)
    db.add(rombel)
    db.flush()
    return rombel


def assign(db: Session, inst: CourseInstance, user_id: int, rombel_id: int | None, by: int) -> None:
    """Put a peserta in a rombel (None: in none). Refused once the class has started."""
    _not_started(inst)
    if user_id not in {p.id for p in peserta(db, inst)}:
        raise InstanceError("not_a_peserta")
    current = db.scalars(
        select(RombelMember).where(
            RombelMember.instance_id == inst.id, RombelMember.user_id == user_id
        )
    ).first()
    if rombel_id is None:
        if current is not None:
            db.delete(current)
        return
    if rombel_id not in {r.id for r in rombels(db, inst)}:
        raise InstanceError("no_such_rombel")
    if current is None:
        db.add(RombelMember(instance_id=inst.id, rombel_id=rombel_id, user_id=user_id, added_by=by))
    else:
        current.rombel_id = rombel_id
        current.added_by = by


@dataclass(frozen=True)
class MyRombel:
    name: str
    mentor: Person | None
    members: list[Person]


def rombel_of(db: Session, inst: CourseInstance, user_id: int) -> MyRombel | None:
    """A peserta's rombel, its mentor (with contact) and its members."""
    rombel_id = assignments(db, inst).get(user_id)
    if rombel_id is None:
        return None
    rombel = db.get(Rombel, rombel_id)
    member_ids = {u for u, r in assignments(db, inst).items() if r == rombel_id}
    members = [p for p in peserta(db, inst) if p.id in member_ids]
    mentor = next((m for m in mentors(db, inst) if m.id == rombel.mentor_id), None)
    return MyRombel(name=rombel.name, mentor=mentor, members=members)


#: PLPG: an account not activated within two weeks counts as withdrawn.
WITHDRAWN_AFTER_DAYS = 14


def withdrawn(db: Session, inst: CourseInstance, now: datetime | None = None) -> set[int]:
    """PLPG peserta who did not launch within 14 days of the class start (mengundurkan
    diri): those on the roster (NRPS) who never launched once the 14 days are over,
    and those whose first launch came after them."""
    if inst.module.mode != "plpg-pembekalan" or inst.start_date is None:
        return set()
    from datetime import timedelta

    from lti_tool.services.schedule import end_of_day_utc

    deadline = end_of_day_utc(inst.start_date + timedelta(days=WITHDRAWN_AFTER_DAYS), inst.timezone)
    over = (now or utcnow()) > deadline
    rows = db.execute(
        select(Membership.user_id, Membership.first_launch_at).where(
            Membership.context_pk == inst.context_pk, Membership.role == PESERTA
        )
    )
    return {uid for uid, first in rows if (first is None and over) or (first and first > deadline)}


def never_launched(db: Session, inst: CourseInstance) -> set[int]:
    """Peserta on the LMS roster (NRPS) who have never opened the tool."""
    return set(
        db.scalars(
            select(Membership.user_id).where(
                Membership.context_pk == inst.context_pk,
                Membership.role == PESERTA,
                Membership.first_launch_at.is_(None),
            )
        )
    )


def start_class(db: Session, inst: CourseInstance) -> None:
    """Record the start: the roster is frozen from now on."""
    if inst.start_date is None:
        raise InstanceError("no_start_date")
    if inst.started_at is None:
        inst.started_at = utcnow()


def late_launches(db: Session, inst: CourseInstance) -> list[Person]:
    """Peserta who first launched after the class started and are in no rombel."""
    if inst.started_at is None:
        return []
    assigned = set(assignments(db, inst))
    late = set(
        db.scalars(
            select(Membership.user_id).where(
                Membership.context_pk == inst.context_pk,
                Membership.role == PESERTA,
                Membership.first_launch_at > inst.started_at,
            )
        )
    )
    return [p for p in peserta(db, inst) if p.id in late and p.id not in assigned]


def warnings(db: Session, inst: CourseInstance) -> list[tuple[str, dict]]:
    """The programme's limits this class exceeds: (code, numbers for the message)."""
    out: list[tuple[str, dict]] = []
    n = len(peserta(db, inst))
    mode = inst.module.mode
    if mode == "daring-model-1":
        pengampu = max(len(_people(db, inst.context_pk, PENGAMPU)), 1)
        if n > MAX_PESERTA_PER_PENGAMPU * pengampu:
            out.append(("too_many_peserta", {"n": n, "max": MAX_PESERTA_PER_PENGAMPU * pengampu}))
    groups = rombels(db, inst)
    if mode in ("daring-model-2", "daring-kombinasi"):
        with_mentor = len({r.mentor_id for r in groups if r.mentor_id is not None})
        needed = mentors_needed(n)
        if with_mentor < needed:
            out.append(("mentors_needed", {"n": n, "needed": needed, "have": with_mentor}))
    if mode == "plpg-pembekalan":
        sizes: dict[int, int] = {}
        for rombel_id in assignments(db, inst).values():
            sizes[rombel_id] = sizes.get(rombel_id, 0) + 1
        for r in groups:
            if sizes.get(r.id, 0) > PLPG_ROMBEL_SIZE + 2:
                out.append(("rombel_too_big", {"name": r.name, "n": sizes[r.id]}))
    unassigned = n - len(assignments(db, inst))
    if groups and unassigned > 0:
        out.append(("unassigned", {"n": unassigned}))
    return out
