"""The `plpg` report kind: per peserta the progress reports (status, when handed in,
score), the SP components (proses, laporan, presentasi), SP and pass (SP >= 65), and
who counts as withdrawn."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from lti_tool.db import utcnow
from lti_tool.models import Context
from lti_tool.reports.base import Filters, kinds
from lti_tool.services import roster, scores
from lti_tool.services.instances import instance_for
from plugins.laporan import service
from plugins.laporan.models import LaporanSubmission
from tests.conftest import add_member

MODULE = "plpg-laporan-uji"


def _tables(app, db, inst, filters=None):
    with app.test_request_context():
        from lti_tool.i18n import use_locale

        use_locale("en")
        kind = kinds(app)["plpg"]
        assert kind.applies(db, inst)
        found = kind.tables(db, inst, filters or Filters())
        return [str(c.label) for c in found[0].columns], list(found[0].all())


def _hand_in(db, ctx, activity, user, key, score=None, at=None):
    db.add(
        LaporanSubmission(
            context_pk=ctx.id,
            activity_id=activity.id,
            user_id=user.id,
            report_key=key,
            state="submitted",
            stored_name=f"{user.id}-{key}.pdf",
            original_name=f"laporan-{key}.pdf",
            mime="application/pdf",
            size=100,
            sha256="0" * 64,
            submitted_at=at or utcnow(),
            score=score,
        )
    )


def test_plpg_recap(app, db):
    ctx = Context(issuer="https://lms", deployment_id="d", context_id="p", title="PLPG 1")
    db.add(ctx)
    db.flush()
    inst, _ = instance_for(db, ctx.id, MODULE)
    started = date.today() - timedelta(days=40)
    inst.start_date = started
    launched = utcnow() - timedelta(days=39)
    ani = add_member(db, "https://lms", ctx.id, "ani", name="Ani", first_launch=launched)
    budi = add_member(db, "https://lms", ctx.id, "budi", name="Budi", first_launch=launched)
    add_member(db, "https://lms", ctx.id, "cici", name="Cici")  # never launched
    mentor = add_member(db, "https://lms", ctx.id, "m1", role="mentor", name="Pak Mentor")
    db.flush()
    rombel = roster.create_rombel(db, inst, "A", mentor.id)
    roster.assign(db, inst, ani.id, rombel.id, by=mentor.id)
    roster.assign(db, inst, budi.id, rombel.id, by=mentor.id)
    (activity,) = (a for b in inst.module.blocks for a in b.activities if a.type == "laporan")
    handed = utcnow() - timedelta(days=5)
    for key, score in (("1", "80"), ("2", "70"), ("3", "90"), ("4", "60")):
        _hand_in(db, ctx, activity, ani, key, score, handed)
    _hand_in(db, ctx, activity, budi, "1", None, handed)
    past = utcnow() - timedelta(days=1)
    service.set_deadline(db, inst, activity, None, "4", past, by=mentor.id)
    db.flush()
    service.regrade(db, ctx.id, activity, ani.id)  # skor laporan: mean 75
    scores.set_manual(db, inst, ani.id, "proses", Decimal("70"), by=mentor.id)
    scores.set_manual(db, inst, ani.id, "presentasi", Decimal("60"), by=mentor.id)
    scores.set_manual(db, inst, budi.id, "proses", Decimal("90"), by=mentor.id)
    db.flush()
    labels, rows = _tables(app, db, inst)
    assert labels[:8] == [
        "No",
        "Name",
        "Participant number",
        "Rombel",
        "Withdrawn",
        "Report 1",
        "Report 1: handed in",
        "Report 1: score",
    ]
    assert labels[-5:] == ["proses", "laporan", "presentasi", "SP", "Passed"]
    ani_row, budi_row, cici_row = rows
    assert ani_row[1:5] == ("Ani", "", "A", "")
    assert ani_row[5:8] == ("scored", handed, Decimal("80"))
    # SP = 30% x 70 + 30% x 75 + 40% x 60 = 21 + 22.5 + 24 = 67.5 -> passed (>= 65)
    assert ani_row[-5:] == (
        Decimal("70.00"),
        Decimal("75.00"),
        Decimal("60.00"),
        Decimal("67.50"),
        "Yes",
    )
    assert budi_row[5:8] == ("handed in", handed, None)
    assert budi_row[8] == "not yet" and budi_row[14] == "missed"  # report 4's deadline passed
    assert budi_row[-5:] == (Decimal("90.00"), None, None, None, None)  # SP pending
    assert cici_row[1] == "Cici" and cici_row[4] == "Yes"  # withdrawn
    assert cici_row[5] == "not yet"
    # the mentor's rombel only
    _labels, mine = _tables(app, db, inst, Filters(only_mentor=mentor.id))
    assert [r[1] for r in mine] == ["Ani", "Budi"]
