"""Course instances: creation (pinned version), dates, and a peserta's progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Activity, CourseBlock, CourseInstance, CourseModule, DueOverride
from lti_tool.services import schedule
from lti_tool.services.completion import states


class InstanceError(ValueError):
    """A change to a course instance that cannot be made; the message is for the user."""


def newest_module(db: Session, key: str) -> CourseModule | None:
    return db.scalars(
        select(CourseModule).where(CourseModule.key == key).order_by(CourseModule.id.desc())
    ).first()


def instance_for(
    db: Session, context_pk: int, module_key: str
) -> tuple[CourseInstance | None, bool]:
    """(the module's instance in this course, whether it was created now). It is
    created, pinned to the newest installed version, on first use; None when no such
    template is installed. The caller commits."""
    inst = db.scalars(
        select(CourseInstance).where(
            CourseInstance.context_pk == context_pk, CourseInstance.module_key == module_key
        )
    ).first()
    if inst is not None:
        return inst, False
    module = newest_module(db, module_key)
    if module is None:
        return None, False
    inst = CourseInstance(context_pk=context_pk, module_key=module_key, module_id=module.id)
    db.add(inst)
    db.flush()
    return inst, True


def set_dates(db: Session, inst: CourseInstance, start: date, tz: str) -> None:
    """Set the start date; refused once the class has started (dates drive deadlines)."""
    if inst.started_at is not None and start != inst.start_date:
        raise InstanceError("started")
    schedule.zone(tz)  # falls back to the default for an unknown zone
    inst.start_date = start
    inst.timezone = tz


def set_due(
    db: Session,
    inst: CourseInstance,
    activity_id: int,
    due: date | None,
    user_id: int | None,
    by: int,
) -> None:
    """Move an activity's due date for everyone (user_id None) or one peserta;
    `due` None removes the override."""
    if inst.start_date is None:
        raise InstanceError("no_start_date")
    known = {a.id for b in inst.module.blocks for a in b.activities}
    if activity_id not in known:
        raise InstanceError("no_such_activity")
    query = select(DueOverride).where(
        DueOverride.instance_id == inst.id, DueOverride.activity_id == activity_id
    )
    query = query.where(
        DueOverride.user_id.is_(None) if user_id is None else DueOverride.user_id == user_id
    )
    row = db.scalars(query).first()
    if due is None:
        if row is not None:
            db.delete(row)
        return
    if due < inst.start_date:
        raise InstanceError("due_before_start")
    if row is None:
        db.add(
            DueOverride(
                instance_id=inst.id,
                activity_id=activity_id,
                user_id=user_id,
                due_date=due,
                set_by=by,
            )
        )
    else:
        row.due_date = due
        row.set_by = by


@dataclass
class ActivityProgress:
    activity: Activity
    due: date | None
    done: bool
    state: str | None
    overdue: bool


@dataclass
class BlockProgress:
    block: CourseBlock
    span: schedule.Span | None
    activities: list[ActivityProgress] = field(default_factory=list)
    current: bool = False

    @property
    def done(self) -> int:
        return sum(a.done for a in self.activities)


@dataclass
class Progress:
    blocks: list[BlockProgress]
    percent: int
    next: ActivityProgress | None
    due_this_week: list[ActivityProgress]
    current_week: int | None
    gate_label: str | None
    gate_open: bool | None
    gate_missing: list[Activity]


def progress(
    db: Session, inst: CourseInstance, user_id: int, now: datetime | None = None
) -> Progress:
    """Where a peserta stands: per block and activity, with dates when the class has a
    start date (ketuntasan = completed activities / all activities, in percent)."""
    module = inst.module
    done_rows = states(db, inst.context_pk, user_id)
    overrides: dict[tuple[int, int | None], date] = {
        (o.activity_id, o.user_id): o.due_date
        for o in db.scalars(
            select(DueOverride).where(
                DueOverride.instance_id == inst.id,
                (DueOverride.user_id.is_(None)) | (DueOverride.user_id == user_id),
            )
        )
    }
    today = schedule.today_in(inst.timezone, now)
    week_now = schedule.current_week(inst.start_date, today) if inst.start_date else None
    blocks: list[BlockProgress] = []
    total = done = 0
    first_open: ActivityProgress | None = None
    due_week: list[ActivityProgress] = []
    for block in module.blocks:
        span = (
            schedule.block_span(inst.start_date, block.week, block.weeks)
            if inst.start_date
            else None
        )
        bp = BlockProgress(block=block, span=span, current=bool(span and today in span))
        for a in block.activities:
            row = done_rows.get(a.id)
            is_done = bool(row and row.completed_at is not None)
            due = None
            if inst.start_date:
                due = schedule.due_date(
                    inst.start_date,
                    block.week,
                    block.weeks,
                    a.due_day,
                    overrides.get((a.id, None)),
                    overrides.get((a.id, user_id)),
                )
            ap = ActivityProgress(
                activity=a,
                due=due,
                done=is_done,
                state=row.state if row else None,
                overdue=bool(due and not is_done and due < today),
            )
            bp.activities.append(ap)
            total += 1
            done += is_done
            if not is_done and first_open is None:
                first_open = ap
            if due and not is_done and span and today in span:
                due_week.append(ap)
        blocks.append(bp)
    gate = module.definition.get("completion_gate")
    gate_missing: list[Activity] = []
    if gate:
        by_ref = {f"{b.block.key}/{a.activity.key}": a for b in blocks for a in b.activities}
        gate_missing = [by_ref[r].activity for r in gate["require"] if not by_ref[r].done]
    return Progress(
        blocks=blocks,
        percent=round(100 * done / total) if total else 0,
        next=first_open,
        due_this_week=due_week,
        current_week=week_now,
        gate_label=gate["label"] if gate else None,
        gate_open=(not gate_missing) if gate else None,
        gate_missing=gate_missing,
    )
