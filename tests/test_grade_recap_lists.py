"""The grade recap's scores read as lists (activities, points possible, scores) from
the covering index `ix_activity_score_by_user`: a score outside the 0-100 scale still
raises as `scores.finals` does (unless a manual score replaces its component), peserta
with different activities and maxima are each scored as `scores.finals` scores them,
and SQLite answers each peserta's lookup from the index alone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from grading.report import report_score
from lti_tool.models import ActivityScore, Context
from lti_tool.reports.base import Filters
from lti_tool.reports.gradecalc import GradeStream
from lti_tool.services import scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member

D = Decimal


@pytest.fixture
def klass(db):
    """A closed class (missing scores count as zero) and its graded activities."""
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="lists", title="Daftar")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    inst.start_date = date.today() - timedelta(days=90)
    graded = [a for b in inst.module.blocks for a in b.activities if a.component]
    return db, inst, graded


def _raw_score(db, inst, activity, user, score: str, top: str) -> None:
    """A score written as it is (as older or imported data may be), unchecked."""
    db.add(
        ActivityScore(
            context_pk=inst.context_pk,
            activity_id=activity.id,
            user_id=user.id,
            score=score,
            max_score=top,
            source="test",
        )
    )
    db.flush()


def _streamed(db, inst) -> dict:
    return {person.id: result for person, result, _m in GradeStream(db, inst).rows(Filters())}


def test_peserta_with_other_activities_and_maxima_score_as_finals(klass):
    db, inst, graded = klass
    people = []
    # each peserta a different set of activities and points possible (different
    # layouts of the lists), one with none at all
    for i, top in enumerate(("100", "50", "7", "100", "3")):
        user = add_member(db, "https://lms", inst.context_pk, f"l{i}", name=f"Guru {i}")
        db.flush()
        people.append(user)
        for n, activity in enumerate(graded):
            if (n + i) % (i + 2):
                points = D(int(top) * (n + 3 * i) % (int(top) + 1))
                report_score(db, context_pk=inst.context_pk, activity=activity,
                             user_id=user.id, score=points, max_score=D(top), source="test")  # fmt: skip
    empty = add_member(db, "https://lms", inst.context_pk, "kosong", name="Guru kosong")
    db.flush()
    ids = [p.id for p in people] + [empty.id]
    expected = scores.finals(db, inst, ids)
    streamed = _streamed(db, inst)
    assert set(streamed) == set(ids)
    for uid in ids:
        assert streamed[uid] == expected[uid]
    assert len({r.value for r in expected.values()}) > 3  # the peserta differ


def test_a_score_off_the_scale_raises_as_finals_does(klass):
    db, inst, graded = klass
    ta = next(a for a in graded if a.component == "TA")
    ts = next(a for a in graded if a.component == "TS")
    staff = add_member(db, "https://lms", inst.context_pk, "bu", role="pengampu")
    replaced = add_member(db, "https://lms", inst.context_pk, "ganti", name="Ganti")
    db.flush()
    _raw_score(db, inst, ta, replaced, "120", "100")  # off the scale, but TA is entered
    scores.set_manual(db, inst, replaced.id, "TA", D("80"), by=staff.id)
    db.flush()
    expected = scores.finals(db, inst, [replaced.id])[replaced.id]
    assert expected.components["TA"] == D("80.00")
    assert _streamed(db, inst)[replaced.id] == expected

    broken = add_member(db, "https://lms", inst.context_pk, "rusak", name="Rusak")
    db.flush()
    _raw_score(db, inst, ts, broken, "9", "7")
    with pytest.raises(ValueError, match="0-100 scale") as by_finals:
        scores.finals(db, inst, [broken.id])
    with pytest.raises(ValueError, match="0-100 scale") as by_recap:
        _streamed(db, inst)
    assert str(by_recap.value) == str(by_finals.value)


def test_sqlite_reads_each_peserta_from_the_covering_index(klass):
    db, inst, _graded = klass
    bind = db.get_bind()
    if bind.dialect.name != "sqlite":
        pytest.skip("a SQLite query plan")
    query = GradeStream(db, inst).select(Filters())
    sql = str(query.compile(bind, compile_kwargs={"literal_binds": True}))
    plan = " | ".join(row[-1] for row in db.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "COVERING INDEX ix_activity_score_by_user (context_pk=? AND user_id=?)" in plan
