"""Scores become outbox rows in the score's own transaction: only for peserta, only
where the LMS offers AGS; a newer score supersedes an undelivered older one, and AGS
timestamps grow strictly per column and peserta."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from grading.passback import activity_resource_id, final_resource_id
from grading.report import report_score
from lti_tool.models import Context, GradeOutbox
from lti_tool.services import scores
from lti_tool.services.instances import instance_for
from tests.conftest import add_member

AGS = {
    "lineitems": "https://lms.example/ags/c1/lineitems",
    "scope": [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ],
}


@pytest.fixture
def course(db):
    ctx = Context(
        issuer="https://lms", deployment_id="d", context_id="c1", title="A", services={"ags": AGS}
    )
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, "gp-pedagogik-a")
    acts = {f"{b.key}/{a.key}": a for b in inst.module.blocks for a in b.activities}
    return db, ctx, inst, acts


def _report(db, ctx, act, user, points):
    report_score(
        db,
        context_pk=ctx.id,
        activity=act,
        user_id=user.id,
        score=Decimal(points),
        max_score=Decimal(100),
        source="test",
    )


def _rows(db, **where):
    query = select(GradeOutbox).order_by(GradeOutbox.id)
    for k, v in where.items():
        query = query.where(getattr(GradeOutbox, k) == v)
    return list(db.scalars(query))


def test_a_score_is_queued_with_its_column(course):
    db, ctx, _inst, acts = course
    siti = add_member(db, "https://lms", ctx.id, "siti")
    _report(db, ctx, acts["sesi-1/tes-sumatif"], siti, "80")
    (row,) = _rows(db)
    assert row.resource_id == activity_resource_id(acts["sesi-1/tes-sumatif"])
    assert row.resource_id == "a:gp-pedagogik-a/sesi-1/tes-sumatif"  # as deep linking names it
    assert (row.score_given, row.score_max, row.state) == ("80", "100", "pending")
    assert (row.activity_progress, row.grading_progress) == ("Completed", "FullyGraded")
    assert row.tag == "TS" and "Tes Sumatif Sesi 1" in row.label


def test_newer_scores_supersede_and_timestamps_grow(course):
    db, ctx, _inst, acts = course
    siti = add_member(db, "https://lms", ctx.id, "siti")
    act = acts["sesi-1/tes-sumatif"]
    for points in ("60", "70", "70", "90"):
        _report(db, ctx, act, siti, points)
    rows = _rows(db, resource_id=activity_resource_id(act))
    assert [r.score_given for r in rows] == ["60", "70", "90"]  # an unchanged score is not sent
    assert [r.state for r in rows] == ["superseded", "superseded", "pending"]
    stamps = [r.timestamp for r in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_staff_and_courses_without_ags_get_nothing(course):
    db, ctx, _inst, acts = course
    mentor = add_member(db, "https://lms", ctx.id, "mentor", role="mentor")
    _report(db, ctx, acts["sesi-1/tes-sumatif"], mentor, "80")
    assert _rows(db) == []
    plain = Context(issuer="https://lms", deployment_id="d", context_id="c2", title="B")
    db.add(plain)
    db.flush()
    instance_for(db, plain.id, "gp-pedagogik-a")
    siti = add_member(db, "https://lms", plain.id, "siti2")
    _report(db, plain, acts["sesi-1/tes-sumatif"], siti, "80")
    assert _rows(db) == []


def test_the_final_score_is_queued_once_known_and_again_when_it_changes(course):
    db, ctx, inst, acts = course
    siti = add_member(db, "https://lms", ctx.id, "siti")
    for n in range(1, 5):
        _report(db, ctx, acts[f"sesi-{n}/tes-sumatif"], siti, "80")
        _report(db, ctx, acts[f"sesi-{n}/penilaian-diri"], siti, "90")
    assert _rows(db, resource_id=final_resource_id("gp-pedagogik-a")) == []  # TA pending
    scores.set_manual(db, inst, siti.id, "TA", Decimal("70"), by=siti.id)
    (na,) = _rows(db, resource_id=final_resource_id("gp-pedagogik-a"))
    assert na.score_given == "77.00"  # 9 + 40 + 28
    assert na.tag == "NA" and na.grading_progress == "FullyGraded"
    assert "Baik" in na.comment and "Lulus" in na.comment
    scores.set_manual(db, inst, siti.id, "TA", Decimal("70"), by=siti.id)  # no change
    assert len(_rows(db, resource_id=final_resource_id("gp-pedagogik-a"))) == 1
    _report(db, ctx, acts["sesi-1/tes-sumatif"], siti, "100")
    finals = _rows(db, resource_id=final_resource_id("gp-pedagogik-a"))
    assert [r.score_given for r in finals] == ["77.00", "79.50"]
    assert [r.state for r in finals] == ["superseded", "pending"]
