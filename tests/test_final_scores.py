"""Final scores from what graded activities reported to grading/: components combined
as the template says (TS the mean of the session tests, TA the last), an imported
score taking a component's place, pending while open, zero once closed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from grading.report import report_score
from lti_tool.models import Context
from lti_tool.services import scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member


@pytest.fixture
def course(db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="c1", title="Kelas A")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    siti = add_member(db, "https://lms", ctx.id, "siti")
    db.flush()
    acts = {f"{b.key}/{a.key}": a for b in inst.module.blocks for a in b.activities}
    return db, ctx, inst, siti, acts


def _report(db, ctx, acts, user, ref, points, top="100"):
    report_score(
        db,
        context_pk=ctx.id,
        activity=acts[ref],
        user_id=user.id,
        score=Decimal(points),
        max_score=Decimal(top),
        source="test",
    )


def test_components_come_from_reported_scores(course):
    db, ctx, inst, siti, acts = course
    for n, points in enumerate(("80", "70", "90", "65"), start=1):
        _report(db, ctx, acts, siti, f"sesi-{n}/tes-sumatif", points)
    for n in range(1, 5):
        _report(db, ctx, acts, siti, f"sesi-{n}/penilaian-diri", "45", top="50")  # 90 %
    _report(db, ctx, acts, siti, "penutup/tes-akhir", "82.5")
    result = scores.finals(db, inst, [siti.id])[siti.id]
    assert result.components["TS"] == Decimal("76.25")  # (80+70+90+65)/4
    assert result.components["PD"] == Decimal("90.00")
    assert result.components["TA"] == Decimal("82.50")
    # NA = 10% x 90 + 50% x 76.25 + 40% x 82.5 = 9 + 38.125 + 33 = 80.125 -> 80.13
    assert result.value == Decimal("80.13")
    assert result.passed is True and result.predikat == "Baik"


def test_a_missing_component_is_pending_while_open_and_zero_once_closed(course):
    db, ctx, inst, siti, acts = course
    for n in range(1, 5):
        _report(db, ctx, acts, siti, f"sesi-{n}/tes-sumatif", "80")
        _report(db, ctx, acts, siti, f"sesi-{n}/penilaian-diri", "100")
    open_result = scores.finals(db, inst, [siti.id])[siti.id]
    assert open_result.value is scores.PENDING and open_result.components["TA"] is scores.PENDING
    inst.start_date = date.today() - timedelta(days=60)  # every activity is past its due day
    closed = scores.finals(db, inst, [siti.id])[siti.id]
    assert closed.components["TA"] == Decimal("0.00")
    assert closed.value == Decimal("50.00")  # 10 + 40 + 0
    assert closed.passed is False


def test_an_imported_score_takes_the_components_place(course):
    db, ctx, inst, siti, acts = course
    _report(db, ctx, acts, siti, "penutup/tes-akhir", "60")
    scores.set_manual(db, inst, siti.id, "TA", Decimal("88.00"), by=siti.id)
    result = scores.finals(db, inst, [siti.id])[siti.id]
    assert result.components["TA"] == Decimal("88.00")


def test_a_changed_score_gets_a_new_version(course):
    db, ctx, _inst, siti, acts = course
    _report(db, ctx, acts, siti, "sesi-1/tes-sumatif", "70")
    _report(db, ctx, acts, siti, "sesi-1/tes-sumatif", "70")
    from grading.report import scores_in

    (row,) = scores_in(db, ctx.id).values()
    assert row.version == 1
    _report(db, ctx, acts, siti, "sesi-1/tes-sumatif", "75")
    assert row.version == 2 and row.score == "75"
    with pytest.raises(ValueError):
        _report(db, ctx, acts, siti, "sesi-1/tes-sumatif", "101")
