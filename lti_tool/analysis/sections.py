"""A section of the analysis page that a plugin contributes (smiley, evaluasi, ...).

The core never imports plugins by name: each activity type may return sections from
`ActivityType.analysis_sections`, and the page shows each as a chart with its table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import CourseInstance, RombelMember


@dataclass(frozen=True)
class Section:
    """A chart (SVG Markup from `lti_tool.charts.svg`) and the table of its numbers."""

    title: str
    chart: Markup
    headers: list[str]
    rows: list[list[str]]
    intro: str | None = None  # one line above the chart (e.g. "12 of 40 answered")
    notes: list[str] = field(default_factory=list)  # lines under the table (formulas)


def members_of(
    db: Session, inst: CourseInstance, rombel_ids: Collection[int] | None
) -> set[int] | None:
    """The peserta of these rombel (None: the whole class, no limit)."""
    if rombel_ids is None:
        return None
    if not rombel_ids:
        return set()
    wanted = set(rombel_ids)
    rows = db.execute(
        select(RombelMember.user_id, RombelMember.rombel_id).where(
            RombelMember.instance_id == inst.id
        )
    )
    return {uid for uid, rid in rows if rid in wanted}
