"""The laporan activity through real LTI launches: deadlines per rombel, uploads 1-4,
replace and cancel (X) before the deadline, refusal after it, the mentor's matrix of
their own rombel, review and score, and the activity score as the mean."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from grading.report import scores_in
from lti_tool.db import session
from lti_tool.models import ActivityCompletion, CourseInstance
from lti_tool.services import scores
from plugins.laporan.models import LaporanAudit, LaporanDeadline
from plugins.laporan.tests.helpers import (
    KEYS,
    PAGE,
    cancel,
    close,
    make_class,
    move_deadline,
    pdf,
    review,
    set_deadlines,
    stored_files,
    submissions,
    upload,
)

FUTURE = {key: (f"2099-0{key}-15", "16:30") for key in KEYS}


def _completion(app, k, sub):
    with app.app_context():
        row = (
            session()
            .scalars(
                select(ActivityCompletion).where(
                    ActivityCompletion.user_id == k.users[sub],
                    ActivityCompletion.activity_id == k.activity_id,
                )
            )
            .first()
        )
        return None if row is None else (row.state, row.completed_at is not None)


def test_peserta_uploads_four_reports_and_the_mentor_scores_them(live_tool, lms):
    app = live_tool.app
    k = make_class(live_tool, lms)
    try:
        saved = set_deadlines(live_tool, k, "mentor1", "A", FUTURE)
        assert saved.status_code == 200 and "Batas waktu disimpan." in saved.text
        page = k.page(live_tool, "guru1")
        # number, deadline (in the class time zone) and description of each report
        assert "15 Jan 2099 16.30 WIB" in page.text or "15 Jan 2099 16:30 WIB" in page.text
        assert "Laporan hasil studi mandiri materi pedagogik." in page.text
        assert page.text.count("belum diunggah") == 4

        for n, key in enumerate(KEYS, 1):
            done = upload(live_tool, k, "guru1", key, pdf(), name=f"Lap{key}_guru1.pdf")
            assert done.status_code == 200
            assert "Unggahan berhasil" in done.text  # the success message
            assert f"Lap{key}_guru1.pdf" in done.text
            assert done.text.count("menunggu penilaian") == n
            if n < 4:
                assert _completion(app, k, "guru1") is None
        assert _completion(app, k, "guru1") == ("submitted", False)  # rule: graded
        assert len(submissions(app, state="submitted")) == 4
        assert len(stored_files(app)) == 4

        # the mentor's matrix: their rombel's peserta only, each report uploaded
        matrix = k.browsers["mentor1"].get(k.url(live_tool, "/matrix"))
        assert matrix.status_code == 200
        assert "Guru1" in matrix.text and "Guru2" in matrix.text and "Guru3" not in matrix.text
        assert "Rombel A" in matrix.text and "Rombel B" not in matrix.text
        row = re.search(r"Guru1</a></th>(.*?)</tr>", matrix.text, re.S).group(1)
        assert row.count("status-terkirim") == 4

        # the review page offers each file for download and a form per report
        uid = k.users["guru1"]
        page = k.browsers["mentor1"].get(k.url(live_tool, f"/peserta/{uid}"))
        assert page.status_code == 200
        links = re.findall(r'href="(/c/\d+/laporan/\d+/file/\d+)"', page.text)
        assert len(links) == 4
        got = k.browsers["mentor1"].get(live_tool.url(links[0]))
        assert got.status_code == 200 and got.content == pdf()
        assert got.headers["Content-Disposition"].startswith("attachment")

        marks = {"1": "80", "2": "75", "3": "90,5", "4": "67"}
        for n, (key, mark) in enumerate(marks.items(), 1):
            r = review(live_tool, k, "mentor1", "guru1", key, mark, f"Umpan balik {key}")
            assert r.status_code == 200 and "Penilaian disimpan." in r.text
            with app.app_context():
                reported = scores_in(session(), k.ctx)
            if n < 4:  # the mean of all four: unknown until the last is scored
                assert reported == {}
        # (80 + 75 + 90.5 + 67) / 4 = 78.125 -> 78.13 (half-up, 2 decimals)
        with app.app_context():
            db = session()
            (score,) = scores_in(db, k.ctx).values()
            assert (score.score, score.max_score, score.source) == ("78.13", "100", "laporan")
            inst = db.scalars(select(CourseInstance)).one()
            result = scores.finals(db, inst, [uid])[uid]
            assert result.components["laporan"] == Decimal("78.13")
        assert _completion(app, k, "guru1") == ("graded", True)

        # the peserta sees status, score and feedback per report
        page = k.page(live_tool, "guru1")
        assert page.text.count("dinilai") >= 4
        assert "Nilai: 90.5 / 100" in page.text and "Umpan balik 3" in page.text
        assert "78.13" in page.text
        # a scored report is no longer replaced or cancelled
        again = upload(live_tool, k, "guru1", "1", pdf())
        assert again.status_code == 409 and "sudah dinilai" in again.text
        assert cancel(live_tool, k, "guru1", "2").status_code == 409
        assert len(submissions(app, state="submitted")) == 4

        # a changed score is reported again, exactly
        review(live_tool, k, "mentor1", "guru1", "4", "68")
        with app.app_context():
            (score,) = scores_in(session(), k.ctx).values()
            assert score.score == "78.38"  # (80 + 75 + 90.5 + 68) / 4 = 78.375
    finally:
        close(k)


def test_replace_and_cancel_before_the_deadline_keep_an_audit(live_tool, lms):
    app = live_tool.app
    k = make_class(live_tool, lms)
    try:
        set_deadlines(live_tool, k, "mentor1", "A", FUTURE)
        first = upload(live_tool, k, "guru2", "2", pdf(), name="draf.pdf")
        assert first.status_code == 200
        (old_file,) = stored_files(app)
        second = upload(live_tool, k, "guru2", "2", pdf(600), name="final.pdf")
        assert second.status_code == 200 and "diganti" in second.text
        assert "final.pdf" in second.text and "draf.pdf" not in second.text
        (new_file,) = stored_files(app)
        assert new_file != old_file
        states = [(r.original_name, r.state) for r in submissions(app)]
        assert states == [("draf.pdf", "replaced"), ("final.pdf", "submitted")]

        gone = cancel(live_tool, k, "guru2", "2")
        assert gone.status_code == 200 and "dibatalkan" in gone.text
        assert stored_files(app) == []
        rows = submissions(app)
        assert [r.state for r in rows] == ["replaced", "cancelled"]
        assert all(r.stored_name is None for r in rows)
        assert rows[1].removed_at is not None and rows[1].removed_by == k.users["guru2"]
        with app.app_context():
            actions = [a.action for a in session().scalars(select(LaporanAudit))]
        assert actions.count("uploaded") == 1 and "replaced" in actions and "cancelled" in actions
        # cancelled twice: refused clearly, nothing changes
        twice = cancel(live_tool, k, "guru2", "2")
        assert twice.status_code == 409 and "Tidak ada berkas" in twice.text
        # the mentor sees the history of that report
        page = k.browsers["mentor1"].get(k.url(live_tool, f"/peserta/{k.users['guru2']}"))
        assert "draf.pdf" in page.text and "final.pdf" in page.text
    finally:
        close(k)


def test_after_the_deadline_nothing_is_accepted_and_the_mentor_may_score_zero(live_tool, lms):
    app = live_tool.app
    k = make_class(live_tool, lms)
    try:
        set_deadlines(live_tool, k, "mentor1", "A", FUTURE)
        assert upload(live_tool, k, "guru1", "2", pdf()).status_code == 200
        # the mentor cannot score a report not handed in before its deadline
        early = review(live_tool, k, "mentor1", "guru1", "1", "0")
        assert early.status_code == 409 and "belum lewat" in early.text
        move_deadline(app, k, "A", "1", -timedelta(minutes=1))
        move_deadline(app, k, "A", "2", -timedelta(minutes=1))
        before = (submissions(app), stored_files(app))

        late = upload(live_tool, k, "guru1", "1", pdf(), name="terlambat.pdf")
        assert late.status_code == 409
        assert "Batas waktu laporan ini" in late.text and "sudah lewat" in late.text
        late_cancel = cancel(live_tool, k, "guru1", "2")
        assert late_cancel.status_code == 409
        late_replace = upload(live_tool, k, "guru1", "2", pdf(), name="ganti.pdf")
        assert late_replace.status_code == 409
        assert ([r.id for r in submissions(app)], stored_files(app)) == (
            [r.id for r in before[0]],
            before[1],
        )
        page = k.page(live_tool, "guru1")
        assert "lewat batas waktu, tidak diunggah" in page.text
        assert f'action="/c/{k.ctx}/laporan/{k.activity_id}/1/upload"' not in page.text

        # after the deadline the mentor may score the missing report (e.g. 0)
        zero = review(live_tool, k, "mentor1", "guru1", "1", "0", "Tidak mengumpulkan.")
        assert zero.status_code == 200
        (row,) = submissions(app, state="missing")
        assert row.score == "0" and row.stored_name is None
        assert "Tidak mengumpulkan." in k.page(live_tool, "guru1").text
    finally:
        close(k)


def test_deadlines_are_per_rombel_and_the_mentor_sees_only_their_own(live_tool, lms):
    app = live_tool.app
    k = make_class(live_tool, lms, pengampu=True)
    try:
        assert upload(live_tool, k, "guru3", "1", pdf(), name="guru3.pdf").status_code == 200
        (theirs,) = submissions(app, user_id=k.users["guru3"])
        # mentor1 may not set rombel B's deadlines, open guru3's reports, or their file
        refused = set_deadlines(live_tool, k, "mentor1", "B", FUTURE)
        assert refused.status_code == 400 and "Pilih salah satu rombel Anda" in refused.text
        assert set_deadlines(live_tool, k, "mentor1", "class", FUTURE).status_code == 400
        with app.app_context():
            assert session().scalars(select(LaporanDeadline)).all() == []
        m1 = k.browsers["mentor1"]
        assert m1.get(k.url(live_tool, f"/peserta/{k.users['guru3']}")).status_code == 404
        assert m1.get(k.url(live_tool, f"/file/{theirs.id}")).status_code == 404
        assert review(live_tool, k, "mentor1", "guru3", "1", "90").status_code == 404
        assert m1.get(k.url(live_tool, "/matrix")).text.count("Guru3") == 0
        # mentor2 sees guru3, and guru3 only
        m2 = k.browsers["mentor2"].get(k.url(live_tool, "/matrix"))
        assert "Guru3" in m2.text and "Guru1" not in m2.text

        # the pengampu sees every rombel and sets a class-wide deadline
        matrix = k.browsers["pengampu"].get(k.url(live_tool, "/matrix"))
        assert "Rombel A" in matrix.text and "Rombel B" in matrix.text
        assert all(f"Guru{n}" in matrix.text for n in (1, 2, 3))
        whole = set_deadlines(live_tool, k, "pengampu", "class", {"1": ("2099-03-01", "")})
        assert whole.status_code == 200
        own = set_deadlines(live_tool, k, "mentor1", "A", {"1": ("2099-02-01", "08:00")})
        assert own.status_code == 200
        # rombel A has its own deadline, rombel B follows the class-wide one
        assert "1 Feb 2099 08" in k.page(live_tool, "guru1").text
        assert "1 Mar 2099 23" in k.page(live_tool, "guru3").text
        # a mentor's typing error is shown again with the message; nothing changes
        bad = set_deadlines(live_tool, k, "mentor1", "A", {"1": ("31-02-2099", "25:00")})
        assert bad.status_code == 400 and "31-02-2099" in bad.text
        assert "Masukkan batas waktu" in bad.text
        no_day = set_deadlines(live_tool, k, "mentor1", "A", {"1": ("", "10:00")})
        assert no_day.status_code == 400
        with app.app_context():
            rows = session().scalars(select(LaporanDeadline)).all()
            assert len(rows) == 2
    finally:
        close(k)


def test_staff_and_review_urls(live_tool, lms):
    from plugins.laporan.plugin import Laporan

    k = make_class(live_tool, lms, pengampu=True)
    try:
        with live_tool.app.test_request_context():
            from lti_tool.models import Activity

            activity = session().get(Activity, k.activity_id)
            assert Laporan.staff_url(k.ctx, "plpg-laporan-uji", activity).endswith("/matrix")
            url = Laporan.review_url(k.ctx, "plpg-laporan-uji", activity, k.users["guru2"])
        page = k.browsers["pengampu"].get(live_tool.url(url))
        assert page.status_code == 200 and "Guru2" in page.text
        # peserta reach neither staff page
        assert k.browsers["guru1"].get(k.url(live_tool, "/matrix")).status_code == 403
        assert k.browsers["guru1"].get(live_tool.url(url)).status_code == 403
    finally:
        close(k)


def test_the_page_opens_in_every_role_and_fulfils_the_contract(app, live_tool, lms):
    from lti_tool.models import Activity
    from plugins.laporan.plugin import Laporan
    from tests.conftest import make_browser

    Laporan.check()
    assert Laporan.title() == "Laporan kemajuan"
    for n, roles in enumerate((["Learner"], ["Mentor"], ["Instructor"], ["Administrator"])):
        with make_browser() as b:
            result = lms.launch(
                b,
                roles=roles,
                user={"sub": f"u{n}", "name": f"U{n}"},
                target_link_uri=live_tool.url(PAGE),
            )
            assert result.ok and result.final_response.status_code == 200
    with app.app_context():
        db = session()
        activity = next(
            a
            for a in db.scalars(select(Activity).where(Activity.type == "laporan"))
            if a.block.module.key == "plpg-laporan-uji"
        )
        assert Laporan.regrade(db, 1, activity, 10**6) is None
        assert Laporan.housekeeping(db, None) == {}
