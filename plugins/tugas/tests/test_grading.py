"""Staff grade submissions: pengampu see every peserta, a mentor their own rombel; a
score with decimals and plain-text feedback, audited, reported to grading/ (and the LMS
outbox, with the feedback as comment); the peserta sees both."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from sqlalchemy import select

from grading.report import scores_in
from lti_tool.db import session
from lti_tool.models import (
    Activity,
    ActivityCompletion,
    CourseInstance,
    GradeOutbox,
    Rombel,
    RombelMember,
    User,
)
from plugins.tugas.models import TugasGradeAudit, TugasSubmission
from plugins.tugas.tests.helpers import PDF, file_ids, open_tugas, page_url, upload
from tests.conftest import make_browser


def _ids(app) -> dict[str, int]:
    with app.app_context():
        return dict(session().execute(select(User.sub, User.id)).all())


def _activity_id(app) -> int:
    with app.app_context():
        return (
            session()
            .scalars(select(Activity.id).where(Activity.type == "tugas").order_by(Activity.id))
            .first()
        )


def _submit(live_tool, lms, sub: str, name: str) -> tuple[int, int]:
    with make_browser() as b:
        page, ctx = open_tugas(live_tool, lms, b, sub=sub)
        ok = upload(live_tool, b, page.text, (name, PDF))
        (fid,) = file_ids(ok.text)
    return ctx, fid


def _grade(live_tool, browser, ctx, aid, uid, score, feedback):
    return browser.post(
        live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{uid}"),
        data={"score": score, "feedback": feedback},
    )


def test_pengampu_grades_and_the_peserta_sees_score_and_feedback(live_tool, lms, browser):
    app = live_tool.app
    ctx, fid = _submit(live_tool, lms, "guru-1", "laporan-guru-1.pdf")
    with make_browser() as b:  # a peserta who submits nothing
        open_tugas(live_tool, lms, b, sub="guru-2")
    page, _ctx = open_tugas(live_tool, lms, browser, sub="dosen", roles=("Instructor",))
    aid = _activity_id(app)
    ids = _ids(app)
    assert f"/c/{ctx}/tugas/{aid}/grading" in page.text  # the summary links to grading
    listing = browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading"))
    assert listing.status_code == 200
    assert "laporan-guru-1.pdf" in listing.text and "Guru-2" in listing.text
    # staff download the file
    got = browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid}"))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Disposition"].startswith("attachment")

    one = browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-1']}"))
    assert one.status_code == 200 and "laporan-guru-1.pdf" in one.text
    # refusals: out of range, three decimals, HTML in the feedback; nothing is saved
    for score, feedback, says in (
        ("101", "", "100"),
        ("85,125", "", "100"),
        ("-1", "", "100"),
        ("NaN", "", "100"),
        ("85", "Bagus <script>alert(1)</script>", "HTML"),
        ("85", '<img src=x onerror="alert(1)">', "HTML"),
        ("85", "x" * 5001, "5000"),
    ):
        refused = _grade(live_tool, browser, ctx, aid, ids["guru-1"], score, feedback)
        assert refused.status_code == 400, (score, feedback[:30])
        assert says in html.unescape(refused.text) and 'role="alert"' in refused.text
        assert "<script>alert(1)</script>" not in refused.text  # typed text comes back escaped
    with app.app_context():
        assert session().scalars(select(TugasGradeAudit)).all() == []
        assert not scores_in(session(), ctx)

    saved = _grade(live_tool, browser, ctx, aid, ids["guru-1"], "85,5", "Analisis baik.\nx < y")
    assert saved.status_code == 200 and saved.url.endswith("done=graded")
    with app.app_context():
        db = session()
        sub = db.scalars(
            select(TugasSubmission).where(TugasSubmission.user_id == ids["guru-1"])
        ).one()
        assert (sub.score, sub.max_score, sub.graded_by) == ("85.50", "100", ids["dosen"])
        assert sub.feedback == "Analisis baik.\nx < y" and sub.graded_at is not None
        row = scores_in(db, ctx)[(ids["guru-1"], aid)]
        assert (row.score, row.max_score, row.source) == ("85.50", "100", "tugas")
        comp = db.scalars(
            select(ActivityCompletion).where(ActivityCompletion.user_id == ids["guru-1"])
        ).one()
        assert comp.state == "graded"
        out = db.scalars(select(GradeOutbox).order_by(GradeOutbox.id)).all()
        assert [(o.grading_progress, o.score_given, o.comment) for o in out] == [
            ("PendingManual", None, None),
            ("FullyGraded", "85.50", "Analisis baik.\nx < y"),
        ]
    # only the feedback changes: the LMS gets it with the same score; audited twice
    again = _grade(live_tool, browser, ctx, aid, ids["guru-1"], "85.50", "Analisis sangat baik.")
    assert again.url.endswith("done=graded")
    same = _grade(live_tool, browser, ctx, aid, ids["guru-1"], "85.5", "Analisis sangat baik.")
    assert same.url.endswith("done=unchanged")
    removed = _grade(live_tool, browser, ctx, aid, ids["guru-1"], "", "Analisis sangat baik.")
    assert removed.status_code == 400
    with app.app_context():
        db = session()
        audit = db.scalars(select(TugasGradeAudit).order_by(TugasGradeAudit.id)).all()
        assert [(a.old_score, a.new_score, a.changed_by) for a in audit] == [
            (None, "85.50", ids["dosen"]),
            ("85.50", "85.50", ids["dosen"]),
        ]
        last = db.scalars(select(GradeOutbox).order_by(GradeOutbox.id.desc())).first()
        assert (last.score_given, last.comment) == ("85.50", "Analisis sangat baik.")
    history = browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-1']}"))
    assert "Dosen" in history.text and "85.50" in history.text

    # the peserta sees the score and feedback, as text
    with make_browser() as b:
        mine, _ = open_tugas(live_tool, lms, b, sub="guru-1")
        assert "85.50" in mine.text and "Analisis sangat baik." in mine.text

    # regrade reports the stored score again and answers its percent
    from plugins.tugas.plugin import Tugas

    with app.app_context():
        db = session()
        activity = db.get(Activity, aid)
        assert Tugas.regrade(db, ctx, activity, ids["guru-1"]) == Decimal("85.50")
        assert Tugas.regrade(db, ctx, activity, ids["guru-2"]) is None


def test_a_mentor_sees_and_grades_their_own_rombel_only(live_tool, lms, browser):
    app = live_tool.app
    ctx, fid_a = _submit(live_tool, lms, "guru-a", "tugas-a.pdf")
    _ctx, fid_b = _submit(live_tool, lms, "guru-b", "tugas-b.pdf")
    for sub in ("mentor-a", "mentor-b"):
        with make_browser() as b:
            open_tugas(live_tool, lms, b, sub=sub, roles=("Mentor",))
    ids = _ids(app)
    with app.app_context():
        db = session()
        inst = db.scalars(select(CourseInstance).where(CourseInstance.context_pk == ctx)).one()
        for name, mentor, member in (("R1", "mentor-a", "guru-a"), ("R2", "mentor-b", "guru-b")):
            rombel = Rombel(instance_id=inst.id, name=name, mentor_id=ids[mentor])
            db.add(rombel)
            db.flush()
            db.add(RombelMember(instance_id=inst.id, rombel_id=rombel.id, user_id=ids[member]))
        db.commit()
    aid = _activity_id(app)
    open_tugas(live_tool, lms, browser, sub="mentor-a", roles=("Mentor",))
    listing = browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading"))
    assert "tugas-a.pdf" in listing.text and "tugas-b.pdf" not in listing.text
    assert browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid_a}")).status_code == 200
    own = browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-a']}"))
    assert own.status_code == 200 and "tugas-a.pdf" in own.text  # (and a form token)
    other = browser.get(live_tool.url(f"/c/{ctx}/tugas/file/{fid_b}"))
    assert other.status_code == 404 and "tugas-b" not in other.text
    assert (
        browser.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-b']}")).status_code
        == 404
    )
    assert _grade(live_tool, browser, ctx, aid, ids["guru-b"], "70", "").status_code == 404
    ok = _grade(live_tool, browser, ctx, aid, ids["guru-a"], "90", "Rapi.")
    assert ok.url.endswith("done=graded")
    # staff cannot grade someone who is not a peserta of the course
    assert _grade(live_tool, browser, ctx, aid, ids["mentor-b"], "90", "").status_code == 404
    with app.app_context():
        subs = session().scalars(select(TugasSubmission).where(TugasSubmission.score.is_not(None)))
        assert [(s.user_id, s.score) for s in subs] == [(ids["guru-a"], "90.00")]


def test_submission_review_opens_the_peserta_grading_page(live_tool, lms, browser):
    ctx, _fid = _submit(live_tool, lms, "guru-r", "review.pdf")
    result = lms.launch(
        browser,
        roles=["Instructor"],
        user={"sub": "dosen-r", "name": "Dosen R"},
        message_type="LtiSubmissionReviewRequest",
        target_link_uri=live_tool.url("/course/gp-pedagogik-a/sesi-1/tugas"),
        extra_claims={"https://purl.imsglobal.org/spec/lti/claim/for_user": {"user_id": "guru-r"}},
    )
    assert result.ok, result.error
    page = result.final_response
    ids = _ids(live_tool.app)
    aid = _activity_id(live_tool.app)
    assert page.url.endswith(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-r']}")
    assert "review.pdf" in page.text


def test_peserta_changes_after_grading_are_flagged_for_staff(live_tool, lms, browser):
    app = live_tool.app
    page, ctx = open_tugas(live_tool, lms, browser, sub="guru-c")
    first = upload(live_tool, browser, page.text, ("v1.pdf", PDF))
    assert first.status_code == 200
    ids = _ids(app)
    aid = _activity_id(app)
    with make_browser() as staff:
        open_tugas(live_tool, lms, staff, sub="dosen-c", roles=("Instructor",))
        staff.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading/{ids['guru-c']}"))
        assert _grade(live_tool, staff, ctx, aid, ids["guru-c"], "60", "Revisi bagian 2.").ok
        again = upload(live_tool, browser, first.text, ("v2.pdf", PDF))
        assert again.status_code == 200
        listing = staff.get(live_tool.url(f"/c/{ctx}/tugas/{aid}/grading"))
        assert re.search(r"changed after grading|diubah setelah dinilai", listing.text)
    with app.app_context():  # the grade stays; no new "waiting" message clears it in the LMS
        out = session().scalars(select(GradeOutbox).order_by(GradeOutbox.id)).all()
        assert [o.grading_progress for o in out] == ["PendingManual", "FullyGraded"]
    mine = browser.get(live_tool.url(page_url(ctx)))
    assert "60.00" in mine.text
