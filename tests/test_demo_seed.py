"""`lti-tool demo seed`: a finished demo class with synthetic peserta, written in bulk,
whose rows the rest of the tool reads as it reads real ones."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from course_templates.loader import shipped_templates
from grading.formulas import PENDING
from lti_tool.db import get_db
from lti_tool.models import (
    Activity,
    ActivityCompletion,
    ActivityLog,
    ActivityScore,
    Biodata,
    Context,
    CourseInstance,
    ManualScore,
    MeetingAttendance,
    MeetingRecord,
    Membership,
    Rombel,
    RombelMember,
    User,
)
from lti_tool.reference.nomor_peserta import parse
from lti_tool.services import roster, scores
from tests.conftest import build_app

SHIPPED = {p.stem: p for p in shipped_templates()}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """An app with two shipped templates and two seeded classes (30 and 12 peserta)."""
    app = build_app(
        tmp_path_factory.mktemp("seed"),
        templates=[SHIPPED["gp-informatika-smp"], SHIPPED["gp-daring-kombinasi"]],
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed", "--participants", "30", "--seed", "7"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(
        args=["demo", "seed", "-n", "12", "--module", "gp-daring-kombinasi", "--seed", "7"]
    )
    assert second.exit_code == 0, second.output
    yield app, runner, first.output, second.output
    get_db(app).engine.dispose()


def _context_id(output: str) -> int:
    return int(output.strip().splitlines()[-1])


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_the_last_line_is_the_new_class_context_id(seeded):
    app, _runner, first, second = seeded
    ctx, other = _context_id(first), _context_id(second)
    assert ctx != other
    with app.app_context():
        from lti_tool.db import session

        db = session()
        one = db.get(Context, ctx)
        assert one is not None and one.context_id.startswith("demo-seed-")
        assert db.get(Context, other).context_id != one.context_id
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        assert inst.module_key == "gp-informatika-smp"  # DEMO_MODULE
        assert inst.started_at is not None and inst.start_date < datetime.now().date()
    assert "users:" in first and "peserta activity:" in first


def test_roster_rombel_and_identities(seeded):
    app, *_rest, first, _second = seeded
    ctx = _context_id(first)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        roles = Counter(
            db.scalars(select(Membership.role).where(Membership.context_pk == ctx)).all()
        )
        assert roles == {"peserta": 30, "mentor": 3, "pengampu": 1}
        peserta = roster.peserta(db, inst)
        assert len(peserta) == 30
        ids = [p.id for p in peserta]
        users = db.scalars(select(User).where(User.id.in_(ids))).all()
        assert len({u.email for u in users}) == 30
        for u in users:
            assert parse(u.person_sourcedid).year == 2016  # valid against the code tables
            assert u.given_name and u.family_name and u.name == f"{u.given_name} {u.family_name}"
        groups = roster.rombels(db, inst)
        mentors = {m.id for m in roster.mentors(db, inst)}
        assert len(groups) == 3 and {g.mentor_id for g in groups} == mentors
        assert Counter(roster.assignments(db, inst).values()) == {g.id: 10 for g in groups}
        for b in db.scalars(select(Biodata).where(Biodata.context_pk == ctx)):
            assert parse(b.nomor_peserta).number == b.nomor_peserta
            assert b.instansi and (b.nuptk is None or len(b.nuptk) == 16)
        assert 0 < _count(db, Biodata, Biodata.context_pk == ctx) <= 30


def test_activity_scores_completions_and_logins(seeded):
    app, *_rest, first, _second = seeded
    ctx = _context_id(first)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        activities = [a for b in inst.module.blocks for a in b.activities]
        graded = {a.id for a in activities if a.graded}
        peserta = {p.id for p in roster.peserta(db, inst)}
        done = db.execute(
            select(ActivityCompletion.user_id, ActivityCompletion.activity_id).where(
                ActivityCompletion.context_pk == ctx
            )
        ).all()
        assert {u for u, _a in done} <= peserta
        scored = set(
            db.execute(
                select(ActivityScore.user_id, ActivityScore.activity_id).where(
                    ActivityScore.context_pk == ctx
                )
            ).all()
        )
        # every completed graded activity has its score, and only those
        assert scored == {(u, a) for u, a in done if a in graded}
        assert {a for _u, a in scored} == graded  # scores of every graded activity
        row = db.scalars(select(ActivityCompletion).where(ActivityCompletion.context_pk == ctx))
        first_row = row.first()
        assert isinstance(first_row.completed_at, datetime)
        assert first_row.first_viewed_at <= first_row.completed_at
        # logins: several per peserta who opened the tool; none for the others
        members = db.scalars(
            select(Membership).where(Membership.context_pk == ctx, Membership.role == "peserta")
        ).all()
        launches = dict(
            db.execute(
                select(ActivityLog.user_id, func.count())
                .where(ActivityLog.context_pk == ctx, ActivityLog.event == "launch")
                .group_by(ActivityLog.user_id)
            ).all()
        )
        earliest = dict(
            db.execute(
                select(ActivityLog.user_id, func.min(ActivityLog.at))
                .where(ActivityLog.context_pk == ctx)
                .group_by(ActivityLog.user_id)
            ).all()
        )
        opened = [m for m in members if m.first_launch_at is not None]
        assert len(opened) >= 25
        for m in members:
            if m.first_launch_at is None:
                assert m.user_id not in launches
                assert all(u != m.user_id for u, _a in done)
            else:
                assert launches.get(m.user_id, 0) >= 1
                assert earliest.get(m.user_id, m.first_launch_at) == m.first_launch_at
        assert sum(launches.values()) >= 2 * len(opened)
        staff = db.scalars(
            select(ActivityLog.role).where(ActivityLog.context_pk == ctx).distinct()
        ).all()
        assert set(staff) == {"peserta", "mentor", "pengampu"}
        assert db.scalar(select(func.max(User.last_launch_at)).where(User.id.in_(peserta)))


def test_ukg_ta_and_final_scores(seeded):
    app, *_rest, first, _second = seeded
    ctx = _context_id(first)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        ids = [p.id for p in roster.peserta(db, inst)]
        manual = db.execute(
            select(ManualScore.user_id, ManualScore.component, ManualScore.value).where(
                ManualScore.instance_id == inst.id
            )
        ).all()
        by = Counter(c for _u, c, _v in manual)
        assert by["UKG"] == 30  # the initial score of everyone on the roster
        tes_akhir = db.scalars(
            select(Activity).where(Activity.key == "tes-akhir", Activity.component == "TA")
        ).first()
        final_test = dict(
            db.execute(
                select(ActivityScore.user_id, ActivityScore.score).where(
                    ActivityScore.context_pk == ctx, ActivityScore.activity_id == tes_akhir.id
                )
            ).all()
        )
        ta = {u: v for u, c, v in manual if c == "TA"}
        assert 0 < by["TA"] == len(final_test) <= 30  # those who finished
        assert all(Decimal(ta[u]) == Decimal(s) for u, s in final_test.items())
        for _u, _c, value in manual:
            assert Decimal("0") <= Decimal(value) <= Decimal("100")
        results = scores.finals(db, inst, ids)
        assert set(results) == set(ids)
        for result in results.values():  # the class is over: nothing is pending
            assert result.value is not PENDING and result.passed in (True, False)
        passed = sum(r.passed for r in results.values())
        assert 0 < passed < 30
        # the initial UKG score is below the final test for most who took it
        ukg = {u: Decimal(v) for u, c, v in manual if c == "UKG"}
        assert sum(Decimal(ta[u]) > ukg[u] for u in ta) > len(ta) / 2


def test_survey_answers_come_from_the_plugins(seeded):
    app, *_rest, first, _second = seeded
    ctx = _context_id(first)
    from plugins.evaluasi.models import EvaluasiResponse
    from plugins.smiley.models import SmileyResponse

    with app.app_context():
        from lti_tool.db import session

        db = session()
        for model, kind in ((SmileyResponse, "smiley"), (EvaluasiResponse, "evaluasi")):
            surveys = db.scalars(
                select(Activity.id)
                .join(ActivityCompletion, ActivityCompletion.activity_id == Activity.id)
                .where(Activity.type == kind, ActivityCompletion.context_pk == ctx)
            ).all()
            answers = db.scalars(select(model).where(model.context_pk == ctx)).all()
            assert len(answers) == len(surveys) > 0  # one per peserta who completed one
            for row in answers:
                scaled = [v for k, v in row.answers.items() if k[0] != "o"]
                assert scaled and all(1 <= v <= 5 for v in scaled)
        evaluasi = db.scalars(select(EvaluasiResponse).where(EvaluasiResponse.context_pk == ctx))
        assert set(evaluasi.first().answers) == {f"l{i}" for i in range(6)} | {
            f"o{i}" for i in range(3)
        }
    assert "plugin answers:" in first


def test_a_second_seed_is_another_class_with_attendance(seeded):
    app, _runner, first, second = seeded
    ctx, other = _context_id(first), _context_id(second)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == other)).one()
        assert inst.module_key == "gp-daring-kombinasi"
        assert _count(db, Membership, Membership.context_pk == other) == 12 + 2 + 1
        assert _count(db, Membership, Membership.context_pk == ctx) == 30 + 3 + 1
        groups = _count(db, Rombel, Rombel.instance_id == inst.id)
        meetings = len(inst.module.definition["meetings"])
        assert groups == 2
        assert _count(db, MeetingRecord, MeetingRecord.instance_id == inst.id) == meetings * 2
        attendance = db.scalars(
            select(MeetingAttendance.status)
            .join(MeetingRecord, MeetingRecord.id == MeetingAttendance.record_id)
            .where(MeetingRecord.instance_id == inst.id)
        ).all()
        assert len(attendance) == meetings * 12
        assert set(attendance) <= {"hadir", "izin", "sakit", "alpa"} and "hadir" in attendance
        assert _count(db, RombelMember, RombelMember.instance_id == inst.id) == 12


def test_the_same_seed_gives_the_same_people_and_a_bad_module_is_refused(seeded):
    app, runner, first, _second = seeded
    again = runner.invoke(args=["demo", "seed", "--participants", "30", "--seed", "7"])
    assert again.exit_code == 0, again.output
    ctx, repeat = _context_id(first), _context_id(again.output)
    with app.app_context():
        from lti_tool.db import session

        db = session()

        def people(context_pk):
            return db.execute(
                select(User.name, User.person_sourcedid)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.context_pk == context_pk, Membership.role == "peserta")
                .order_by(User.sub)
            ).all()

        assert people(ctx) == people(repeat) and repeat != ctx
        contexts = _count(db, Context)
    bad = runner.invoke(args=["demo", "seed", "-n", "3", "--module", "no-such-module"])
    assert bad.exit_code != 0 and "no installed template 'no-such-module'" in bad.output
    zero = runner.invoke(args=["demo", "seed", "-n", "0"])
    assert zero.exit_code != 0
    with app.app_context():
        from lti_tool.db import session

        assert _count(session(), Context) == contexts  # nothing left behind


def test_a_failed_seeding_leaves_nothing_behind(seeded, monkeypatch):
    from lti_tool.demo import seed

    app, runner, *_outputs = seeded

    def broken(self, people):
        raise RuntimeError("disk full")

    with app.app_context():
        from lti_tool.db import session

        db = session()
        before = {m: _count(db, m) for m in (Context, User, ActivityLog, ManualScore)}
    monkeypatch.setattr(seed._Seeder, "_rombel_and_meetings", broken)
    failed = runner.invoke(args=["demo", "seed", "-n", "15"])
    assert failed.exit_code != 0 and isinstance(failed.exception, RuntimeError)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        assert {m: _count(db, m) for m in before} == before
