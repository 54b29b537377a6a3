"""Final scores for a whole class, streamed: the numbers of `scores.finals`, at scale.

`scores.finals` reads every score of the class into dictionaries of ORM objects, which
is right for a page of 40 peserta and far too slow and large for 100,000. Here one
query returns one row per peserta, in roster order, with that peserta's reported
scores (of the activities feeding the rule's components) and manual scores folded
into two columns by the database; each row is turned into a Result with the same
functions of `grading.formulas`, in the same order, so the numbers are the same
(tests compare the two for every peserta).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from grading.formulas import PENDING, Result, component_score, final_score
from lti_tool.db import utcnow
from lti_tool.models import ActivityScore, CourseInstance, ManualScore, Membership
from lti_tool.reports import query as q
from lti_tool.reports.base import Filters
from lti_tool.services import scores

UKG = "UKG"
_MEMO_LIMIT = 200_000


class GradeStream:
    """The rule of one class and what it needs to score a peserta from a folded row."""

    def __init__(self, db: Session, inst: CourseInstance, now: datetime | None = None) -> None:
        self.db = db
        self.inst = inst
        self.rule = scores.rule_of(inst)
        activities = [a for b in inst.module.blocks for a in b.activities]
        feeding = {
            c.key: [a for a in activities if a.component == c.key] for c in self.rule.components
        }
        self.feeding = {key: [a.id for a in acts] for key, acts in feeding.items()}
        moment = now or utcnow()
        self.closed = {key: scores._closed(db, inst, acts, moment) for key, acts in feeding.items()}
        self.feeding_ids = sorted({aid for ids in self.feeding.values() for aid in ids})
        self._percent: dict[str, tuple[str, Decimal]] = {}
        self._plan = [
            (c, [str(a) for a in self.feeding[c.key]], self.closed[c.key])
            for c in self.rule.components
        ]

    def select(self, filters: Filters) -> Select:
        """The peserta query (see `query.peserta_select`) with two more columns: the
        reported scores and the manual scores, folded (correlated subqueries on the
        unique indexes: a page of 100 reads 100 peserta's scores, and a streamed
        cursor never makes PostgreSQL plan a grouped join row by row)."""
        reported = (
            select(
                q.folded(
                    self.db, ActivityScore.activity_id, ActivityScore.score, ActivityScore.max_score
                )
            )
            .where(
                ActivityScore.context_pk == self.inst.context_pk,
                ActivityScore.activity_id.in_(self.feeding_ids),
                ActivityScore.user_id == Membership.user_id,
            )
            .scalar_subquery()
        )
        manual = (
            select(q.folded(self.db, ManualScore.component, ManualScore.value))
            .where(
                ManualScore.instance_id == self.inst.id,
                ManualScore.user_id == Membership.user_id,
            )
            .scalar_subquery()
        )
        return q.peserta_select(self.db, self.inst, filters).add_columns(reported, manual)

    def percent(self, record: str) -> tuple[str, Decimal]:
        """(activity id, `grading.report.percent` of the score) of one folded record,
        remembered: a class shares a few thousand (activity, score) pairs."""
        aid, score, top = record.split(q.UNIT)
        if len(self._percent) >= _MEMO_LIMIT:
            self._percent.clear()
        value = self._percent[record] = (aid, Decimal(score) * 100 / Decimal(top))
        return value

    def result(self, reported_text: str | None, manual: dict[str, Decimal]) -> Result:
        """As `scores.finals` computes one peserta's result (the hot loop of a class
        report: activity ids stay text, percentages are looked up)."""
        reported: dict[str, Decimal] = {}
        if reported_text:
            known = self._percent
            for record in reported_text.split(q.RECORD):
                aid, value = known.get(record) or self.percent(record)
                reported[aid] = value
        components = {}
        for c, feeding, closed in self._plan:
            if c.key in manual:
                components[c.key] = manual[c.key]
            elif c.manual:
                components[c.key] = PENDING
            else:
                values = [reported[a] for a in feeding if a in reported]
                components[c.key] = component_score(values, c, closed=closed, rule=self.rule)
        return final_score(components, self.rule)

    def rows(
        self, filters: Filters, offset: int = 0, limit: int | None = None
    ) -> Iterator[tuple[q.Person, Result, dict[str, Decimal]]]:
        """(peserta, result, manual scores) for each peserta the filters allow."""
        for row in q.stream(self.db, self.select(filters), offset, limit):
            manual = {key: Decimal(value) for key, value in q.unfold(row[-1])} if row[-1] else {}
            yield q.person(row), self.result(row[-2], manual), manual
