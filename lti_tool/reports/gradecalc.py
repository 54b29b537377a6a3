"""Final scores for a whole class, streamed: the numbers of `scores.finals`, at scale.

`scores.finals` reads every score of the class into dictionaries of ORM objects, which
is right for a page of 40 peserta and far too slow and large for 100,000. Here one
query returns one row per peserta, in roster order, with that peserta's reported
scores (of the activities feeding the rule's components) and manual scores folded
into two columns by the database; each row is scored with the arithmetic of
`grading.formulas`, in the same order and with the same Decimal operations, so the
numbers are the same (tests compare the two for every peserta). The hot loop inlines
that arithmetic (a function call per component and per check cost more than the sums
themselves); a row with a value the formulas would refuse (a score outside 0-100) goes
through `grading.formulas` itself, which raises as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from grading.formulas import PENDING, Result, Score, aggregate, component_score, final_score
from lti_tool.db import utcnow
from lti_tool.models import ActivityScore, CourseInstance, ManualScore, Membership
from lti_tool.reports import query as q
from lti_tool.reports.base import Filters
from lti_tool.services import scores

UKG = "UKG"
_MEMO_LIMIT = 200_000
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


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
        self._manual: dict[str, tuple[str, Decimal]] = {}
        self._plan = [
            (c, [str(a) for a in self.feeding[c.key]], self.closed[c.key])
            for c in self.rule.components
        ]
        zero_when_closed = self.rule.missing_after_close == "zero"
        self._fast = [
            (c.key, c.manual, feeding, closed and zero_when_closed, c.aggregate)
            for c, feeding, closed in self._plan
        ]
        self.keys = [c.key for c in self.rule.components]
        self._exp = Decimal(1).scaleb(-self.rule.precision)
        self._bands = [(band.min, band.label) for band in self.rule.predikat]
        self._weights = [c.weight for c in self.rule.components]
        self._refused: set[str] = set()

    def lookups(self, user_id: Any) -> tuple[Any, Any]:
        """The folded reported and manual scores of the peserta `user_id` (a column):
        correlated subqueries on the unique indexes."""
        reported = (
            select(
                q.folded(
                    self.db, ActivityScore.activity_id, ActivityScore.score, ActivityScore.max_score
                )
            )
            .where(
                ActivityScore.context_pk == self.inst.context_pk,
                ActivityScore.activity_id.in_(self.feeding_ids),
                ActivityScore.user_id == user_id,
            )
            .scalar_subquery()
        )
        manual = (
            select(q.folded(self.db, ManualScore.component, ManualScore.value))
            .where(ManualScore.instance_id == self.inst.id, ManualScore.user_id == user_id)
            .scalar_subquery()
        )
        return reported, manual

    def select(self, filters: Filters) -> Select:
        """The peserta query (see `query.peserta_select`) with two more columns: the
        reported scores and the manual scores, folded (a page of 100 reads 100
        peserta's scores)."""
        return q.peserta_select(self.db, self.inst, filters).add_columns(
            *self.lookups(Membership.user_id)
        )

    def percent(self, record: str) -> tuple[str, Decimal]:
        """(activity id, `grading.report.percent` of the score) of one folded record,
        remembered: a class shares a few thousand (activity, score) pairs. A record
        whose percentage is outside 0-100 is noted, so that its row is scored by the
        formulas themselves (which refuse it)."""
        aid, score, top = record.split(q.UNIT)
        if len(self._percent) >= _MEMO_LIMIT:
            self._percent.clear()
        pct = Decimal(score) * 100 / Decimal(top)
        if not (_ZERO <= pct <= _HUNDRED):
            self._refused.add(record)
        value = self._percent[record] = (aid, pct)
        return value

    def manual_scores(self, folded: str | None) -> dict[str, Decimal]:
        """component -> manual score of one folded value (records remembered as above)."""
        if not folded:
            return {}
        known = self._manual
        out = {}
        for record in folded.split(q.RECORD):
            hit = known.get(record)
            if hit is None:
                key, value = record.split(q.UNIT)
                if len(known) >= _MEMO_LIMIT:
                    known.clear()
                hit = known[record] = (key, Decimal(value))
            out[hit[0]] = hit[1]
        return out

    def _reported(self, reported_text: str | None) -> dict[str, Decimal]:
        reported: dict[str, Decimal] = {}
        if reported_text:
            known = self._percent
            for record in reported_text.split(q.RECORD):
                aid, value = known.get(record) or self.percent(record)
                reported[aid] = value
        return reported

    def scored(
        self, reported_text: str | None, manual: dict[str, Decimal]
    ) -> tuple[list[Score], Score, bool | None, str | None]:
        """(components as shown, final value, passed, predikat) of one peserta: the
        numbers of `result`, without building its objects (the report's hot loop)."""
        reported = self._reported(reported_text)
        refused = self._refused
        if refused and reported_text and any(r in refused for r in reported_text.split(q.RECORD)):
            return self._checked(reported, manual)
        raw: list[Score] = []
        pending = False
        get = reported.get
        for key, manual_only, feeding, zero, how in self._fast:
            if manual and key in manual:
                v = manual[key]
                if not (_ZERO <= v <= _HUNDRED):
                    return self._checked(reported, manual)  # raises as the formulas do
                raw.append(v)
            elif manual_only:
                raw.append(PENDING)
                pending = True
            else:
                values = [v for a in feeding if (v := get(a)) is not None]
                if not values:
                    if zero:
                        raw.append(_ZERO)
                    else:
                        raw.append(PENDING)
                        pending = True
                elif how == "mean":
                    raw.append(sum(values, _ZERO) / len(values))
                elif how == "last":
                    raw.append(values[-1])
                else:
                    raw.append(aggregate(values, how))
        exp = self._exp
        if pending:
            shown = [PENDING if v is PENDING else v.quantize(exp, ROUND_HALF_UP) for v in raw]
            return shown, PENDING, None, None
        shown = [v.quantize(exp, ROUND_HALF_UP) for v in raw]
        total = _ZERO
        for v, weight in zip(raw, self._weights, strict=True):
            total = total + v * weight / _HUNDRED
        value = total.quantize(exp, ROUND_HALF_UP)
        mark = self.rule.pass_mark
        passed = None if mark is None else value >= mark
        label = None
        for bound, band in self._bands:  # listed from the highest minimum down
            if value >= bound:
                label = band
                break
        return shown, value, passed, label

    def _checked(self, reported: dict[str, Decimal], manual: dict[str, Decimal]):
        """A row through `grading.formulas` itself (for values it refuses: it raises)."""
        result = self._formulas(reported, manual)
        shown = [result.components[k] for k in self.keys]
        return shown, result.value, result.passed, result.predikat

    def _formulas(self, reported: dict[str, Decimal], manual: dict[str, Decimal]) -> Result:
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

    def result(self, reported_text: str | None, manual: dict[str, Decimal]) -> Result:
        """As `scores.finals` computes one peserta's result."""
        shown, value, passed, predikat = self.scored(reported_text, manual)
        return Result(value, passed, predikat, dict(zip(self.keys, shown, strict=True)))

    def raw_rows(self, filters: Filters, offset: int = 0, limit: int | None = None) -> Iterator:
        """The rows of `select`: person columns, folded reported, folded manual (the
        whole class on PostgreSQL: `whole_select`)."""
        whole = offset == 0 and limit is None
        if whole and self.db.get_bind().dialect.name == "postgresql":
            return q.stream(self.db, self.whole_select(filters))
        return q.stream(self.db, self.select(filters), offset, limit)

    def whole_select(self, filters: Filters) -> Select:
        """`select` for the whole class on PostgreSQL: each table grouped once by peserta
        and hash-joined, 2-3 times faster there than 100,000 correlated lookups. (SQLite
        gains nothing from it and would hold the grouped rows in memory; its correlated
        lookups, made in the order of the membership table before the rows are sorted,
        are as fast as it reads the scores.) The order of the records within a folded
        value is not used."""
        reported = (
            select(
                ActivityScore.user_id.label("user_id"),
                q.folded(
                    self.db, ActivityScore.activity_id, ActivityScore.score, ActivityScore.max_score
                ).label("folded"),
            )
            .where(
                ActivityScore.context_pk == self.inst.context_pk,
                ActivityScore.activity_id.in_(self.feeding_ids),
            )
            .group_by(ActivityScore.user_id)
            .subquery("reported")
        )
        manual = (
            select(
                ManualScore.user_id.label("user_id"),
                q.folded(self.db, ManualScore.component, ManualScore.value).label("folded"),
            )
            .where(ManualScore.instance_id == self.inst.id)
            .group_by(ManualScore.user_id)
            .subquery("manual")
        )
        return (
            q.peserta_select(self.db, self.inst, filters)
            .add_columns(reported.c.folded, manual.c.folded)
            .outerjoin(reported, reported.c.user_id == Membership.user_id)
            .outerjoin(manual, manual.c.user_id == Membership.user_id)
        )

    def rows(
        self, filters: Filters, offset: int = 0, limit: int | None = None
    ) -> Iterator[tuple[q.Person, Result, dict[str, Decimal]]]:
        """(peserta, result, manual scores) for each peserta the filters allow."""
        for row in self.raw_rows(filters, offset, limit):
            manual = self.manual_scores(row[-1])
            yield q.person(row), self.result(row[-2], manual), manual
