"""Penilaian Diri through real LTI launches: the peserta's self-assessment and its
score to the digit, refusals that keep what was chosen, moderation side by side,
who may see whom, and the pengampu's rubric edit before the class starts."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from lti_tool.db import session, utcnow
from plugins.penilaian.tests.helpers import (
    AFTER_UPLOAD,
    MODERATED,
    SELF,
    action_of,
    activity_id,
    another,
    checked,
    completion_of,
    ctx_of,
    instance,
    open_as,
    page_url,
    rows,
    score_of,
    user_id,
    worked,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_peserta_assesses_with_radio_groups_and_the_score_reaches_grading(live_tool, lms, browser):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    text = page.text
    # a fieldset per criterion, a radio per level, in Indonesian, with the formula
    assert text.count('<fieldset class="criterion') == 2
    assert "<legend>1. Kejelasan uraian" in text and 'name="c-1" value="3"' in text
    assert "Simpan penilaian diri saya" in text
    assert "jumlah poin tingkat yang dipilih" in text
    assert 'name="csrf_token"' in text
    ctx, aid = ctx_of(page.text), activity_id(text)
    uid = user_id(app, "guru1")

    # 1 + 0 of 32 points: 3.125 -> 3.13 (half up)
    done = browser.post(live_tool.url(action_of(text)), data={"c-0": "2", "c-1": "3"})
    assert done.status_code == 200
    assert "Penilaian diri Anda telah disimpan." in done.text
    assert "3.13" in done.text and worked(1, 32, 100, "3.13") in done.text
    assert checked(done.text, 0, 2) and checked(done.text, 1, 3)
    assert score_of(app, ctx, uid, aid) == ("3.13", "100", "penilaian", 1)
    assert completion_of(app, ctx, uid, aid) == ("graded", True)  # the self score counts

    # changed before the due date: 16 + 8 = 24 of 32 -> 75.00, a new version
    again = browser.post(
        live_tool.url(action_of(text)), data={"c-0": "0", "c-1": "1", "comment": "Sudah."}
    )
    assert "75.00" in again.text
    assert score_of(app, ctx, uid, aid) == ("75.00", "100", "penilaian", 2)
    (own,) = rows(app)
    assert own.kind == "self" and own.choices == {"0": 0, "1": 1} and own.comment == "Sudah."

    # regrade recomputes from the stored choices
    from lti_tool.models import Activity
    from plugins.penilaian.plugin import Penilaian

    with app.app_context():
        db = session()
        activity = db.get(Activity, aid)
        assert str(Penilaian.regrade(db, ctx, activity, uid)) == "75.00"
        assert Penilaian.regrade(db, ctx, activity, uid + 999) is None
        db.commit()
    assert score_of(app, ctx, uid, aid)[0] == "75.00"


def test_an_incomplete_or_tampered_form_is_refused_and_keeps_what_was_chosen(
    live_tool, lms, browser
):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    url = live_tool.url(action_of(page.text))

    missing = browser.post(url, data={"c-0": "1", "comment": "catatan saya"})
    assert missing.status_code == 400
    assert "pilih satu tingkat untuk setiap kriteria" in missing.text
    assert checked(missing.text, 0, 1) and "catatan saya" in missing.text
    assert "Pilih satu tingkat untuk kriteria ini." in missing.text

    for bad in (
        {"c-0": "1", "c-1": "7"},
        {"c-0": "1", "c-1": "x"},
        {"c-0": "1", "c-1": "0", "c-9": "0"},
    ):
        refused = browser.post(url, data=bad)
        assert refused.status_code == 400, bad
        assert "tidak ada dalam rubrik ini" in refused.text
        assert checked(refused.text, 0, 1)

    too_long = browser.post(url, data={"c-0": "1", "c-1": "1", "comment": "x" * 2001})
    assert too_long.status_code == 400 and "2000 karakter" in too_long.text
    assert rows(app) == []
    ctx = ctx_of(page.text)
    assert score_of(app, ctx, user_id(app, "guru1"), activity_id(page.text)) is None


def test_after_the_due_date_a_change_is_refused_and_nothing_changes(live_tool, lms, browser):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    ctx, aid, uid = ctx_of(page.text), activity_id(page.text), user_id(app, "guru1")
    url = live_tool.url(action_of(page.text))
    assert browser.post(url, data={"c-0": "0", "c-1": "0"}).status_code == 200
    with app.app_context():
        instance(app, ctx).start_date = date.today() - timedelta(days=60)  # session 1 long over
        session().commit()
    late = browser.post(url, data={"c-0": "3", "c-1": "3", "comment": "terlambat"})
    assert late.status_code == 409
    assert "Penilaian diri ditutup pada" in late.text
    assert checked(late.text, 0, 3) and "terlambat" in late.text  # shown, not saved
    (own,) = rows(app)
    assert own.choices == {"0": 0, "1": 0} and own.comment is None
    assert score_of(app, ctx, uid, aid)[0] == "100.00"
    shown = browser.get(page_url(live_tool, ctx))
    assert "Penilaian diri sudah ditutup" in shown.text
    assert "Simpan penilaian diri saya" not in shown.text


def test_moderation_as_feedback_is_shown_side_by_side(live_tool, lms, browser):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    ctx, aid, uid = ctx_of(page.text), activity_id(page.text), user_id(app, "guru1")
    browser.post(
        live_tool.url(action_of(page.text)), data={"c-0": "0", "c-1": "1", "comment": XSS}
    )  # 24/32 = 75.00

    staff, first = another(live_tool, lms, "pengampu1", SELF, ("Instructor",))
    assert "Penilaian diri para peserta" in first.text
    overview = staff.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/staff"))
    assert overview.status_code == 200
    assert "Guru1" in overview.text and "75.00" in overview.text
    review_path = f"/c/{ctx}/penilaian/{aid}/peserta/{uid}"
    assert review_path in overview.text
    review = staff.get(live_tool.url(review_path))
    assert review.status_code == 200
    assert (
        "Lihat tagihan: Unggah Tugas Sesi 1" in review.text or "Unggah Tugas Sesi 1" in review.text
    )
    assert "<script>alert" not in review.text and "&lt;script&gt;" in review.text
    assert "<img src=x" not in review.text

    # moderation: 8 + 8 = 16/32 = 50.00, with feedback (escaped)
    moderated = staff.post(
        live_tool.url(review_path), data={"c-0": "1", "c-1": "1", "comment": "Perbaiki " + XSS}
    )
    assert moderated.status_code == 200 and "Moderasi telah disimpan." in moderated.text
    table = moderated.text
    assert "Sangat jelas dan runtut" in table and "Jelas" in table  # both levels, side by side
    assert "75.00" in table and "50.00" in table and "-25.00" in table
    assert "<script>alert" not in table
    # feedback only: the self-assessment still counts
    assert score_of(app, ctx, uid, aid)[0] == "75.00"
    assert {r.kind for r in rows(app)} == {"self", "moderation"}
    listed = staff.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/staff")).text
    assert "50.00" in listed and "-25.00" in listed

    mine = browser.get(page_url(live_tool, ctx))
    assert "Moderasi oleh mentor atau pengampu Anda" in mine.text
    assert "50.00" in mine.text and "Perbaiki" in mine.text and "<script>alert" not in mine.text

    # a broken moderation form is refused and keeps what was chosen
    refused = staff.post(live_tool.url(review_path), data={"c-0": "2", "comment": "draf"})
    assert refused.status_code == 400 and checked(refused.text, 0, 2) and "draf" in refused.text
    (mod,) = rows(app, "moderation")
    assert mod.choices == {"0": 1, "1": 1}


def test_when_moderation_counts_the_moderators_score_replaces_the_self_score(
    live_tool, lms, browser
):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1", MODERATED)
    ctx, aid, uid = ctx_of(page.text), activity_id(page.text), user_id(app, "guru1")
    done = browser.post(
        live_tool.url(action_of(page.text)), data={"c-0": "1", "c-1": "1", "c-2": "2"}
    )
    assert "5.56" in done.text  # 5/9 x 10
    assert score_of(app, ctx, uid, aid) == ("5.56", "10", "penilaian", 1)
    assert completion_of(app, ctx, uid, aid) == ("submitted", True)  # not final yet

    staff, _first = another(live_tool, lms, "pengampu1", MODERATED, ("Instructor",))
    path = f"/c/{ctx}/penilaian/{aid}/peserta/{uid}"
    before = staff.get(live_tool.url(path))
    assert "Nilai Anda menggantikan nilai penilaian diri peserta." in before.text
    staff.post(live_tool.url(path), data={"c-0": "0", "c-1": "0", "c-2": "0"})
    assert score_of(app, ctx, uid, aid) == ("10.00", "10", "penilaian", 2)
    assert completion_of(app, ctx, uid, aid)[0] == "graded"
    mine = browser.get(page_url(live_tool, ctx, MODERATED))
    assert "Nilai dari moderator yang diperhitungkan." in mine.text
    assert "+4.44" in mine.text  # 10.00 - 5.56


def test_moderation_needs_a_self_assessment_first(live_tool, lms, browser):
    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    ctx, aid, uid = ctx_of(page.text), activity_id(page.text), user_id(app, "guru1")
    staff, _first = another(live_tool, lms, "pengampu1", SELF, ("Instructor",))
    path = f"/c/{ctx}/penilaian/{aid}/peserta/{uid}"
    assert "Belum dinilai." in staff.get(live_tool.url(path)).text
    staff.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/rubric"))  # a page with a form (CSRF)
    refused = staff.post(live_tool.url(path), data={"c-0": "1", "c-1": "1"})
    assert refused.status_code == 409 and "Belum ada yang dapat dimoderasi" in refused.text
    assert rows(app) == []


def test_who_may_see_whose_self_assessment(live_tool, lms, browser):
    from lti_tool.models import Rombel, RombelMember

    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1")
    ctx, aid = ctx_of(page.text), activity_id(page.text)
    browser.post(live_tool.url(action_of(page.text)), data={"c-0": "0", "c-1": "0"})
    other, other_page = another(live_tool, lms, "guru2")
    other.post(live_tool.url(action_of(other_page.text)), data={"c-0": "3", "c-1": "3"})
    mentor, _m = another(live_tool, lms, "mentor1", SELF, ("Mentor",))
    g1, g2, m1 = (user_id(app, s) for s in ("guru1", "guru2", "mentor1"))
    with app.app_context():
        inst = instance(app, ctx)
        rombel = Rombel(instance_id=inst.id, name="Rombel A", mentor_id=m1)
        session().add(rombel)
        session().flush()
        session().add(RombelMember(instance_id=inst.id, rombel_id=rombel.id, user_id=g1))
        session().commit()

    def path(uid):
        return live_tool.url(f"/c/{ctx}/penilaian/{aid}/peserta/{uid}")

    # a peserta: only their own work; the staff pages are not theirs
    assert browser.get(path(g1)).status_code == 200
    assert browser.get(path(g2)).status_code == 404
    assert browser.get(path(m1)).status_code == 404
    assert browser.get(path(10**6)).status_code == 404
    assert browser.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/staff")).status_code == 403
    assert browser.post(path(g1), data={"c-0": "0", "c-1": "0"}).status_code == 403
    assert browser.post(path(g2), data={"c-0": "0", "c-1": "0"}).status_code == 404
    assert browser.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/rubric")).status_code == 403
    # an id that is not a penilaian activity of this course
    assert (
        browser.get(live_tool.url(f"/c/{ctx}/penilaian/{aid - 1}/peserta/{g1}")).status_code == 404
    )
    assert (
        browser.get(live_tool.url(f"/c/{ctx + 99}/penilaian/{aid}/peserta/{g1}")).status_code == 401
    )

    # a mentor: only the peserta of their own rombel
    listed = mentor.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/staff"))
    assert listed.status_code == 200
    assert "Guru1" in listed.text and "Guru2" not in listed.text
    assert mentor.get(path(g1)).status_code == 200
    assert mentor.get(path(g2)).status_code == 404
    assert mentor.post(path(g2), data={"c-0": "0", "c-1": "0"}).status_code == 404
    assert mentor.post(path(g1), data={"c-0": "1", "c-1": "1"}).status_code == 200
    assert mentor.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/rubric")).status_code == 403
    (mod,) = rows(app, "moderation")
    assert mod.user_id == g1 and mod.assessor_id == m1


def _rubric_form(text: str) -> dict:
    """Every field of the rubric edit form as the page shows it."""
    data = dict(re.findall(r'<input[^>]* name="([^"]+)" value="([^"]*)"', text))
    data.update(re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', text))
    data.pop("csrf_token", None)
    data.pop("action", None)
    return data


def test_pengampu_edits_the_rubric_before_the_start_and_not_after(live_tool, lms, browser):
    import html

    app = live_tool.app
    staff = browser
    first = open_as(live_tool, lms, staff, "pengampu1", SELF, ("Instructor",))
    ctx, aid = ctx_of(first.text), activity_id(first.text)
    url = live_tool.url(f"/c/{ctx}/penilaian/{aid}/rubric")
    form_page = staff.get(url)
    assert form_page.status_code == 200
    data = {k: html.unescape(v) for k, v in _rubric_form(form_page.text).items()}
    assert data["title"] == "Rubrik Lembar Kerja Sesi 1" and data["p-0-0"] == "16"

    # a refused edit keeps what was typed and changes nothing
    bad = dict(data, **{"t-0": "Kejelasan " + XSS, "p-0-1": "16"})
    refused = staff.post(url, data=bad)
    assert refused.status_code == 400
    assert "Dua tingkat pada kriteria 1 memberi poin yang sama." in refused.text
    assert "Kejelasan &lt;script&gt;" in refused.text and "<script>alert" not in refused.text

    # a good edit: new title, a criterion renamed (with a payload), one level removed,
    # a third criterion added from the blank row
    good = dict(data)
    good.update({"title": "Rubrik Kelas " + XSS, "t-0": "Kejelasan " + XSS})
    good.update({"d-1-3": "", "p-1-3": ""})  # remove "Tidak ada contoh" (0 points)
    good.update(
        {"t-2": "Kerapian", "d-2-0": "Rapi", "p-2-0": "4", "d-2-1": "Kurang rapi", "p-2-1": "0"}
    )
    saved = staff.post(url, data=good)
    assert saved.status_code == 200 and "Rubrik telah disimpan." in saved.text
    assert "<script>alert" not in saved.text

    peserta, page = another(live_tool, lms, "guru1")
    assert "Rubrik Kelas &lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert page.text.count('<fieldset class="criterion') == 3
    assert "Tidak ada contoh" not in page.text and "Kerapian" in page.text
    # 16 + 16 + 4 = 36 points in all; 16 + 1 + 0 = 17 -> 47.22
    done = peserta.post(
        live_tool.url(action_of(page.text)), data={"c-0": "0", "c-1": "2", "c-2": "1"}
    )
    assert worked(17, 36, 100, "47.22") in done.text

    # the class starts: the rubric is fixed
    with app.app_context():
        instance(app, ctx).started_at = utcnow()
        session().commit()
    shown = staff.get(url)
    assert "Kelas sudah dimulai: rubrik tidak dapat diubah lagi." in shown.text
    late = staff.post(url, data=dict(good, title="Judul baru"))
    assert late.status_code == 409 and "Perubahan Anda tidak disimpan." in late.text
    assert 'value="Judul baru"' in late.text
    reset = staff.post(url, data={"action": "reset"})
    assert reset.status_code == 409
    from plugins.penilaian.models import PenilaianRubric

    with app.app_context():
        (copy,) = session().scalars(select(PenilaianRubric)).all()
        assert copy.title.startswith("Rubrik Kelas <script>")  # stored as typed, shown escaped
        assert len(copy.criteria) == 3


def test_the_template_rubric_can_be_restored_before_the_start(live_tool, lms, browser):
    first = open_as(live_tool, lms, browser, "pengampu1", SELF, ("Instructor",))
    ctx, aid = ctx_of(first.text), activity_id(first.text)
    url = live_tool.url(f"/c/{ctx}/penilaian/{aid}/rubric")
    data = _rubric_form(browser.get(url).text)
    browser.post(url, data=dict(data, title="Rubrik kelas"))
    assert "Rubrik kelas" in browser.get(page_url(live_tool, ctx)).text
    restored = browser.post(url, data={"action": "reset"})
    assert "Rubrik dari templat dipakai kembali." in restored.text
    assert "Rubrik Lembar Kerja Sesi 1" in browser.get(page_url(live_tool, ctx)).text


def test_a_required_upload_comes_first_when_the_task_plugin_can_tell(live_tool, lms, browser):
    from plugins.penilaian import deliverable

    app = live_tool.app
    page = open_as(live_tool, lms, browser, "guru1", AFTER_UPLOAD)
    assert "Unggah Tugas Sesi 1" in page.text  # the deliverable, or a link to it
    assert 'name="comment"' not in page.text  # comment: false
    answer = {"c-0": "0", "c-1": "1", "c-2": "2"}
    result = browser.post(live_tool.url(action_of(page.text)), data=answer)
    with app.test_request_context():
        can_tell = deliverable.submissions_api() is not None
    if can_tell:  # nothing uploaded: refused, choices kept
        assert result.status_code == 409 and "Unggah tagihan Anda terlebih dahulu" in result.text
        assert checked(result.text, 1, 1) and rows(app) == []
    else:  # the task plugin is not there: a link to the task, and no block
        assert result.status_code == 200 and len(rows(app)) == 1


def test_staff_and_review_urls(live_tool, lms, browser):
    from plugins.penilaian.plugin import Penilaian

    app = live_tool.app
    page = open_as(live_tool, lms, browser, "pengampu1", SELF, ("Instructor",))
    ctx, aid = ctx_of(page.text), activity_id(page.text)
    from lti_tool.models import Activity

    with app.test_request_context(), app.app_context():
        activity = session().get(Activity, aid)
        assert (
            Penilaian.staff_url(ctx, "penilaian-uji", activity) == f"/c/{ctx}/penilaian/{aid}/staff"
        )
        assert (
            Penilaian.review_url(ctx, "penilaian-uji", activity, 7)
            == f"/c/{ctx}/penilaian/{aid}/peserta/7"
        )
    overview = browser.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/staff"))
    assert "Penilaian diri" in overview.text and "Belum ada peserta." in overview.text


def test_the_uploaded_deliverable_is_shown_beside_the_scorings(live_tool, lms, browser):
    """With the `tugas` plugin in place: upload through its own page, then assess."""
    import pytest

    app = live_tool.app
    if "tugas.upload" not in app.view_functions:
        pytest.skip("the tugas plugin is not installed with its upload route")
    task = open_as(live_tool, lms, browser, "guru1", "/course/penilaian-uji/sesi-1/tugas")
    ctx = ctx_of(task.text)
    upload = re.search(r'action="(/c/\d+/tugas/\d+/upload)"', task.text).group(1)
    sent = browser.post(
        live_tool.url(upload),
        files={"file": ("lembar-kerja.txt", b"Jawaban lembar kerja sesi 1.\n", "text/plain")},
    )
    assert sent.status_code == 200, re.findall(r"class=\"error[^>]*>([^<]*)", sent.text)
    page = browser.get(page_url(live_tool, ctx, AFTER_UPLOAD))
    assert re.search(rf'href="/c/{ctx}/tugas/file/\d+"', page.text)
    assert "lembar-kerja.txt" in page.text
    done = browser.post(
        live_tool.url(action_of(page.text)), data={"c-0": "0", "c-1": "1", "c-2": "2"}
    )
    assert done.status_code == 200 and worked(6, 9, 100, "66.67") in done.text

    staff, first = another(live_tool, lms, "pengampu1", AFTER_UPLOAD, ("Instructor",))
    aid, uid = activity_id(first.text), user_id(app, "guru1")
    review = staff.get(live_tool.url(f"/c/{ctx}/penilaian/{aid}/peserta/{uid}"))
    assert re.search(rf'href="/c/{ctx}/tugas/file/\d+"', review.text)
    assert "66.67" in review.text
