"""Final scores for a whole class, streamed: the numbers of `scores.finals`, at scale.

`scores.finals` reads every score of the class into dictionaries of ORM objects, which
is right for a page of 40 peserta and far too slow and large for 100,000. Here one
query returns one row per peserta, in roster order, with that peserta's reported
scores (of the activities feeding the rule's components, as three lists: activities,
points possible, scores) and manual scores folded into two columns by the database
(`query.listed`, `query.folded`); each row is scored with the arithmetic of
`grading.formulas`, in the same order and with the same Decimal operations, so the
numbers are the same (tests compare the two for every peserta). The hot loop inlines
that arithmetic (a function call per component and per check cost more than the sums
themselves); a row with a value the formulas would refuse (a score outside 0-100) goes
through `grading.formulas` itself, which raises as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
#: dict.__getitem__ called on a memo (its __missing__ computes what it lacks).
_lookup = dict.__getitem__


class _Percents(dict):
    """score (the text the database returns) -> the percentage `grading.report.percent`
    makes of it out of `top` points possible, computed on first use: a class shares a
    few thousand. A score outside 0-100 % is noted in `refused` as (score, top), so
    that its row is scored by the formulas themselves (which refuse it)."""

    def __init__(self, top: str, refused: set[tuple[str, str]]) -> None:
        super().__init__()
        self.top = top
        self._top = Decimal(top)
        self.refused = refused

    def __missing__(self, score: str) -> Decimal:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        pct = self[score] = Decimal(score) * 100 / self._top
        if not (_ZERO <= pct <= _HUNDRED):
            self.refused.add((score, self.top))
        return pct


class _Manual(dict):
    """A folded manual record (component UNIT value) -> (component, Decimal value),
    computed on first use."""

    def __missing__(self, record: str) -> tuple[str, Decimal]:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        key, value = record.split(q.UNIT)
        hit = self[record] = (key, Decimal(value))
        return hit


@dataclass(frozen=True)
class _Layout:
    """Where a peserta's listed scores go, for one list of activities and points
    possible (most peserta of a class share a few): the percentages of each position,
    and for each component the positions of its feeding activities, in the rule's
    order (the order `mean` sums and `last` takes)."""

    percents: tuple[_Percents, ...]
    picks: tuple[tuple[int, ...], ...]


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
        self._refused_pairs: set[tuple[str, str]] = set()
        self._percents: dict[str, _Percents] = {}  # by points possible
        self._layouts: dict[str, _Layout] = {}
        self._manual = _Manual()
        self._plan = [
            (c, [str(a) for a in self.feeding[c.key]], self.closed[c.key])
            for c in self.rule.components
        ]
        zero_when_closed = self.rule.missing_after_close == "zero"
        self._fast = [
            (c.key, c.manual, closed and zero_when_closed, c.aggregate)
            for c, _feeding, closed in self._plan
        ]
        self._no_picks = tuple(() for _c in self._plan)
        self.keys = [c.key for c in self.rule.components]
        self._exp = Decimal(1).scaleb(-self.rule.precision)
        self._bands = [(band.min, band.label) for band in self.rule.predikat]
        self._weights = [c.weight for c in self.rule.components]
        self._mark = self.rule.pass_mark

    def lookups(self, user_id: Any) -> tuple[Any, Any]:
        """The listed reported and folded manual scores of the peserta `user_id` (a
        column): correlated subqueries on an index each. The reported scores are read
        from the peserta's range of `ix_activity_score_by_user`, which covers them; the
        activity is compared as `activity_id + 0` so that SQLite does not probe that
        range once per activity of the list (0.16 s more for 100,000 peserta)."""
        reported = (
            select(self._reported_list())
            .where(
                ActivityScore.context_pk == self.inst.context_pk,
                ActivityScore.user_id == user_id,
                (ActivityScore.activity_id + 0).in_(self.feeding_ids),
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
        reported scores, listed, and the manual scores, folded (a page of 100 reads
        100 peserta's scores)."""
        return q.peserta_select(self.db, self.inst, filters).add_columns(
            *self.lookups(Membership.user_id)
        )

    def _reported_list(self) -> Any:
        """The aggregate listing a peserta's reported scores: activities, points
        possible, scores (see `_layout`)."""
        return q.listed(
            self.db, ActivityScore.activity_id, ActivityScore.max_score, ActivityScore.score
        )

    def manual_scores(self, folded: str | None) -> dict[str, Decimal]:
        """component -> manual score of one folded value (records remembered)."""
        if not folded:
            return {}
        return dict(map(self._manual.__getitem__, folded.split(q.RECORD)))

    def _layout(self, head: str) -> _Layout:
        """The layout of a listed value whose activities and points possible are
        `head` (remembered)."""
        if len(self._layouts) >= _MEMO_LIMIT:
            self._layouts.clear()
        ids, tops = head.split(q.RECORD)
        position = {aid: i for i, aid in enumerate(ids.split(q.UNIT))}
        percents = []
        for top in tops.split(q.UNIT):
            known = self._percents.get(top)
            if known is None:
                if len(self._percents) >= _MEMO_LIMIT:
                    self._percents.clear()
                known = self._percents[top] = _Percents(top, self._refused_pairs)
            percents.append(known)
        picks = tuple(
            tuple(position[a] for a in feeding if a in position) for _c, feeding, _z in self._plan
        )
        layout = self._layouts[head] = _Layout(tuple(percents), picks)
        return layout

    def _percentages(self, listed: str) -> tuple[_Layout, list[Decimal]]:
        """The layout and the percentages (by position) of one peserta's listed
        scores: one lookup for the layout, then map over the split scores."""
        head, _sep, points = listed.rpartition(q.RECORD)
        layout = self._layouts.get(head) or self._layout(head)
        return layout, list(map(_lookup, layout.percents, points.split(q.UNIT)))

    def _reported(self, listed: str | None) -> dict[str, Decimal]:
        """activity id (as text) -> percentage, of one peserta's listed scores."""
        if not listed:
            return {}
        _layout, percents = self._percentages(listed)
        ids = listed.split(q.RECORD, 1)[0]
        return dict(zip(ids.split(q.UNIT), percents, strict=True))

    def _refused(self, listed: str | None) -> bool:
        """Whether one of the listed scores has a percentage the formulas refuse."""
        if not listed:
            return False
        _ids, tops, points = listed.split(q.RECORD)
        pairs = zip(points.split(q.UNIT), tops.split(q.UNIT), strict=True)
        return not self._refused_pairs.isdisjoint(pairs)

    def scored(
        self, reported_text: str | None, manual: dict[str, Decimal]
    ) -> tuple[list[Score], Score, bool | None, str | None]:
        """(components as shown, final value, passed, predikat) of one peserta: the
        numbers of `result`, without building its objects (the report's hot loop)."""
        if reported_text:
            layout, percents = self._percentages(reported_text)
            picks = layout.picks
        else:
            percents, picks = [], self._no_picks
        if self._refused_pairs and self._refused(reported_text):
            return self._checked(self._reported(reported_text), manual)
        raw: list[Score] = []
        pending = False
        for (key, manual_only, zero, how), pick in zip(self._fast, picks, strict=True):
            v = manual.get(key) if manual else None
            if v is not None:
                if not (_ZERO <= v <= _HUNDRED):  # raises as the formulas do
                    return self._checked(self._reported(reported_text), manual)
                raw.append(v)
            elif manual_only:
                raw.append(PENDING)
                pending = True
            elif not pick:
                if zero:
                    raw.append(_ZERO)
                else:
                    raw.append(PENDING)
                    pending = True
            elif how == "mean":
                raw.append(sum(map(percents.__getitem__, pick), _ZERO) / len(pick))
            elif how == "last":
                raw.append(percents[pick[-1]])
            else:
                raw.append(aggregate([percents[i] for i in pick], how))
        exp = self._exp
        if pending:
            shown = [PENDING if v is PENDING else v.quantize(exp, ROUND_HALF_UP) for v in raw]
            return shown, PENDING, None, None
        shown = [v.quantize(exp, ROUND_HALF_UP) for v in raw]
        total = _ZERO
        for v, weight in zip(raw, self._weights, strict=True):
            total = total + v * weight / _HUNDRED
        value = total.quantize(exp, ROUND_HALF_UP)
        mark = self._mark
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
        """The rows of `select`: person columns, listed reported, folded manual (the
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
        are as fast as it reads the scores.) The order of the scores within their lists
        is not used (the three lists share it), nor that of the manual records."""
        reported = (
            select(
                ActivityScore.user_id.label("user_id"),
                self._reported_list().label("folded"),
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
