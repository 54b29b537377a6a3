"""Completion over the module's weeks: per week, how many peserta completed every
activity of that week (ketuntasan), and the mean share of the week they completed."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Activity, ActivityCompletion, CourseBlock, CourseInstance


@dataclass(frozen=True)
class WeekCompletion:
    week: int
    last_week: int  # a block may run over several weeks
    activities: int
    peserta: int
    complete: int  # peserta who completed every activity of the week
    mean_percent: float | None  # mean over peserta of the share of the week completed

    @property
    def percent(self) -> float | None:
        """Share of peserta who completed the whole week (None: nothing to complete)."""
        if not self.activities or not self.peserta:
            return None
        return 100 * self.complete / self.peserta

    @property
    def label(self) -> str:
        return (
            str(self.week) if self.last_week == self.week else f"{self.week}\u2013{self.last_week}"
        )


def weekly(db: Session, inst: CourseInstance, user_ids: Collection[int]) -> list[WeekCompletion]:
    """One row per week that has blocks, in order. One grouped query: rows per peserta
    and week, not per activity."""
    sizes: dict[int, int] = {}
    last: dict[int, int] = {}
    for block in inst.module.blocks:
        sizes[block.week] = sizes.get(block.week, 0) + len(block.activities)
        last[block.week] = max(last.get(block.week, block.week), block.week + block.weeks - 1)
    people = set(user_ids)
    done: dict[int, dict[int, int]] = {w: {} for w in sizes}
    rows = db.execute(
        select(ActivityCompletion.user_id, CourseBlock.week, func.count())
        .join(Activity, Activity.id == ActivityCompletion.activity_id)
        .join(CourseBlock, CourseBlock.id == Activity.block_id)
        .where(
            ActivityCompletion.context_pk == inst.context_pk,
            ActivityCompletion.completed_at.is_not(None),
            CourseBlock.module_id == inst.module_id,
        )
        .group_by(ActivityCompletion.user_id, CourseBlock.week)
    )
    for uid, week, count in rows:
        if uid in people and week in done:
            done[week][uid] = count
    out = []
    for week in sorted(sizes):
        size = sizes[week]
        counts = done[week]
        mean = None
        if size and people:
            mean = 100 * sum(min(c, size) for c in counts.values()) / (size * len(people))
        out.append(
            WeekCompletion(
                week=week,
                last_week=last[week],
                activities=size,
                peserta=len(people),
                complete=sum(1 for c in counts.values() if size and c >= size),
                mean_percent=mean,
            )
        )
    return out
